"""WorkloadInsightsService: every call runs one agent for one user and emits the five events."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.services.workload_insights_service import WorkloadInsightsService
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

CASES = [
    ("hot_workloads", 'embeddings embeddings search rerank embeddings chat'),
    ("workload_cost", 'Cost of 2 million embedding calls per day'),
    ("latency_mood", 'Responses are slow, latency is bad during peak hours'),
]


def _context(user_id: str) -> UserExecutionContext:
    return UserExecutionContext.from_request(user_id, feature="workload_insights")


@pytest.mark.parametrize(("method", "message"), CASES)
def test_workload_insights_call_emits_critical_events(method: str, message: str) -> None:
    bridge = AgentWebSocketBridge()
    service = WorkloadInsightsService(websocket_bridge=bridge)
    context = _context("u-workload_insights")
    reply = asyncio.run(getattr(service, method)(context, message))
    assert reply[method]
    assert reply["user_id"] == context.user_id
    assert bridge.manager.event_types_for(context.user_id) == list(CRITICAL_EVENTS)
    assert bridge.manager.connected_users() == [context.user_id]


def test_workload_insights_service_reports_the_engine_it_used():
    from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine  # noqa: PLC0415

    reply = asyncio.run(WorkloadInsightsService().latency_mood(_context("u-eng"), "engine check"))
    assert reply["engine"] == ExecutionEngine.__qualname__


def test_workload_insights_routes_build_context_from_request():
    from netra_backend.app.routes import workload_insights as routes  # noqa: PLC0415

    service = WorkloadInsightsService()
    request = {"user_id": "u-route-12", "thread_id": "t-12", "telemetry": "route check"}
    reply = asyncio.run(routes.hot_workloads_route(service, request))
    assert reply["user_id"] == "u-route-12"
