"""BaseAgent and the agents the supervisor can run; one new instance per user and run."""

from __future__ import annotations

from typing import Any, ClassVar

from netra_backend.app.agents.tools import TOOLS, Tool
from netra_backend.app.services.user_execution_context import UserExecutionContext

__all__ = ["AGENT_CLASSES", "BaseAgent"]


class BaseAgent:
    """An agent thinks about the message, calls its one tool, and answers."""

    name: ClassVar[str] = "base"
    tool_name: ClassVar[str] = "keyword_extractor"

    def __init__(self, context: UserExecutionContext) -> None:
        self.context = context
        self.notes: list[str] = []  # per-instance scratchpad; never shared across users

    @property
    def tool(self) -> Tool:
        return TOOLS[self.tool_name]

    def think(self, message: str) -> str:
        thought = f"{self.name}: use {self.tool_name} on {len(message)} characters"
        self.notes.append(thought)
        return thought

    def respond(self, message: str, tool_output: dict[str, Any]) -> str:
        raise NotImplementedError


class TriageAgent(BaseAgent):
    name = "triage"
    tool_name = "keyword_extractor"

    def respond(self, message: str, tool_output: dict[str, Any]) -> str:
        topics = ", ".join(tool_output["keywords"]) or "general"
        return f"I routed your request about {topics} to the right specialist."


class CostOptimizerAgent(BaseAgent):
    name = "cost_optimizer"
    tool_name = "cost_estimator"

    def respond(self, message: str, tool_output: dict[str, Any]) -> str:
        saving = tool_output["large"] - tool_output["small"]
        return (
            f"Moving this traffic from the large to the small model tier saves about "
            f"${saving:.2f} per day; start with requests that need no long reasoning."
        )


class DataHelperAgent(BaseAgent):
    name = "data_helper"
    tool_name = "token_estimator"

    def respond(self, message: str, tool_output: dict[str, Any]) -> str:
        return f"Your request is about {tool_output['tokens']} tokens; I can batch similar ones."


class ReportingAgent(BaseAgent):
    name = "reporting"
    tool_name = "sentiment_probe"

    def respond(self, message: str, tool_output: dict[str, Any]) -> str:
        return f"Feedback looks {tool_output['label']} (score {tool_output['score']})."


AGENT_CLASSES: dict[str, type[BaseAgent]] = {
    cls.name: cls for cls in (TriageAgent, CostOptimizerAgent, DataHelperAgent, ReportingAgent)
}
