"""Engine history is per instance: two users never share it."""

from __future__ import annotations

import asyncio

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine
from netra_backend.app.services.user_execution_context import UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge


async def _engine(user_id: str) -> ExecutionEngine:
    registry = AgentRegistry.default()
    websocket_bridge = AgentWebSocketBridge()
    user_context = UserExecutionContext.from_request(user_id)
    return ExecutionEngine(registry, websocket_bridge, user_context)


def test_legacy_name_is_the_ssot_engine():
    engine = asyncio.run(_engine("user-06-a"))
    assert isinstance(engine, ExecutionEngine)
    assert type(engine).__name__ == "UserExecutionEngine"


def test_engine_runs_data_helper_for_its_user():
    async def scenario():
        engine = await _engine("user-06-b")
        return await engine.execute_agent("data_helper", "The new answers are great and fast")

    result = asyncio.run(scenario())
    assert result.user_id == "user-06-b"
    assert result.response


def test_context_import_from_the_engine_package():
    from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as Ctx  # noqa: PLC0415

    assert Ctx is UserExecutionContext
