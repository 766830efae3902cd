"""PromptOptimizationService: Shortens prompts without losing what they ask for.

Built on the execution engine through the Issue #565 compatibility bridge.
"""

from __future__ import annotations

from typing import Any

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext, ExecutionEngine
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge

__all__ = ["PromptOptimizationService"]


class PromptOptimizationService:
    """Shortens prompts without losing what they ask for."""

    def __init__(
        self,
        registry: AgentRegistry | None = None,
        websocket_bridge: AgentWebSocketBridge | None = None,
    ) -> None:
        self._registry = registry or AgentRegistry.default()
        self._bridge = websocket_bridge or AgentWebSocketBridge()
        self.calls = 0

    async def shorten_prompt(self, user_context: UserExecutionContext, prompt: str) -> dict[str, Any]:
        """Token count before trimming a prompt."""
        self.calls += 1
        engine = ExecutionEngine(self._registry, self._bridge, user_context)
        result = await engine.execute_agent("data_helper", prompt)
        return {
            "shorten_prompt": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    async def rank_prompts(self, user_context: UserExecutionContext, prompts: str) -> dict[str, Any]:
        """Which prompt topics dominate."""
        self.calls += 1
        engine = ExecutionEngine(self._registry, self._bridge, user_context)
        result = await engine.execute_agent("triage", prompts)
        return {
            "rank_prompts": result.response,
            "user_id": result.user_id,
            "run_id": result.run_id,
            "engine": result.engine_class,
        }

    def context_for(self, user_id: str, **metadata: Any) -> UserExecutionContext:
        from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as _Context  # noqa: PLC0415 - import cycle

        return _Context.from_request(user_id, feature="prompt_optimization", **metadata)
