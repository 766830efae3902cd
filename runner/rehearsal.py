"""``runner run --dry-run``: rehearse in a private repository, keep the records, say what
the real run would do and that the user's repository did not move.

The isolation is :mod:`runner.isolate`'s, the evidence for ``--replay`` :mod:`runner.replay`'s;
this module runs the engine between them and writes the rehearsal's summary (its verdict,
read back by ``runner status`` and by the stale-rehearsal notice of the next real run).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from runner.engine import RunOptions, execute_plan
from runner.errors import Interrupted, RunnerError
from runner.git import open_repository
from runner.isolate import Rehearsal, private_workspace
from runner.rehearsals import write_summary
from runner.replay import Recorder, plan_digest, settings_digests
from runner.report import LiveObserver, render_summary, write_json
from runner.results import RunReport, StepStatus
from runner.workspace import dirty_note

if TYPE_CHECKING:
    from rich.console import Console

    from runner.gates import Approver
    from runner.model import Plan

__all__ = ["rehearse"]


def rehearse(
    plan: Plan,
    repo: Path,
    options: RunOptions,
    console: Console,
    *,
    approver: Approver,
    keep: bool = False,
) -> RunReport:
    """Rehearse ``plan`` on ``repo``; the report's paths all live in the record folder."""
    started: list[bool] = []  # set once the engine runs; before, no step can be rolled back
    try:
        return _rehearse(
            plan, repo, options, console, approver=approver, keep=keep, started=started
        )
    except KeyboardInterrupt:
        if started:
            raise
        raise Interrupted(_SETUP_INTERRUPTED.format("interrupted"), signal_exit_code=130) from None
    except Interrupted as e:
        if started:
            raise
        what = str(e).split(";", 1)[0]
        raise Interrupted(
            _SETUP_INTERRUPTED.format(what), signal_exit_code=e.signal_exit_code
        ) from None


_SETUP_INTERRUPTED = (
    "{} while the rehearsal was being set up: no step had started, nothing was rolled back; "
    "its temporary copy is removed and your repository was only read"
)


def _rehearse(
    plan: Plan,
    repo: Path,
    options: RunOptions,
    console: Console,
    *,
    approver: Approver,
    keep: bool,
    started: list[bool],
) -> RunReport:
    observer = LiveObserver(console)
    with private_workspace(repo, plan, keep=keep) as (ws, rh):
        ws.gates = Recorder(rh.records, rh.id, rh.included)
        write_summary(rh.records, _started(plan, rh), finished=False)
        console.print(
            f"[bold]Rehearsal[/] {rh.id} of {escape(plan.name)} on "
            f"{escape(rh.branch or 'a detached HEAD')} at {rh.start[:10]}, in a private "
            "repository (yours is only read)"
        )
        console.print(f"  records: {escape(str(rh.records))}")
        for note in rh.notes:
            observer.notice(note)
        with open_repository(repo) as origin:
            interrupted = (rh.records / "journal.jsonl").exists()
            if dirty := dirty_note(origin, interrupted=interrupted):
                observer.notice(dirty)
        try:
            started.append(True)
            report = execute_plan(plan, ws, options, observer=observer, approver=approver)
        except Interrupted as e:
            _finish(rh, verdict="interrupted", code=e.signal_exit_code)
            raise
        except KeyboardInterrupt:
            _finish(rh, verdict="interrupted", code=130)
            raise
        except RunnerError as e:
            _finish(rh, verdict=f"refused: {str(e).splitlines()[0]}", code=e.exit_code)
            raise
        write_json(report, rh.records / "report.json")
        _finish(rh, verdict=verdict(report), code=report.exit_code, start=report.start)
        render_summary(report, console)
        if report.stopped_at and (hint := _outside_hint(plan)):
            observer.notice(hint)
        if keep:
            console.print(f"private repository kept for inspection: {escape(str(rh.root))}")
            console.print(f"  remove it with: rm -rf {escape(str(rh.folder))}")
    console.print(_last_line(report, rh, _where_now(repo)))
    return report


def verdict(report: RunReport) -> str:
    """``would complete`` or ``would stop at PHASE/STEP``."""
    return f"would stop at {report.stopped_at}" if report.stopped_at else "would complete"


def _started(plan: Plan, rh: Rehearsal) -> dict[str, object]:
    return {
        "id": rh.id,
        "plan": plan.name,
        "plan_digest": plan_digest(plan),
        "settings": settings_digests(plan),
        "started": time.time(),
        "branch": rh.branch,
        "start": rh.start,
        "origin_head": rh.origin_head,
        "origin_branch": rh.origin_branch,
    }


def _finish(rh: Rehearsal, *, verdict: str, code: int, start: str | None = None) -> None:
    data: dict[str, object] = {"verdict": verdict, "exit_code": code}
    if start:
        data["start"] = start
    write_summary(rh.records, data)


def _outside_hint(plan: Plan) -> str:
    """A known limit, named where it may explain a failure: the private copy lives in a
    temporary folder, so a path that leaves the repository (``../common``) resolves beside
    the copy, where nothing is, and not beside the user's repository."""
    try:
        text = Path(plan.path).read_text(errors="replace")
    except OSError:
        return ""
    if "../" not in text:
        return ""
    return (
        "the plan names paths outside the repository (../): in the rehearsal they resolve "
        "beside its private copy, in a temporary folder, not beside your repository; a gate "
        "that reads them can fail here and pass in the real run"
    )


def _where_now(repo: Path) -> tuple[str | None, str]:
    with open_repository(repo) as origin:
        return origin.current_branch(), origin.head()


def _last_line(report: RunReport, rh: Rehearsal, now: tuple[str | None, str]) -> str:
    """What the real run would do, and proof that the user's repository did not move."""
    ran = [s for s in report.steps if s.status not in (StepStatus.ALREADY_DONE, StepStatus.NOT_RUN)]
    done = sum(1 for s in report.steps if s.status is StepStatus.ALREADY_DONE)
    branch = rh.branch or "a detached HEAD"
    where = f"on {'new ' if rh.created_branch else ''}branch {branch} from {rh.start[:10]}"
    skipped = f", skipping {done} done step(s)" if done else ""
    if report.stopped_at:
        what = f"[red]the real run would stop at {escape(report.stopped_at)}[/]"
    else:
        what = f"[green]the real run would complete[/] ({len(ran)} step(s) to run)"
    if held := [p for s in report.steps if s.isolation for p in s.isolation.held_back]:
        what += f", holding back {len(held)} file(s) (on-failure: isolate; see the follow-ups)"
    branch_now, head_now = now
    moved = head_now != rh.origin_head or branch_now != rh.origin_branch
    stay = (
        "[red]your repository moved meanwhile[/]"
        if moved
        else f"your repository did not move ({escape(branch_now or 'HEAD')} at {head_now[:10]})"
    )
    return f"\nrehearsal {rh.id}: {what}, {escape(where)}{skipped}; {stay}"
