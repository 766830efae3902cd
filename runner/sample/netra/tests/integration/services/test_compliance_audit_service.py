"""ComplianceAuditService: every call runs one agent for one user and emits the five events."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine, UserExecutionContext
from netra_backend.app.services.compliance_audit_service import ComplianceAuditService
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

CASES = [
    ("audit_run", 'Audit the data access of the reporting agent for workspace acme'),
    ("audit_volume", 'Audit volume for all runs that touched personal data last week'),
]


def _context(user_id: str) -> UserExecutionContext:
    return UserExecutionContext.from_request(user_id, feature="compliance_audit")


@pytest.mark.parametrize(("method", "message"), CASES)
def test_compliance_audit_call_emits_critical_events(method: str, message: str) -> None:
    bridge = AgentWebSocketBridge()
    service = ComplianceAuditService(websocket_bridge=bridge)
    context = _context("u-compliance_audit")
    reply = asyncio.run(getattr(service, method)(context, message))
    assert reply[method]
    assert reply["user_id"] == context.user_id
    assert bridge.manager.event_types_for(context.user_id) == list(CRITICAL_EVENTS)
    assert bridge.manager.connected_users() == [context.user_id]


def test_compliance_audit_engine_is_the_ssot_engine():
    service = ComplianceAuditService()
    reply = asyncio.run(service.audit_run(_context("u-ssot"), "ping"))
    assert reply["engine"] == ExecutionEngine.__name__ == "UserExecutionEngine"


def test_compliance_audit_context_location_still_importable():
    from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as Legacy  # noqa: PLC0415

    assert Legacy is UserExecutionContext


def test_compliance_audit_routes_build_context_from_request():
    from netra_backend.app.routes import compliance_audit as routes  # noqa: PLC0415

    service = ComplianceAuditService()
    request = {"user_id": "u-route-11", "thread_id": "t-11", "audit_request": "route check"}
    reply = asyncio.run(routes.audit_run_route(service, request))
    assert reply["user_id"] == "u-route-11"
