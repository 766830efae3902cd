"""ChatService: the golden path. A logged-in user sends a message and gets an AI response.

Still on the legacy constructor (Issue #565 Pattern 2) and the bridge's import location.
"""

from __future__ import annotations

from dataclasses import dataclass

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import (
    ExecutionEngine,
    UserExecutionContext,
)
from netra_backend.app.services.auth_service import AuthService
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge

__all__ = ["ChatReply", "ChatService"]

_ROUTES = (
    ("cost", "cost_optimizer"),
    ("price", "cost_optimizer"),
    ("token", "data_helper"),
    ("feedback", "reporting"),
)


@dataclass(frozen=True)
class ChatReply:
    user_id: str
    thread_id: str
    agent_name: str
    text: str


def pick_agent(message: str) -> str:
    lowered = message.lower()
    return next((agent for word, agent in _ROUTES if word in lowered), "triage")


class ChatService:
    """Authenticates the token, builds the user's context, runs one agent, replies."""

    def __init__(
        self,
        auth: AuthService,
        registry: AgentRegistry | None = None,
        websocket_bridge: AgentWebSocketBridge | None = None,
    ) -> None:
        self.auth = auth
        self.registry = registry or AgentRegistry.default()
        self.websocket_bridge = websocket_bridge or AgentWebSocketBridge()

    async def handle_message(
        self, token: str, message: str, thread_id: str | None = None
    ) -> ChatReply:
        session = self.auth.authenticate(token)
        user_context = UserExecutionContext.from_request(
            session.user_id, thread_id=thread_id, source="chat"
        )
        engine = ExecutionEngine(self.registry, self.websocket_bridge, user_context)
        result = await engine.execute_agent(pick_agent(message), message)
        return ChatReply(
            user_id=session.user_id,
            thread_id=user_context.thread_id,
            agent_name=result.agent_name,
            text=result.response,
        )
