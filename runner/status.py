"""What ``runner status`` adds to the branch's record: the last run's outcome, live follow-ups.

The branch tells what is done; it cannot tell what failed (a failed step leaves no commit)
nor which follow-ups a person has fixed since. These come from the last journal
(:mod:`runner.lastrun`) and the tree (:mod:`runner.followups`), rendered here so that
:mod:`runner.commands` only calls in.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from runner.codemods import FollowUp
from runner.followups import LiveFollowUp, counts, recheck
from runner.history import read_history
from runner.lastrun import LastRun, describe_lines, read_last_run

if TYPE_CHECKING:
    from rich.console import Console

    from runner.git import Repository
    from runner.journal import StateDir
    from runner.model import Plan

__all__ = [
    "followups_state",
    "interrupted_text",
    "last_run_state",
    "plan_followups",
    "render_followups",
    "render_last_run",
]


def last_run_state(state: StateDir, *, running: bool) -> LastRun | None:
    """The last run of the plan as its journal tells (``None``: no run yet)."""
    return read_last_run(state, running=running)


def plan_followups(plan: Plan, repo: Repository) -> tuple[LiveFollowUp, ...]:
    """The follow-ups of the plan's live checkpoints, re-checked: what a run ends with.

    Read from the branch, as ``status`` reads them, so a step a rollback took back (or a
    revert undid) has no follow-ups left, whatever the run's own results say.
    """
    history = read_history(repo.plan_commits(plan.name))
    return recheck(repo.root, [(k, f) for k, d in history.done.items() for f in d.followups])


def followups_state(root: Path, items: Iterable[tuple[str, FollowUp]]) -> dict[str, Any]:
    """``{"open": N, "resolved": M, "items": [...]}`` for ``status`` and its JSON."""
    live = recheck(root, items)
    still, resolved = counts(live)
    return {"open": still, "resolved": resolved, "items": [f.to_json() for f in live]}


def interrupted_text(last: LastRun | None) -> str | None:
    """A Ctrl-C'd or terminated run in one sentence (a crash is told by recovery's reading)."""
    if last is None or last.status != "interrupted":
        return None
    where = f" during step {last.step}" if last.step else ""
    saved = f"; its changes are saved as {last.patch}" if last.patch else ""
    return f"run {last.run_id} was interrupted{where}; the step was rolled back{saved}"


def render_last_run(data: dict[str, Any] | None, console: Console) -> None:
    """``last run: stopped at p/engine: gate 'unit' failed`` and what to do about it."""
    if data is None:
        return
    last = LastRun(**{k: v for k, v in data.items() if k not in ("headline", "apply")})
    color = "green" if not last.failed else ("yellow" if last.status == "running" else "red")
    console.print(f"\nlast run {escape(last.run_id)}: [{color}]{escape(last.headline())}[/]")
    if last.tail and last.failed:
        console.print(
            "[dim]" + escape("\n".join("  | " + s for s in last.tail.splitlines())) + "[/]"
        )
    for line in describe_lines(last):
        console.print(f"  {escape(line)}")


def render_followups(data: dict[str, Any], console: Console, *, full: bool) -> None:
    """Counts, and with ``full`` every follow-up as ``FILE:LINE: reason``, open ones first."""
    items = data["items"]
    if not items:
        return
    console.print(
        f"\n[yellow]manual follow-ups: {data['open']} open[/], {data['resolved']} resolved"
        + ("" if full else " (`runner status --followups` lists them)")
    )
    if not full:
        return
    for item in sorted(items, key=lambda i: not i["open"]):
        mark = "[ ]" if item["open"] else "[x]"
        text = escape(f"{mark} {item['path']}:{item['line']}: {item['reason']}")
        console.print(f"  {text}  [dim]({escape(item['step'])})[/]")
