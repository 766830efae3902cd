"""UsageAnalyticsService: Usage reports per workspace: volumes, topics, token counts.

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

__all__ = ["UsageAnalyticsService"]


class UsageAnalyticsService:
    """Usage reports per workspace: volumes, topics, token counts."""

    def __init__(
        self,
        registry: AgentRegistry | None = None,
        websocket_bridge: AgentWebSocketBridge | None = None,
    ) -> None:
        self._registry = registry or AgentRegistry.default()
        self._bridge = websocket_bridge or AgentWebSocketBridge()
        self.calls = 0

    async def _engine_for(self, context: UserExecutionContext) -> ExecutionEngine:
        return ExecutionEngine(self._registry, self._bridge, context)

    async def analyze_usage(self, context: UserExecutionContext, report_request: str) -> dict[str, Any]:
        """Token volume of a usage question."""
        self.calls += 1
        engine = await self._engine_for(context)
        result = await engine.execute_agent("data_helper", report_request)
        return {
            "analyze_usage": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def top_topics(self, context: UserExecutionContext, transcript: str) -> dict[str, Any]:
        """The topics a workspace talks about most."""
        self.calls += 1
        engine = ExecutionEngine(self._registry, self._bridge, context)
        result = await engine.execute_agent("triage", transcript)
        return {
            "top_topics": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def token_report(self, context: UserExecutionContext, query: str) -> dict[str, Any]:
        """A short token report for one query."""
        self.calls += 1
        engine = await self._engine_for(context)
        result = await engine.execute_agent("data_helper", query)
        return {
            "token_report": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    def context_for(self, user_id: str, **metadata: Any) -> UserExecutionContext:
        from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Context  # noqa: PLC0415 - import cycle

        return _Context.from_request(user_id, feature="usage_analytics", **metadata)
