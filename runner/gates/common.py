"""What every command-running gate shares: the context, the log file, the verdict from an exit."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from runner.gates.baseline import TestBaseline
from runner.gates.memory import GateMemory
from runner.journal import file_label
from runner.model import ForbidImportsGate, Gate
from runner.process import Cancel, Completed, run_command
from runner.results import GateResult, GateStatus
from runner.verdicts import not_run_reason

__all__ = ["Approver", "GateContext", "execute", "failed", "from_completed", "log_path"]


class Approver(Protocol):
    """Asks a person; ``None`` means nobody can be asked (no terminal)."""

    def __call__(self, question: str) -> bool | None: ...


@dataclass(frozen=True, slots=True)
class GateContext:
    """Where and how gates run: the tree, environment, limits, and the ways to ask."""

    root: Path
    env: Mapping[str, str]
    default_timeout: float | None
    log_dir: Path
    tmp_dir: Path
    approver: Approver
    assume_yes: bool
    exclude: tuple[str, ...]
    source_roots: tuple[str, ...]
    baseline: Callable[[ForbidImportsGate], int | None]
    label: str  # prefix for log files: the step key or "phase-<id>"
    #: The tree a step's gates judge (for ``affected`` pytest gates); ``None``: not a step's.
    tree: str | None = None
    changed: tuple[str, ...] = ()  # what the step changed, for the same gates
    #: ``baseline: start`` pytest gates: the failing tests at the plan's start, by
    #: :func:`runner.gates.baseline.test_baseline_key`.
    test_baselines: Mapping[str, TestBaseline] = field(default_factory=dict)
    cancel: Cancel | None = None  # set when a gate running beside this one failed
    #: What the run's gates learned so far (the run's own; see :mod:`runner.gates.memory`).
    memory: GateMemory = field(default_factory=GateMemory)


def execute(gate: Gate, command: str | Sequence[str], ctx: GateContext) -> Completed:
    cmd = command if isinstance(command, str) else tuple(command)
    log = log_path(gate, ctx)
    timeout = gate.timeout if gate.timeout is not None else ctx.default_timeout
    return run_command(cmd, cwd=ctx.root, env=ctx.env, timeout=timeout, log=log, cancel=ctx.cancel)


def from_completed(
    gate: Gate, done: Completed, *, ctx: GateContext, summary: str = "", passed: bool | None = None
) -> GateResult:
    ok = done.ok if passed is None else passed and not done.timed_out
    status = (
        GateStatus.TIMED_OUT if done.timed_out else GateStatus.PASSED if ok else GateStatus.FAILED
    )
    if done.timed_out:
        summary = "timed out; process group killed"
    elif not ok and (why := not_run_reason(done.returncode)):
        status, summary = GateStatus.INCONCLUSIVE, why  # the command never ran: no verdict
    elif not ok and not summary:
        summary = f"exit code {done.returncode}"
    return GateResult(
        name=gate.name,
        kind=gate.kind,
        status=status,
        seconds=done.seconds,
        summary=summary,
        output_tail="" if ok else done.tail(),
        log=str(log_path(gate, ctx)),
    )


def log_path(gate: Gate, ctx: GateContext) -> Path:
    return ctx.log_dir / f"{file_label(ctx.label)}.gate-{file_label(gate.name)}.log"


def failed(result: GateResult) -> GateResult:
    return replace(result, status=GateStatus.FAILED)
