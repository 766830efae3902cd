"""ModelRoutingService: every call runs one agent for one user and emits the five events."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine, UserExecutionContext
from netra_backend.app.services.model_routing_service import ModelRoutingService
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

CASES = [
    ("recommend_route", 'Route our classification traffic to the cheapest model that keeps accuracy'),
    ("explain_route", 'Why did routing send the legal review prompts to the large model?'),
]


def _context(user_id: str) -> UserExecutionContext:
    return UserExecutionContext.from_request(user_id, feature="model_routing")


@pytest.mark.parametrize(("method", "message"), CASES)
def test_model_routing_call_emits_critical_events(method: str, message: str) -> None:
    bridge = AgentWebSocketBridge()
    service = ModelRoutingService(websocket_bridge=bridge)
    context = _context("u-model_routing")
    reply = asyncio.run(getattr(service, method)(context, message))
    assert reply[method]
    assert reply["user_id"] == context.user_id
    assert bridge.manager.event_types_for(context.user_id) == list(CRITICAL_EVENTS)
    assert bridge.manager.connected_users() == [context.user_id]


def test_model_routing_engine_is_the_ssot_engine():
    service = ModelRoutingService()
    reply = asyncio.run(service.recommend_route(_context("u-ssot"), "ping"))
    assert reply["engine"] == ExecutionEngine.__name__ == "UserExecutionEngine"


def test_model_routing_service_reports_the_engine_it_used():
    from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine  # noqa: PLC0415

    reply = asyncio.run(ModelRoutingService().explain_route(_context("u-eng"), "engine check"))
    assert reply["engine"] == ExecutionEngine.__qualname__


def test_model_routing_routes_build_context_from_request():
    from netra_backend.app.routes import model_routing as routes  # noqa: PLC0415

    service = ModelRoutingService()
    request = {"user_id": "u-route-2", "thread_id": "t-2", "workload": "route check"}
    reply = asyncio.run(routes.recommend_route_route(service, request))
    assert reply["user_id"] == "u-route-2"
