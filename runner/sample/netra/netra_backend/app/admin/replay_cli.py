"""Replays a user's last message from the command line.

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


def replay_message(user_id: str, text: str) -> str:
    registry = AgentRegistry.default()
    websocket_bridge = AgentWebSocketBridge()
    user_context = UserExecutionContext.from_request(user_id, source="admin:replay_message")
    engine = ExecutionEngine(registry, websocket_bridge, user_context)
    return asyncio.run(engine.execute_agent("triage", text)).response


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: replay_message USER_ID TEXT", file=sys.stderr)
        return 2
    print(replay_message(args[0], args[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
