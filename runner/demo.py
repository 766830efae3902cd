"""``runner demo``: the seed's plan on a fresh copy of the bundled sample repository.

What a new user watches: a rehearsal in a private repository (their eyes only), the real
run with every gate, then a partial file rollback, and a summary of what the migration did.
``--fault`` adds a step that removes the bridge's positional constructor too early, so the
automatic rollback, the saved patch, the on-rollback hook and the smoke verification show.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from runner.context import Workspace
from runner.engine import RunOptions, execute_plan
from runner.eta import Expected
from runner.followups import LiveFollowUp
from runner.git import open_repository
from runner.journal import StateDir
from runner.model import Delete, Gate, Plan, PytestGate, Step
from runner.report import LiveObserver, render_next, render_summary
from runner.results import RunReport
from runner.status import plan_followups
from runner.takeback import RollbackRequest, rollback_command
from runner.workspace import rehearsal_workspace

__all__ = ["PLAN_NAME", "SAMPLE", "run_demo"]

SAMPLE = Path(__file__).parent / "sample"
PLAN_NAME = "phases.yaml"

#: Where --fault strikes: right after the imports move, before constructor calls migrate.
_FAULT_AFTER = "import-migration/context-imports"
_FAULT_STEP = Step(
    phase_id="import-migration",
    id="remove-bridge-too-early",
    title="Injected fault: delete the legacy constructor path before its callers migrate",
    action=Delete(
        (
            "netra_backend/app/agents/supervisor/user_execution_engine.py"
            "::UserExecutionEngine._legacy_positional_init",
        )
    ),
    gates=(
        Gate("mission-critical", PytestGate(("tests/mission_critical", "-q", "-x"))),
        Gate("golden-path", PytestGate(("tests/golden_path", "-q"))),
    ),
)
#: The file the demo takes back after the run: a test whose alias the plan dropped.
_TAKE_BACK = ("tests/e2e/test_chat_thread_continuity.py", "test-patterns/ssot-names-in-tests")


def run_demo(directory: Path | None, *, fault: bool, console: Console) -> int:
    """Make the sample repository, rehearse and run the plan on it; returns the exit code."""
    target = _prepare(directory)
    console.print(f"[bold]Sample repository:[/] {escape(str(target))}")
    plan = _plan(target, fault=fault)
    _use_this_python()
    # What continues the run in the sample's folder (its plan is committed there).
    options = RunOptions(assume_yes=True, command="runner run")
    observer = LiveObserver(console)

    console.rule("1. Rehearsal: the whole plan in a private repository")
    with rehearsal_workspace(target, keep=False, plan=plan) as ws:
        rehearsal = execute_plan(
            plan,
            ws,
            replace(options, with_hooks=False),
            observer=observer,
            approver=lambda _q: None,
        )
    verdict = f"would stop at {rehearsal.stopped_at}" if rehearsal.stopped_at else "would complete"
    console.print(f"rehearsal: the real run {verdict}; the repository is untouched")

    console.rule("2. The real run")
    observer.expected = Expected.from_report(rehearsal)  # its times, beside the run's
    with open_repository(target) as repo:
        ws = Workspace(repo, StateDir(repo.git_dir), rehearsal=False, origin=repo.root)
        report = execute_plan(plan, ws, options, observer=observer, approver=lambda _q: None)
        live = plan_followups(plan, repo)
    render_summary(report, console, followups=live, expected=observer.expected)
    render_next(report, f"cd {target} && runner run", console)
    _summary(report, live, console)
    if report.exit_code == 0:
        console.rule("3. Partial file rollback")
        path, step = _TAKE_BACK
        console.print(f"$ runner rollback {path} --to {step}")
        request = RollbackRequest(
            plan=target / PLAN_NAME, repo=target, files=(path,), to=step, cwd=target
        )
        rollback_command(request, console)
    console.print(
        f"\nExplore: cd {escape(str(target))}, then `runner status`, `runner plan` and "
        "`git log --stat`"
    )
    return report.exit_code


def _prepare(directory: Path | None) -> Path:
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="runner-demo-")) / "netra"
    elif directory.exists() and any(directory.iterdir()):
        from runner.errors import UsageError  # noqa: PLC0415

        msg = f"{directory} is not empty; the demo makes a fresh repository there"
        raise UsageError(msg)
    shutil.copytree(
        SAMPLE / "netra",
        directory,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    # The plan lives in the repository, committed, as on a real one: every command works
    # in the folder the demo prints (`runner status`, `runner plan`, `runner rollback FILE`).
    shutil.copyfile(SAMPLE / PLAN_NAME, directory / PLAN_NAME)
    from runner.git import init_repository  # noqa: PLC0415

    init_repository(directory, message="Netra backend before the SSOT chat migration")
    return directory


def _plan(target: Path, *, fault: bool) -> Plan:
    from runner.plan import load_plan  # noqa: PLC0415

    plan = load_plan(target / PLAN_NAME)
    if not fault:
        return plan
    phases = []
    for phase in plan.phases:
        steps = []
        for step in phase.steps:
            steps.append(step)
            if step.key == _FAULT_AFTER:
                steps.append(_FAULT_STEP)
        phases.append(replace(phase, steps=tuple(steps)))
    return replace(plan, phases=tuple(phases))


def _use_this_python() -> None:
    """The sample's gates run ``python``: make it the interpreter runner runs in."""
    here = str(Path(sys.executable).parent)
    os.environ["PATH"] = here + os.pathsep + os.environ.get("PATH", "")
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")


def _summary(report: RunReport, followups: Sequence[LiveFollowUp], console: Console) -> None:
    commits = sum(1 for s in report.steps if s.commit)
    gates = sum(len(s.gates) for s in report.steps) + sum(len(g) for _, g in report.phase_gates)
    sites = sum(s.sites for s in report.steps if s.action != "delete")
    deleted = sum(s.sites for s in report.steps if s.action == "delete" and s.commit)
    still = sum(1 for f in followups if f.open)
    console.print(
        f"\n[bold]Summary:[/] {len(report.steps)} steps, {gates} gates run, {commits} checkpoint "
        f"commits, {sites} import sites and calls rewritten, {deleted} definitions or files "
        f"deleted, {still} manual follow-ups open"
    )
