"""OnboardingService: every call runs one agent for one user and emits the five events."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine, UserExecutionContext
from netra_backend.app.services.onboarding_service import OnboardingService
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

CASES = [
    ("welcome_plan", 'We want cheaper support automation and faster answers'),
    ("starter_budget", 'Start with 500 chats a day for the pilot team'),
]


def _context(user_id: str) -> UserExecutionContext:
    return UserExecutionContext.from_request(user_id, feature="onboarding")


@pytest.mark.parametrize(("method", "message"), CASES)
def test_onboarding_call_emits_critical_events(method: str, message: str) -> None:
    bridge = AgentWebSocketBridge()
    service = OnboardingService(websocket_bridge=bridge)
    context = _context("u-onboarding")
    reply = asyncio.run(getattr(service, method)(context, message))
    assert reply[method]
    assert reply["user_id"] == context.user_id
    assert bridge.manager.event_types_for(context.user_id) == list(CRITICAL_EVENTS)
    assert bridge.manager.connected_users() == [context.user_id]


def test_onboarding_engine_is_the_ssot_engine():
    service = OnboardingService()
    reply = asyncio.run(service.welcome_plan(_context("u-ssot"), "ping"))
    assert reply["engine"] == ExecutionEngine.__name__ == "UserExecutionEngine"


def test_onboarding_service_reports_the_engine_it_used():
    from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine  # noqa: PLC0415

    reply = asyncio.run(OnboardingService().starter_budget(_context("u-eng"), "engine check"))
    assert reply["engine"] == ExecutionEngine.__qualname__


def test_onboarding_routes_build_context_from_request():
    from netra_backend.app.routes import onboarding as routes  # noqa: PLC0415

    service = OnboardingService()
    request = {"user_id": "u-route-8", "thread_id": "t-8", "goals": "route check"}
    reply = asyncio.run(routes.welcome_plan_route(service, request))
    assert reply["user_id"] == "u-route-8"
