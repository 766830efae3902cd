"""What every part of one run shares: the plan, the workspace, the journal, the observer.

The engine decides; the :class:`Observer` (the CLI's live display, or nothing) only watches.
Rehearsal versus real run is decided once, by the :class:`Workspace` handed in, never by
``if dry_run:`` scattered through the engine.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from runner.gates import Approver, GateContext, baseline_key
from runner.gates.baseline import TestBaseline
from runner.gates.memory import GateMemory
from runner.git import Repository
from runner.journal import Journal, StateDir, file_label
from runner.model import ForbidImportsGate, Gate, Plan, Step
from runner.process import build_env
from runner.replay import GateRunner
from runner.results import GateResult, RollbackRecord, StepResult

__all__ = ["Observer", "QuietObserver", "Runtime", "Workspace"]


class Observer(Protocol):
    """Watches a run as it happens (the CLI prints; tests may record)."""

    def notice(self, text: str) -> None:
        """Something the user should know (a lock taken over, a recovered step)."""

    def step_started(self, step: Step, index: int, total: int) -> None:
        """A step begins."""

    def gate_started(self, label: str, gate: Gate) -> None:
        """A gate begins (``label``: the step key or the phase)."""

    def gate_finished(self, label: str, result: GateResult) -> None:
        """A gate ended."""

    def step_finished(self, result: StepResult) -> None:
        """A step ended (or was skipped)."""

    def rollback_finished(self, record: RollbackRecord) -> None:
        """A rollback ended."""


class QuietObserver:
    """An observer that watches nothing: for library use and tests."""

    def notice(self, text: str) -> None:
        """Ignore."""

    def step_started(self, step: Step, index: int, total: int) -> None:
        """Ignore."""

    def gate_started(self, label: str, gate: Gate) -> None:
        """Ignore."""

    def gate_finished(self, label: str, result: GateResult) -> None:
        """Ignore."""

    def step_finished(self, result: StepResult) -> None:
        """Ignore."""

    def rollback_finished(self, record: RollbackRecord) -> None:
        """Ignore."""


@dataclass
class Workspace:
    """Where a plan runs: the user's repository, or a rehearsal's private repository."""

    repo: Repository
    state: StateDir
    rehearsal: bool
    #: The user's repository root (equals ``repo.root`` for a real run).
    origin: Path
    #: The environment plan commands start from (``None``: this process's); a rehearsal's
    #: points paths into the user's tree (an activated ``.venv``) into its own.
    environ: Mapping[str, str] | None = None
    #: How gates run: all of them, or recorded (a rehearsal), or replayed (``--replay``).
    gates: GateRunner = field(default_factory=GateRunner)


@dataclass
class Runtime:
    """One run's shared pieces; built by the engine, read by gates and rollbacks."""

    plan: Plan
    ws: Workspace
    journal: Journal
    observer: Observer
    approver: Approver
    run_id: str
    assume_yes: bool = False
    with_hooks: bool = True
    baselines: dict[str, int] = field(default_factory=dict)
    test_baselines: dict[str, TestBaseline] = field(default_factory=dict)  # see teststart
    gate_memory: GateMemory = field(default_factory=GateMemory)  # shared by the run's gates
    base_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def repo(self) -> Repository:
        """The repository the plan changes."""
        return self.ws.repo

    def env(self, phase: str = "", step: str = "") -> dict[str, str]:
        """The environment of everything the plan runs (contract: the ``RUNNER_*`` names)."""
        extra = dict(self.plan.settings.env)
        extra |= {
            "RUNNER_PLAN": self.plan.name,
            "RUNNER_PHASE": phase,
            "RUNNER_STEP": step,
            "RUNNER_REPO": str(self.repo.root),
            "RUNNER_DRY_RUN": "1" if self.ws.rehearsal else "0",
        }
        return build_env(self.base_env, extra)

    def gate_context(self, label: str, *, phase: str = "", step: str = "") -> GateContext:
        """How gates run for ``label`` (a step key, a phase, or ``on-rollback``)."""
        settings = self.plan.settings
        return GateContext(
            root=self.repo.root,
            env=self.env(phase, step),
            default_timeout=settings.timeout,
            log_dir=self.ws.state.logs / self.run_id,
            tmp_dir=self.ws.state.tmp,
            approver=self.approver,
            assume_yes=self.assume_yes,
            exclude=settings.exclude,
            source_roots=settings.source_roots,
            baseline=self.baseline,
            label=label,
            test_baselines=self.test_baselines,
            memory=self.gate_memory,
        )

    def baseline(self, gate: ForbidImportsGate) -> int | None:
        """The site count recorded when the plan first started, for ``max-ratio``."""
        return self.baselines.get(baseline_key(gate))

    def log_path(self, label: str, what: str) -> Path:
        """Where an action's or hook's full output goes."""
        return self.ws.state.logs / self.run_id / f"{file_label(label)}.{what}.log"
