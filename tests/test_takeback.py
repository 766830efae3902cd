"""``runner rollback``: single files back from a checkpoint, a phase, or the whole plan."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from tests.conftest import git, make_repo, run_cli

PLAN = """\
version: 1
name: files
gates:
  ok: {{run: "true"}}
phases:
  - id: first
    steps:
      - id: edit-a
        run: "echo a2 > a.py && echo b2 > b.py"
        gate: [ok]
      - id: edit-c
        run: "echo c2 > c.py && echo new > created.py"
        gate: [ok]
  - id: second
    steps:
      - id: edit-a-again
        run: "echo a3 > a.py"
        gate: [ok]
on-rollback:
  verify: [{verify}]
"""


@pytest.fixture
def migrated(tmp_path: Path, plan_file: Path) -> Path:
    repo = make_repo(
        tmp_path / "repo", {"a.py": "a1\n", "b.py": "b1\n", "c.py": "c1\n", "untouched.py": "u\n"}
    )
    plan_file.write_text(PLAN.format(verify="ok"))
    done = run_cli("run", str(plan_file), cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    return repo


def test_files_come_back_as_before_a_step_in_one_commit(migrated: Path, plan_file: Path) -> None:
    done = run_cli(
        "rollback", "a.py", "b.py", "--to", "first/edit-a", "--plan", str(plan_file), cwd=migrated
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert (migrated / "a.py").read_text() == "a1\n"
    assert (migrated / "b.py").read_text() == "b1\n"
    assert (migrated / "c.py").read_text() == "c2\n"  # not named: untouched
    assert git("status", "--porcelain", cwd=migrated) == ""
    message = git("log", "-1", "--format=%B", cwd=migrated)
    assert "files: roll back 2 file(s) to before first/edit-a" in message
    assert "Runner-Rollback-File: a.py\nRunner-Rollback-File: b.py" in message
    assert "Runner-Rollback-To: first/edit-a" in message
    state = json.loads(run_cli("status", str(plan_file), "--json", cwd=migrated).stdout)
    assert state["protected_files"] == ["a.py", "b.py"]


def test_a_file_the_plan_created_is_removed(migrated: Path, plan_file: Path) -> None:
    done = run_cli("rollback", "created.py", "--plan", str(plan_file), cwd=migrated)

    assert done.returncode == 0, done.stderr
    assert not (migrated / "created.py").exists()
    assert "created by the plan: removed" in git("log", "-1", "--format=%B", cwd=migrated)


def test_paths_are_relative_to_the_current_directory(migrated: Path, plan_file: Path) -> None:
    sub = migrated / "sub"
    sub.mkdir()
    done = run_cli(
        "rollback", "../c.py", "--repo", str(migrated), "--plan", str(plan_file), cwd=sub
    )
    assert done.returncode == 0, done.stderr
    assert (migrated / "c.py").read_text() == "c1\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["../outside.py"], "outside the repository"),
        (["/etc/passwd"], "absolute paths are refused"),
        (["link/secret.py"], "through a symlink"),
        (["untouched.py"], "no step of plan files changed it"),
        (["dirty.py"], "has uncommitted changes"),
        (["a.py", "--to", "first/nope"], "no such step"),
        (["a.py", "--to", "second/edit-a-again", "--all"], "exactly one of them"),
        ([], "exactly one of them"),
    ],
)
def test_refusals_exit_2_and_change_nothing(
    migrated: Path, plan_file: Path, tmp_path: Path, args: list[str], expected: str
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.py").write_text("s\n")
    os.symlink(outside, migrated / "link")
    if "dirty.py" in args:
        (migrated / "a.py").write_text("edited\n")
        args = ["a.py"]
    head = git("rev-parse", "HEAD", cwd=migrated)
    status = git("status", "--porcelain", cwd=migrated)

    done = run_cli("rollback", *args, "--plan", str(plan_file), cwd=migrated)

    assert done.returncode == 2, done.stdout + done.stderr
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert git("rev-parse", "HEAD", cwd=migrated) == head
    assert git("status", "--porcelain", cwd=migrated) == status


def test_a_failed_verify_gate_undoes_the_rollback_commit(migrated: Path, plan_file: Path) -> None:
    head = git("rev-parse", "HEAD", cwd=migrated)
    plan_file.write_text(PLAN.format(verify='{run: "test -f never"}'))

    done = run_cli("rollback", "a.py", "--plan", str(plan_file), cwd=migrated)

    assert done.returncode == 1
    assert "the rollback commit was undone" in done.stdout
    assert git("rev-parse", "HEAD", cwd=migrated) == head
    assert (migrated / "a.py").read_text() == "a3\n"


def test_phase_rollback_refuses_while_later_phases_are_done_then_all_works(
    migrated: Path, plan_file: Path
) -> None:
    base = git("rev-list", "--max-parents=0", "HEAD", cwd=migrated)

    refused = run_cli("rollback", "--phase", "first", "--plan", str(plan_file), cwd=migrated)
    assert refused.returncode == 2
    assert "take those back first" in refused.stderr

    second = run_cli("rollback", "--phase", "second", "--plan", str(plan_file), cwd=migrated)
    assert second.returncode == 0, second.stderr
    assert (migrated / "a.py").read_text() == "a2\n"

    everything = run_cli("rollback", "--all", "--plan", str(plan_file), cwd=migrated)
    assert everything.returncode == 0, everything.stderr
    assert git("rev-parse", "HEAD", cwd=migrated) == base
    state = json.loads(run_cli("status", str(plan_file), "--json", cwd=migrated).stdout)
    assert state["done"] == 0


def test_revert_mode_all_adds_revert_commits(tmp_path: Path, plan_file: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "a1\n", "b.py": "b1\n", "c.py": "c1\n"})
    plan_file.write_text(
        PLAN.format(verify="ok").replace(
            "version: 1\n", "version: 1\nsettings: {rollback-mode: revert}\n"
        )
    )
    assert run_cli("run", str(plan_file), cwd=repo).returncode == 0
    start_tree = git("rev-parse", "HEAD~3^{tree}", cwd=repo)

    done = run_cli("rollback", "--all", "--plan", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stderr
    assert git("rev-parse", "HEAD^{tree}", cwd=repo) == start_tree
    subjects = git("log", "--format=%s", "-3", cwd=repo).splitlines()
    # Reverted newest first, so the revert of the oldest step is on top.
    assert subjects == [
        "files: revert first/edit-a",
        "files: revert first/edit-c",
        "files: revert second/edit-a-again",
    ]


def test_status_explains_a_rollback_in_git_log(migrated: Path, plan_file: Path) -> None:
    run_cli("rollback", "b.py", "--to", "first/edit-a", "--plan", str(plan_file), cwd=migrated)
    log = git("log", "--format=%s", cwd=migrated).splitlines()
    assert log[0] == "files: roll back 1 file(s) to before first/edit-a"
    assert textwrap.dedent(log[1]) == "files: second/edit-a-again: edit-a-again"


def test_a_file_rollback_killed_before_its_commit_is_put_back_by_the_next_run(
    migrated: Path, plan_file: Path
) -> None:
    head = git("rev-parse", "HEAD", cwd=migrated)
    killed = run_cli(
        "rollback",
        "a.py",
        "created.py",
        "--plan",
        str(plan_file),
        cwd=migrated,
        env={"RUNNER_FAULT": "kill:rollback-files-started"},
    )
    assert killed.returncode == -9
    # What a kill a moment later leaves: one file already restored, one already removed.
    git("checkout", "HEAD~3", "--", "a.py", cwd=migrated)
    git("rm", "-q", "created.py", cwd=migrated)
    status = run_cli("status", str(plan_file), cwd=migrated)
    assert "while taking back 2 file(s) (a.py, created.py)" in status.stdout

    again = run_cli("run", str(plan_file), cwd=migrated)

    assert again.returncode == 0, again.stdout + again.stderr
    assert "2 file(s) back as they were at" in again.stdout
    assert git("rev-parse", "HEAD", cwd=migrated) == head
    assert git("status", "--porcelain", cwd=migrated) == ""
    assert (migrated / "a.py").read_text() == "a3\n"
    assert (migrated / "created.py").read_text() == "new\n"
    patch = next((migrated / ".git" / "runner" / "rollbacks").glob("*recovered-files.patch"))
    assert "a.py" in patch.read_text()
    assert "created.py" in patch.read_text()


@pytest.mark.parametrize(("verify", "kept"), [("ok", True), ('{run: "false"}', False)])
def test_a_file_rollback_killed_after_its_commit_is_verified_by_the_next_run(
    migrated: Path, plan_file: Path, verify: str, kept: bool
) -> None:
    head = git("rev-parse", "HEAD", cwd=migrated)
    killed = run_cli(
        "rollback",
        "a.py",
        "--plan",
        str(plan_file),
        cwd=migrated,
        env={"RUNNER_FAULT": "kill:rollback-files-committed"},
    )
    assert killed.returncode == -9
    commit = git("rev-parse", "HEAD", cwd=migrated)
    assert commit != head
    plan_file.write_text(PLAN.format(verify=verify))
    status = run_cli("status", str(plan_file), cwd=migrated)
    assert f"after its file rollback commit {commit[:12]}" in status.stdout

    again = run_cli("run", str(plan_file), cwd=migrated)

    assert git("status", "--porcelain", cwd=migrated) == ""
    if kept:
        assert again.returncode == 0, again.stdout + again.stderr
        assert "kept: its hooks and verify gates passed" in again.stdout
        assert git("rev-parse", "HEAD", cwd=migrated) == commit
        assert (migrated / "a.py").read_text() == "a1\n"
    else:
        assert "failed verification and is undone" in again.stdout
        assert git("rev-parse", "HEAD", cwd=migrated) == head
        assert (migrated / "a.py").read_text() == "a3\n"
