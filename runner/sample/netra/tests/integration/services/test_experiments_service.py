"""ExperimentService: every call runs one agent for one user and emits the five events."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.services.experiments_service import ExperimentService
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

CASES = [
    ("design_experiment", 'Hypothesis: the medium tier answers billing questions as well as the large one'),
    ("read_results", 'Results: faster and cheap, users say thanks'),
]


def _context(user_id: str) -> UserExecutionContext:
    return UserExecutionContext.from_request(user_id, feature="experiments")


@pytest.mark.parametrize(("method", "message"), CASES)
def test_experiments_call_emits_critical_events(method: str, message: str) -> None:
    bridge = AgentWebSocketBridge()
    service = ExperimentService(websocket_bridge=bridge)
    context = _context("u-experiments")
    reply = asyncio.run(getattr(service, method)(context, message))
    assert reply[method]
    assert reply["user_id"] == context.user_id
    assert bridge.manager.event_types_for(context.user_id) == list(CRITICAL_EVENTS)
    assert bridge.manager.connected_users() == [context.user_id]


def test_experiments_service_reports_the_engine_it_used():
    from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine  # noqa: PLC0415

    reply = asyncio.run(ExperimentService().read_results(_context("u-eng"), "engine check"))
    assert reply["engine"] == ExecutionEngine.__qualname__


def test_experiments_routes_build_context_from_request():
    from netra_backend.app.routes import experiments as routes  # noqa: PLC0415

    service = ExperimentService()
    request = {"user_id": "u-route-10", "thread_id": "t-10", "hypothesis": "route check"}
    reply = asyncio.run(routes.design_experiment_route(service, request))
    assert reply["user_id"] == "u-route-10"
