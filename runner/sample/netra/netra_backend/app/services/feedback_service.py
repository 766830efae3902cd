"""FeedbackService: Reads what users say about their chats.

Built on the execution engine through the Issue #565 compatibility bridge.
"""

from __future__ import annotations

from typing import Any

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine, UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge

__all__ = ["FeedbackService"]


class FeedbackService:
    """Reads what users say about their chats."""

    def __init__(
        self,
        registry: AgentRegistry | None = None,
        websocket_bridge: AgentWebSocketBridge | None = None,
    ) -> None:
        self.registry = registry or AgentRegistry.default()
        self.websocket_bridge = websocket_bridge or AgentWebSocketBridge()
        self.calls = 0

    async def _engine_for(self, context: UserExecutionContext) -> ExecutionEngine:
        return ExecutionEngine(self.registry, self.websocket_bridge, context)

    async def classify_feedback(self, context: UserExecutionContext, feedback: str) -> dict[str, Any]:
        """Positive or negative, with a score."""
        self.calls += 1
        engine = await self._engine_for(context)
        result = await engine.execute_agent("reporting", feedback)
        return {
            "classify_feedback": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def escalate_if_unhappy(self, context: UserExecutionContext, feedback: str) -> dict[str, Any]:
        """Flags frustrated users for support."""
        self.calls += 1
        engine = ExecutionEngine(self.registry, self.websocket_bridge, context)
        result = await engine.execute_agent("reporting", feedback)
        return {
            "escalate_if_unhappy": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    def context_for(self, user_id: str, **metadata: Any) -> UserExecutionContext:
        from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Context  # noqa: PLC0415 - import cycle

        return _Context.from_request(user_id, feature="feedback", **metadata)
