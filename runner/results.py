"""What a run produced, as values: gate results, step results, the run report.

A failed gate is an outcome, not an exception: the engine returns a :class:`RunReport` and
the exit code is derived from it (:meth:`RunReport.exit_code`), as ``libcst.tool`` and nox do.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from runner.codemods import FollowUp, SkippedFile
from runner.errors import EXIT_GATE_FAILED, EXIT_OK
from runner.isolated import Isolation
from runner.testoutcome import TestOutcome

__all__ = [
    "GateResult",
    "GateStatus",
    "RollbackRecord",
    "RunReport",
    "StepResult",
    "StepStatus",
    "first_failure",
]


class GateStatus(enum.Enum):
    """How a gate ended: it passed, failed, or could not judge (see :mod:`runner.verdicts`).

    A timeout is a failure of its own word: the suite ran and took too long, which is a
    verdict on the change (a hang), not a gate that could not start.
    """

    PASSED = "passed"
    FAILED = "failed"
    TIMED_OUT = "timed out"
    INCONCLUSIVE = "inconclusive"
    #: Ended, or not run, because another gate of the same step failed first while they
    #: ran side by side (``settings.parallel-gates``): no verdict of its own.
    CANCELLED = "cancelled"


class StepStatus(enum.Enum):
    """How a step ended (or why it did not run)."""

    PASSED = "passed"
    ALREADY_DONE = "already done"
    CHANGED = "changed since checkpoint"
    FAILED = "failed"  # failed and went on (on-failure: continue)
    ROLLED_BACK = "rolled back"
    STOPPED = "stopped"  # failed, tree left as is (on-failure: stop)
    NOT_RUN = "not run"
    PARTIAL = "partial"  # committed without the files that failed its gates (held back)


@dataclass(frozen=True, slots=True)
class GateResult:
    """One gate's verdict, with what a person needs to see why."""

    name: str
    kind: str
    status: GateStatus
    seconds: float
    summary: str = ""
    output_tail: str = ""
    log: str | None = None
    counts: tuple[tuple[str, int], ...] = ()
    value: float | None = None
    sites: tuple[str, ...] = ()
    replayed: str | None = None  # the rehearsal whose pass on the same tree was reused
    report_only: bool = False  # ``report-only: true``: recorded, never blocks
    tests: TestOutcome | None = None  # pytest gates: flaky, pre-existing, fixed tests by id

    @property
    def passed(self) -> bool:
        """Whether the gate let the step through: it passed, or it only reports."""
        return self.status is GateStatus.PASSED or self.report_only

    @property
    def inconclusive(self) -> bool:
        """Whether the gate could not judge (command not found, no tests collected, ...)."""
        return self.status is GateStatus.INCONCLUSIVE

    def trailer(self) -> str:
        """``unit passed in 8.4s (212 passed)``: the ``Runner-Gate`` trailer value."""
        detail = f" ({self.summary})" if self.summary else ""
        mark = " [report-only]" if self.report_only else ""
        if self.replayed:
            return f"{self.name} passed in rehearsal {self.replayed}{detail}{mark}"
        return f"{self.name} {self.status.value} in {self.seconds:.1f}s{detail}{mark}"


@dataclass(frozen=True, slots=True)
class RollbackRecord:
    """What a rollback did: where to, how, what it saved."""

    scope: str  # step | phase | plan | files
    mode: str  # reset | revert
    target: str  # the sha the tree now equals
    patch: str | None  # the saved diff, if anything was discarded
    files: int  # files in the saved patch
    reverted: tuple[str, ...] = ()  # commits reverted (revert mode)
    discarded: tuple[str, ...] = ()  # commits moved off the branch (reset mode)
    backup_ref: str | None = None
    copied: tuple[str, ...] = ()  # files whose uncommitted bytes were saved before restoring
    copies_in: str | None = None  # the folder holding those copies (relative paths kept)
    hooks: tuple[GateResult, ...] = ()  # on-rollback.run commands, as results
    verify: tuple[GateResult, ...] = ()  # on-rollback.verify gates

    @property
    def verified(self) -> bool:
        """Whether every hook and verify gate passed."""
        return all(r.passed for r in (*self.hooks, *self.verify))


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step of a run."""

    key: str
    title: str
    action: str
    status: StepStatus
    seconds: float = 0.0
    gates: tuple[GateResult, ...] = ()
    commit: str | None = None
    changed: tuple[str, ...] = ()
    diffstat: str = ""
    sites: int = 0
    followups: tuple[FollowUp, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()
    message: str = ""  # why it failed / was skipped, in one line
    output_tail: str = ""  # the action's last lines when the action failed
    rollback: RollbackRecord | None = None
    isolation: Isolation | None = None  # on-failure: isolate: its culprit search

    @property
    def failed_gate(self) -> GateResult | None:
        """The first gate that did not pass (report-only gates never stop a step; a gate
        cancelled because of it comes after it)."""
        return first_failure(self.gates)


def first_failure(gates: Iterable[GateResult]) -> GateResult | None:
    """The first gate, in plan order, that did not pass, passing over gates cancelled
    because another failed (they may come first in plan order when gates run side by
    side); a cancelled one only when no other failed (the run was interrupted)."""
    failed = [g for g in gates if not g.passed]
    judged = (g for g in failed if g.status is not GateStatus.CANCELLED)
    return next(judged, failed[0] if failed else None)


@dataclass(frozen=True, slots=True)
class RunReport:
    """The whole run: steps in order, phase gates, and where it stopped."""

    plan: str
    repo: str
    branch: str | None
    rehearsal: bool
    steps: tuple[StepResult, ...]
    phase_gates: tuple[tuple[str, tuple[GateResult, ...]], ...] = ()
    seconds: float = 0.0
    start: str = ""
    head: str = ""
    stopped_at: str | None = None  # the step or phase whose failure ended the run
    notices: tuple[str, ...] = field(default_factory=tuple)
    rollback: RollbackRecord | None = None  # a phase-gate rollback (step ones are on steps)

    @property
    def failed(self) -> bool:
        """Whether any gate failed (rolled back, stopped or continued)."""
        bad = {StepStatus.FAILED, StepStatus.ROLLED_BACK, StepStatus.STOPPED}
        phase_failed = any(not g.passed for _, gates in self.phase_gates for g in gates)
        held = any(s.status is StepStatus.PARTIAL and s.key == self.stopped_at for s in self.steps)
        return held or phase_failed or any(s.status in bad for s in self.steps)

    @property
    def exit_code(self) -> int:
        """0 done, 1 a gate failed."""
        return EXIT_GATE_FAILED if self.failed else EXIT_OK
