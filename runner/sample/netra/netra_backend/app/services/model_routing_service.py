"""ModelRoutingService: Suggests which model tier should serve which traffic.

Built on the execution engine through the Issue #565 compatibility bridge.
"""

from __future__ import annotations

from typing import Any

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine
from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge

__all__ = ["ModelRoutingService"]


class ModelRoutingService:
    """Suggests which model tier should serve which traffic."""

    def __init__(
        self,
        registry: AgentRegistry | None = None,
        websocket_bridge: AgentWebSocketBridge | None = None,
    ) -> None:
        self.registry = registry or AgentRegistry.default()
        self.websocket_bridge = websocket_bridge or AgentWebSocketBridge()
        self.calls = 0

    async def recommend_route(self, ctx: UserExecutionContext, workload: str) -> dict[str, Any]:
        """Tier recommendation for a workload."""
        self.calls += 1
        engine = ExecutionEngine(self.registry, self.websocket_bridge, ctx)
        result = await engine.execute_agent("cost_optimizer", workload)
        return {
            "recommend_route": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def explain_route(self, ctx: UserExecutionContext, question: str) -> dict[str, Any]:
        """Why a request went to a given tier."""
        self.calls += 1
        engine = ExecutionEngine(self.registry, self.websocket_bridge, ctx)
        result = await engine.execute_agent("triage", question)
        return {
            "explain_route": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    def context_for(self, user_id: str, **metadata: Any) -> UserExecutionContext:
        from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Context  # noqa: PLC0415 - import cycle

        return _Context.from_request(user_id, feature="model_routing", **metadata)
