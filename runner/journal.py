"""Everything under ``.git/runner/``: the lock, the journal, logs, saved patches, run records.

The runner's own files never live in the working tree. The journal is appended and fsynced
*before* each state change, so that after a crash at any point the next ``runner status``
can say what happened and the next ``runner run`` can restore the interrupted step.

The lock is ``fcntl.flock`` on ``lock``: the kernel frees it when its owner dies, so a run
killed with SIGKILL never leaves a lock that blocks the next one. An ``flock`` belongs to the
open file description, which a forked child shares, so the descriptor is closed in every
forked child (codemod pool workers) before it runs: a child that outlived its runner would
otherwise hold the lock for good. ``lock.json`` names the
owner; one left behind by a dead owner on this host is taken over with a message, one from
another host (a shared filesystem) is reported with the command that clears it. Whether the
owner is dead is checked by pid and start time (:mod:`runner.lockprobe`); a lock a dead
run's command still holds is freed by ending that run's processes, and a live owner whose
lock file was deleted is never taken over.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import signal
import socket
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from runner import contain, lockprobe
from runner.errors import LockHeld, PreconditionError
from runner.ownership.statefolder import find_damage, git_dir_gone, give_back_access

__all__ = [
    "FAULT_ENV",
    "Event",
    "Journal",
    "Lock",
    "StateDir",
    "file_label",
    "new_run_id",
    "read_events",
    "run_id_of",
]

#: Fault injection for the crash-point suite: ``RUNNER_FAULT=kill:EVENT[:N]`` SIGKILLs the
#: runner right after the Nth (default first) journal event named EVENT is durable;
#: ``RUNNER_FAULT=enospc:EVENT[:N]`` makes writing that event fail as a full disk would;
#: ``int:``, ``term:`` and ``hup:`` send SIGINT, SIGTERM or SIGHUP instead of SIGKILL, so
#: tests can time a Ctrl-C to land exactly inside a commit or a rollback.
FAULT_ENV = "RUNNER_FAULT"

_FAULT_SIGNALS = {
    "kill": signal.SIGKILL,
    "int": signal.SIGINT,
    "term": signal.SIGTERM,
    "hup": signal.SIGHUP,
}


@dataclass(frozen=True, slots=True)
class Event:
    """One journal line: an event name, a timestamp and its fields."""

    name: str
    time: float
    fields: Mapping[str, Any] = field(default_factory=dict)

    def get(self, key: str) -> Any:  # noqa: ANN401 - journal fields are JSON values
        """A field's value, or ``None``."""
        return self.fields.get(key)


class StateDir:
    """The paths of ``.git/runner/`` (of one git directory)."""

    def __init__(self, git_dir: Path) -> None:
        self.root = git_dir / "runner"

    @property
    def journal(self) -> Path:
        """The journal of the run in progress (or of the last one, if it was interrupted)."""
        return self.root / "journal.jsonl"

    @property
    def logs(self) -> Path:
        """Full output of every action and gate."""
        return self.root / "logs"

    @property
    def rollbacks(self) -> Path:
        """Patches of everything a rollback discarded."""
        return self.root / "rollbacks"

    @property
    def runs(self) -> Path:
        """Journals of finished runs, one file per run."""
        return self.root / "runs"

    @property
    def tmp(self) -> Path:
        """Scratch space (pytest's JUnit XML, commit messages)."""
        return self.root / "tmp"

    def ensure(self) -> None:
        """Create the directory, with a clear message when the git dir is not writable."""
        for d in (self.root, self.logs, self.rollbacks, self.runs, self.tmp):
            try:
                d.mkdir(parents=True, exist_ok=True)
                # An existing read-only folder passes mkdir; find out now, not mid-step.
                with tempfile.TemporaryFile(dir=d):
                    pass
            except OSError as e:
                msg = f"cannot write runner state under {d}: {e.strerror}"
                raise PreconditionError(msg) from None


class Lock:
    """The repository's run lock (see the module docstring)."""

    def __init__(self, state: StateDir, *, command: str) -> None:
        self._path = state.root / "lock"
        self._owner_path = state.root / "lock.json"
        self._command = command
        self._fd: int | None = None
        self.notice: str | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`LockHeld` naming the holder."""
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            msg = f"cannot open the run lock {self._path}: {e.strerror}"
            raise PreconditionError(msg) from None
        contain.keep_from_children(fd)
        if not self._take(fd):
            contain.forget(fd)
            os.close(fd)
            raise LockHeld(self._refusal())
        previous = self._read_owner()
        if previous and previous.get("pid") == os.getpid():
            previous = None  # our own record: the lock file was replaced under this run
        if previous and previous.get("host") != socket.gethostname():
            fcntl.flock(fd, fcntl.LOCK_UN)
            contain.forget(fd)
            os.close(fd)
            msg = (
                f"{_held_message(previous)}; it runs on another host, so its liveness cannot be "
                f"checked from here. If no run is active there, clear it with: "
                f"rm {self._owner_path}"
            )
            raise LockHeld(msg)
        if previous and lockprobe.is_live_runner(previous):
            fcntl.flock(fd, fcntl.LOCK_UN)
            contain.forget(fd)
            os.close(fd)
            msg = (
                f"{_held_message(previous)}; its lock file {self._path} was deleted or "
                "replaced while it runs, so this run does not take over; wait for it to end"
            )
            raise LockHeld(msg)
        if previous:
            self.notice = (
                f"took over the lock of a run that died (pid {previous.get('pid')}, "
                f"started {previous.get('started')}, {previous.get('command')})"
            )
        self._fd = fd
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "command": self._command,
            "ticks": lockprobe.start_ticks(os.getpid()),
        }
        write_atomically(self._owner_path, json.dumps(owner).encode())

    def _take(self, fd: int) -> bool:
        """``flock`` ``fd``. While the lock is held and ``lock.json`` names a run of this
        host that is dead, what that run started may hold it (a command that locked the
        file itself): end those processes, then try again for up to 2 s."""
        if _try_flock(fd):
            return True
        owner = self._read_owner()
        if not owner or owner.get("host") != socket.gethostname():
            return False
        if lockprobe.is_live_runner(owner):
            return False
        with contextlib.suppress(TypeError, ValueError):
            contain.end_strays_of(int(owner.get("pid", 0)))
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            if _try_flock(fd):
                return True
            time.sleep(0.05)
        return False

    def _refusal(self) -> str:
        """Why the lock cannot be taken: the live owner, or what holds the file's flock."""
        owner = self._holder()
        held_by = lockprobe.describe_holders(self._path)
        if owner and not lockprobe.is_live_runner(owner) and held_by:
            return (
                f"the run lock {self._path} is held by {held_by}, not by a run: the run "
                f"that took it (pid {owner.get('pid')}, {owner.get('command')}) is gone. "
                "End that process, then run again"
            )
        msg = _held_message(owner)
        return f"{msg}; the lock file is held by {held_by}" if held_by else msg

    def fd(self) -> int | None:
        """The descriptor holding the lock (``None`` when not held)."""
        return self._fd

    def release(self) -> None:
        """Free the lock (the kernel also frees it if this process dies)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):  # gone with the state folder, if a command took it
            self._owner_path.unlink(missing_ok=True)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        contain.forget(self._fd)
        os.close(self._fd)
        self._fd = None

    def renew(self) -> None:
        """Hold the lock again after its file was deleted (with the state folder): the old
        file's lock guards nothing any more, a new run would take the new file's."""
        if self._fd is not None:
            try:
                same = self._path.stat().st_ino == os.fstat(self._fd).st_ino
            except OSError:
                same = False
            if same and self._owner_path.exists():
                return
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            contain.forget(self._fd)
            os.close(self._fd)
            self._fd = None
        self.acquire()

    def is_held_elsewhere(self) -> bool:
        """Whether another process holds the lock right now (never blocks, never takes it)."""
        if not self._path.exists():
            return False
        fd = os.open(self._path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def owner(self) -> dict[str, Any] | None:
        """What ``lock.json`` says about the holder (or a dead one), if anything."""
        return self._read_owner()

    def _holder(self, *, seconds: float = 1.0) -> dict[str, Any] | None:
        """The live holder's record. A run writes ``lock.json`` just after taking the lock, so
        one that won a race a moment ago may not have written it yet (or an older, dead
        owner's is still there): wait a little for a record whose process is alive."""
        deadline = time.monotonic() + seconds
        owner = self._read_owner()
        while not lockprobe.is_live_runner(owner) and time.monotonic() < deadline:
            time.sleep(0.02)
            owner = self._read_owner()
        return owner

    def _read_owner(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self._owner_path.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def __enter__(self) -> Lock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class Journal:
    """Append-only, fsynced record of a run's state changes (``journal.jsonl``)."""

    def __init__(self, state: StateDir, *, lock: Lock | None = None) -> None:
        self._state = state
        self._file: TextIO | None = None
        self._counts: dict[str, int] = {}
        self._lines: list[str] = []  # this run's events, to write again if the file goes
        self._kept: dict[Path, bytes] = {}  # other state files recovery reads: see keep()
        self._lock = lock

    def open(self) -> None:
        """Start a fresh journal for a new run.

        A journal left in place is never overwritten: a finished one (its owner died after
        ``run-finished``, before archiving it) is archived now; an unfinished one is an
        interrupted run that only ``runner run`` recovers, so anything else refuses.
        """
        path = self._state.journal
        events = read_events(path)
        if events and events[-1].name != "run-finished":
            msg = (
                f"the journal of an interrupted run is still in {path}; run `runner status` "
                "to see where it stopped, and `runner run` to recover it first"
            )
            raise PreconditionError(msg)
        if events:
            path.replace(self._state.runs / f"{run_id_of(events)}.jsonl")
        self._file = path.open("w", encoding="utf-8")
        self._lines = []
        self._kept = {}

    def write(self, name: str, **fields: Any) -> None:  # noqa: ANN401 - JSON values
        """Append one event and make it durable before returning."""
        if self._file is None:
            msg = "journal is not open"
            raise RuntimeError(msg)
        self._counts[name] = self._counts.get(name, 0) + 1
        fault = _fault_for(name, self._counts[name])
        line = json.dumps({"event": name, "time": time.time(), **fields}, sort_keys=True)
        try:
            if fault == "enospc":
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self._file.write(line + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())
            self._lines.append(line + "\n")
        except OSError as e:
            msg = (
                f"cannot write the journal {self._state.journal}: {e.strerror}; stopped "
                f"before '{name}'. The repository may hold the running step's changes or a "
                "half-done rollback: free space, then `runner status` shows where it stopped "
                "and the next `runner run` restores the last checkpoint, saving any partial "
                "diff as a patch"
            )
            raise PreconditionError(msg) from None
        if fault in _FAULT_SIGNALS:
            os.kill(os.getpid(), _FAULT_SIGNALS[fault])

    def keep(self, path: Path, data: bytes) -> None:
        """Write a state file a recovery of this run reads (the ignored-files snapshot), and
        keep its bytes: :meth:`repair` writes it again with the journal."""
        write_atomically(path, data)
        self._kept[path] = data

    def repair(self, who: str) -> str | None:
        """After a plan command ran: the state folder, the journal and the lock as this run
        left them, or made so again. ``None`` when nothing was amiss; else the message that
        fails the step (``who`` ran the command: ``the action``, ``gate unit``).

        A command that deletes ``.git/runner``, replaces the journal or makes the folder
        unwritable must not cost the journal: with it gone, a crash from here on could not
        be recovered. The folder is made again and the journal rewritten with every event of
        this run so far, so the rollback that follows is journaled as usual.
        """
        if self._file is None:
            return None
        written = "".join(self._lines)
        lock_fd = self._lock.fd() if self._lock is not None else None
        damage = find_damage(self._state, self._file.fileno(), written, self._kept, lock_fd)
        if not damage:
            return None
        state = self._state
        give_back_access(state)
        try:
            state.ensure()
        except PreconditionError as e:  # what needs that folder stops there, as on a full disk
            damage.append(str(e))
        try:
            for path, data in self._kept.items():
                write_atomically(path, data)
            write_atomically(state.journal, written.encode())
            reopened = state.journal.open("a", encoding="utf-8")
        except OSError as e:
            msg = git_dir_gone(state, who) or (
                f"{who} changed runner's state folder {state.root} ({'; '.join(damage)}) and "
                f"the journal cannot be written again ({e.strerror}); the step's changes are "
                f"still in the tree. Make {state.root} a writable folder again, then `runner "
                "run` takes the step back"
            )
            raise PreconditionError(msg) from None
        self._file.close()
        self._file = reopened
        if self._lock is not None:
            self._lock.renew()
        return (
            f"{who} changed runner's state folder {state.root} ({'; '.join(damage)}); runner "
            f"made it again and rewrote the journal with this run's {len(self._lines)} events"
            + (" and the snapshot of the files ignored at its start" if self._kept else "")
        )

    def close(self, *, archive_as: str | None) -> None:
        """Close the journal; a finished run's journal moves to ``runs/``."""
        if self._file is None:
            return
        self._file.close()
        self._file = None
        if archive_as is not None:
            self._state.journal.replace(self._state.runs / f"{archive_as}.jsonl")


def read_events(path: Path) -> list[Event]:
    """The events of a journal; a torn last line (a crash mid-write) is ignored."""
    events: list[Event] = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return events
    for line in lines:
        with contextlib.suppress(ValueError):
            data = json.loads(line)
            if isinstance(data, dict) and "event" in data:
                name = str(data.pop("event"))
                events.append(Event(name, float(data.pop("time", 0.0)), data))
    return events


def new_run_id() -> str:
    """A run's id: sortable by start time, unique among runs started in the same second."""
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def run_id_of(events: list[Event]) -> str:
    """The run id a journal's ``run-started`` records; one made from its first event's time
    when the run died before writing it (during the recovery of an earlier run, say)."""
    start = next((e for e in events if e.name == "run-started"), None)
    if start is not None and start.get("run_id"):
        return str(start.get("run_id"))
    stamp = events[0].time if events else 0.0
    micros = int(stamp % 1 * 1_000_000)
    return f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(stamp))}-{micros:06d}-unstarted"


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temp file, fsync, ``os.replace``: readers never see half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _held_message(owner: Mapping[str, Any] | None) -> str:
    if not owner:
        return "another runner run holds the lock on this repository"
    return (
        f"another runner run holds the lock on this repository: pid {owner.get('pid')} on "
        f"{owner.get('host')}, started {owner.get('started')} ({owner.get('command')})"
    )


def _fault_for(event: str, count: int) -> str | None:
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return None
    kind, _, rest = spec.partition(":")
    name, _, nth = rest.partition(":")
    if name != event or count != (int(nth) if nth.isdigit() else 1):
        return None
    return kind if kind in ("enospc", *_FAULT_SIGNALS) else None


def file_label(text: str) -> str:
    """``text`` (a step key, a gate name) as a safe part of a file name under ``.git/runner``."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in text)
