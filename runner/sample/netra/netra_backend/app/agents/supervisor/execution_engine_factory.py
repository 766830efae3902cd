"""ExecutionEngineFactory: the preferred, modern way to get a per-user engine.

Already on the target pattern (keyword constructor), so the migration plan keeps its
codemods off this file.
"""

from __future__ import annotations

from netra_backend.app.agents.registry import AgentFactory, AgentRegistry
from netra_backend.app.agents.supervisor.user_execution_engine import UserExecutionEngine
from netra_backend.app.services.user_execution_context import UserExecutionContext
from netra_backend.app.websocket_core.emitter import UserWebSocketEmitter
from netra_backend.app.websocket_core.manager import WebSocketManager

__all__ = ["ExecutionEngineFactory"]


class ExecutionEngineFactory:
    """Builds one isolated engine per user context from shared, stateless parts."""

    def __init__(
        self, registry: AgentRegistry | None = None, manager: WebSocketManager | None = None
    ) -> None:
        self.registry = registry if registry is not None else AgentRegistry.default()
        self.manager = manager if manager is not None else WebSocketManager()
        self.created = 0

    def create_for_user(self, context: UserExecutionContext) -> UserExecutionEngine:
        self.manager.connect(context.user_id)
        self.created += 1
        return UserExecutionEngine(
            context=context,
            agent_factory=AgentFactory(self.registry),
            websocket_emitter=UserWebSocketEmitter(self.manager, context),
        )
