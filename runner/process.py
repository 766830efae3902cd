"""The only caller of plan commands: argv or shell, explicit env, timeout, process groups.

Every action and gate command runs in a session of its own (``start_new_session=True``), so
a timeout or Ctrl-C can kill the whole group, grandchildren included (a test runner that
spawns workers, a shell that backgrounds a ``sleep``). Output goes to a log file rather than
a pipe: a grandchild that keeps the pipe open can then never block the runner.

When a command ends, with any outcome, everything it started ends too: its session and
whatever left it (:func:`runner.contain.end_leftovers`; each command carries a token of its
own, :data:`runner.contain.COMMAND_ENV`). A runner killed with SIGKILL cannot stop its commands,
so each one also carries ``RUNNER_PID`` (the runner's pid) in its environment: the next run
finds what the dead one left running through ``/proc`` and stops it before it restores the
tree (:func:`kill_orphans`).
"""

from __future__ import annotations

import contextlib
import os
import select
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from runner import contain
from runner.model import Command
from runner.termtext import printable

__all__ = [
    "OWNER_ENV",
    "Completed",
    "build_env",
    "describe",
    "kill_orphans",
    "read_tail",
    "run_command",
    "terminate_group",
]

#: Set in every plan command's environment to the pid of the runner that started it.
OWNER_ENV = "RUNNER_PID"

#: Seconds between SIGTERM and SIGKILL when a command must stop (nox/popen.py does the same).
GRACE_SECONDS = contain.GRACE_SECONDS

#: Signals that stop a run (the CLI turns them into exceptions); held while a child starts.
_STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

#: Variables that would point git at the user's repository instead of the one the step runs
#: in (a rehearsal's worktree, say); pre-commit's ``no_git_env`` drops them for the same reason.
_GIT_LEAKS = ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_OBJECT_DIRECTORY")


#: How much of a command's log is read back, at most, from its end: the failure report shows
#: 20 lines and a metric gate wants the last number, so a gate printing 500 MB costs no more
#: memory than one printing 5 lines.
TAIL_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Completed:
    """A finished command: the exit code is data for the gate, never dropped.

    Its output stays in ``log`` (the file the command wrote to); what a report or a gate
    needs of it is read back from the end of that file, a bounded amount at a time.
    """

    command: Command
    returncode: int
    log: Path
    seconds: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """Exit 0 and not killed."""
        return self.returncode == 0 and not self.timed_out

    def output_end(self, limit: int = TAIL_BYTES) -> str:
        """The last ``limit`` bytes of the output (at most), decoded; a line cut at the start
        of the window is dropped, so what is returned are whole lines."""
        text = read_tail(self.log, limit)
        if self.timed_out:
            text += f"\n[runner] timed out after {self.seconds:.1f}s; process group killed\n"
        return text

    def tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines of output, for failure reports."""
        return printable("\n".join(self.output_end().rstrip("\n").split("\n")[-lines:]))


def read_tail(path: Path, limit: int = TAIL_BYTES) -> str:
    """The end of ``path``: at most ``limit`` bytes, read from the end (never the whole
    file), starting at a line boundary where the window cuts one; ``""`` if unreadable."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - limit))
            data = f.read(limit)
    except OSError:
        return ""
    if size > limit and (cut := data.find(b"\n")) != -1:
        data = data[cut + 1 :]
    return data.decode("utf-8", errors="replace")


def describe(command: Command) -> str:
    """The command as a person would type it (argv lists are ``shlex.join``-ed)."""
    return command if isinstance(command, str) else shlex.join(command)


def build_env(base: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """The environment for plan commands: ``base`` minus git redirections, plus ``extra``."""
    env = {k: v for k, v in base.items() if k not in _GIT_LEAKS}
    env.update(extra)
    return env


def _wait(proc: subprocess.Popen[bytes], timeout: float | None) -> None:
    """Wait for ``proc`` to exit, waking the moment it does.

    ``Popen.wait(timeout)`` polls with sleeps that grow to 50 ms, so a 1 ms gate cost ~2 ms
    and a long one up to 50 ms more than it ran. A pidfd (Linux 5.3+) is readable as soon
    as the process exits; elsewhere, or if the kernel refuses, ``wait`` it is. Signals
    still interrupt the wait (PEP 475 retries ``poll`` only after the handlers ran).
    """
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        proc.wait(timeout=timeout)
        return
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        wait_ms = None if timeout is None else min(max(0, int(timeout * 1000)), 2**31 - 1)
        if not poller.poll(wait_ms):
            raise subprocess.TimeoutExpired(proc.args, timeout or 0)
    finally:
        os.close(fd)
    proc.wait()  # reaps it; returns at once


def run_command(
    command: Command,
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float | None,
    log: Path,
) -> Completed:
    """Run ``command`` to completion or ``timeout``; its output is written to ``log``.

    On timeout the process group gets SIGTERM, then SIGKILL, and the result says
    ``timed_out``. On KeyboardInterrupt (or any exception) the group is killed the same way
    before the exception goes on. Whatever the outcome, what the command left running (a
    background job, a daemon that left its session) is ended before this returns.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    shell = isinstance(command, str)
    start = time.monotonic()
    contain.become_subreaper()
    token, spared = contain.new_token(), contain.children()
    code: int | None = None  # set when the command could not be started at all
    with log.open("wb") as out:
        with _signals_deferred() as pending:
            try:
                proc = subprocess.Popen(  # a string command runs through the shell by contract
                    command if shell else list(command),
                    shell=shell,
                    cwd=cwd,
                    env={**env, OWNER_ENV: str(os.getpid()), contain.COMMAND_ENV: token},
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as e:  # an argv program that is missing or not executable
                code = _not_started(command, e, out)
        if code is not None:
            for signum in pending:
                signal.raise_signal(signum)  # nothing was started that would need stopping
            return Completed(command, code, log, time.monotonic() - start)
        timed_out = False
        with _end_everything(proc, token, spared), _kill_group_on_exception(proc):
            for signum in pending:
                signal.raise_signal(signum)  # now the group is known and will be stopped
            try:
                _wait(proc, timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                terminate_group(proc)
    seconds = time.monotonic() - start
    return Completed(command, proc.returncode, log, seconds, timed_out)


def _not_started(command: Command, error: OSError, out: BinaryIO) -> int:
    """Say in the log why ``command`` never started; the exit code a shell would give.

    A shell answers 127 for a command it cannot find and 126 for one it cannot execute;
    an argv command gets the same codes, so a gate reads both alike (inconclusive, see
    :mod:`runner.verdicts`) and an action fails its step instead of raising.
    """
    reason = error.strerror or str(error)
    out.write(f"runner: cannot run {describe(command)}: {reason}\n".encode())
    return 127 if isinstance(error, FileNotFoundError) else 126


def terminate_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, wait up to :data:`GRACE_SECONDS`, then SIGKILL it.

    The group is signalled even when the leader has exited already: a shell that started
    ``sleep 1000 &`` leaves the sleep in the group after the shell is gone.
    """
    contain.signal_group(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline:
        # Members that exited are zombies until reaped, and keep the group "alive": the
        # shell's own children are re-parented to the runner (a subreaper) when it ends.
        contain.reap_orphans(frozenset({proc.pid}))
        if proc.poll() is not None and not contain.group_alive(proc.pid):
            return
        time.sleep(0.05)
    contain.signal_group(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=GRACE_SECONDS)


def kill_orphans(owner_pid: int, repo_root: Path) -> int:
    """Stop every process that dead runners (``owner_pid`` among them) started for ``repo_root``.

    Matches ``RUNNER_REPO`` and a ``RUNNER_PID`` other than this runner's in
    ``/proc/PID/environ`` (not only ``owner_pid``'s: a run killed while it recovered an
    earlier one leaves two runners' processes behind), with their descendants. The caller
    holds the run lock, so none of them belongs to a live run. Returns how many processes
    were stopped (SIGTERM, then SIGKILL after :data:`GRACE_SECONDS`). Where ``/proc`` is
    missing (macOS) nothing is found.
    """
    return contain.end_strays(repo_root)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[list[int]]:
    """Record SIGINT, SIGTERM and SIGHUP instead of acting on them while a child is started.

    A command that signals at once (or a Ctrl-C at the wrong moment) would otherwise raise
    inside ``Popen``, before the caller knows the child's pid, and its process group would
    outlive the runner. The caller re-raises what was recorded once it can stop the group.
    Blocking the signals is no alternative: the child would inherit the blocked mask.
    """
    pending: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield pending  # handlers can only be swapped in the main thread; signals go there
        return
    previous = {
        s: signal.signal(s, lambda signum, _frame: pending.append(signum)) for s in _STOPPING
    }
    try:
        yield pending
    finally:
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)


@contextlib.contextmanager
def _end_everything(
    proc: subprocess.Popen[bytes], token: str, spared: frozenset[int]
) -> Iterator[None]:
    """Whatever the outcome, end what the command left running once its leader is done."""
    try:
        yield
    finally:
        contain.end_leftovers(proc.pid, token, spared | {proc.pid})


@contextlib.contextmanager
def _kill_group_on_exception(proc: subprocess.Popen[bytes]) -> Iterator[None]:
    try:
        yield
    except BaseException:
        # Ctrl-C or SIGTERM (raised as an exception by the CLI's handler): the child is in its
        # own session, so the terminal's SIGINT never reached it; stop it ourselves.
        terminate_group(proc)
        raise
