"""Smoke: the backend imports and answers one chat message (the rollback check)."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil

import netra_backend
from netra_backend.app.agents.supervisor.execution_engine_factory import ExecutionEngineFactory
from netra_backend.app.services.auth_service import AuthService
from netra_backend.app.services.chat_service import ChatService
from netra_backend.app.services.user_execution_context import UserExecutionContext


#: Deprecated modules warn on import by design; loading them is not what smoke checks.
DEPRECATED = {"supervisor.execution_engine"}


def test_every_backend_module_imports() -> None:
    names = [
        m.name
        for m in pkgutil.walk_packages(netra_backend.__path__, "netra_backend.")
        if not m.name.endswith(tuple(DEPRECATED))
    ]
    assert len(names) > 30
    for name in names:
        importlib.import_module(name)


def test_one_chat_message_gets_an_answer() -> None:
    auth = AuthService()
    auth.register("smoke@netra.ai", "pw")
    token = auth.login("smoke@netra.ai", "pw").token
    reply = asyncio.run(ChatService(auth).handle_message(token, "hello"))
    assert reply.text


def test_factory_builds_a_working_engine() -> None:
    engine = ExecutionEngineFactory().create_for_user(UserExecutionContext.from_request("smoke"))
    assert asyncio.run(engine.execute_agent("triage", "ping")).user_id == "smoke"
