"""FeedbackService: every call runs one agent for one user and emits the five events."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.services.feedback_service import FeedbackService
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

CASES = [
    ("classify_feedback", 'Great answers and fast, thanks!'),
    ("escalate_if_unhappy", 'The chat is slow and the answers are broken, latency is bad'),
]


def _context(user_id: str) -> UserExecutionContext:
    return UserExecutionContext.from_request(user_id, feature="feedback")


@pytest.mark.parametrize(("method", "message"), CASES)
def test_feedback_call_emits_critical_events(method: str, message: str) -> None:
    bridge = AgentWebSocketBridge()
    service = FeedbackService(websocket_bridge=bridge)
    context = _context("u-feedback")
    reply = asyncio.run(getattr(service, method)(context, message))
    assert reply[method]
    assert reply["user_id"] == context.user_id
    assert bridge.manager.event_types_for(context.user_id) == list(CRITICAL_EVENTS)
    assert bridge.manager.connected_users() == [context.user_id]


def test_feedback_service_reports_the_engine_it_used():
    from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine  # noqa: PLC0415

    reply = asyncio.run(FeedbackService().escalate_if_unhappy(_context("u-eng"), "engine check"))
    assert reply["engine"] == ExecutionEngine.__qualname__


def test_feedback_routes_build_context_from_request():
    from netra_backend.app.routes import feedback as routes  # noqa: PLC0415

    service = FeedbackService()
    request = {"user_id": "u-route-4", "thread_id": "t-4", "feedback": "route check"}
    reply = asyncio.run(routes.classify_feedback_route(service, request))
    assert reply["user_id"] == "u-route-4"
