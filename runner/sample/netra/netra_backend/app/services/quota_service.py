"""QuotaService: Per-user quotas measured in tokens.

Built on the execution engine through the Issue #565 compatibility bridge.
"""

from __future__ import annotations

from typing import Any

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext, ExecutionEngine
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge

__all__ = ["QuotaService"]


class QuotaService:
    """Per-user quotas measured in tokens."""

    def __init__(
        self,
        registry: AgentRegistry | None = None,
        websocket_bridge: AgentWebSocketBridge | None = None,
    ) -> None:
        self._registry = registry or AgentRegistry.default()
        self._bridge = websocket_bridge or AgentWebSocketBridge()
        self.calls = 0

    async def remaining_quota(self, context: UserExecutionContext, request_text: str) -> dict[str, Any]:
        """Tokens this request would use."""
        self.calls += 1
        engine = ExecutionEngine(self._registry, self._bridge, context)
        result = await engine.execute_agent("data_helper", request_text)
        return {
            "remaining_quota": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def quota_warning(self, context: UserExecutionContext, usage_comment: str) -> dict[str, Any]:
        """Tone of a user near their quota."""
        self.calls += 1
        engine = ExecutionEngine(self._registry, self._bridge, context)
        result = await engine.execute_agent("reporting", usage_comment)
        return {
            "quota_warning": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    def context_for(self, user_id: str, **metadata: Any) -> UserExecutionContext:
        from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Context  # noqa: PLC0415 - import cycle

        return _Context.from_request(user_id, feature="quota", **metadata)
