"""Containment: nothing a command starts outlives it, no helper outlives the runner.

Real processes throughout: background jobs, daemons that double-fork out of their session
(some clearing their environment), a runner SIGKILLed while its codemod pool parses.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner import process
from runner.journal import Lock, StateDir
from tests.conftest import ROOT, git, make_repo, processes_matching, run_cli, start_cli
from tests.crashplan import runner_process

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")

#: A command that leaves something running, in one of the ways commands do. It writes the
#: pids of what it left into OUT (one per line) and only then exits.
LEAVER = r"""
import os, sys, time
kind, out, code = sys.argv[1], sys.argv[2], int(sys.argv[3])

def leave(setsid, clear_env):
    if os.fork():
        return
    if setsid:
        os.setsid()
    if os.fork():
        os._exit(0)
    with open(out, "a") as f:
        f.write(f"{os.getpid()}\n")
    if clear_env:
        os.execve("/bin/sleep", ["sleep", "30"], {})
    time.sleep(30)
    os._exit(0)

if kind == "background":
    leave(False, False)
elif kind == "own-group":
    if not os.fork():
        os.setpgid(0, 0)
        with open(out, "a") as f:
            f.write(f"{os.getpid()}\n")
        time.sleep(30)
        os._exit(0)
elif kind == "daemon":
    leave(True, False)
elif kind == "daemon-without-env":
    leave(True, True)
deadline = time.monotonic() + 10
while not (os.path.exists(out) and open(out).read().endswith("\n")):
    if time.monotonic() > deadline:
        break
    time.sleep(0.01)
if code < 0:
    time.sleep(30)  # the timeout ends it
sys.exit(max(code, 0))
"""


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie has finished running)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def left_pids(out: Path) -> list[int]:
    return [int(p) for p in out.read_text().split()] if out.exists() else []


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("kind", ["background", "own-group", "daemon", "daemon-without-env"])
@pytest.mark.parametrize(("code", "timeout"), [(0, None), (1, None), (-1, 1.0)])
def test_a_command_ends_with_everything_it_started(
    tmp_path: Path, kind: str, code: int, timeout: float | None
) -> None:
    """Exit 0, exit 1 or timed out: a background job, a job in a group of its own, a daemon
    that left the session (found by its token, or as an orphan re-parented to the runner
    when it cleared its environment) all end with the command."""
    script = tmp_path / "leaver.py"
    script.write_text(LEAVER)
    out = tmp_path / "left.txt"
    command = (sys.executable, str(script), kind, str(out), str(code))
    try:
        done = process.run_command(
            command, cwd=tmp_path, env=dict(os.environ), timeout=timeout, log=tmp_path / "log"
        )
        left = left_pids(out)
        assert left, done.output_end()
        assert [p for p in left if alive(p)] == []
        assert done.timed_out == (timeout is not None)
    finally:
        _kill_all(left_pids(out))


def test_the_runners_own_children_are_left_alone(tmp_path: Path) -> None:
    """Helpers the runner started itself (a persistent ``git cat-file``, a pool worker) run
    in its session and existed before the command: ending a command never touches them."""
    helper = subprocess.Popen(["sleep", "30"])  # a child of this process, in its session
    try:
        done = process.run_command(
            "true", cwd=tmp_path, env=dict(os.environ), timeout=None, log=tmp_path / "log"
        )
        assert done.ok
        assert alive(helper.pid)
    finally:
        helper.kill()
        helper.wait()


def test_a_forked_child_does_not_hold_the_run_lock(tmp_path: Path) -> None:
    """``flock`` belongs to the open description a fork shares: a forked child closes its
    copy, so a child that outlives a SIGKILLed lock owner cannot keep the lock."""
    repo = make_repo(tmp_path / "repo")
    pid_file = tmp_path / "child.pid"
    owner = (
        "import os, signal, time, sys\n"
        "from pathlib import Path\n"
        "from runner.journal import Lock, StateDir\n"
        f"state = StateDir(Path({str(repo / '.git')!r})); state.ensure()\n"
        "Lock(state, command='owner').acquire()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"  # running: what a fork does in the child has been done
        f"    Path({str(pid_file)!r}).write_text(str(os.getpid()))\n"
        "    time.sleep(30); os._exit(0)\n"
        f"while not Path({str(pid_file)!r}).read_text() if Path({str(pid_file)!r}).exists() "
        "else True: time.sleep(0.01)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", owner], check=False, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    child = int(pid_file.read_text())
    try:
        assert done.returncode == -signal.SIGKILL
        assert alive(child)
        assert not Lock(StateDir(repo / ".git"), command="").is_held_elsewhere()
    finally:
        _kill_all([child])


def test_sighup_is_held_while_a_command_starts() -> None:
    """Like SIGINT and SIGTERM, a SIGHUP that lands while a child starts waits until the
    child's group is known (it used to kill the runner and orphan the group)."""
    seen: list[int] = []
    previous = signal.signal(signal.SIGHUP, lambda signum, _frame: seen.append(signum))
    try:
        with process._signals_deferred() as pending:
            os.kill(os.getpid(), signal.SIGHUP)
        assert pending == [signal.SIGHUP]
        assert seen == []
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_sighup_waits_for_the_end_of_a_critical_section() -> None:
    from runner.rollback import critical_section  # noqa: PLC0415

    seen: list[int] = []
    previous = signal.signal(signal.SIGHUP, lambda signum, _frame: seen.append(signum))
    try:
        with critical_section():
            os.kill(os.getpid(), signal.SIGHUP)
            inside = list(seen)
        assert inside == []
        assert seen == [signal.SIGHUP]
    finally:
        signal.signal(signal.SIGHUP, previous)


# --- through the real CLI ----------------------------------------------------------------

MOVE_PLAN = """\
version: 1
name: contain
phases:
  - id: p
    steps:
      - id: imports
        move-import: {from: pkg.old, to: pkg.new}
"""


def codemod_repo(path: Path, files: int = 40, lines: int = 5) -> Path:
    """A repository with ``files`` candidates for the codemod, each long enough to parse
    for a while: the pool is at work for most of a second."""
    body = "".join(f"def f{i}(x):\n    return pkg.old.VALUE + x * {i}\n\n" for i in range(lines))
    content = {f"mod{i}.py": f"import pkg.old\n\n{body}" for i in range(files)}
    content |= {"pkg/__init__.py": "", "pkg/old.py": "VALUE = 1\n", "pkg/new.py": "VALUE = 1\n"}
    return make_repo(path, content)


def pool_workers(pid: int) -> list[int]:
    """Children of ``pid`` running the same program (forked workers)."""
    try:
        me = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            if ppid == pid and (entry / "cmdline").read_bytes() == me:
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def test_a_runner_killed_while_its_pool_parses_leaves_no_worker_and_no_lock(
    tmp_path: Path,
) -> None:
    repo = codemod_repo(tmp_path / "repo")
    plan = tmp_path / "phases.yaml"
    plan.write_text(MOVE_PLAN)
    runner = runner_process(plan, repo, {})
    workers: list[int] = []
    try:
        journal = repo / ".git/runner/journal.jsonl"
        while runner.poll() is None and not workers:
            # A child forked to exec git has the runner's command line too, for a moment:
            # only children seen once the step started are its pool.
            started = journal.exists() and "step-started" in journal.read_text()
            workers = pool_workers(runner.pid) if started else []
            time.sleep(0.005)
        assert workers, "the run ended before its pool started: give it more to parse"
        runner.kill()
        runner.wait()  # not communicate(): a surviving worker would keep its pipes open

        again = run_cli("run", str(plan), cwd=repo)

        assert again.returncode == 0, again.stdout + again.stderr
        assert "recovering" in again.stdout
        assert [w for w in workers if alive(w)] == []
        assert git("status", "--porcelain", cwd=repo) == ""
        assert "import pkg.new" in (repo / "mod0.py").read_text()
    finally:
        _kill_all(workers)
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        for pipe in (runner.stdout, runner.stderr):
            if pipe is not None:
                pipe.close()


def test_a_gates_background_job_ends_with_the_gate_and_writes_nothing_later(
    tmp_path: Path,
) -> None:
    """``(sleep; echo > late.txt) &`` in a gate: the job used to write into the next step."""
    repo = make_repo(tmp_path / "repo")
    mark = f"bg-{os.getpid()}-{time.monotonic_ns()}"
    wait = tmp_path / "wait.py"
    wait.write_text(  # step 2 runs while the job would still be writing
        "import os, time\n"
        "t = time.monotonic()\n"
        "while not os.path.exists('late.txt') and time.monotonic() - t < 1.5:\n"
        "    time.sleep(0.05)\n"
    )
    plan = tmp_path / "phases.yaml"
    plan.write_text(f"""\
version: 1
name: background
phases:
  - id: p
    steps:
      - id: first
        run: "echo one > one.txt"
        gate: [{{run: "(sleep 0.2; echo {mark} > late.txt) & exit 0"}}]
      - id: second
        run: "python {wait}"
""")
    try:
        done = run_cli("run", str(plan), cwd=repo)

        assert done.returncode == 0, done.stdout + done.stderr
        assert processes_matching(mark) == []
        assert "late.txt" not in git("log", "--name-only", "--format=", cwd=repo)
        assert not (repo / "late.txt").exists()
    finally:
        _kill_all(processes_matching(mark))


def test_a_daemon_that_left_the_session_ends_with_the_timed_out_gate(tmp_path: Path) -> None:
    """A gate that double-forks with ``setsid`` and keeps writing into the tree."""
    repo = make_repo(tmp_path / "repo")
    mark = f"daemon-{os.getpid()}-{time.monotonic_ns()}"
    daemon = tmp_path / "daemon.py"
    daemon.write_text(
        "import os, sys, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        while True:\n"
        "            with open('daemon.log', 'a') as f: f.write('x')\n"
        "            time.sleep(0.05)\n"
        "    os._exit(0)\n"
        "time.sleep(30)\n"
    )
    plan = tmp_path / "phases.yaml"
    plan.write_text(f"""\
version: 1
name: daemon
phases:
  - id: p
    steps:
      - id: s
        run: "echo one > one.txt"
        gate: [{{run: "python {daemon} {mark}", timeout: 1s}}]
""")
    try:
        done = run_cli("run", str(plan), cwd=repo)

        assert done.returncode == 1, done.stdout + done.stderr
        assert "timed out" in done.stdout
        assert processes_matching(mark) == []
        assert git("status", "--porcelain", cwd=repo) == ""  # nothing writes any more
    finally:
        _kill_all(processes_matching(mark))


def test_a_run_killed_while_removing_gate_leftovers_is_cleaned_up_by_the_next(
    tmp_path: Path,
) -> None:
    """Killed after a step's commit, before its gates' leftovers were saved and removed: the
    next run used to refuse the tree as having uncommitted changes."""
    repo = make_repo(tmp_path / "repo")
    plan = tmp_path / "phases.yaml"
    plan.write_text("""\
version: 1
name: leftovers
phases:
  - id: p
    steps:
      - id: s
        run: "echo one > one.txt"
        gate: [{run: "echo report > report.txt"}]
""")
    killed = run_cli("run", str(plan), cwd=repo, env={"RUNNER_FAULT": "kill:step-committed"})
    assert killed.returncode == -signal.SIGKILL
    assert (repo / "report.txt").exists()

    again = run_cli("run", str(plan), cwd=repo)

    assert again.returncode == 0, again.stdout + again.stderr
    assert git("status", "--porcelain", cwd=repo) == ""
    (patch,) = (repo / ".git/runner/rollbacks").glob("*leftovers.patch")
    assert "report" in patch.read_text()


def _wait_for(check: object, seconds: float = 60) -> None:
    """Poll ``check()`` until true (a generous bound: only to stop a broken test)."""
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_a_lock_a_dead_runs_command_holds_is_freed_by_the_next_run(tmp_path: Path) -> None:
    """A gate whose child locks ``.git/runner/lock`` itself, then the runner is SIGKILLed:
    the next run used to be refused (naming the dead pid) as long as that child lived."""
    repo = make_repo(tmp_path / "repo")
    mark = f"60.{time.monotonic_ns()}"
    flag = tmp_path / "once"
    plan = tmp_path / "phases.yaml"
    plan.write_text(f"""\
version: 1
name: stuck
phases:
  - id: p
    steps:
      - id: s
        run: "echo one > one.txt"
        gate: [{{run: "test -e {flag} || {{ touch {flag}; flock .git/runner/lock sleep {mark} &
          sleep 30; }}"}}]
""")
    first = start_cli("run", str(plan), cwd=repo)
    try:
        _wait_for(lambda: processes_matching(f"flock .git/runner/lock sleep {mark}"))
        first.kill()
        first.communicate()

        again = run_cli("run", str(plan), cwd=repo)

        assert again.returncode == 0, again.stdout + again.stderr
        assert processes_matching(mark) == []
        assert git("status", "--porcelain", cwd=repo) == ""
    finally:
        first.kill()
        _kill_all(processes_matching(mark))


def test_a_lock_held_by_a_stranger_is_refused_naming_that_process(tmp_path: Path) -> None:
    """The lock held by a process no runner started, ``lock.json`` naming a dead run: the
    refusal names the process that holds the lock, not only the dead pid."""
    repo = make_repo(tmp_path / "repo")
    mark = f"61.{time.monotonic_ns()}"
    state = repo / ".git/runner"
    state.mkdir()
    (state / "lock").touch()
    owner = {"pid": 999999999, "host": socket.gethostname(), "started": "x", "command": "run"}
    (state / "lock.json").write_text(json.dumps(owner))
    holder = subprocess.Popen(["flock", str(state / "lock"), "sleep", mark])
    try:
        _wait_for(lambda: processes_matching(f"sleep {mark}"))
        plan = tmp_path / "phases.yaml"
        plan.write_text(
            "version: 1\nname: n\nphases:\n  - id: p\n    steps:\n"
            "      - id: s\n        run: 'true'\n"
        )

        refused = run_cli("run", str(plan), cwd=repo)

        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert f"sleep {mark}" in refused.stdout + refused.stderr
    finally:
        holder.kill()
        holder.wait()


def test_a_second_run_does_not_take_over_a_live_runs_deleted_lock(tmp_path: Path) -> None:
    """A gate deletes ``.git/runner/lock``: a second run used to lock the new file and
    announce it took over the lock of a dead run while the first still ran."""
    repo = make_repo(tmp_path / "repo")
    ready, go = tmp_path / "ready", tmp_path / "go"
    plan = tmp_path / "phases.yaml"
    plan.write_text(f"""\
version: 1
name: twice
phases:
  - id: p
    steps:
      - id: s
        run: "echo one > one.txt"
        gate: [{{run: "rm .git/runner/lock; touch {ready}; i=0; while [ ! -e {go} ] &&
          [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done"}}]
""")
    first = start_cli("run", str(plan), cwd=repo)
    try:
        _wait_for(ready.exists)

        second = run_cli("run", str(plan), cwd=repo)
        go.touch()
        out, err = first.communicate(timeout=120)

        assert second.returncode == 2, second.stdout + second.stderr
        assert "took over" not in second.stdout + second.stderr
        assert f"pid {first.pid}" in second.stdout + second.stderr
        assert "deleted or replaced lock" in out + err
        assert first.returncode == 1, out + err
        assert Lock(StateDir(repo / ".git"), command="").is_held_elsewhere() is False
    finally:
        first.kill()
