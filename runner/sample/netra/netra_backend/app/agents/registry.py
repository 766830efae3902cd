"""AgentRegistry (legacy, process-wide) and AgentFactory (modern, per-user instances)."""

from __future__ import annotations

from collections.abc import Iterable

from netra_backend.app.agents.base_agent import AGENT_CLASSES, BaseAgent
from netra_backend.app.services.user_execution_context import UserExecutionContext

__all__ = ["AgentFactory", "AgentRegistry", "UnknownAgentError"]


class UnknownAgentError(LookupError):
    """The registry has no agent by that name."""


class AgentRegistry:
    """Agent classes by name. Holds classes only, so sharing it cannot leak user state."""

    def __init__(self, agents: Iterable[type[BaseAgent]] | None = None) -> None:
        classes = AGENT_CLASSES.values() if agents is None else agents
        self._classes = {cls.name: cls for cls in classes}

    @classmethod
    def default(cls) -> AgentRegistry:
        return cls()

    def names(self) -> list[str]:
        return sorted(self._classes)

    def get(self, name: str) -> type[BaseAgent]:
        try:
            return self._classes[name]
        except KeyError:
            msg = f"no agent named {name!r}; known: {', '.join(self.names())}"
            raise UnknownAgentError(msg) from None


class AgentFactory:
    """Creates a fresh agent per user and run: the modern engine's only way to get agents."""

    def __init__(self, registry: AgentRegistry) -> None:
        self._registry = registry

    @classmethod
    def from_registry(cls, registry: AgentRegistry) -> AgentFactory:
        return cls(registry)

    def create(self, name: str, context: UserExecutionContext) -> BaseAgent:
        return self._registry.get(name)(context)
