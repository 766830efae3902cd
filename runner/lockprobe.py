"""Who really holds the run lock, and whether the run ``lock.json`` names is alive.

The kernel frees an ``flock`` when the last descriptor of its open file goes, not when the
runner that took it dies: a plan command that locks ``.git/runner/lock`` itself
(``flock .git/runner/lock sleep 100 &``) keeps it after a SIGKILL of its runner, and every
later run was refused, naming the dead pid. A command that deletes the lock file lets a second
run lock a new file while the first one lives. This module answers the questions both cases
raise, through ``/proc`` (Linux; elsewhere the answers fall back to ``lock.json`` and
``kill(pid, 0)``):

- :func:`start_ticks` and :func:`is_live_runner`: the owner recorded in ``lock.json`` is alive
  only if its pid runs *and* is the same process (its start time, recorded with it) — a
  reused pid is not the owner;
- :func:`holders`: the processes holding the lock file's ``flock`` (``/proc/locks``, then
  the descriptors in ``/proc/*/fd``), with their command lines, for the refusal message.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["describe_holders", "holders", "is_live_runner", "start_ticks"]

_PROC = Path("/proc")


def start_ticks(pid: int) -> int | None:
    """A process's start time (clock ticks since boot, ``/proc/PID/stat`` field 22)."""
    try:
        fields = (_PROC / str(pid) / "stat").read_bytes().rpartition(b")")[2].split()
        return int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def _cmdline(pid: int) -> str:
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    text = raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")
    return "".join(c if c.isprintable() else "?" for c in text)


def is_live_runner(owner: Mapping[str, Any] | None) -> bool:
    """Whether the run ``owner`` (a ``lock.json`` record of this host) still runs.

    Its pid must exist and be the same process: the start time ``lock.json`` recorded
    matches, or (a record without one) the process's command line is a runner's.
    """
    if not owner or owner.get("host") != socket.gethostname():
        return bool(owner)  # another host's record: nothing to check from here
    try:
        pid = int(owner.get("pid", 0))
    except (TypeError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if not _PROC.is_dir():
        return True
    recorded, now = owner.get("ticks"), start_ticks(pid)
    if now is None:
        return False
    if isinstance(recorded, int):
        return recorded == now
    return "runner" in _cmdline(pid)


def holders(path: Path) -> list[tuple[int, str]]:
    """``(pid, command line)`` of the processes that hold an ``flock`` on ``path``."""
    try:
        st = path.stat()
    except OSError:
        return []
    found = [p for p in _lockers(st.st_ino, st.st_dev) if start_ticks(p) is not None]
    if not found:
        found = _openers(st.st_ino, st.st_dev)
    return [(p, _cmdline(p)) for p in sorted(set(found)) if p != os.getpid()]


def describe_holders(path: Path) -> str | None:
    """``pid N (command)`` for each holder of ``path``'s lock, or ``None`` if none is found."""
    found = holders(path)
    return ", ".join(f"pid {pid} ({cmd or '?'})" for pid, cmd in found) or None


def _lockers(ino: int, dev: int) -> list[int]:
    """Pids ``/proc/locks`` gives for ``FLOCK`` locks on the inode (the locking process;
    it may have died while a child that shares the descriptor keeps the lock)."""
    want = f"{os.major(dev):02x}:{os.minor(dev):02x}:{ino}"
    pids = []
    try:
        lines = (_PROC / "locks").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        parts = line.split()
        if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5] == want:
            try:
                pids.append(int(parts[4]))
            except ValueError:
                continue
    return pids


def _openers(ino: int, dev: int) -> list[int]:
    """Pids with a descriptor open on the lock file (slower: a scan of ``/proc/*/fd``)."""
    pids = []
    for proc in _PROC.glob("[0-9]*"):
        try:
            fds = list((proc / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                st = fd.stat()
            except OSError:
                continue
            if st.st_ino == ino and st.st_dev == dev:
                pids.append(int(proc.name))
                break
    return pids
