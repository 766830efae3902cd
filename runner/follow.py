"""``runner status --watch``: follow a running plan from a second terminal.

The running plan already journals every state change, fsynced, to ``journal.jsonl``; this
reads it as it grows and prints one line per event a person cares about, until the run
finishes. The file is held open, so the journal's move to ``runs/`` at the end of the run
does not lose the last lines. Read-only: the watcher takes no lock and writes nothing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from rich.markup import escape

from runner.journal import Lock, StateDir

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["event_line", "follow_run"]

#: Seconds between looks at the journal.
POLL = 0.3


def follow_run(state: StateDir, console: Console, *, poll: float = POLL) -> int:
    """Print the running plan's events as they come; return when it finishes (0)."""
    if not Lock(state, command="").is_held_elsewhere() or not state.journal.exists():
        console.print("no run in progress; nothing to watch")
        return 0
    console.print(f"watching {escape(str(state.journal))} (Ctrl-C stops watching, not the run)")
    try:
        with state.journal.open(encoding="utf-8", errors="replace") as journal:
            return _follow(journal, state, console, poll)
    except KeyboardInterrupt:
        console.print("stopped watching; the run goes on")
        return 130


def _follow(journal: TextIO, state: StateDir, console: Console, poll: float) -> int:
    pending = ""
    while True:
        chunk = journal.readline()
        if chunk:
            pending += chunk
            if not pending.endswith("\n"):
                continue  # half a line: the writer is mid-write
            line, pending = pending, ""
            data = _parse(line)
            if data is None:
                continue
            if (text := event_line(data)) is not None:
                console.print(text)
            if data.get("event") == "run-finished":
                return 0
            continue
        if not Lock(state, command="").is_held_elsewhere():
            console.print("[yellow]the run ended without finishing its journal[/]")
            return 0
        time.sleep(poll)


def _parse(line: str) -> dict[str, Any] | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def event_line(data: dict[str, Any]) -> str | None:
    """One journal event as a line (rich markup), or ``None`` for bookkeeping events."""
    name = data.get("event")
    stamp = time.strftime("%H:%M:%S", time.localtime(float(data.get("time", 0))))
    step = escape(str(data.get("step", "")))
    text: str | None = None
    if name == "run-started":
        text = (
            f"run {escape(str(data.get('run_id')))} started: {escape(str(data.get('command', '')))}"
        )
    elif name == "step-started":
        text = f"[bold]{step}[/] started"
    elif name == "action-done" and data.get("ok") is False:
        text = f"  [red]✗[/] {step}: {escape(str(data.get('message', 'action failed')))}"
    elif name in ("gates-done", "phase-gates-done"):
        text = _gates_line(data)
    elif name == "step-committed":
        text = f"  [green]✓[/] {step} committed {str(data.get('sha', ''))[:10]}"
    elif name == "rollback-done":
        patch = data.get("patch")
        saved = f"; discarded changes saved: {escape(str(patch))}" if patch else ""
        text = f"  [red]↺ rolled back[/] to {str(data.get('target', ''))[:10]}{saved}"
    elif name == "run-finished":
        text = f"run finished: {escape(str(data.get('status')))}"
    return None if text is None else f"[dim]{stamp}[/] {text}"


def _gates_line(data: dict[str, Any]) -> str:
    times = data.get("times") if isinstance(data.get("times"), dict) else {}
    shown = ", ".join(f"{escape(str(k))} {float(v):.1f}s" for k, v in (times or {}).items())
    whose = f"phase {data.get('phase')}" if data.get("event") == "phase-gates-done" else ""
    owner = escape(whose or str(data.get("step", "")))
    if data.get("passed"):
        return f"  [green]✓[/] {owner} gates passed: {shown}"
    gate = escape(str(data.get("gate", "?")))
    return (
        f"  [red]✗[/] {owner} gate {gate} {escape(str(data.get('gate_status', 'failed')))}: {shown}"
    )


def journal_of(repo_path: Path) -> StateDir:
    """The state directory ``status --watch`` follows (this worktree's own, as a run's)."""
    from runner.git import open_repository  # noqa: PLC0415

    with open_repository(repo_path) as repo:
        return StateDir(repo.git_dir)
