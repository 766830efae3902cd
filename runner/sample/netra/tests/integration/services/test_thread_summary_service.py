"""ThreadSummaryService: every call runs one agent for one user and emits the five events."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine, UserExecutionContext
from netra_backend.app.services.thread_summary_service import ThreadSummaryService
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

CASES = [
    ("summarize_thread", 'We discussed caching, batching and caching again for the embeddings pipeline.'),
    ("title_for_thread", 'Help me reduce GPU cost for our nightly batch'),
    ("estimate_thread_tokens", 'A long thread about vector databases, rerankers and prompt caching.'),
]


def _context(user_id: str) -> UserExecutionContext:
    return UserExecutionContext.from_request(user_id, feature="thread_summary")


@pytest.mark.parametrize(("method", "message"), CASES)
def test_thread_summary_call_emits_critical_events(method: str, message: str) -> None:
    bridge = AgentWebSocketBridge()
    service = ThreadSummaryService(websocket_bridge=bridge)
    context = _context("u-thread_summary")
    reply = asyncio.run(getattr(service, method)(context, message))
    assert reply[method]
    assert reply["user_id"] == context.user_id
    assert bridge.manager.event_types_for(context.user_id) == list(CRITICAL_EVENTS)
    assert bridge.manager.connected_users() == [context.user_id]


def test_thread_summary_engine_is_the_ssot_engine():
    service = ThreadSummaryService()
    reply = asyncio.run(service.summarize_thread(_context("u-ssot"), "ping"))
    assert reply["engine"] == ExecutionEngine.__name__ == "UserExecutionEngine"


def test_thread_summary_context_location_still_importable():
    from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as Legacy  # noqa: PLC0415

    assert Legacy is UserExecutionContext


def test_thread_summary_routes_build_context_from_request():
    from netra_backend.app.routes import thread_summary as routes  # noqa: PLC0415

    service = ThreadSummaryService()
    request = {"user_id": "u-route-5", "thread_id": "t-5", "thread_text": "route check"}
    reply = asyncio.run(routes.summarize_thread_route(service, request))
    assert reply["user_id"] == "u-route-5"
