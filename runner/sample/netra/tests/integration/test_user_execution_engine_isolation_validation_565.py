"""User isolation (Issue #565): concurrent users, zero cross-user events or state."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.registry import AgentFactory, AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine_factory import ExecutionEngineFactory
from netra_backend.app.agents.supervisor.user_execution_engine import UserExecutionEngine
from netra_backend.app.services.auth_service import AuthService
from netra_backend.app.services.chat_service import ChatService
from netra_backend.app.services.user_execution_context import (
    InvalidContextError,
    UserExecutionContext,
)
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS, UserWebSocketEmitter

USERS = [f"iso-user-{n}" for n in range(12)]
MESSAGES = ["What does this cost?", "Token count please", "Thanks, great feedback", "Hi"]


def test_concurrent_engines_never_cross_users() -> None:
    factory = ExecutionEngineFactory()

    async def one_user(user_id: str) -> UserExecutionEngine:
        context = UserExecutionContext.from_request(user_id)
        engine = factory.create_for_user(context)
        for agent in ("triage", "cost_optimizer", "data_helper"):
            await engine.execute_agent(agent, f"{user_id} asks about {agent}")
        return engine

    async def everyone() -> list[UserExecutionEngine]:
        return await asyncio.gather(*(one_user(u) for u in USERS))

    engines = asyncio.run(everyone())
    assert factory.manager.connected_users() == sorted(USERS)
    for engine in engines:
        user_id = engine.context.user_id
        messages = factory.manager.messages_for(user_id)
        assert len(messages) == 3 * len(CRITICAL_EVENTS)
        assert {m["user_id"] for m in messages} == {user_id}
        assert {m["run_id"] for m in messages} == {engine.context.run_id}
        assert {r.user_id for r in engine.history} == {user_id}
        assert len(engine.history) == 3
    assert len({id(e.history) for e in engines}) == len(engines)


def test_concurrent_chat_users_get_only_their_own_answers() -> None:
    auth = AuthService()
    sessions = []
    for user in USERS:
        auth.register(f"{user}@netra.ai", "pw")
        sessions.append(auth.login(f"{user}@netra.ai", "pw"))
    bridge = AgentWebSocketBridge()
    chat = ChatService(auth, websocket_bridge=bridge)

    async def everyone():  # noqa: ANN202 - a list of replies
        return await asyncio.gather(
            *(chat.handle_message(s.token, MESSAGES[n % 4]) for n, s in enumerate(sessions))
        )

    replies = asyncio.run(everyone())
    for session, reply in zip(sessions, replies):
        assert reply.user_id == session.user_id
        messages = bridge.manager.messages_for(session.user_id)
        assert [m["type"] for m in messages] == list(CRITICAL_EVENTS)
        assert {m["user_id"] for m in messages} == {session.user_id}
        assert messages[-1]["response"] == reply.text


def test_engine_refuses_an_emitter_of_another_user() -> None:
    factory = ExecutionEngineFactory()
    alice = UserExecutionContext.from_request("alice")
    bob = UserExecutionContext.from_request("bob")
    with pytest.raises(ValueError, match="another user"):
        UserExecutionEngine(
            context=alice,
            agent_factory=AgentFactory(AgentRegistry.default()),
            websocket_emitter=UserWebSocketEmitter(factory.manager, bob),
        )


def test_context_is_frozen_and_keeps_a_private_copy_of_metadata() -> None:
    metadata = {"plan": "pro"}
    context = UserExecutionContext.from_request("carol", **metadata)
    metadata["plan"] = "free"
    assert context.metadata["plan"] == "pro"
    with pytest.raises(TypeError):
        context.metadata["plan"] = "free"  # type: ignore[index]
    with pytest.raises(InvalidContextError):
        UserExecutionContext(user_id=" ", thread_id="t", run_id="r")


def test_agents_are_fresh_per_run() -> None:
    factory = AgentFactory(AgentRegistry.default())
    first = factory.create("triage", UserExecutionContext.from_request("dave"))
    second = factory.create("triage", UserExecutionContext.from_request("erin"))
    first.think("hello")
    assert second.notes == []
