"""QuotaService: every call runs one agent for one user and emits the five events."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.services.quota_service import QuotaService
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

CASES = [
    ("remaining_quota", 'Translate the attached 3 page contract into German'),
    ("quota_warning", 'I love the product but the quota errors are bad'),
]


def _context(user_id: str) -> UserExecutionContext:
    return UserExecutionContext.from_request(user_id, feature="quota")


@pytest.mark.parametrize(("method", "message"), CASES)
def test_quota_call_emits_critical_events(method: str, message: str) -> None:
    bridge = AgentWebSocketBridge()
    service = QuotaService(websocket_bridge=bridge)
    context = _context("u-quota")
    reply = asyncio.run(getattr(service, method)(context, message))
    assert reply[method]
    assert reply["user_id"] == context.user_id
    assert bridge.manager.event_types_for(context.user_id) == list(CRITICAL_EVENTS)
    assert bridge.manager.connected_users() == [context.user_id]


def test_quota_context_location_still_importable():
    from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as Legacy  # noqa: PLC0415

    assert Legacy is UserExecutionContext


def test_quota_routes_build_context_from_request():
    from netra_backend.app.routes import quota as routes  # noqa: PLC0415

    service = QuotaService()
    request = {"user_id": "u-route-7", "thread_id": "t-7", "request_text": "route check"}
    reply = asyncio.run(routes.remaining_quota_route(service, request))
    assert reply["user_id"] == "u-route-7"
