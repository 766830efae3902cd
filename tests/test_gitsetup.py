"""A plan command that changes git's setup or runner's state folder fails its step.

Runner pins its own git calls to the git dir and work tree it opened, and after every
action, gate, phase gate and on-rollback hook checks that HEAD (its branch and sha),
``core.worktree`` and ``core.bare`` are what they were and that ``.git/runner`` still holds
this run's journal. A change is put back and the step is rolled back, whatever its
``on-failure``.
"""

from __future__ import annotations

import hashlib
import json
import signal
from pathlib import Path

import pytest

from tests.conftest import git, make_repo, run_cli, start_cli, wait_for

PLAN = """\
version: 1
name: setup
phases:
  - id: one
    steps:
      - id: change
        {on_failure}
        run: {action}
        gate: [{gate}]
      - id: after
        run: "echo after > after.py"
    gate: [{phase_gate}]
on-rollback:
  run: [{hook}]
"""

OK = '{run: "true"}'


def _plan(plan_file: Path, *, action: str = "echo changed > app.py", gate: str = OK,
          phase_gate: str = OK, hook: str = "true", on_failure: str = "") -> Path:  # fmt: skip
    plan_file.write_text(
        PLAN.format(
            action=json.dumps(action),
            gate=gate,
            phase_gate=phase_gate,
            hook=json.dumps(hook),
            on_failure=on_failure,
        )
    )
    return plan_file


@pytest.fixture
def two_commits(tmp_path: Path) -> Path:
    """``main`` with two commits (one to check out), and a user's folder beside it."""
    repo = make_repo(tmp_path / "repo", {"app.py": "v1\n"})
    (repo / "app.py").write_text("v2\n")
    git("commit", "-qam", "second", cwd=repo)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "notes.txt").write_text("the user's notes\n")
    return repo


def _checksums(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(folder).parts
    }


def _assert_back_at_start(repo: Path, start: str) -> None:
    assert git("symbolic-ref", "--short", "HEAD", cwd=repo) == "main"
    assert git("rev-parse", "HEAD", cwd=repo) == start
    assert git("status", "--porcelain", cwd=repo) == ""
    assert (repo / "app.py").read_text() == "v2\n"
    config = (repo / ".git" / "config").read_text()
    assert "worktree" not in config
    assert "bare = false" in config


@pytest.mark.parametrize(
    "action",
    [
        "git config core.worktree ../elsewhere && echo changed > app.py",
        "git config core.bare true && echo changed > app.py",
        "git switch -q -c side && echo changed > app.py",
        "git checkout -q --detach && echo changed > app.py",
        "git checkout -q HEAD~1",
        "echo changed > app.py && git commit -qam 'by the step'",
    ],
    ids=["core.worktree", "core.bare", "switch-c", "detach", "checkout-other", "commit"],
)
def test_an_action_that_moves_gits_setup_fails_and_is_rolled_back(
    two_commits: Path, plan_file: Path, action: str
) -> None:
    repo = two_commits
    start = git("rev-parse", "HEAD", cwd=repo)
    outside = _checksums(repo.parent / "elsewhere")

    done = run_cli("run", str(_plan(plan_file, action=action)), cwd=repo)

    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Traceback" not in out
    assert "changed git's setup" in out
    _assert_back_at_start(repo, start)
    assert _checksums(repo.parent / "elsewhere") == outside  # notes.txt kept, nothing written
    assert not (repo / "after.py").exists()  # the run stopped at the failed step
    if "side" in action:
        assert git("rev-parse", "side", cwd=repo) == start  # the step's branch: left, named
        assert "branch side is left as it is" in out


@pytest.mark.parametrize(
    ("where", "on_failure"),
    [
        ("gate", ""),
        ("gate", "on-failure: continue"),
        ("phase_gate", ""),
        ("action", "on-failure: stop"),
    ],
)
def test_a_gate_or_a_step_whose_failure_is_kept_cannot_move_gits_setup(
    two_commits: Path, plan_file: Path, where: str, on_failure: str
) -> None:
    repo = two_commits
    start = git("rev-parse", "HEAD", cwd=repo)
    switch = "git switch -q -c side"
    if where == "action":
        plan = _plan(plan_file, action=f"{switch} && false", on_failure=on_failure)
    else:
        gate = json.dumps({"run": switch})
        plan = _plan(plan_file, on_failure=on_failure, **{where: gate})

    done = run_cli("run", str(plan), cwd=repo)

    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "changed git's setup" in out
    _assert_back_at_start(repo, start)
    side = git("rev-parse", "side", cwd=repo)  # left as it is, at the phase's end for a phase gate
    assert side == start or where == "phase_gate"


def test_an_on_rollback_hook_that_moves_head_fails_verification(
    two_commits: Path, plan_file: Path
) -> None:
    repo = two_commits
    start = git("rev-parse", "HEAD", cwd=repo)
    plan = _plan(plan_file, gate='{run: "false"}', hook="git switch -q -c side")

    done = run_cli("run", str(plan), cwd=repo)

    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "Traceback" not in out
    assert "on-rollback hook or verify gate changed git's setup" in out
    _assert_back_at_start(repo, start)


@pytest.mark.parametrize(
    "action",
    [
        "rm -rf .git/runner",
        "rm .git/runner/journal.jsonl",
        "echo '{}' > .git/runner/journal.jsonl",
        "rm -rf .git/runner/logs",
        "chmod 500 .git/runner",
    ],
    ids=["folder", "journal", "journal-replaced", "logs", "unwritable"],
)
def test_a_step_that_damages_the_state_folder_is_rolled_back_and_the_journal_kept(
    two_commits: Path, plan_file: Path, action: str
) -> None:
    repo = two_commits
    start = git("rev-parse", "HEAD", cwd=repo)

    done = run_cli(
        "run", str(_plan(plan_file, action=f"echo changed > app.py && {action}")), cwd=repo
    )

    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Traceback" not in out
    assert "changed runner's state folder" in out
    _assert_back_at_start(repo, start)
    state = repo / ".git" / "runner"
    assert state.stat().st_mode & 0o700 == 0o700
    (journal,) = (state / "runs").glob("*.jsonl")
    events = [json.loads(line)["event"] for line in journal.read_text().splitlines()]
    assert events[:3] == ["run-started", "step-started", "action-done"]  # rewritten in full
    assert events[-3:] == ["rollback-finished", "step-finished", "run-finished"]
    assert any(state.joinpath("rollbacks").glob("*.patch"))  # the step's change, saved
    again = run_cli("run", str(_plan(plan_file)), cwd=repo)  # and the next run is not blocked
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_kill_after_the_state_folder_was_recreated_is_recovered(
    two_commits: Path, plan_file: Path
) -> None:
    repo = two_commits
    start = git("rev-parse", "HEAD", cwd=repo)
    plan = _plan(plan_file, action="echo changed > app.py && rm -rf .git/runner")

    killed = run_cli("run", str(plan), cwd=repo, env={"RUNNER_FAULT": "kill:action-done"})
    assert killed.returncode == -9
    again = run_cli("run", str(_plan(plan_file)), cwd=repo)

    assert again.returncode == 0, again.stdout + again.stderr
    assert "recovering" in again.stdout
    assert git("rev-parse", "HEAD~2", cwd=repo) == start
    assert git("status", "--porcelain", cwd=repo) == ""


def test_a_state_folder_replaced_by_a_file_stops_the_run_with_a_message(
    two_commits: Path, plan_file: Path
) -> None:
    repo = two_commits
    action = "echo changed > app.py && rm -rf .git/runner && touch .git/runner"

    done = run_cli("run", str(_plan(plan_file, action=action)), cwd=repo)

    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "a writable folder again" in done.stderr
    assert (repo / "app.py").read_text() == "changed\n"  # kept for the next run to take back


def test_a_step_interrupted_after_it_switched_branch_is_rolled_back_on_the_runs_branch(
    two_commits: Path, plan_file: Path
) -> None:
    repo = two_commits
    start = git("rev-parse", "HEAD", cwd=repo)
    action = "git switch -q -c side && echo changed > app.py && touch ../switched && sleep 30"
    proc = start_cli("run", str(_plan(plan_file, action=action)), cwd=repo)
    wait_for(repo.parent / "switched")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, out + err
    assert "changed git's setup" in out + err
    _assert_back_at_start(repo, start)


def test_a_step_that_commits_is_taken_back_whole_in_revert_mode(
    two_commits: Path, plan_file: Path
) -> None:
    """What a step committed while it ran was never a checkpoint: in revert mode it is
    reset away (kept under refs/runner/rollbacks/), not reverted on top of the branch."""
    repo = two_commits
    start = git("rev-parse", "HEAD", cwd=repo)
    plan = _plan(plan_file, action="echo changed > app.py && git commit -qam 'by the step'")
    plan.write_text(
        plan.read_text().replace("phases:", "settings:\n  rollback-mode: revert\nphases:")
    )

    done = run_cli("run", str(plan), cwd=repo)

    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    _assert_back_at_start(repo, start)
    kept = git("for-each-ref", "--format=%(objectname)", "refs/runner/rollbacks/", cwd=repo)
    assert any(
        git("log", "-1", "--format=%s", sha, cwd=repo) == "by the step" for sha in kept.split()
    )
