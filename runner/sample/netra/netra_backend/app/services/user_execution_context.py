"""UserExecutionContext: who a request runs for, and the only state an engine may see.

This is the single source of truth (SSOT) for the context class. The compatibility bridge
``netra_backend.app.agents.supervisor.execution_engine`` re-exports it from the wrong
location; Issue #802 moves every import here.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["InvalidContextError", "UserExecutionContext"]

_sequence = itertools.count(1)


class InvalidContextError(ValueError):
    """A context without a user, thread or run cannot be isolated, so it is refused."""


@dataclass(frozen=True)
class UserExecutionContext:
    """One user's request: identifiers plus read-only metadata, never shared across users."""

    user_id: str
    thread_id: str
    run_id: str
    request_id: str = ""
    websocket_client_id: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("user_id", "thread_id", "run_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                msg = f"UserExecutionContext.{name} must be a non-empty string, got {value!r}"
                raise InvalidContextError(msg)
        if not self.request_id:
            object.__setattr__(self, "request_id", f"req_{next(_sequence):06d}")
        # A private copy: a caller mutating its dict afterwards cannot reach into this run.
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    @classmethod
    def from_request(
        cls,
        user_id: str,
        *,
        thread_id: str | None = None,
        run_id: str | None = None,
        **metadata: Any,
    ) -> UserExecutionContext:
        """A context for one incoming request; missing ids are minted per request."""
        n = next(_sequence)
        return cls(
            user_id=user_id,
            thread_id=thread_id or f"thread_{user_id}_{n}",
            run_id=run_id or f"run_{user_id}_{n}",
            metadata=metadata,
        )

    def with_metadata(self, **metadata: Any) -> UserExecutionContext:
        """The same user and run with extra metadata (a new object; this one is frozen)."""
        return UserExecutionContext(
            user_id=self.user_id,
            thread_id=self.thread_id,
            run_id=self.run_id,
            request_id=self.request_id,
            websocket_client_id=self.websocket_client_id,
            metadata={**self.metadata, **metadata},
        )
