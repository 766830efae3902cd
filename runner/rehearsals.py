"""The rehearsals' record folders, ``.git/runner/rehearsals/<id>/``, and their summaries.

Kept apart and light: ``runner status`` names the last rehearsal without loading the engine.
A summary (``rehearsal.json``) is written when the rehearsal starts (its plan, its starting
point, the pid and temporary folder, so that one killed with SIGKILL can be tidied later)
and completed with its verdict when it ends.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.journal import StateDir, write_atomically

__all__ = [
    "SUMMARY",
    "describe_age",
    "latest_rehearsal",
    "read_summary",
    "rehearsals_dir",
    "write_summary",
]

#: The name of a rehearsal's summary in its record folder.
SUMMARY = "rehearsal.json"


def rehearsals_dir(git_dir: Path) -> Path:
    """``.git/runner/rehearsals`` of the user's worktree (its own git directory)."""
    return StateDir(git_dir).root / "rehearsals"


def write_summary(records: Path, data: Mapping[str, object], *, finished: bool = True) -> None:
    """Add ``data`` to the rehearsal's summary; ``finished``: it has its verdict."""
    merged = {**read_summary(records), **data}
    if finished:
        merged["finished"] = time.time()
    text = json.dumps(merged, indent=2, sort_keys=True) + "\n"
    write_atomically(records / SUMMARY, text.encode())


def read_summary(records: Path) -> dict[str, Any]:
    """A rehearsal's summary, or ``{}``."""
    try:
        data = json.loads((records / SUMMARY).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def latest_rehearsal(rehearsals: Path, plan: str) -> tuple[str, dict[str, Any]] | None:
    """The newest finished rehearsal of ``plan`` (its id and summary), or ``None``.

    Newest by the time it started: ids sort by the second only, and two rehearsals started
    in the same second would otherwise be ordered by their ids' random part.
    """
    if not rehearsals.is_dir():
        return None
    found = [(folder.name, read_summary(folder)) for folder in rehearsals.iterdir()]
    finished = [(rid, s) for rid, s in found if s.get("plan") == plan and "finished" in s]
    if not finished:
        return None
    return max(finished, key=lambda item: (_started(item[1]), item[0]))


def _started(summary: Mapping[str, Any]) -> float:
    """When the rehearsal started (0 for a summary without the time)."""
    try:
        return float(summary.get("started", 0) or 0)
    except (TypeError, ValueError):
        return 0.0


def describe_age(seconds: float) -> str:
    """``40s``, ``12m``, ``3h``, ``2d``."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(max(seconds, 0))}s"
