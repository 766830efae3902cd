"""UsageQuestionHandler: Questions from the usage dashboard."""

from __future__ import annotations

from typing import Any

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import (
    UserExecutionContext,
    ExecutionEngine,
)
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge

__all__ = ["UsageQuestionHandler"]


class UsageQuestionHandler:
    """Handles ``usage_question`` messages: one engine per message, events back to the sender."""

    message_type = "usage_question"

    def __init__(self, registry: AgentRegistry, websocket_bridge: AgentWebSocketBridge) -> None:
        self.registry = registry
        self.websocket_bridge = websocket_bridge
        self.handled = 0

    def can_handle(self, message: dict[str, Any]) -> bool:
        return message.get("type") == self.message_type

    async def handle(self, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
        payload = message.get("payload", {})
        user_context = UserExecutionContext.from_request(
            user_id, thread_id=payload.get("thread_id"), channel="websocket"
        )
        engine = ExecutionEngine(self.registry, self.websocket_bridge, user_context)
        result = await engine.execute_agent("data_helper", payload.get("text", ""))
        self.handled += 1
        return {"type": "agent_response", "text": result.response, "run_id": result.run_id}

    def describe(self) -> dict[str, Any]:
        from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine as _Engine  # noqa: PLC0415 - optional at import time

        return {"message_type": self.message_type, "engine": _Engine.__qualname__}
