"""UsageAnalyticsService: every call runs one agent for one user and emits the five events."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.services.usage_analytics_service import UsageAnalyticsService
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

CASES = [
    ("analyze_usage", 'How many tokens does our nightly summarization job use?'),
    ("top_topics", 'latency latency cache cache cache embeddings routing'),
    ("token_report", 'Token report for the retrieval prompts in the onboarding flow'),
]


def _context(user_id: str) -> UserExecutionContext:
    return UserExecutionContext.from_request(user_id, feature="usage_analytics")


@pytest.mark.parametrize(("method", "message"), CASES)
def test_usage_analytics_call_emits_critical_events(method: str, message: str) -> None:
    bridge = AgentWebSocketBridge()
    service = UsageAnalyticsService(websocket_bridge=bridge)
    context = _context("u-usage_analytics")
    reply = asyncio.run(getattr(service, method)(context, message))
    assert reply[method]
    assert reply["user_id"] == context.user_id
    assert bridge.manager.event_types_for(context.user_id) == list(CRITICAL_EVENTS)
    assert bridge.manager.connected_users() == [context.user_id]


def test_usage_analytics_context_location_still_importable():
    from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as Legacy  # noqa: PLC0415

    assert Legacy is UserExecutionContext


def test_usage_analytics_routes_build_context_from_request():
    from netra_backend.app.routes import usage_analytics as routes  # noqa: PLC0415

    service = UsageAnalyticsService()
    request = {"user_id": "u-route-1", "thread_id": "t-1", "report_request": "route check"}
    reply = asyncio.run(routes.analyze_usage_route(service, request))
    assert reply["user_id"] == "u-route-1"
