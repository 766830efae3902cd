"""Websocket handlers: each message type runs one agent and answers its sender only."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext
from netra_backend.app.websocket_core import handlers
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

CASES = [
    ("user_message", "UserMessageHandler"),
    ("start_agent", "StartAgentHandler"),
    ("thread_resume", "ThreadResumeHandler"),
    ("feedback_message", "FeedbackMessageHandler"),
    ("cost_question", "CostQuestionHandler"),
    ("usage_question", "UsageQuestionHandler"),
]


@pytest.mark.parametrize(("kind", "cls_name"), CASES)
def test_handler_answers_its_sender(kind: str, cls_name: str) -> None:
    bridge = AgentWebSocketBridge()
    handler = getattr(handlers, cls_name)(AgentRegistry.default(), bridge)
    message = {"type": kind, "payload": {"text": "How much do embeddings cost?", "thread_id": "t-ws"}}
    assert handler.can_handle(message)
    reply = asyncio.run(handler.handle("ws-user", message))
    assert reply["type"] == "agent_response"
    assert bridge.manager.event_types_for("ws-user") == list(CRITICAL_EVENTS)
    assert bridge.manager.connected_users() == ["ws-user"]
    assert handler.describe()["engine"] == "UserExecutionEngine"


def test_handlers_keep_concurrent_senders_apart() -> None:
    bridge = AgentWebSocketBridge()
    registry = AgentRegistry.default()
    all_handlers = [cls(registry, bridge) for cls in handlers.HANDLER_CLASSES]

    async def burst() -> None:
        await asyncio.gather(
            *(
                h.handle(f"ws-{n}", {"type": h.message_type, "payload": {"text": "hi"}})
                for n, h in enumerate(all_handlers)
            )
        )

    asyncio.run(burst())
    for n in range(len(all_handlers)):
        messages = bridge.manager.messages_for(f"ws-{n}")
        assert {m["user_id"] for m in messages} == {f"ws-{n}"}


def test_context_type_is_the_ssot_class() -> None:
    assert UserExecutionContext.__module__ == "netra_backend.app.services.user_execution_context"
