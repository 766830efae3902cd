"""SupportTriageService: Routes support tickets to the right specialist agent.

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

__all__ = ["SupportTriageService"]


class SupportTriageService:
    """Routes support tickets to the right specialist agent."""

    def __init__(
        self,
        registry: AgentRegistry | None = None,
        websocket_bridge: AgentWebSocketBridge | None = None,
    ) -> None:
        self._registry = registry or AgentRegistry.default()
        self._bridge = websocket_bridge or AgentWebSocketBridge()
        self.calls = 0

    async def _engine_for(self, user_context: UserExecutionContext) -> ExecutionEngine:
        return ExecutionEngine(self._registry, self._bridge, user_context)

    async def triage_ticket(self, user_context: UserExecutionContext, ticket: str) -> dict[str, Any]:
        """The ticket's topics, routed."""
        self.calls += 1
        engine = await self._engine_for(user_context)
        result = await engine.execute_agent("triage", ticket)
        return {
            "triage_ticket": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def ticket_sentiment(self, user_context: UserExecutionContext, ticket: str) -> dict[str, Any]:
        """How upset the customer is."""
        self.calls += 1
        engine = ExecutionEngine(self._registry, self._bridge, user_context)
        result = await engine.execute_agent("reporting", ticket)
        return {
            "ticket_sentiment": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def ticket_size(self, user_context: UserExecutionContext, ticket: str) -> dict[str, Any]:
        """Tokens needed to answer the ticket."""
        self.calls += 1
        engine = await self._engine_for(user_context)
        result = await engine.execute_agent("data_helper", ticket)
        return {
            "ticket_size": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    def context_for(self, user_id: str, **metadata: Any) -> UserExecutionContext:
        from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Context  # noqa: PLC0415 - import cycle

        return _Context.from_request(user_id, feature="support_triage", **metadata)
