"""Mission critical: every agent run delivers the five events, in order, to its user.

Seed: "WebSocket Event Consistency: All 5 critical events (agent_started, agent_thinking,
tool_executing, tool_completed, agent_completed) deliver reliably".
"""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.agents.supervisor.execution_engine_factory import ExecutionEngineFactory
from netra_backend.app.services.auth_service import AuthService
from netra_backend.app.services.chat_service import ChatService
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

AGENTS = AgentRegistry.default().names()


def _blocks(types: list[str]) -> list[list[str]]:
    return [types[i : i + len(CRITICAL_EVENTS)] for i in range(0, len(types), len(CRITICAL_EVENTS))]


@pytest.mark.parametrize("agent", AGENTS)
def test_each_agent_emits_the_five_events_in_order(agent: str) -> None:
    factory = ExecutionEngineFactory()
    context = UserExecutionContext.from_request(f"mc-{agent}")
    engine = factory.create_for_user(context)
    result = asyncio.run(engine.execute_agent(agent, "Cut our LLM cost without hurting latency"))
    messages = factory.manager.messages_for(context.user_id)
    assert [m["type"] for m in messages] == list(CRITICAL_EVENTS)
    assert {m["run_id"] for m in messages} == {context.run_id}
    assert messages[-1]["response"] == result.response


def test_every_run_of_a_session_emits_its_own_five_events() -> None:
    factory = ExecutionEngineFactory()
    context = UserExecutionContext.from_request("mc-session")
    engine = factory.create_for_user(context)

    async def session() -> None:
        for agent in AGENTS:
            await engine.execute_agent(agent, f"message for {agent}")

    asyncio.run(session())
    blocks = _blocks(factory.manager.event_types_for(context.user_id))
    assert blocks == [list(CRITICAL_EVENTS)] * len(AGENTS)
    assert [r.agent_name for r in engine.history] == AGENTS


def test_chat_service_path_emits_the_five_events() -> None:
    auth = AuthService()
    auth.register("events@netra.ai", "s3cret")
    session = auth.login("events@netra.ai", "s3cret")
    bridge = AgentWebSocketBridge()
    chat = ChatService(auth, websocket_bridge=bridge)
    asyncio.run(chat.handle_message(session.token, "What does our token usage cost?"))
    assert bridge.manager.event_types_for(session.user_id) == list(CRITICAL_EVENTS)


def test_event_payloads_name_agent_and_tool() -> None:
    factory = ExecutionEngineFactory()
    context = UserExecutionContext.from_request("mc-payload")
    asyncio.run(factory.create_for_user(context).execute_agent("cost_optimizer", "price check"))
    started, thinking, executing, completed_tool, completed = factory.manager.messages_for(
        context.user_id
    )
    assert started["agent"] == thinking["agent"] == completed["agent"] == "cost_optimizer"
    assert executing["tool"] == completed_tool["tool"] == "cost_estimator"
    assert set(completed_tool["output"]) == {"small", "medium", "large"}
    assert thinking["thought"]
