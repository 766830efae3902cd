"""CostAlertService: Alerts when projected spend crosses a budget.

Built on the execution engine through the Issue #565 compatibility bridge.
"""

from __future__ import annotations

from typing import Any

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine
from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge

__all__ = ["CostAlertService"]


class CostAlertService:
    """Alerts when projected spend crosses a budget."""

    def __init__(
        self,
        registry: AgentRegistry | None = None,
        websocket_bridge: AgentWebSocketBridge | None = None,
    ) -> None:
        self.registry = registry or AgentRegistry.default()
        self.websocket_bridge = websocket_bridge or AgentWebSocketBridge()
        self.calls = 0

    async def check_budget(self, user_context: UserExecutionContext, budget_note: str) -> dict[str, Any]:
        """Projected spend against a budget."""
        self.calls += 1
        engine = ExecutionEngine(self.registry, self.websocket_bridge, user_context)
        result = await engine.execute_agent("cost_optimizer", budget_note)
        return {
            "check_budget": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def explain_alert(self, user_context: UserExecutionContext, alert_text: str) -> dict[str, Any]:
        """What an alert is about."""
        self.calls += 1
        engine = ExecutionEngine(self.registry, self.websocket_bridge, user_context)
        result = await engine.execute_agent("triage", alert_text)
        return {
            "explain_alert": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    def context_for(self, user_id: str, **metadata: Any) -> UserExecutionContext:
        from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Context  # noqa: PLC0415 - import cycle

        return _Context.from_request(user_id, feature="cost_alerts", **metadata)
