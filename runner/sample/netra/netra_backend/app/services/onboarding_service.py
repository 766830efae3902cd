"""OnboardingService: First-run guidance for new workspaces.

Built on the execution engine through the Issue #565 compatibility bridge.
"""

from __future__ import annotations

from typing import Any

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine, UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge

__all__ = ["OnboardingService"]


class OnboardingService:
    """First-run guidance for new workspaces."""

    def __init__(
        self,
        registry: AgentRegistry | None = None,
        websocket_bridge: AgentWebSocketBridge | None = None,
    ) -> None:
        self.registry = registry or AgentRegistry.default()
        self.websocket_bridge = websocket_bridge or AgentWebSocketBridge()
        self.calls = 0

    async def welcome_plan(self, ctx: UserExecutionContext, goals: str) -> dict[str, Any]:
        """A first plan from the user's stated goals."""
        self.calls += 1
        engine = ExecutionEngine(self.registry, self.websocket_bridge, ctx)
        result = await engine.execute_agent("triage", goals)
        return {
            "welcome_plan": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def starter_budget(self, ctx: UserExecutionContext, goals: str) -> dict[str, Any]:
        """A starting budget for those goals."""
        self.calls += 1
        engine = ExecutionEngine(self.registry, self.websocket_bridge, ctx)
        result = await engine.execute_agent("cost_optimizer", goals)
        return {
            "starter_budget": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    def context_for(self, user_id: str, **metadata: Any) -> UserExecutionContext:
        from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Context  # noqa: PLC0415 - import cycle

        return _Context.from_request(user_id, feature="onboarding", **metadata)
