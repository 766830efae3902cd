"""ExperimentService: A/B experiments on prompts and model tiers.

Built on the execution engine through the Issue #565 compatibility bridge.
"""

from __future__ import annotations

from typing import Any

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine
from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge

__all__ = ["ExperimentService"]


class ExperimentService:
    """A/B experiments on prompts and model tiers."""

    def __init__(
        self,
        registry: AgentRegistry | None = None,
        websocket_bridge: AgentWebSocketBridge | None = None,
    ) -> None:
        self.registry = registry or AgentRegistry.default()
        self.websocket_bridge = websocket_bridge or AgentWebSocketBridge()
        self.calls = 0

    async def design_experiment(self, context: UserExecutionContext, hypothesis: str) -> dict[str, Any]:
        """Cost of running an experiment."""
        self.calls += 1
        engine = ExecutionEngine(self.registry, self.websocket_bridge, context)
        result = await engine.execute_agent("cost_optimizer", hypothesis)
        return {
            "design_experiment": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def read_results(self, context: UserExecutionContext, results_note: str) -> dict[str, Any]:
        """Whether results look good."""
        self.calls += 1
        engine = ExecutionEngine(self.registry, self.websocket_bridge, context)
        result = await engine.execute_agent("reporting", results_note)
        return {
            "read_results": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    def context_for(self, user_id: str, **metadata: Any) -> UserExecutionContext:
        from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Context  # noqa: PLC0415 - import cycle

        return _Context.from_request(user_id, feature="experiments", **metadata)
