"""CostAlertService: every call runs one agent for one user and emits the five events."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.services.cost_alerts_service import CostAlertService
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

CASES = [
    ("check_budget", 'Budget check: 12k agent runs per day with tool calls on the large tier'),
    ("explain_alert", 'Alert: spend spike on embeddings and reranking since Tuesday'),
]


def _context(user_id: str) -> UserExecutionContext:
    return UserExecutionContext.from_request(user_id, feature="cost_alerts")


@pytest.mark.parametrize(("method", "message"), CASES)
def test_cost_alerts_call_emits_critical_events(method: str, message: str) -> None:
    bridge = AgentWebSocketBridge()
    service = CostAlertService(websocket_bridge=bridge)
    context = _context("u-cost_alerts")
    reply = asyncio.run(getattr(service, method)(context, message))
    assert reply[method]
    assert reply["user_id"] == context.user_id
    assert bridge.manager.event_types_for(context.user_id) == list(CRITICAL_EVENTS)
    assert bridge.manager.connected_users() == [context.user_id]


def test_cost_alerts_service_reports_the_engine_it_used():
    from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine  # noqa: PLC0415

    reply = asyncio.run(CostAlertService().explain_alert(_context("u-eng"), "engine check"))
    assert reply["engine"] == ExecutionEngine.__qualname__


def test_cost_alerts_routes_build_context_from_request():
    from netra_backend.app.routes import cost_alerts as routes  # noqa: PLC0415

    service = CostAlertService()
    request = {"user_id": "u-route-6", "thread_id": "t-6", "budget_note": "route check"}
    reply = asyncio.run(routes.check_budget_route(service, request))
    assert reply["user_id"] == "u-route-6"
