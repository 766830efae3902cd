"""One exception tree for "cannot proceed"; each class carries its exit code.

Outcomes of a run (a failed gate, a rolled-back step) are values in the report, not
exceptions. What stops ``runner`` before or outside a step is a :class:`RunnerError`; the CLI
renders it once as ``error: ...`` and exits with :attr:`RunnerError.exit_code`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "EXIT_GATE_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "GitError",
    "Interrupted",
    "LockHeld",
    "PlanError",
    "PreconditionError",
    "Problem",
    "RollbackIncomplete",
    "RunnerError",
    "UsageError",
]

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class RunnerError(Exception):
    """Bad input or a refused precondition: nothing was changed."""

    exit_code: ClassVar[int] = 2


class UsageError(RunnerError):
    """A command line that cannot be carried out (unknown step, path outside the repo)."""


class PreconditionError(RunnerError):
    """The repository is not in a state a run may start from (dirty, detached, ...)."""


class LockHeld(PreconditionError):
    """Another live run holds the repository's lock."""


class ActionNotCarriedOut(PreconditionError):
    """A codemod could not write or remove a file (immutable, a folder in its place, a
    read-only mount); every file it had already changed was put back first."""


class GitError(RunnerError):
    """A git command failed where the runner cannot go on; the message carries a hint."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a plan file, at a 1-based line and column."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


class PlanError(RunnerError):
    """Every problem found in a plan, reported at once."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class RollbackIncomplete(RunnerError):
    """A rollback stopped half-way; the message says what state the repo is in and what next."""

    exit_code = 3


class Interrupted(RunnerError):
    """Ctrl-C (SIGINT) or SIGTERM arrived; raised after the running step was cleaned up."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str = "interrupted", *, signal_exit_code: int = 130) -> None:
        super().__init__(message)
        self.signal_exit_code = signal_exit_code
