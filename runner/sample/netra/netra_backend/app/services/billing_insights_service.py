"""BillingInsightsService: Explains a customer's AI bill and where the money goes.

Built on the execution engine through the Issue #565 compatibility bridge.
"""

from __future__ import annotations

from typing import Any

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine, UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge

__all__ = ["BillingInsightsService"]


class BillingInsightsService:
    """Explains a customer's AI bill and where the money goes."""

    def __init__(
        self,
        registry: AgentRegistry | None = None,
        websocket_bridge: AgentWebSocketBridge | None = None,
    ) -> None:
        self.registry = registry or AgentRegistry.default()
        self.websocket_bridge = websocket_bridge or AgentWebSocketBridge()
        self.calls = 0

    async def summarize_invoice(self, user_context: UserExecutionContext, invoice_text: str) -> dict[str, Any]:
        """Plain-words invoice summary."""
        self.calls += 1
        engine = ExecutionEngine(self.registry, self.websocket_bridge, user_context)
        result = await engine.execute_agent("cost_optimizer", invoice_text)
        return {
            "summarize_invoice": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def forecast_spend(self, user_context: UserExecutionContext, usage_note: str) -> dict[str, Any]:
        """Next month's spend at current usage."""
        self.calls += 1
        engine = ExecutionEngine(self.registry, self.websocket_bridge, user_context)
        result = await engine.execute_agent("cost_optimizer", usage_note)
        return {
            "forecast_spend": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    def context_for(self, user_id: str, **metadata: Any) -> UserExecutionContext:
        from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Context  # noqa: PLC0415 - import cycle

        return _Context.from_request(user_id, feature="billing_insights", **metadata)
