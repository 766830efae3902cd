"""BillingInsightsService: every call runs one agent for one user and emits the five events."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.services.billing_insights_service import BillingInsightsService
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

CASES = [
    ("summarize_invoice", 'Why is my invoice so expensive this month? The price of large model calls doubled.'),
    ("forecast_spend", 'Forecast the cost of 40k support chats per day on the large tier.'),
]


def _context(user_id: str) -> UserExecutionContext:
    return UserExecutionContext.from_request(user_id, feature="billing_insights")


@pytest.mark.parametrize(("method", "message"), CASES)
def test_billing_insights_call_emits_critical_events(method: str, message: str) -> None:
    bridge = AgentWebSocketBridge()
    service = BillingInsightsService(websocket_bridge=bridge)
    context = _context("u-billing_insights")
    reply = asyncio.run(getattr(service, method)(context, message))
    assert reply[method]
    assert reply["user_id"] == context.user_id
    assert bridge.manager.event_types_for(context.user_id) == list(CRITICAL_EVENTS)
    assert bridge.manager.connected_users() == [context.user_id]


def test_billing_insights_service_reports_the_engine_it_used():
    from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine  # noqa: PLC0415

    reply = asyncio.run(BillingInsightsService().forecast_spend(_context("u-eng"), "engine check"))
    assert reply["engine"] == ExecutionEngine.__qualname__


def test_billing_insights_routes_build_context_from_request():
    from netra_backend.app.routes import billing_insights as routes  # noqa: PLC0415

    service = BillingInsightsService()
    request = {"user_id": "u-route-0", "thread_id": "t-0", "invoice_text": "route check"}
    reply = asyncio.run(routes.summarize_invoice_route(service, request))
    assert reply["user_id"] == "u-route-0"
