"""What each CLI command does, as plain functions: load, open the workspace, run, render.

Kept apart from :mod:`runner.cli` so tests can call a command without typer, and apart from
:mod:`runner.engine` so the engine never prints.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich import box
from rich.markup import escape
from rich.table import Table

from runner.display import format_duration, step_caption
from runner.errors import RunnerError
from runner.git import open_repository
from runner.history import PlanHistory, read_history
from runner.interruption import find_interruption
from runner.isolated import held_back_patch
from runner.journal import Lock, StateDir
from runner.model import Plan, action_kind
from runner.ownership.commits import branch_note
from runner.pathquote import quote_path
from runner.status import (
    followups_state,
    interrupted_text,
    last_run_state,
    render_followups,
    render_last_run,
)

if TYPE_CHECKING:
    from rich.console import Console

    from runner.gates import Approver

__all__ = ["RunRequest", "last_rehearsal", "plan_state", "run_plan", "show_plan", "show_status"]


@dataclass(frozen=True, slots=True)
class RunRequest:
    """``runner run`` as typed."""

    plan: Path
    repo: Path
    dry_run: bool = False
    keep: bool = False
    with_hooks: bool = True
    from_step: str | None = None
    only: tuple[str, ...] = ()
    report: Path | None = None
    junit: Path | None = None
    assume_yes: bool = False
    command: str = "runner run"
    replay: bool = False
    retry_held_back: bool = False


def _load(path: Path) -> Plan:
    from runner.plan import load_plan  # noqa: PLC0415 - the YAML loader only when needed

    return load_plan(path)


def run_plan(request: RunRequest, console: Console, *, approver: Approver) -> int:
    """``runner run``: returns the exit code (0 done, 1 a gate failed)."""
    # The engine loads only for a run: `status`, `plan` and `check` stay light.
    from runner.engine import RunOptions, execute_plan, select_steps  # noqa: PLC0415
    from runner.eta import expected_times  # noqa: PLC0415
    from runner.rehearsal import rehearse  # noqa: PLC0415
    from runner.replay import gate_runner  # noqa: PLC0415
    from runner.report import LiveObserver, render_next, render_summary, write_junit  # noqa: PLC0415
    from runner.report_md import write_report  # noqa: PLC0415
    from runner.status import plan_followups  # noqa: PLC0415
    from runner.workspace import real_workspace  # noqa: PLC0415

    plan = _load(request.plan)
    options = RunOptions(
        from_step=request.from_step,
        only=request.only,
        assume_yes=request.assume_yes,
        with_hooks=request.with_hooks,
        command=request.command,
        retry_held_back=request.retry_held_back,
    )
    select_steps(plan, options)  # unknown --from/--only refuse before anything starts
    observer = LiveObserver(console)
    if request.dry_run:
        report = rehearse(
            plan, request.repo, options, console, approver=approver, keep=request.keep
        )
        live = None
    else:
        with real_workspace(request.repo) as ws:
            ws.gates = gate_runner(plan, ws.repo, replay=request.replay)
            observer.expected = expected_times(ws.state)
            report = execute_plan(plan, ws, options, observer=observer, approver=approver)
            live = plan_followups(plan, ws.repo)
            render_summary(report, console, followups=live, expected=observer.expected)
        render_next(report, request.command, console)
    if request.report:
        write_report(report, request.report, followups=live)
    if request.junit:
        write_junit(report, request.junit)
    return report.exit_code


def plan_state(plan: Plan, repo_path: Path) -> dict[str, Any]:
    """The state ``status`` shows, from git alone (and the journal, for interruptions)."""
    with open_repository(repo_path) as repo:
        branch = (
            plan.settings.branch
            if plan.settings.branch and repo.branch_exists(plan.settings.branch)
            else repo.current_branch()
        )
        head = repo.branch_sha(branch) if branch else repo.head()
        history = read_history(repo.plan_commits(plan.name, head=head or "HEAD"))
        state = StateDir(repo.git_dir)  # this worktree's own state (see real_workspace)
        interruption = find_interruption(state)
        elsewhere = branch_note(interruption, repo.current_branch()) if interruption else None
        lock = Lock(state, command="")
        held = lock.is_held_elsewhere()
        owner = lock.owner() if held else None
        last = last_run_state(state, running=held)
        root = repo.root
    steps = []
    for step in plan.steps:
        done = history.done.get(step.key)
        if done is None:
            status = "pending"
        elif done.digest != step.digest:
            status = "changed since checkpoint"
        else:
            status = "failed (continued)" if done.failed else "done"
            status = "partial" if done.held_back else status
        steps.append(
            {
                "step": step.key,
                "title": step.title,
                "action": action_kind(step.action),
                "status": status,
                "commit": done.sha if done else None,
                "gates": list(done.gates) if done else [],
                "followups": [str(f) for f in done.followups] if done else [],
                "held_back": list(done.held_back) if done else [],
                "held_back_patch": (
                    str(patch)
                    if done
                    and done.held_back
                    and (patch := held_back_patch(state.rollbacks, step.key))
                    else None
                ),
            }
        )
    pending = [s["step"] for s in steps if s["status"] == "pending"]
    return {
        "plan": plan.name,
        "branch": branch,
        "head": head,
        "steps": steps,
        "done": sum(1 for s in steps if s["status"] != "pending"),
        "total": len(steps),
        "next": pending[0] if pending else None,
        "protected_files": sorted(history.protected),
        "baselines": dict(history.baselines),
        # A running plan's open journal is not an interruption: it is the run, going on.
        # A Ctrl-C'd run cleaned up after itself: told, but nothing is left to recover.
        "interrupted": (
            interruption.describe() if interruption and not held else interrupted_text(last)
        ),
        "recovery_pending": interruption is not None and not held,
        "interrupted_branch": interruption.branch if interruption else None,
        "interrupted_elsewhere": elsewhere,
        "rehearsal": last_rehearsal(plan, repo_path),
        "running": owner or ({"pid": "?"} if held else None),
        "last_run": last.to_json() if last else None,
        "followups": followups_state(
            root, [(k, f) for k, d in history.done.items() for f in d.followups]
        ),
    }


def last_rehearsal(plan: Plan, repo_path: Path) -> dict[str, Any] | None:
    """The newest rehearsal of ``plan``: its id, verdict, age and record folder."""
    from runner.rehearsals import describe_age, latest_rehearsal, rehearsals_dir  # noqa: PLC0415

    with open_repository(repo_path) as repo:
        folder = rehearsals_dir(repo.git_dir)
    found = latest_rehearsal(folder, plan.name)
    if found is None:
        return None
    rid, summary = found
    age = time.time() - float(summary.get("finished", 0) or 0)
    return {
        "id": rid,
        "verdict": str(summary.get("verdict", "did not finish")),
        "age": describe_age(age),
        "seconds_ago": round(age, 1),
        "records": str(folder / rid),
    }


def show_status(
    plan_path: Path, repo_path: Path, console: Console, *, as_json: bool, followups: bool = False
) -> None:
    """``runner status`` (``followups``: list every manual follow-up with FILE:LINE)."""
    plan = _load(plan_path)
    state = plan_state(plan, repo_path)
    if as_json:
        console.print_json(json.dumps(state))
        return
    console.print(_status_table(plan.name, state, console.width))
    if state["next"]:
        console.print(f"next: {escape(state['next'])} (`runner run` continues there)")
    elif state["done"] == state["total"]:
        partial = sum(1 for s in state["steps"] if s["held_back"])
        held = f" ({partial} partial, with files held back: see below)" if partial else ""
        console.print(f"[green]every step is done[/]{held}")
    render_followups(state["followups"], console, full=followups)
    for step in (s for s in state["steps"] if s["held_back"]):
        console.print(
            f"\n{escape(step['step'])} is partial; held back (`runner run --retry-held-back`):"
        )
        for path in step["held_back"]:
            console.print(f"  {escape(quote_path(path))}")
        if step["held_back_patch"]:
            console.print(f"  their change: git apply {escape(step['held_back_patch'])}")
    if state["protected_files"]:
        console.print("\nfiles taken back by a partial rollback (codemods leave them alone):")
        for path in state["protected_files"]:
            console.print(f"  {escape(quote_path(path))}")
    if state["rehearsal"]:
        r = state["rehearsal"]
        console.print(
            f"\nlast rehearsal: {escape(r['id'])}, {escape(r['verdict'])}, {r['age']} ago"
            f" [dim]({escape(r['records'])})[/]"
        )
    if state["recovery_pending"]:
        console.print(f"\n[red]interrupted:[/] {escape(state['interrupted'])}")
    render_last_run(state["last_run"], console)
    if state["interrupted_elsewhere"]:
        console.print(f"[yellow]not from here:[/] {escape(state['interrupted_elsewhere'])}")
    if state["running"]:
        owner = state["running"]
        console.print(
            f"\n[yellow]a run is in progress[/]: pid {owner.get('pid')} "
            f"({escape(str(owner.get('command', '')))})"
        )


def _status_table(name: str, state: dict[str, Any], width: int) -> Table:
    """Step ids are what people type for --from/--to: they are never cut. On a narrow
    terminal the gates column goes (``status --json`` has it) and the borders with it."""
    steps = state["steps"]
    step_w = max(len(s["step"]) for s in steps)
    status_w = max(6, *(len(s["status"]) for s in steps))
    fixed = step_w + status_w + 10 + 13  # three columns, their padding and borders
    narrow = width < fixed + 24
    table = Table(
        title=f"{name} on {state['branch'] or 'detached HEAD'} "
        f"({state['done']}/{state['total']} steps)",
        title_justify="left",
        box=None if narrow else box.HEAVY_HEAD,
    )
    table.add_column("step", no_wrap=True, min_width=step_w)
    table.add_column("status", no_wrap=True, min_width=status_w)
    table.add_column("commit", no_wrap=True, min_width=10)
    if not narrow:
        table.add_column("gates", no_wrap=True, overflow="ellipsis", max_width=width - fixed)
    colors = {"done": "green", "pending": "dim", "changed since checkpoint": "yellow"}
    for s in steps:
        color = colors.get(s["status"], "red")
        row = [escape(s["step"]), f"[{color}]{s['status']}[/]", (s["commit"] or "")[:10]]
        table.add_row(*row, *([] if narrow else [escape("; ".join(s["gates"]))]))
    return table


def show_plan(plan_path: Path, repo_path: Path, console: Console) -> None:
    """``runner plan``: the static preview, with what is done when a repository is at hand."""
    plan = _load(plan_path)
    history = _history_or_empty(plan, repo_path)
    console.print(f"[bold]{escape(plan.name)}[/]: {escape(plan.description)}")
    s = plan.settings
    console.print(
        f"[dim]rollback {s.rollback.value} by {s.rollback_mode.value}; "
        f"branch {s.branch or '(current)'}; "
        f"timeout {format_duration(s.timeout) if s.timeout else 'none'}[/]"
    )
    index = 0
    for phase in plan.phases:
        console.print(f"\n[bold]{escape(phase.id)}[/]  {escape(phase.title)}")
        for step in phase.steps:
            index += 1
            mark = "[green]✓[/]" if step.key in history.done else " "
            gates = ", ".join(g.name + " (report-only)" * g.report_only for g in step.gates) or "-"
            timeout = f"  timeout {format_duration(step.timeout)}" if step.timeout else ""
            console.print(
                f" {mark} {index:>2}. {escape(step.key)}  [cyan]{action_kind(step.action)}"
                f"[/]  gates: {escape(gates)}{timeout}  [dim]{escape(step_caption(step))}[/]"
            )
        if phase.gates:
            console.print(f"     phase gates: {escape(', '.join(g.name for g in phase.gates))}")
    hooks = plan.on_rollback
    if hooks.run or hooks.verify:
        from runner.process import describe  # noqa: PLC0415

        runs = "; ".join(describe(c) for c in hooks.run) or "-"
        verify = ", ".join(g.name for g in hooks.verify) or "-"
        console.print(f"\non-rollback: run {escape(runs)}; verify {escape(verify)}")


def _history_or_empty(plan: Plan, repo_path: Path) -> PlanHistory:
    try:
        with open_repository(repo_path) as repo:
            return read_history(repo.plan_commits(plan.name))
    except RunnerError:
        return PlanHistory()
