"""SupportTriageService: every call runs one agent for one user and emits the five events."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.services.support_triage_service import SupportTriageService
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

CASES = [
    ("triage_ticket", 'Ticket: websocket events missing after deploy, agent_completed never arrives'),
    ("ticket_sentiment", 'Still broken after three days, this is bad'),
    ("ticket_size", 'Please explain the difference between the small and the medium tier'),
]


def _context(user_id: str) -> UserExecutionContext:
    return UserExecutionContext.from_request(user_id, feature="support_triage")


@pytest.mark.parametrize(("method", "message"), CASES)
def test_support_triage_call_emits_critical_events(method: str, message: str) -> None:
    bridge = AgentWebSocketBridge()
    service = SupportTriageService(websocket_bridge=bridge)
    context = _context("u-support_triage")
    reply = asyncio.run(getattr(service, method)(context, message))
    assert reply[method]
    assert reply["user_id"] == context.user_id
    assert bridge.manager.event_types_for(context.user_id) == list(CRITICAL_EVENTS)
    assert bridge.manager.connected_users() == [context.user_id]


def test_support_triage_context_location_still_importable():
    from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as Legacy  # noqa: PLC0415

    assert Legacy is UserExecutionContext


def test_support_triage_routes_build_context_from_request():
    from netra_backend.app.routes import support_triage as routes  # noqa: PLC0415

    service = SupportTriageService()
    request = {"user_id": "u-route-9", "thread_id": "t-9", "ticket": "route check"}
    reply = asyncio.run(routes.triage_ticket_route(service, request))
    assert reply["user_id"] == "u-route-9"
