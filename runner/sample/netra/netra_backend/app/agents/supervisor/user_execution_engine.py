"""UserExecutionEngine: the single source of truth (SSOT) for running agents (Issue #565).

One engine per user request. It owns nothing shared: its context, its agent factory (fresh
agents per run) and its websocket emitter (bound to that one user) are all handed in::

    engine = UserExecutionEngine(
        context=user_context,
        agent_factory=agent_factory,
        websocket_emitter=websocket_emitter,
    )

Callers that still hold the legacy trio use the transition pattern, which does not warn::

    engine = await UserExecutionEngine.create_from_legacy(registry, websocket_bridge, user_context)

or, in sync code (no ``await`` there), the keyword form with the legacy objects: a registry is
taken as the agent factory it makes, a shared bridge as the emitter bound to ``context``::

    engine = UserExecutionEngine(
        context=user_context, agent_factory=registry, websocket_emitter=websocket_bridge
    )

The deprecated positional form ``UserExecutionEngine(registry, websocket_bridge,
user_context)`` (what ``ExecutionEngine(...)`` through the compatibility bridge amounts to)
still works while the bridge methods at the end of the class exist; it warns
``DeprecationWarning``. Phase 4 of Issue #802 deletes those methods; from then on the
positional form raises ``TypeError`` saying what to write instead.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from netra_backend.app.agents.registry import AgentFactory, AgentRegistry
from netra_backend.app.services.user_execution_context import UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import UserWebSocketEmitter

__all__ = ["AgentExecutionResult", "UserExecutionEngine"]

_MIGRATION_HINT = (
    "use `await UserExecutionEngine.create_from_legacy(registry, websocket_bridge, "
    "user_context)` or `UserExecutionEngine(context=..., agent_factory=..., "
    "websocket_emitter=...)`"
)


@dataclass(frozen=True)
class AgentExecutionResult:
    """What one agent run produced, and for whom."""

    agent_name: str
    user_id: str
    run_id: str
    response: str
    tool_output: dict[str, Any]
    engine_class: str


class UserExecutionEngine:
    """Runs agents for exactly one user; every event goes to that user's emitter only."""

    def __init__(
        self,
        *legacy_args: Any,
        context: UserExecutionContext | None = None,
        agent_factory: AgentFactory | AgentRegistry | None = None,
        websocket_emitter: UserWebSocketEmitter | AgentWebSocketBridge | None = None,
    ) -> None:
        if legacy_args:
            # The positional (registry, websocket_bridge, user_context) form exists only
            # while the compatibility bridge methods below do.
            legacy_init = getattr(self, "_legacy_positional_init", None)
            keywords = (context, agent_factory, websocket_emitter)
            if legacy_init is None or any(k is not None for k in keywords):
                msg = f"UserExecutionEngine takes keyword arguments only: {_MIGRATION_HINT}"
                raise TypeError(msg)
            legacy_init(*legacy_args)
            return
        if context is None or agent_factory is None or websocket_emitter is None:
            msg = "UserExecutionEngine needs context=, agent_factory= and websocket_emitter="
            raise TypeError(msg)
        self._setup(context, agent_factory, websocket_emitter)

    def _setup(
        self,
        context: UserExecutionContext,
        agent_factory: AgentFactory | AgentRegistry,
        websocket_emitter: UserWebSocketEmitter | AgentWebSocketBridge,
    ) -> None:
        if not isinstance(context, UserExecutionContext):
            msg = f"context must be a UserExecutionContext, got {type(context).__name__}"
            raise TypeError(msg)
        if isinstance(agent_factory, AgentRegistry):
            agent_factory = AgentFactory.from_registry(agent_factory)
        if isinstance(websocket_emitter, AgentWebSocketBridge):
            websocket_emitter = UserWebSocketEmitter.from_bridge(websocket_emitter, context)
        if websocket_emitter.context.user_id != context.user_id:
            msg = "the websocket emitter belongs to another user; refusing to cross users"
            raise ValueError(msg)
        self.context = context
        self._agent_factory = agent_factory
        self._emitter = websocket_emitter
        self.history: list[AgentExecutionResult] = []

    @classmethod
    async def create_from_legacy(
        cls,
        registry: AgentRegistry,
        websocket_bridge: AgentWebSocketBridge,
        user_context: UserExecutionContext,
    ) -> UserExecutionEngine:
        """The transition pattern: legacy arguments in, a modern per-user engine out."""
        emitter = UserWebSocketEmitter.from_bridge(websocket_bridge, user_context)
        await emitter.connect()
        return cls(
            context=user_context,
            agent_factory=AgentFactory.from_registry(registry),
            websocket_emitter=emitter,
        )

    @property
    def websocket_emitter(self) -> UserWebSocketEmitter:
        return self._emitter

    async def execute_agent(self, agent_name: str, message: str) -> AgentExecutionResult:
        """Run one agent on the user's message, emitting the five critical events in order."""
        agent = self._agent_factory.create(agent_name, self.context)
        emit = self._emitter.emit
        await emit("agent_started", agent=agent_name)
        await emit("agent_thinking", agent=agent_name, thought=agent.think(message))
        await emit("tool_executing", agent=agent_name, tool=agent.tool.name)
        output = await agent.tool.run(message)
        await emit("tool_completed", agent=agent_name, tool=agent.tool.name, output=output)
        response = agent.respond(message, output)
        await emit("agent_completed", agent=agent_name, response=response)
        result = AgentExecutionResult(
            agent_name=agent_name,
            user_id=self.context.user_id,
            run_id=self.context.run_id,
            response=response,
            tool_output=output,
            engine_class=type(self).__name__,
        )
        self.history.append(result)
        return result

    # --- Compatibility bridge (Issue #565) -------------------------------------------------
    # Reached only through the deprecated positional constructor. Phase 4 of Issue #802
    # deletes both methods once no caller constructs the engine positionally.

    def _legacy_positional_init(
        self,
        registry: AgentRegistry,
        websocket_bridge: AgentWebSocketBridge,
        user_context: UserExecutionContext,
    ) -> None:
        self._warn_legacy_usage("UserExecutionEngine(registry, websocket_bridge, user_context)")
        emitter = UserWebSocketEmitter.from_bridge(websocket_bridge, user_context)
        self._setup(user_context, AgentFactory.from_registry(registry), emitter)

    @staticmethod
    def _warn_legacy_usage(pattern: str) -> None:
        # stacklevel 4: this method, _legacy_positional_init, __init__, then the caller.
        msg = f"{pattern} is deprecated (Issue #565): {_MIGRATION_HINT}"
        warnings.warn(msg, DeprecationWarning, stacklevel=4)
