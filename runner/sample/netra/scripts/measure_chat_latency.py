"""Average chat response time in milliseconds, over a burst of logged-in users.

The seed's performance target is 600-700 ms per chat response against real models; this
sample's agents are in-process, so the number is tiny. It is still the real end-to-end path
(login, context, engine, agent, tool, five events), and the last line is the metric.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netra_backend.app.services.auth_service import AuthService  # noqa: E402
from netra_backend.app.services.chat_service import ChatService  # noqa: E402

USERS = 20


async def _burst(chat: ChatService, tokens: list[str]) -> None:
    await asyncio.gather(*(chat.handle_message(t, "What does our token usage cost?") for t in tokens))


def main() -> int:
    auth = AuthService()
    tokens = []
    for n in range(USERS):
        auth.register(f"perf{n}@netra.ai", "pw")
        tokens.append(auth.login(f"perf{n}@netra.ai", "pw").token)
    chat = ChatService(auth)
    start = time.perf_counter()
    asyncio.run(_burst(chat, tokens))
    elapsed_ms = (time.perf_counter() - start) * 1000 / USERS
    print(f"users: {USERS}")
    print(f"average chat response time (ms): {elapsed_ms:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
