"""Routes for workload insights: request dicts in, JSON-able dicts out."""

from __future__ import annotations

from typing import Any

from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.services.workload_insights_service import WorkloadInsightsService

ROUTE_PREFIX = "/api/workload-insights"


def context_from_request(request: dict[str, Any]) -> UserExecutionContext:
    """The user context of one request; ids the client sent are kept."""
    return UserExecutionContext.from_request(
        request["user_id"],
        thread_id=request.get("thread_id"),
        run_id=request.get("run_id"),
        route=ROUTE_PREFIX,
    )


async def hot_workloads_route(service: WorkloadInsightsService, request: dict[str, Any]) -> dict[str, Any]:
    context = context_from_request(request)
    return await service.hot_workloads(context, request["telemetry"])


async def workload_cost_route(service: WorkloadInsightsService, request: dict[str, Any]) -> dict[str, Any]:
    context = context_from_request(request)
    return await service.workload_cost(context, request["telemetry"])


async def latency_mood_route(service: WorkloadInsightsService, request: dict[str, Any]) -> dict[str, Any]:
    context = context_from_request(request)
    return await service.latency_mood(context, request["telemetry"])


def validate_request(request: dict[str, Any]) -> list[str]:
    """Problems with a request, empty when it can be served."""
    from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Ctx  # noqa: PLC0415

    problems = [] if request.get("user_id") else ["user_id is required"]
    if not problems:
        _Ctx.from_request(request["user_id"])  # raises on a blank id
    return problems
