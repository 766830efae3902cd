"""ThreadSummaryService: Summaries of long chat threads.

Built on the execution engine through the Issue #565 compatibility bridge.
"""

from __future__ import annotations

from typing import Any

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import (
    ExecutionEngine,
    UserExecutionContext,
)
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge

__all__ = ["ThreadSummaryService"]


class ThreadSummaryService:
    """Summaries of long chat threads."""

    def __init__(
        self,
        registry: AgentRegistry | None = None,
        websocket_bridge: AgentWebSocketBridge | None = None,
    ) -> None:
        self._registry = registry or AgentRegistry.default()
        self._bridge = websocket_bridge or AgentWebSocketBridge()
        self.calls = 0

    async def summarize_thread(self, ctx: UserExecutionContext, thread_text: str) -> dict[str, Any]:
        """Topics of a chat thread."""
        self.calls += 1
        engine = ExecutionEngine(self._registry, self._bridge, ctx)
        result = await engine.execute_agent("triage", thread_text)
        return {
            "summarize_thread": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def title_for_thread(self, ctx: UserExecutionContext, first_message: str) -> dict[str, Any]:
        """A title from the opening message."""
        self.calls += 1
        engine = ExecutionEngine(self._registry, self._bridge, ctx)
        result = await engine.execute_agent("triage", first_message)
        return {
            "title_for_thread": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def estimate_thread_tokens(self, ctx: UserExecutionContext, thread_text: str) -> dict[str, Any]:
        """Tokens in a whole thread."""
        self.calls += 1
        engine = ExecutionEngine(self._registry, self._bridge, ctx)
        result = await engine.execute_agent("data_helper", thread_text)
        return {
            "estimate_thread_tokens": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    def context_for(self, user_id: str, **metadata: Any) -> UserExecutionContext:
        from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Context  # noqa: PLC0415 - import cycle

        return _Context.from_request(user_id, feature="thread_summary", **metadata)
