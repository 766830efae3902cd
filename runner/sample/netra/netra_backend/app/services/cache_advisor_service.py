"""CacheAdvisorService: Advises where prompt and response caching pays off.

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

__all__ = ["CacheAdvisorService"]


class CacheAdvisorService:
    """Advises where prompt and response caching pays off."""

    def __init__(
        self,
        registry: AgentRegistry | None = None,
        websocket_bridge: AgentWebSocketBridge | None = None,
    ) -> None:
        self._registry = registry or AgentRegistry.default()
        self._bridge = websocket_bridge or AgentWebSocketBridge()
        self.calls = 0

    async def cache_candidates(self, context: UserExecutionContext, traffic_sample: str) -> dict[str, Any]:
        """Repeated topics worth caching."""
        self.calls += 1
        engine = ExecutionEngine(self._registry, self._bridge, context)
        result = await engine.execute_agent("triage", traffic_sample)
        return {
            "cache_candidates": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def cache_savings(self, context: UserExecutionContext, traffic_sample: str) -> dict[str, Any]:
        """Savings if cached."""
        self.calls += 1
        engine = ExecutionEngine(self._registry, self._bridge, context)
        result = await engine.execute_agent("cost_optimizer", traffic_sample)
        return {
            "cache_savings": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    def context_for(self, user_id: str, **metadata: Any) -> UserExecutionContext:
        from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Context  # noqa: PLC0415 - import cycle

        return _Context.from_request(user_id, feature="cache_advisor", **metadata)
