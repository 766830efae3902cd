"""What an agent run returns through the engine."""

from __future__ import annotations

import asyncio

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine
from netra_backend.app.services.user_execution_context import UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge


def test_two_engines_do_not_share_history():
    async def scenario():
        registry = AgentRegistry.default()
        websocket_bridge = AgentWebSocketBridge()
        first_context = UserExecutionContext.from_request("user-04-1")
        second_context = UserExecutionContext.from_request("user-04-2")
        first = ExecutionEngine(registry, websocket_bridge, first_context)
        second = ExecutionEngine(registry, websocket_bridge, second_context)
        await first.execute_agent("triage", "How do we cut inference cost for support chats?")
        return first, second, websocket_bridge

    first, second, websocket_bridge = asyncio.run(scenario())
    assert len(first.history) == 1
    assert second.history == []
    assert websocket_bridge.manager.messages_for("user-04-2") == []


def test_engine_class_is_importable_from_the_migration_path():
    from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine as Engine  # noqa: PLC0415

    assert Engine.__name__ == "UserExecutionEngine"
