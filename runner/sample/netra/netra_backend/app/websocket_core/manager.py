"""WebSocketManager: one in-memory outbox per connected user.

Production sends over real sockets; the sample keeps every message so tests can check what
each user would have seen, and that nobody saw anybody else's events.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["WebSocketManager"]


class WebSocketManager:
    """Connections by user id; ``send_to_user`` appends to that user's outbox only."""

    def __init__(self) -> None:
        self._outboxes: dict[str, list[dict[str, Any]]] = {}

    def connect(self, user_id: str) -> None:
        """Open (or keep) the user's connection."""
        self._outboxes.setdefault(user_id, [])

    def is_connected(self, user_id: str) -> bool:
        return user_id in self._outboxes

    async def send_to_user(self, user_id: str, message: dict[str, Any]) -> None:
        """Deliver one message to one user; a user who never connected gets a connection."""
        self.connect(user_id)
        await asyncio.sleep(0)  # a real send yields to the loop; so does this one
        self._outboxes[user_id].append(dict(message))

    def messages_for(self, user_id: str) -> list[dict[str, Any]]:
        """A copy of what the user received, in order."""
        return list(self._outboxes.get(user_id, ()))

    def event_types_for(self, user_id: str) -> list[str]:
        return [m["type"] for m in self.messages_for(user_id)]

    def connected_users(self) -> list[str]:
        return sorted(self._outboxes)
