"""Containment: nothing a plan command starts outlives it, no helper outlives the runner.

Three leaks this module closes, each found on real runs:

- **Helpers that outlive the runner.** Codemod pool workers are forked; when the runner was
  SIGKILLed they lived on under init, and, sharing the lock file's open description (an
  ``flock`` belongs to the description, which ``fork`` shares; close-on-exec does not apply
  without an ``exec``), held the run lock for good. Workers now ask the kernel to SIGKILL
  them when their parent dies (:func:`die_with_parent`), and every forked child closes the
  descriptors registered with :func:`keep_from_children` before running any code.
- **Work a command leaves running.** ``sleep 60 &`` in a gate outlived the gate and wrote
  into the next step's commit; a daemon that double-forked with ``setsid`` escaped even the
  timeout's group kill. The runner makes itself a child subreaper (:func:`become_subreaper`)
  so such orphans are re-parented to it rather than to init, tags every command with a
  unique :data:`COMMAND_ENV`, and when the command ends, :func:`end_leftovers` ends its
  session, processes carrying its token, orphans adopted meanwhile, and their descendants
  (SIGTERM, :data:`GRACE_SECONDS`, SIGKILL), reaping the adopted ones.
- **Work a dead runner left running.** :func:`end_strays` finds, through ``/proc``, what
  runs with this repository's ``RUNNER_REPO`` and another runner's ``RUNNER_PID``.
- **Commands running side by side** (``settings.parallel-gates``): ending one command's
  leftovers spares the others registered in :mod:`runner.running`.

The runner's own children (GitPython's ``git cat-file`` processes, the codemod pool) run in
the runner's session and exist before a command starts: they are never touched. Linux only
where ``/proc`` and ``prctl`` are needed; elsewhere a command's process group is still ended,
and ``docs/reliability.md`` lists what each platform covers.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from runner import running

__all__ = [
    "COMMAND_ENV",
    "GRACE_SECONDS",
    "become_subreaper",
    "children",
    "die_with_parent",
    "end_leftovers",
    "end_strays",
    "end_strays_of",
    "forget",
    "group_alive",
    "keep_from_children",
    "new_token",
    "reap_orphans",
    "signal_group",
]

#: Set in every plan command's environment to a token of that one command.
COMMAND_ENV = "RUNNER_COMMAND_ID"

#: Seconds between SIGTERM and SIGKILL when processes must stop (nox/popen.py does the same).
GRACE_SECONDS = 3.0

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_PROC = Path("/proc")

_parent_only: set[int] = set()
_subreaper: bool | None = None


# --- descriptors a forked child must not keep --------------------------------------------


def keep_from_children(fd: int) -> None:
    """Close ``fd`` in every child this process forks, before the child runs any code.

    For the run lock: a forked worker holding the lock's open description keeps the
    ``flock`` after the runner dies. Closing it in the child leaves the parent's lock as is
    (an ``flock`` ends when its last descriptor closes, or on ``LOCK_UN``).
    """
    _parent_only.add(fd)


def forget(fd: int) -> None:
    """``fd`` is about to be closed by its owner: stop closing it in children."""
    _parent_only.discard(fd)


def _close_parent_only() -> None:
    for fd in _parent_only:
        with contextlib.suppress(OSError):
            os.close(fd)
    _parent_only.clear()


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_close_parent_only)


# --- prctl ---------------------------------------------------------------------------------


def _prctl(option: int, value: int) -> bool:
    """``prctl(option, value)`` through libc; ``False`` where there is no prctl."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent: int | None) -> None:
    """Pool initializer: be SIGKILLed by the kernel when the runner (``parent``) dies.

    ``PR_SET_PDEATHSIG`` only covers a parent that dies after the call; one that died
    between the fork and the call has already re-parented this process, which the
    ``getppid`` check catches. ``parent`` is ``None`` where workers are not forked by the
    runner itself (a spawn or forkserver start), where there is nothing to compare with.

    A forked worker also inherits the runner's signal handlers, which turn SIGTERM and
    SIGHUP into a rollback: a worker has nothing to roll back. It ends on SIGTERM (how the
    pool stops it), and leaves Ctrl-C and a hang-up, which reach its whole process group, to
    the runner, which stops the pool.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)


def become_subreaper() -> bool:
    """Make this process a child subreaper (once): orphans of its descendants come to it.

    A command's daemon that double-forks with ``setsid`` leaves its session and group; as a
    subreaper the runner still adopts it, so :func:`end_leftovers` can find it.
    """
    global _subreaper  # noqa: PLW0603 - a process-wide setting, made once
    if _subreaper is None:
        _subreaper = _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    return _subreaper


def new_token() -> str:
    """A unique value for one command's :data:`COMMAND_ENV`."""
    return uuid.uuid4().hex


# --- finding processes ---------------------------------------------------------------------


def _stat(pid: int | str) -> tuple[str, int, int, int] | None:
    """``(state, ppid, pgrp, session)`` of a process, or ``None`` if it is gone."""
    try:
        text = (_PROC / str(pid) / "stat").read_bytes().rpartition(b")")[2].split()
        return text[0].decode(), int(text[1]), int(text[2]), int(text[3])
    except (OSError, ValueError, IndexError):
        return None


def _environ(pid: int) -> set[bytes]:
    try:
        return set((_PROC / str(pid) / "environ").read_bytes().split(b"\0"))
    except OSError:
        return set()  # gone meanwhile, or not ours to read


def children() -> frozenset[int]:
    """This process's children now (``/proc/self/task/*/children``; empty without /proc)."""
    found: set[int] = set()
    try:
        tasks = list((_PROC / "self" / "task").iterdir())
    except OSError:
        return frozenset()
    for task in tasks:
        try:
            found.update(int(p) for p in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return frozenset(found)


def _adopted(spared: frozenset[int]) -> dict[int, str]:
    """Children that are neither spared nor in this process's session: orphans that came
    to this subreaper (the runner starts commands in their own sessions and reaps those
    itself, and its other children run in its own session). Maps pid to state."""
    mine = os.getsid(0)
    found: dict[int, str] = {}
    for pid in children() - spared - running.others(0).keys():  # 0: no session is this one's
        info = _stat(pid)
        if info is not None and info[3] != mine:
            found[pid] = info[0]
    return found


def reap_orphans(spared: frozenset[int]) -> None:
    """Collect adopted orphans that have exited, so none stays a zombie.

    ``spared``: children some other code waits for, such as the command being run (its
    ``Popen`` reaps it); orphans are told apart from the runner's own children by their
    session (see :func:`_adopted`).
    """
    with running.held():  # a leader started meanwhile is registered before it is seen here
        for pid, state in _adopted(spared).items():
            if state in ("Z", "X"):
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)


def _processes() -> dict[int, tuple[str, int, int, int]]:
    table: dict[int, tuple[str, int, int, int]] = {}
    for entry in _PROC.glob("[0-9]*"):
        info = _stat(entry.name)
        if info is not None:
            table[int(entry.name)] = info
    return table


def _with_descendants(roots: set[int], table: dict[int, tuple[str, int, int, int]]) -> set[int]:
    found = set(roots)
    grew = True
    while grew:
        more = {pid for pid, info in table.items() if info[1] in found} - found
        found |= more
        grew = bool(more)
    return found


def _live(pids: set[int], table: dict[int, tuple[str, int, int, int]]) -> set[int]:
    me, group = os.getpid(), os.getpgrp()
    return {p for p in pids if p != me and table[p][0] not in ("Z", "X") and table[p][2] != group}


def _leftovers(session: int, token: str, spared: frozenset[int]) -> set[int]:
    """Live processes that ``session``'s command started (see :func:`end_leftovers`)."""
    table = _processes()
    tag = f"{COMMAND_ENV}={token}".encode()
    roots = {pid for pid, info in table.items() if info[3] == session}
    others = running.others(session)
    theirs = {f"{COMMAND_ENV}={t}".encode() for t in others.values()}
    roots |= {pid for pid in _adopted(spared) if not theirs & _environ(pid)}
    roots |= {pid for pid in table if pid not in roots and tag in _environ(pid)}
    found = _with_descendants(roots & table.keys(), table)
    return _live({p for p in found if table[p][3] not in others}, table)


# --- ending them ---------------------------------------------------------------------------


def end_leftovers(session: int, token: str, spared: frozenset[int]) -> int:
    """End what a finished command (its session id ``session``) left running.

    Found: its session (every group in it), processes whose environment carries ``token``,
    orphans adopted while it ran (children of this process outside its session that are not
    in ``spared``, the children it had before), and the descendants of all of these. Each
    gets SIGTERM, then SIGKILL after :data:`GRACE_SECONDS`; adopted ones are reaped.
    Returns how many processes were ended. Without ``/proc``, only the process group.
    """
    if not _PROC.is_dir():
        _end_group(session)
        return 0
    reap_orphans(spared)
    if become_subreaper() and not group_alive(session) and not _adopted(spared):
        return 0  # nothing of it can be alive: every orphan of it would have come here
    ended: set[int] = set()
    deadline = time.monotonic() + GRACE_SECONDS
    while found := _leftovers(session, token, spared):
        late = time.monotonic() >= deadline
        for pid in found:
            if late or pid not in ended:
                _signal(pid, signal.SIGKILL if late else signal.SIGTERM)
        ended |= found
        if time.monotonic() >= deadline + GRACE_SECONDS:
            break  # not ours to kill (another user's), or unkillable: give up
        time.sleep(0.02)
        reap_orphans(spared)
    return len(ended)


def end_strays(repo_root: Path) -> int:
    """End what runners that are gone left running for ``repo_root``.

    Matches ``RUNNER_REPO`` and a ``RUNNER_PID`` other than this process in
    ``/proc/PID/environ``, and their descendants. Call it holding the repository's run lock:
    then no other runner is running commands for this repository, so every match is a
    dead run's. Returns how many processes were stopped (SIGTERM, SIGKILL after
    :data:`GRACE_SECONDS`). Without ``/proc`` (macOS) nothing is found.
    """
    if not _PROC.is_dir():
        return 0
    repo = f"RUNNER_REPO={repo_root}".encode()
    ours = f"RUNNER_PID={os.getpid()}".encode()

    def stray(env: set[bytes]) -> bool:
        return repo in env and ours not in env and any(v.startswith(b"RUNNER_PID=") for v in env)

    return _end_matching(stray)


def end_strays_of(owner_pid: int) -> int:
    """End what the dead runner ``owner_pid`` left running (its ``RUNNER_PID`` in
    ``/proc/PID/environ``), with their descendants: called before the lock is taken, when
    ``lock.json`` names that dead runner and a process it started still holds the lock."""
    if not _PROC.is_dir() or owner_pid == os.getpid():
        return 0
    tag = f"RUNNER_PID={owner_pid}".encode()
    return _end_matching(lambda env: tag in env)


def _end_matching(match: Callable[[set[bytes]], bool]) -> int:
    """SIGTERM the live processes whose environment ``match``es, with their descendants;
    SIGKILL what is left after :data:`GRACE_SECONDS`. Returns how many were found."""

    def strays() -> set[int]:
        table = _processes()
        roots = {pid for pid in table if match(_environ(pid))}
        return _live(_with_descendants(roots, table), table)

    found = strays()
    for pid in found:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while (left := strays()) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in left:
        _signal(pid, signal.SIGKILL)
    return len(found)


def _end_group(pgid: int) -> None:
    signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    signal_group(pgid, signal.SIGKILL)


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to process group ``pgid``; one already gone (or not ours) is no error."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def group_alive(pgid: int) -> bool:
    """Whether process group ``pgid`` still has a member."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
