"""CacheAdvisorService: every call runs one agent for one user and emits the five events."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.services.cache_advisor_service import CacheAdvisorService
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

CASES = [
    ("cache_candidates", 'pricing pricing pricing refund pricing invoice'),
    ("cache_savings", 'Savings from caching the 30 most common pricing answers'),
]


def _context(user_id: str) -> UserExecutionContext:
    return UserExecutionContext.from_request(user_id, feature="cache_advisor")


@pytest.mark.parametrize(("method", "message"), CASES)
def test_cache_advisor_call_emits_critical_events(method: str, message: str) -> None:
    bridge = AgentWebSocketBridge()
    service = CacheAdvisorService(websocket_bridge=bridge)
    context = _context("u-cache_advisor")
    reply = asyncio.run(getattr(service, method)(context, message))
    assert reply[method]
    assert reply["user_id"] == context.user_id
    assert bridge.manager.event_types_for(context.user_id) == list(CRITICAL_EVENTS)
    assert bridge.manager.connected_users() == [context.user_id]


def test_cache_advisor_context_location_still_importable():
    from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as Legacy  # noqa: PLC0415

    assert Legacy is UserExecutionContext


def test_cache_advisor_routes_build_context_from_request():
    from netra_backend.app.routes import cache_advisor as routes  # noqa: PLC0415

    service = CacheAdvisorService()
    request = {"user_id": "u-route-13", "thread_id": "t-13", "traffic_sample": "route check"}
    reply = asyncio.run(routes.cache_candidates_route(service, request))
    assert reply["user_id"] == "u-route-13"
