"""The last run's outcome, read back from its journal: what ``runner status`` remembers.

A run's result lives in git (the checkpoint commits) only when it passed; a failure, a
Ctrl-C or a crash leaves nothing on the branch. The journal does keep it: the engine
writes the failed gate (its name, last lines, log) and the saved patch into the events it
fsyncs anyway, and this module folds the *last* journal alone back into one
:class:`LastRun`, so ``status`` stays as fast as reading one small file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.journal import Event, StateDir, read_events, run_id_of

if TYPE_CHECKING:
    from runner.results import GateResult, StepResult

__all__ = ["LastRun", "action_fields", "describe_lines", "fold", "gate_fields", "read_last_run"]

#: Lines of a failed gate's output kept in the journal (the log holds all of it).
TAIL_LINES = 12


@dataclass(frozen=True, slots=True)
class LastRun:
    """How the last run ended, and what a person does next."""

    run_id: str
    status: str  # done | stopped | interrupted | crashed | running
    command: str  # the command that started it; run again, it continues
    step: str | None = None  # the step (or ``phase ID``) that failed or was interrupted
    gate: str | None = None  # the gate that failed, if one did
    gate_status: str | None = None  # failed | timed out | inconclusive
    message: str = ""  # why the step failed when no gate did (the action failed)
    tail: str = ""  # the last lines of the failed gate's (or action's) output
    log: str | None = None  # the full output
    patch: str | None = None  # what the rollback discarded, saved
    rehearsal: bool = False
    gate_summary: str = ""  # the failed gate's one-line summary (``no tests collected``)

    @property
    def failed(self) -> bool:
        """Whether the run ended anywhere but done."""
        return self.status != "done"

    @property
    def apply_command(self) -> str | None:
        """``git apply PATCH``: brings the discarded changes back."""
        return f"git apply {self.patch}" if self.patch else None

    def headline(self) -> str:
        """One line: ``stopped at p/engine: gate 'unit' failed``."""
        if self.status == "done":
            return "done"
        if self.status == "running":
            return f"running{f' step {self.step}' if self.step else ''}"
        where = f" at {self.step}" if self.step else ""
        word = {"crashed": "interrupted (the process died)"}.get(self.status, self.status)
        if self.gate and self.gate_status == "inconclusive":
            why = f" ({self.gate_summary})" if self.gate_summary else ""
            return f"{word}{where}: gate '{self.gate}' inconclusive{why}: never judged"
        if self.gate:
            return f"{word}{where}: gate '{self.gate}' {self.gate_status or 'failed'}"
        return f"{word}{where}{f': {self.message}' if self.message else ''}"

    def to_json(self) -> dict[str, Any]:
        """The ``last_run`` object of ``status --json``."""
        data = asdict(self)
        data["headline"] = self.headline()
        data["apply"] = self.apply_command
        return data


def action_fields(result: StepResult) -> dict[str, Any]:
    """What ``action-done`` records of a failed action (nothing when it worked)."""
    if not result.message:
        return {}
    return {"message": result.message, "tail": _tail(result.output_tail)}


def gate_fields(gates: Iterable[GateResult]) -> dict[str, Any]:
    """What ``gates-done`` records: each gate's time (for the next run's expected times),
    and the first failed gate, if any."""
    done = list(gates)
    times = {g.name: round(g.seconds, 3) for g in done}
    failed = next((g for g in done if not g.passed), None)
    if failed is None:
        return {"times": times}
    return {
        "times": times,
        "gate": failed.name,
        "gate_status": failed.status.value,
        "gate_summary": failed.summary,
        "tail": _tail(failed.output_tail),
        "log": failed.log,
    }


def read_last_run(state: StateDir, *, running: bool = False) -> LastRun | None:
    """The last plan run recorded under ``state``: the open journal, else the newest archived.

    ``running``: the lock is held by a live run, so an open journal is in progress rather
    than left by a crash. ``runner rollback`` journals are passed over: they are not runs
    of the plan, and what a run left to fix stays what status shows.
    """
    for path in _journals_newest_first(state)[:_LOOK_BACK]:
        events = read_events(path)
        if _is_plan_run(events):
            return fold(events, running=running and path == state.journal)
    return None


#: Journals looked at before giving up: ``runner rollback`` runs in between are few.
_LOOK_BACK = 8


def _is_plan_run(events: list[Event]) -> bool:
    """A ``runner run`` (or demo) journal; ``runner rollback``'s end ``status=rollback``."""
    start = next((e for e in events if e.name == "run-started"), None)
    if start is None:
        return False
    if any(e.name == "run-finished" and e.get("status") == "rollback" for e in events):
        return False
    return start.get("command") is not None or any(e.name == "step-started" for e in events)


def fold(events: list[Event], *, running: bool = False) -> LastRun:
    """One journal's events → its :class:`LastRun`."""
    start = next(e for e in events if e.name == "run-started")
    finished = next((e for e in reversed(events) if e.name == "run-finished"), None)
    if finished is None:
        status = "running" if running else "crashed"
    else:
        status = str(finished.get("status") or "done")
    fields: dict[str, Any] = {}
    step: str | None = None
    for e in events:
        if e.name == "step-started":
            step, fields = e.get("step"), {}
        elif e.name == "step-committed" and e.get("step") == step:
            step, fields = None, {}
        elif e.name in ("gates-done", "action-done") and False in (e.get("passed"), e.get("ok")):
            fields = _failure(e)
        elif e.name == "phase-gates-done" and e.get("passed") is False:
            step, fields = f"phase {e.get('phase')}", _failure(e)
        elif e.name == "rollback-done" and e.get("patch"):
            fields["patch"] = e.get("patch")
    if status == "done":
        step, fields = None, {}
    return LastRun(
        run_id=run_id_of(events),
        status=status,
        command=str(start.get("command") or "runner run"),
        step=step,
        rehearsal=bool(start.get("rehearsal")),
        **fields,
    )


def _failure(event: Event) -> dict[str, Any]:
    keys = ("gate", "gate_status", "gate_summary", "message", "tail", "log")
    return {k: event.get(k) for k in keys if event.get(k) is not None}


def _journals_newest_first(state: StateDir) -> list[Path]:
    found = [state.journal] if state.journal.exists() else []
    try:
        archived = [p for p in state.runs.iterdir() if p.suffix == ".jsonl"]
    except OSError:
        archived = []
    # Run ids start with their start time (YYYYmmdd-HHMMSS-): the name sorts by age.
    return found + sorted(archived, key=lambda p: p.name, reverse=True)


def _tail(text: str) -> str:
    return "\n".join(text.splitlines()[-TAIL_LINES:])


def describe_lines(last: LastRun, *, continue_with: str | None = None) -> list[str]:
    """The plain lines ``status`` prints about a run that did not finish well."""
    lines: list[str] = []
    if last.log:
        lines.append(f"full output: {last.log}")
    if last.patch:
        lines.append(f"discarded changes saved: {last.patch}")
        lines.append(f"  re-apply with: {last.apply_command}")
    if last.status not in ("done", "running"):
        lines.append(f"continue, once the cause is fixed: {continue_with or last.command}")
    return lines
