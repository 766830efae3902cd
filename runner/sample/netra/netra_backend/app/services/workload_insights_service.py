"""WorkloadInsightsService: Finds the workloads that dominate cost and latency.

Built on the execution engine through the Issue #565 compatibility bridge.
"""

from __future__ import annotations

from typing import Any

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine, UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge

__all__ = ["WorkloadInsightsService"]


class WorkloadInsightsService:
    """Finds the workloads that dominate cost and latency."""

    def __init__(
        self,
        registry: AgentRegistry | None = None,
        websocket_bridge: AgentWebSocketBridge | None = None,
    ) -> None:
        self.registry = registry or AgentRegistry.default()
        self.websocket_bridge = websocket_bridge or AgentWebSocketBridge()
        self.calls = 0

    async def _engine_for(self, user_context: UserExecutionContext) -> ExecutionEngine:
        return ExecutionEngine(self.registry, self.websocket_bridge, user_context)

    async def hot_workloads(self, user_context: UserExecutionContext, telemetry: str) -> dict[str, Any]:
        """Topics of the busiest workloads."""
        self.calls += 1
        engine = await self._engine_for(user_context)
        result = await engine.execute_agent("triage", telemetry)
        return {
            "hot_workloads": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def workload_cost(self, user_context: UserExecutionContext, telemetry: str) -> dict[str, Any]:
        """What the busiest workload costs."""
        self.calls += 1
        engine = ExecutionEngine(self.registry, self.websocket_bridge, user_context)
        result = await engine.execute_agent("cost_optimizer", telemetry)
        return {
            "workload_cost": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def latency_mood(self, user_context: UserExecutionContext, telemetry: str) -> dict[str, Any]:
        """How users feel about latency."""
        self.calls += 1
        engine = await self._engine_for(user_context)
        result = await engine.execute_agent("reporting", telemetry)
        return {
            "latency_mood": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    def context_for(self, user_id: str, **metadata: Any) -> UserExecutionContext:
        from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Context  # noqa: PLC0415 - import cycle

        return _Context.from_request(user_id, feature="workload_insights", **metadata)
