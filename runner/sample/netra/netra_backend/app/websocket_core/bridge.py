"""AgentWebSocketBridge: the legacy, process-wide way agents reached the websocket layer.

One bridge serves every user, so each call must name the user. The legacy engine constructor
took this bridge; the modern engine takes a per-user ``UserWebSocketEmitter`` instead, which
``UserWebSocketEmitter.from_bridge`` builds from it.
"""

from __future__ import annotations

from typing import Any

from netra_backend.app.websocket_core.manager import WebSocketManager

__all__ = ["AgentWebSocketBridge"]


class AgentWebSocketBridge:
    """Routes an agent event to one user's connection through the shared manager."""

    def __init__(self, manager: WebSocketManager | None = None) -> None:
        self.manager = manager if manager is not None else WebSocketManager()

    async def notify(self, user_id: str, event_type: str, payload: dict[str, Any]) -> None:
        await self.manager.send_to_user(user_id, {"type": event_type, **payload})
