"""Routes for feedback: request dicts in, JSON-able dicts out."""

from __future__ import annotations

from typing import Any

from typing import TYPE_CHECKING

from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.services.feedback_service import FeedbackService

if TYPE_CHECKING:
    from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine

ROUTE_PREFIX = "/api/feedback"


def context_from_request(request: dict[str, Any]) -> UserExecutionContext:
    """The user context of one request; ids the client sent are kept."""
    return UserExecutionContext.from_request(
        request["user_id"],
        thread_id=request.get("thread_id"),
        run_id=request.get("run_id"),
        route=ROUTE_PREFIX,
    )


async def classify_feedback_route(service: FeedbackService, request: dict[str, Any]) -> dict[str, Any]:
    context = context_from_request(request)
    return await service.classify_feedback(context, request["feedback"])


async def escalate_if_unhappy_route(service: FeedbackService, request: dict[str, Any]) -> dict[str, Any]:
    context = context_from_request(request)
    return await service.escalate_if_unhappy(context, request["feedback"])


def validate_request(request: dict[str, Any]) -> list[str]:
    """Problems with a request, empty when it can be served."""
    from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Ctx  # noqa: PLC0415

    problems = [] if request.get("user_id") else ["user_id is required"]
    if not problems:
        _Ctx.from_request(request["user_id"])  # raises on a blank id
    return problems


def describe_engine(engine: "ExecutionEngine") -> dict[str, Any]:
    return {"user_id": engine.context.user_id, "runs": len(engine.history)}
