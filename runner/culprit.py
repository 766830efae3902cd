"""Culprit search: which parts of a failed change make its gates fail.

A step that rewrites sixty files and breaks one of them should not be thrown away whole. This
module finds, by testing subsets, the units (a changed path, or a folder of them) whose change
makes the gates fail, so that the rest can be kept. It knows nothing of git or gates: it asks a
``probe`` callback whether a subset of the units passes, and the caller applies the subset on
the step's starting checkpoint and runs the gates (:mod:`runner.isolation_run`).

The search (delta debugging in its "one culprit set at a time" form):

1. The empty subset is probed first: when the gates fail without any of the change, no file is
   to blame and nothing can be learned (a gate broken before the step, or flaky).
2. In a failing set, the smallest failing prefix is found by halving (``log2 n`` probes); its
   last unit is needed for the failure. When that unit alone (with the ones found before it)
   still passes, the search halves again among the units before it, so a pair of files that
   fail only together is found as a pair. The culprit set found is confirmed failing on its own.
3. The culprit set is held back and the rest is probed again: more than one set may be at
   fault. The search ends when the rest passes: the rest is then a subset *seen* to pass, the
   only kind runner commits.

Every probe counts against ``max_runs``; when the bound is reached the search stops and says
what it had learned. Results are cached by subset, so the same subset is never run twice.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = [
    "DEFAULT_MAX_RUNS",
    "BudgetSpent",
    "Probe",
    "Search",
    "SearchOutcome",
    "search_culprits",
]

U = TypeVar("U", bound=Hashable)

#: The default bound on gate runs of one search (plan key ``isolate: {max-gate-runs: N}``):
#: two culprits among 64 files cost about 17 runs, a pair about 15.
DEFAULT_MAX_RUNS = 30


class SearchOutcome(enum.Enum):
    """How a search ended."""

    #: A passing subset was found; ``culprits`` hold the rest.
    ISOLATED = "isolated"
    #: The bound on gate runs was reached first.
    BUDGET = "budget"
    #: The gates fail with none of the change applied: no unit is to blame.
    BASELINE_FAILS = "baseline-fails"
    #: Every unit is part of a culprit set: nothing passing to keep.
    NOTHING_KEPT = "nothing-kept"
    #: The probes contradicted each other (a flaky gate, or units that only pass together).
    INCONSISTENT = "inconsistent"


@dataclass(frozen=True, slots=True)
class Probe(Generic[U]):
    """One gate run of the search: the subset tried and whether the gates passed."""

    units: tuple[U, ...]
    passed: bool


@dataclass(frozen=True, slots=True)
class Search(Generic[U]):
    """What a search learned: the subset to keep, the culprit sets, every probe made."""

    outcome: SearchOutcome
    kept: tuple[U, ...]
    culprits: tuple[tuple[U, ...], ...]
    probes: tuple[Probe[U], ...]

    @property
    def held_back(self) -> tuple[U, ...]:
        """Every unit of every culprit set, in search order."""
        return tuple(u for group in self.culprits for u in group)


class BudgetSpent(Exception):
    """The bound on gate runs was reached."""


class _Contradiction(Exception):
    """A probe result contradicts an earlier one."""


class _Searcher(Generic[U]):
    """The state of one search: the probe, its cache and the probes made."""

    def __init__(
        self,
        probe: Callable[[tuple[U, ...]], bool],
        max_runs: int,
        spent: Callable[[], int] | None = None,
    ) -> None:
        self._probe = probe
        self._max_runs = max_runs
        self._spent = spent or (lambda: len(self.probes))
        self._cache: dict[frozenset[U], bool] = {}
        self.probes: list[Probe[U]] = []

    def passes(self, units: Sequence[U]) -> bool:
        key = frozenset(units)
        if key in self._cache:
            return self._cache[key]
        if self._spent() >= self._max_runs:
            raise BudgetSpent
        passed = bool(self._probe(tuple(units)))
        self._cache[key] = passed
        self.probes.append(Probe(tuple(units), passed))
        return passed

    def known_failing(self, units: Sequence[U]) -> None:
        """Record a subset seen failing outside the search (the step's own gate run)."""
        self._cache[frozenset(units)] = False

    def failing_core(self, units: Sequence[U]) -> tuple[U, ...]:
        """A culprit set inside ``units``, which fail: each of its units is needed."""
        core: list[U] = []
        candidates = list(units)
        while True:
            if core and not self.passes(core):
                return tuple(core)
            if not candidates:
                raise _Contradiction
            k = self._smallest_failing_prefix(core, candidates)
            core.append(candidates[k - 1])
            candidates = candidates[: k - 1]

    def _smallest_failing_prefix(self, core: list[U], candidates: list[U]) -> int:
        """The least ``k`` with ``core + candidates[:k]`` failing (the whole is known to fail)."""
        lo, hi = 0, len(candidates)  # core + candidates[:lo] passes, [:hi] fails
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.passes(core + candidates[:mid]):
                lo = mid
            else:
                hi = mid
        return hi


def search_culprits(
    units: Sequence[U],
    probe: Callable[[tuple[U, ...]], bool],
    *,
    max_runs: int = DEFAULT_MAX_RUNS,
    spent: Callable[[], int] | None = None,
) -> Search[U]:
    """Find the culprit sets among ``units``, whose whole is known to fail its gates.

    ``probe(subset)`` applies the subset on the starting point, runs the gates and says whether
    they passed; it is called while ``spent()`` (default: the probes made so far; a probe
    running several gates counts each) is below ``max_runs``, and may raise
    :class:`BudgetSpent` itself when the bound is reached inside it. ``kept`` is non-empty
    only when the search ends ``ISOLATED``, and then it is a subset a probe saw pass.
    """
    searcher: _Searcher[U] = _Searcher(probe, max_runs, spent)
    searcher.known_failing(units)
    culprits: list[tuple[U, ...]] = []

    def ended(outcome: SearchOutcome, kept: Sequence[U] = ()) -> Search[U]:
        return Search(outcome, tuple(kept), tuple(culprits), tuple(searcher.probes))

    try:
        if not searcher.passes(()):
            return ended(SearchOutcome.BASELINE_FAILS)
        rest = list(units)
        while True:
            core = searcher.failing_core(rest)
            culprits.append(core)
            rest = [u for u in rest if u not in core]
            if not rest:
                return ended(SearchOutcome.NOTHING_KEPT)
            if searcher.passes(rest):
                return ended(SearchOutcome.ISOLATED, rest)
    except BudgetSpent:
        return ended(SearchOutcome.BUDGET)
    except _Contradiction:
        return ended(SearchOutcome.INCONSISTENT)
