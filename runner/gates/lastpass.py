"""Where each ``affected`` gate last passed in this run: the tree its next selection starts from.

An affected gate runs the tests that the changes since its own last pass can reach, so that
every test it leaves out passed under this very gate on a tree that, as far as imports can
tell, is the same for that test. Its verdict is then the full gate's verdict, not a guess
about what a step might have broken. The memory is per run (keyed by the run's log folder)
and in memory only: a run's first use of a gate runs all of its tests.
"""

from __future__ import annotations

import threading

__all__ = ["GateKey", "last_pass", "remember"]

#: (the run's log folder, the gate's name, its pytest arguments)
GateKey = tuple[str, str, tuple[str, ...]]

_passed: dict[GateKey, str] = {}
_lock = threading.Lock()  # gates of one step may run on threads


def last_pass(key: GateKey) -> str | None:
    """The tree this gate last passed on in this run, or ``None``."""
    with _lock:
        return _passed.get(key)


def remember(key: GateKey, tree: str) -> None:
    """Record that the gate passed on ``tree``."""
    with _lock:
        _passed[key] = tree
