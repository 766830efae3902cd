"""The files ignored when a command started: the user's, whatever a step does to ``.gitignore``.

Each command that may roll back takes the snapshot at its start, under its run id, in the
state folder; the journal keeps its bytes so a command that deletes the folder gets it back
(:meth:`runner.journal.Journal.repair`). A recovery reads the snapshot of the run it
finishes and no other; with none, every untracked file counts as the user's.
"""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

from runner.errors import PreconditionError
from runner.git import Repository
from runner.journal import Journal, StateDir, read_events

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["copy_snapshot", "ignored_paths", "snapshot_ignored"]

#: The files and folders (``dir/``) ignored when the run started, NUL-separated, in the state
#: folder, after the id of the run that took it: a recovery after a crash reads the snapshot
#: of the run it finishes, and no other.
_IGNORED_SNAPSHOT = "ignored-at-start"
_SNAPSHOT_TAG = b"runner-ignored-at-start "


def snapshot_ignored(
    repo: Repository, state: StateDir, journal: Journal, run_id: str
) -> frozenset[str]:
    """Every command that may roll back (``runner run``, ``runner rollback``) takes this at
    its start, under its run id: a recovery of that command reads its own snapshot, never
    an older run's. The journal keeps the bytes, so a command that deletes the state folder
    gets the snapshot back with the journal (:meth:`runner.journal.Journal.repair`).

    Names are bytes to git: ``os.fsencode`` keeps a name that is not UTF-8 as it is.
    """
    ignored = repo.ignored_untracked()
    data = _SNAPSHOT_TAG + os.fsencode(run_id) + b"\0" + b"\0".join(map(os.fsencode, ignored))
    path = state.root / _IGNORED_SNAPSHOT
    try:
        journal.keep(path, data)
    except OSError as e:
        raise PreconditionError(f"cannot write runner state {path}: {e.strerror}") from None
    return frozenset(ignored)


def ignored_paths(state: StateDir) -> frozenset[str] | None:
    """The files ignored when the run in the journal started (a step may have changed
    ``.gitignore`` since). Files ignored now need no list: git never shows them as
    untracked, and a rollback only restores paths git shows as changed.

    ``None`` when there is no snapshot of that run (gone, or another run's): nobody can
    tell then which untracked files the run made, so a rollback takes none of them.
    """
    try:
        data = (state.root / _IGNORED_SNAPSHOT).read_bytes()
    except OSError:
        return None
    head, _, rest = data.partition(b"\0")
    if not head.startswith(_SNAPSHOT_TAG):
        return None
    if os.fsdecode(head.removeprefix(_SNAPSHOT_TAG)) not in _journal_runs(state):
        return None
    return frozenset(os.fsdecode(p) for p in rest.split(b"\0") if p)


def copy_snapshot(state: StateDir, dest: Path) -> None:
    """The snapshot of ``state``'s run into the folder ``dest`` (a rehearsal's records), so
    a rehearsal recovers an interrupted run as the real run would."""
    source = state.root / _IGNORED_SNAPSHOT
    if source.is_file():
        shutil.copyfile(source, dest / _IGNORED_SNAPSHOT)


def _journal_runs(state: StateDir) -> set[str]:
    """The run ids the journal in progress speaks for: its own, and those it recovers
    (through the archived journals of recoveries that were themselves interrupted)."""
    ids: set[str] = set()
    events = read_events(state.journal)
    for _ in range(8):
        recovers = [str(e.get("recovers")) for e in events if e.name == "recovery-started"]
        ids.update(str(e.get("run_id")) for e in events if e.name == "run-started")
        if not recovers or recovers[0] in ids:
            ids.update(recovers)
            break
        ids.add(recovers[0])
        events = read_events(state.runs / f"{recovers[0]}.jsonl")
    return ids
