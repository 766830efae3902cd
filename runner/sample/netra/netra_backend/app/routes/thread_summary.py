"""Routes for thread summary: request dicts in, JSON-able dicts out."""

from __future__ import annotations

from typing import Any

from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.services.thread_summary_service import ThreadSummaryService

ROUTE_PREFIX = "/api/thread-summary"


def context_from_request(request: dict[str, Any]) -> UserExecutionContext:
    """The user context of one request; ids the client sent are kept."""
    return UserExecutionContext.from_request(
        request["user_id"],
        thread_id=request.get("thread_id"),
        run_id=request.get("run_id"),
        route=ROUTE_PREFIX,
    )


async def summarize_thread_route(service: ThreadSummaryService, request: dict[str, Any]) -> dict[str, Any]:
    context = context_from_request(request)
    return await service.summarize_thread(context, request["thread_text"])


async def title_for_thread_route(service: ThreadSummaryService, request: dict[str, Any]) -> dict[str, Any]:
    context = context_from_request(request)
    return await service.title_for_thread(context, request["first_message"])


async def estimate_thread_tokens_route(service: ThreadSummaryService, request: dict[str, Any]) -> dict[str, Any]:
    context = context_from_request(request)
    return await service.estimate_thread_tokens(context, request["thread_text"])


def validate_request(request: dict[str, Any]) -> list[str]:
    """Problems with a request, empty when it can be served."""
    from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Ctx  # noqa: PLC0415

    problems = [] if request.get("user_id") else ["user_id is required"]
    if not problems:
        _Ctx.from_request(request["user_id"])  # raises on a blank id
    return problems
