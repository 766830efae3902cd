"""What the gates of one run learn as it goes, kept by the run and shared by its gates.

An ``affected`` gate runs the tests that the changes since its own last pass can reach, so
that every test it leaves out passed under this very gate on a tree that, as far as imports
can tell, is the same for that test. Its first use in a run starts from the commit the run
started on: what earlier steps without this gate changed is judged too, not only the step's
own change. A ``workers`` gate asks each python once whether it has pytest-xdist.

One :class:`GateMemory` belongs to one run (its :class:`~runner.context.Runtime`); every
gate context of the run holds it, so two runs in one process never see each other's.
"""

from __future__ import annotations

import threading

__all__ = ["GateKey", "GateMemory"]

#: (the gate's name, its pytest arguments)
GateKey = tuple[str, tuple[str, ...]]


class GateMemory:
    """Where each affected gate last passed, where the run started, which pythons have
    xdist. Gates of one step may run on threads (``settings.parallel-gates``): locked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._passed: dict[GateKey, str] = {}
        self._xdist: dict[str, bool] = {}
        self.start: str | None = None  # the commit the run started on; None: not a run's

    def last_pass(self, key: GateKey) -> str | None:
        """The tree this gate last passed on in this run, or ``None``."""
        with self._lock:
            return self._passed.get(key)

    def remember(self, key: GateKey, tree: str) -> None:
        """Record that the gate passed on ``tree``."""
        with self._lock:
            self._passed[key] = tree

    def has_xdist(self, python: str) -> bool | None:
        """Whether ``python`` can import xdist, or ``None`` when not asked yet."""
        with self._lock:
            return self._xdist.get(python)

    def found_xdist(self, python: str, *, importable: bool) -> None:
        """Record what ``python`` answered."""
        with self._lock:
            self._xdist[python] = importable
