"""PromptOptimizationService: every call runs one agent for one user and emits the five events."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.services.prompt_optimization_service import PromptOptimizationService
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

CASES = [
    ("shorten_prompt", 'You are a helpful assistant. Please, if you can, kindly answer the question below.'),
    ("rank_prompts", 'summarize summarize translate classify summarize extract'),
]


def _context(user_id: str) -> UserExecutionContext:
    return UserExecutionContext.from_request(user_id, feature="prompt_optimization")


@pytest.mark.parametrize(("method", "message"), CASES)
def test_prompt_optimization_call_emits_critical_events(method: str, message: str) -> None:
    bridge = AgentWebSocketBridge()
    service = PromptOptimizationService(websocket_bridge=bridge)
    context = _context("u-prompt_optimization")
    reply = asyncio.run(getattr(service, method)(context, message))
    assert reply[method]
    assert reply["user_id"] == context.user_id
    assert bridge.manager.event_types_for(context.user_id) == list(CRITICAL_EVENTS)
    assert bridge.manager.connected_users() == [context.user_id]


def test_prompt_optimization_context_location_still_importable():
    from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as Legacy  # noqa: PLC0415

    assert Legacy is UserExecutionContext


def test_prompt_optimization_routes_build_context_from_request():
    from netra_backend.app.routes import prompt_optimization as routes  # noqa: PLC0415

    service = PromptOptimizationService()
    request = {"user_id": "u-route-3", "thread_id": "t-3", "prompt": "route check"}
    reply = asyncio.run(routes.shorten_prompt_route(service, request))
    assert reply["user_id"] == "u-route-3"
