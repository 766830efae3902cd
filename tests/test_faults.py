"""Faults other than a crash: a full disk, Ctrl-C and SIGTERM, processes left behind, a second
run at the same time, a lock left by a dead or a foreign owner.

Each ends in a clear message and an exit code (never a traceback), a repository that is clean
at its last checkpoint or that the next ``runner run`` puts right, and discarded work in a
patch under ``.git/runner/rollbacks/``.
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

from tests.conftest import git, processes_matching, run_cli
from tests.crashplan import (
    MODES,
    Outcome,
    crash_plan,
    fresh_repo,
    lost_contents,
    outcome,
    runner_process,
    working_files,
)

_references: dict[str, Outcome] = {}


def once(mode: str, tmp: Path) -> Outcome:
    """What one uninterrupted run of the crash plan leaves (computed once per mode)."""
    if mode not in _references:
        repo, plan = fresh_repo(tmp / f"reference-{mode}", crash_plan(MODES[mode]))
        done = run_cli("run", str(plan), cwd=repo)
        _references[mode] = outcome(repo, done.returncode)
    return _references[mode]


def marker() -> str:
    return f"runner-fault-{os.getpid()}-{time.monotonic_ns()}"


def leftovers(mark: str) -> str:
    return " ".join(str(pid) for pid in processes_matching(mark))


def patches(repo: Path) -> list[Path]:
    return sorted((repo / ".git/runner/rollbacks").glob("*.patch"))


def one_line_error(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert stderr.startswith("error: ")
    assert len(stderr.strip().splitlines()) == 1, stderr


# --- other commands after a crash --------------------------------------------------------


def test_after_a_crash_only_runner_run_may_write_a_journal(tmp_path: Path) -> None:
    repo, plan = fresh_repo(tmp_path, crash_plan(MODES["reset"]))
    killed = run_cli("run", str(plan), env={"RUNNER_FAULT": "kill:action-done:2"}, cwd=repo)
    assert killed.returncode == -signal.SIGKILL

    refusal = run_cli("rollback", "--all", "--plan", str(plan), cwd=repo)

    assert refusal.returncode == 2
    one_line_error(refusal.stderr)
    assert "`runner run` to recover it first" in refusal.stderr
    assert run_cli("run", str(plan), cwd=repo).returncode == 1


def test_a_finished_journal_left_in_place_is_archived_not_overwritten(tmp_path: Path) -> None:
    repo, plan = fresh_repo(tmp_path, crash_plan(MODES["reset"]))
    killed = run_cli("run", str(plan), env={"RUNNER_FAULT": "kill:run-finished"}, cwd=repo)
    assert killed.returncode == -signal.SIGKILL

    assert run_cli("run", str(plan), cwd=repo).returncode == 1

    assert len(list((repo / ".git/runner/runs").glob("*.jsonl"))) == 2


# --- a full disk ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "fault"),
    [
        ("reset", "step-started:1"),
        ("reset", "action-done:2"),
        ("reset", "commit-started:2"),
        ("reset", "rollback-started:1"),
        ("reset", "rollback-done:1"),
        ("revert", "revert-committed:1"),
    ],
)
def test_a_full_disk_stops_with_a_clear_error_and_the_next_run_recovers(
    mode: str, fault: str, tmp_path: Path
) -> None:
    expected = once(mode, tmp_path)
    repo, plan = fresh_repo(tmp_path / "full", crash_plan(MODES[mode]))

    full = run_cli("run", str(plan), env={"RUNNER_FAULT": f"enospc:{fault}"}, cwd=repo)
    snapshot = working_files(repo)
    status = run_cli("status", str(plan), cwd=repo)
    again = run_cli("run", str(plan), cwd=repo)

    assert full.returncode == 2, full.stdout + full.stderr
    one_line_error(full.stderr)
    assert "No space left on device" in full.stderr
    assert "`runner run` restores the last checkpoint" in full.stderr
    assert status.returncode == 0
    assert "interrupted" in status.stdout
    assert again.returncode == expected.code, again.stdout + again.stderr
    assert "recovering:" in again.stdout
    if "rollback" in fault or "revert" in fault:
        # The failing step's rollback had begun: the next run finishes it, then runs the
        # plan again as any second run would; tree and exit code are the same.
        assert outcome(repo, again.returncode).tree == expected.tree
    else:
        assert outcome(repo, again.returncode) == expected
    assert lost_contents(repo, snapshot) == []


def test_a_patch_that_cannot_be_written_stops_the_rollback_before_anything_is_discarded(
    repo: Path, plan_file: Path
) -> None:
    # The step takes the rollbacks folder away, so writing the patch fails as on a full disk.
    plan_file.write_text("""\
version: 1
name: no-room
phases:
  - id: p
    steps:
      - id: s
        run: "echo half > app.py && rm -r .git/runner/rollbacks && touch .git/runner/rollbacks"
        gate: [{run: "false"}]
""")

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 3, done.stdout + done.stderr
    one_line_error(done.stderr)
    assert "nothing was discarded" in done.stderr
    assert (repo / "app.py").read_text() == "half\n"  # kept: there was no patch to hold it
    (repo / ".git/runner/rollbacks").unlink()
    plan_file.write_text(plan_file.read_text().replace(" && rm -r", " # rm -r"))
    again = run_cli("run", str(plan_file), cwd=repo)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "recovering:" in again.stdout
    assert git("status", "--porcelain", cwd=repo) == ""
    assert any("half" in p.read_text() for p in patches(repo))


# --- Ctrl-C and SIGTERM ---------------------------------------------------------------

SIGNAL_PLAN = """\
version: 1
name: signals
settings: {{timeout: 60s}}
phases:
  - id: p
    steps:
      - id: first
        run: "echo one > one.txt"
      - id: second
        title: The step that is interrupted
        run: "{action}"
        gate: [{{run: "{gate}"}}]
on-rollback:
  run: ["{hook}"]
"""

_STOP = "kill -{sig} $RUNNER_PID; sleep 30; echo {mark}"
_WORK = "echo half > app.py && echo new > new.txt"


def signal_plan(where: str, sig: str, mark: str) -> str:
    stop = _STOP.format(sig=sig, mark=mark)
    parts = {"action": _WORK, "gate": "true", "hook": "true"}
    if where == "action":
        parts["action"] = f"{_WORK} && {stop}"
    elif where == "gate":
        parts["gate"] = stop
    elif where == "hook":
        parts["gate"] = "false"
        parts["hook"] = stop
    return SIGNAL_PLAN.format(**parts)


@pytest.mark.parametrize("sig", ["INT", "TERM", "HUP"])
@pytest.mark.parametrize("where", ["action", "gate", "commit", "rollback", "hook"])
def test_a_signal_stops_the_group_cleans_up_and_exits_130_or_143(
    repo: Path, plan_file: Path, where: str, sig: str
) -> None:
    mark = marker()
    plan_file.write_text(signal_plan(where, sig, mark))
    if where == "rollback":
        plan_file.write_text(plan_file.read_text().replace('[{run: "true"}]', '[{run: "false"}]'))
    # A commit and a rollback's reset are critical sections: the fault sends the signal right
    # after their first journal event, so it arrives while the section holds it back.
    event = {"commit": "commit-started:2", "rollback": "rollback-started:1"}.get(where)
    env = {"RUNNER_FAULT": f"{sig.lower()}:{event}"} if event else {}

    done = run_cli("run", str(plan_file), env=env, cwd=repo)

    code = {"INT": 130, "TERM": 143, "HUP": 129}[sig]
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert git("status", "--porcelain", cwd=repo) == ""
    assert leftovers(mark) == ""
    subjects = git("log", "--format=%s", cwd=repo).splitlines()
    first = "signals: p/first: first"
    if where == "commit":
        # The signal waits for the commit: the step is done, and that is the checkpoint.
        assert subjects[:2] == ["signals: p/second: The step that is interrupted", first]
        assert patches(repo) == []
    else:
        assert subjects[0] == first
        assert (repo / "app.py").read_text() == "import pkg.old\n"
        (patch,) = patches(repo)
        assert "new.txt" in patch.read_text()
    status = run_cli("status", str(plan_file), cwd=repo)
    assert status.returncode == 0
    assert "interrupted:" not in status.stdout  # cleaned up: nothing left to recover


def test_a_second_ctrl_c_while_cleaning_up_still_leaves_a_recoverable_repository(
    repo: Path, plan_file: Path
) -> None:
    """Two SIGINTs: the second lands during the rollback the first one started."""
    mark = marker()
    plan_file.write_text(signal_plan("action", "INT", mark))
    env = {"RUNNER_FAULT": "int:rollback-started:1"}

    done = run_cli("run", str(plan_file), env=env, cwd=repo)
    again = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 130, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert git("status", "--porcelain", cwd=repo) == ""
    assert "new.txt" in patches(repo)[0].read_text()
    assert leftovers(mark) == ""
    assert again.returncode == 130  # the same step signals again: same clean stop


# --- what a killed run leaves running --------------------------------------------------


def test_the_next_run_stops_the_commands_a_killed_run_left_running(
    repo: Path, plan_file: Path
) -> None:
    mark = marker()
    plan_file.write_text(f"""\
version: 1
name: orphans
phases:
  - id: p
    steps:
      - id: s
        run: "echo half > app.py"
        gate: [{{run: "kill -KILL $RUNNER_PID; sleep 30; echo {mark} > late.txt"}}]
""")
    killed = run_cli("run", str(plan_file), cwd=repo)
    assert killed.returncode == -signal.SIGKILL
    assert leftovers(mark) != ""  # the gate outlived its runner

    plan_file.write_text(plan_file.read_text().replace("kill -KILL $RUNNER_PID; ", ""))
    plan_file.write_text(plan_file.read_text().replace("sleep 30", "true"))
    again = run_cli("run", str(plan_file), cwd=repo)

    assert "stopped 2 process(es) the interrupted run had started" in again.stdout  # sh, sleep
    assert leftovers(mark) == ""
    assert again.returncode == 0, again.stdout + again.stderr
    assert git("status", "--porcelain", cwd=repo) == ""


# --- two runs, one lock ---------------------------------------------------------------

SLOW_PLAN = """\
version: 1
name: slow
phases:
  - id: p
    steps:
      - id: s
        run: "echo a > a.txt"
        gate: [{run: "sleep 2"}]
"""


def test_two_runs_started_together_one_runs_the_other_names_it(repo: Path, plan_file: Path) -> None:
    plan_file.write_text(SLOW_PLAN)
    procs = [runner_process(plan_file, repo, {}) for _ in range(2)]
    results = [(p, *p.communicate(timeout=60)) for p in procs]

    codes = sorted(p.returncode for p, _, _ in results)
    assert codes == [0, 2], [(p.returncode, out, err) for p, out, err in results]
    winner = next(p for p, _, _ in results if p.returncode == 0)
    _, _, refused = next(r for r in results if r[0].returncode == 2)
    assert f"pid {winner.pid}" in refused
    assert "Traceback" not in refused
    assert git("log", "-1", "--format=%s", cwd=repo) == "slow: p/s: s"


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def write_owner(repo: Path, **owner: object) -> Path:
    state = repo / ".git/runner"
    state.mkdir(parents=True, exist_ok=True)
    (state / "lock").touch()
    path = state / "lock.json"
    info = {"started": "2024-01-01 00:00:00", "command": "runner run phases.yaml", **owner}
    path.write_text(json.dumps(info))
    return path


def test_a_lock_whose_owner_died_here_is_taken_over_with_a_message(
    repo: Path, plan_file: Path
) -> None:
    plan_file.write_text(SLOW_PLAN.replace("sleep 2", "true"))
    pid = dead_pid()
    write_owner(repo, pid=pid, host=socket.gethostname())

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"took over the lock of a run that died (pid {pid}" in done.stdout
    assert not (repo / ".git/runner/lock.json").exists()


def test_a_lock_from_another_host_is_refused_with_the_command_that_clears_it(
    repo: Path, plan_file: Path
) -> None:
    plan_file.write_text(SLOW_PLAN)
    owner = write_owner(repo, pid=4242, host="build-agent-7.example")

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 2
    one_line_error(done.stderr)
    assert "pid 4242 on build-agent-7.example" in done.stderr
    assert f"rm {owner}" in done.stderr
    assert git("log", "-1", "--format=%s", cwd=repo) == "base"
    assert owner.exists()  # refused, not taken over
