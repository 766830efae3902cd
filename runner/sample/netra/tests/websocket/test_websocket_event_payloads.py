"""Payloads of the five events carry user, thread and run ids."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.registry import AgentRegistry, UnknownAgentError
from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine
from netra_backend.app.services.user_execution_context import UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS


@pytest.fixture
def websocket_bridge() -> AgentWebSocketBridge:
    return AgentWebSocketBridge()


def test_reporting_events_reach_only_their_user(websocket_bridge: AgentWebSocketBridge):
    async def scenario():
        user_context = UserExecutionContext.from_request("user-11")
        engine = ExecutionEngine(AgentRegistry.default(), websocket_bridge, user_context)
        return await engine.execute_agent("reporting", "Which topics dominate our traffic this week?")

    result = asyncio.run(scenario())
    messages = websocket_bridge.manager.messages_for("user-11")
    assert [m["type"] for m in messages] == list(CRITICAL_EVENTS)
    assert {m["run_id"] for m in messages} == {result.run_id}
    assert websocket_bridge.manager.connected_users() == ["user-11"]


def test_engine_rejects_unknown_agent(websocket_bridge: AgentWebSocketBridge):
    async def scenario():
        user_context = UserExecutionContext.from_request("user-11-x")
        engine = ExecutionEngine(AgentRegistry.default(), websocket_bridge, user_context)
        await engine.execute_agent("no_such_agent", "hello")

    with pytest.raises(UnknownAgentError):
        asyncio.run(scenario())
    assert isinstance(ExecutionEngine, type)


def test_legacy_module_exports_both_names():
    from netra_backend.app.agents.supervisor.execution_engine import (  # noqa: PLC0415
        ExecutionEngine as Engine,
        UserExecutionContext as Ctx,
    )

    assert Engine is ExecutionEngine
    assert Ctx is UserExecutionContext
