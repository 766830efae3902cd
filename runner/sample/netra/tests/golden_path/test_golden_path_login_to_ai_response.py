"""Golden path: users login → get AI responses (Issue #802, "Golden Path Preservation")."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.services.auth_service import AuthError, AuthService
from netra_backend.app.services.chat_service import ChatService
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS


@pytest.fixture
def auth() -> AuthService:
    service = AuthService()
    service.register("ada@netra.ai", "correct horse")
    return service


def test_login_then_ai_response(auth: AuthService) -> None:
    session = auth.login("ada@netra.ai", "correct horse")
    bridge = AgentWebSocketBridge()
    chat = ChatService(auth, websocket_bridge=bridge)
    reply = asyncio.run(chat.handle_message(session.token, "How can I lower my model cost?"))
    assert reply.user_id == session.user_id
    assert reply.agent_name == "cost_optimizer"
    assert "saves about $" in reply.text
    messages = bridge.manager.messages_for(session.user_id)
    assert [m["type"] for m in messages] == list(CRITICAL_EVENTS)
    assert messages[-1]["response"] == reply.text


def test_conversation_keeps_its_thread(auth: AuthService) -> None:
    session = auth.login("ada@netra.ai", "correct horse")
    chat = ChatService(auth)

    async def conversation() -> list[str]:
        first = await chat.handle_message(session.token, "Hello, what can you do?")
        second = await chat.handle_message(
            session.token, "How many tokens is this?", thread_id=first.thread_id
        )
        return [first.thread_id, second.thread_id]

    first_thread, second_thread = asyncio.run(conversation())
    assert first_thread == second_thread


def test_wrong_password_gets_no_response(auth: AuthService) -> None:
    with pytest.raises(AuthError):
        auth.login("ada@netra.ai", "wrong")
    chat = ChatService(auth)
    with pytest.raises(AuthError):
        asyncio.run(chat.handle_message("not-a-token", "hello"))
