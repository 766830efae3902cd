"""Nightly batch jobs (sync, run by cron).

Sync code: an engine built here runs its agent with ``asyncio.run``. Not on
any request path; tests/unit/test_admin_tools.py runs it.
"""

from __future__ import annotations

import asyncio
import sys

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine
from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge


def nightly_feedback_digest(user_id: str, text: str) -> str:
    registry = AgentRegistry.default()
    websocket_bridge = AgentWebSocketBridge()
    user_context = UserExecutionContext.from_request(user_id, source="admin:nightly_feedback_digest")
    engine = ExecutionEngine(registry, websocket_bridge, user_context)
    return asyncio.run(engine.execute_agent("reporting", text)).response


def nightly_topic_digest(user_id: str, text: str) -> str:
    registry = AgentRegistry.default()
    websocket_bridge = AgentWebSocketBridge()
    user_context = UserExecutionContext.from_request(user_id, source="admin:nightly_topic_digest")
    engine = ExecutionEngine(registry, websocket_bridge, user_context)
    return asyncio.run(engine.execute_agent("triage", text)).response


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: nightly_feedback_digest USER_ID TEXT", file=sys.stderr)
        return 2
    print(nightly_feedback_digest(args[0], args[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
