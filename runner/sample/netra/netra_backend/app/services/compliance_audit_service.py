"""ComplianceAuditService: Audits which data each agent run touched.

Built on the execution engine through the Issue #565 compatibility bridge.
"""

from __future__ import annotations

from typing import Any

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext, ExecutionEngine
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge

__all__ = ["ComplianceAuditService"]


class ComplianceAuditService:
    """Audits which data each agent run touched."""

    def __init__(
        self,
        registry: AgentRegistry | None = None,
        websocket_bridge: AgentWebSocketBridge | None = None,
    ) -> None:
        self._registry = registry or AgentRegistry.default()
        self._bridge = websocket_bridge or AgentWebSocketBridge()
        self.calls = 0

    async def audit_run(self, ctx: UserExecutionContext, audit_request: str) -> dict[str, Any]:
        """Topics an audited run touched."""
        self.calls += 1
        engine = ExecutionEngine(self._registry, self._bridge, ctx)
        result = await engine.execute_agent("triage", audit_request)
        return {
            "audit_run": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def audit_volume(self, ctx: UserExecutionContext, audit_request: str) -> dict[str, Any]:
        """Token volume under audit."""
        self.calls += 1
        engine = ExecutionEngine(self._registry, self._bridge, ctx)
        result = await engine.execute_agent("data_helper", audit_request)
        return {
            "audit_volume": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    def context_for(self, user_id: str, **metadata: Any) -> UserExecutionContext:
        from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Context  # noqa: PLC0415 - import cycle

        return _Context.from_request(user_id, feature="compliance_audit", **metadata)
