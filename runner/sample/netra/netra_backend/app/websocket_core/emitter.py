"""UserWebSocketEmitter: the modern, per-user event channel of one execution engine."""

from __future__ import annotations

from typing import Any

from netra_backend.app.services.user_execution_context import UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.manager import WebSocketManager

__all__ = ["CRITICAL_EVENTS", "UserWebSocketEmitter"]

#: The five events the chat UI needs for every agent run, in this order.
CRITICAL_EVENTS = (
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
)


class UserWebSocketEmitter:
    """Bound to one context: it can only ever send to that context's user."""

    def __init__(self, manager: WebSocketManager, context: UserExecutionContext) -> None:
        self._manager = manager
        self.context = context
        self.sent: list[dict[str, Any]] = []

    @classmethod
    def from_bridge(
        cls, bridge: AgentWebSocketBridge, context: UserExecutionContext
    ) -> UserWebSocketEmitter:
        """The per-user emitter behind a legacy shared bridge."""
        return cls(bridge.manager, context)

    async def connect(self) -> None:
        self._manager.connect(self.context.user_id)

    async def emit(self, event_type: str, **payload: Any) -> None:
        message = {
            "type": event_type,
            "user_id": self.context.user_id,
            "thread_id": self.context.thread_id,
            "run_id": self.context.run_id,
            **payload,
        }
        self.sent.append(message)
        await self._manager.send_to_user(self.context.user_id, message)
