"""Where each ``affected`` gate last passed in this run: the tree its next selection starts from.

An affected gate runs the tests that the changes since its own last pass can reach, so that
every test it leaves out passed under this very gate on a tree that, as far as imports can
tell, is the same for that test. Its verdict is then the full gate's verdict, not a guess
about what a step might have broken. The memory is per run (keyed by the run's log folder)
and in memory only. A gate's first use in a run starts from the commit the run started on
(:func:`begin`): what earlier steps without this gate changed is judged too, not only the
step's own change.
"""

from __future__ import annotations

import threading

__all__ = ["GateKey", "begin", "last_pass", "remember", "run_start"]

#: (the run's log folder, the gate's name, its pytest arguments)
GateKey = tuple[str, str, tuple[str, ...]]

_passed: dict[GateKey, str] = {}
_started: dict[str, str] = {}  # the run's log folder → the commit it started on
_lock = threading.Lock()  # gates of one step may run on threads


def last_pass(key: GateKey) -> str | None:
    """The tree this gate last passed on in this run, or ``None``."""
    with _lock:
        return _passed.get(key)


def remember(key: GateKey, tree: str) -> None:
    """Record that the gate passed on ``tree``."""
    with _lock:
        _passed[key] = tree


def begin(run: str, commit: str) -> None:
    """Record that the run logging to ``run`` started on ``commit``."""
    with _lock:
        _started[run] = commit


def run_start(run: str) -> str | None:
    """The commit the run logging to ``run`` started on, or ``None``."""
    with _lock:
        return _started.get(run)
