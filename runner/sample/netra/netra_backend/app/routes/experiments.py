"""Routes for experiments: request dicts in, JSON-able dicts out."""

from __future__ import annotations

from typing import Any

from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.services.experiments_service import ExperimentService

ROUTE_PREFIX = "/api/experiments"


def context_from_request(request: dict[str, Any]) -> UserExecutionContext:
    """The user context of one request; ids the client sent are kept."""
    return UserExecutionContext.from_request(
        request["user_id"],
        thread_id=request.get("thread_id"),
        run_id=request.get("run_id"),
        route=ROUTE_PREFIX,
    )


async def design_experiment_route(service: ExperimentService, request: dict[str, Any]) -> dict[str, Any]:
    context = context_from_request(request)
    return await service.design_experiment(context, request["hypothesis"])


async def read_results_route(service: ExperimentService, request: dict[str, Any]) -> dict[str, Any]:
    context = context_from_request(request)
    return await service.read_results(context, request["results_note"])


def validate_request(request: dict[str, Any]) -> list[str]:
    """Problems with a request, empty when it can be served."""
    from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Ctx  # noqa: PLC0415

    problems = [] if request.get("user_id") else ["user_id is required"]
    if not problems:
        _Ctx.from_request(request["user_id"])  # raises on a blank id
    return problems
