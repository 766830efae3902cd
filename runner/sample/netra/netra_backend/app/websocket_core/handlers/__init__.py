"""Websocket message handlers, one per message type."""

from __future__ import annotations

from .user_message_handler import UserMessageHandler
from .start_agent_handler import StartAgentHandler
from .thread_resume_handler import ThreadResumeHandler
from .feedback_message_handler import FeedbackMessageHandler
from .cost_question_handler import CostQuestionHandler
from .usage_question_handler import UsageQuestionHandler

__all__ = ["CostQuestionHandler", "FeedbackMessageHandler", "StartAgentHandler", "ThreadResumeHandler", "UsageQuestionHandler", "UserMessageHandler"]

HANDLER_CLASSES = (UserMessageHandler, StartAgentHandler, ThreadResumeHandler, FeedbackMessageHandler, CostQuestionHandler, UsageQuestionHandler)
