"""The plan commands running now, for commands that run side by side (``parallel-gates``).

Each command is registered from its start until what it left running is ended, so that
ending one command's leftovers (:func:`runner.contain.end_leftovers`) never ends another's
session or the processes carrying another's token, and never reaps another's leader (its
``Popen`` would then read exit code 0). A command is started and registered under
:func:`held`, the lock orphan reaping also holds: no new leader is seen unregistered.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

__all__ = ["held", "others", "register", "unregister"]

#: Commands running now: their session (the leader's pid) and token.
_running: dict[int, str] = {}
_lock = threading.RLock()


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Hold while a command is started and registered, or while orphans are reaped."""
    with _lock:
        yield


def register(session: int, token: str) -> None:
    """Command ``session`` (its leader's pid) carrying ``token`` runs until :func:`unregister`."""
    with _lock:
        _running[session] = token


def unregister(session: int) -> None:
    """Command ``session`` and what it left running are ended."""
    with _lock:
        _running.pop(session, None)


def others(session: int) -> dict[int, str]:
    """The commands running now but ``session`` (session: token; ``0``: all of them)."""
    with _lock:
        return {s: t for s, t in _running.items() if s != session}
