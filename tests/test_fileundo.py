"""A ``runner rollback FILE...`` whose verification fails is undone one way, command or recovery.

Both take the rollback path: what the on-rollback hooks and verify gates left in the tree is
saved as a patch before it is discarded, and the undone commit stays reachable under
``refs/runner/rollbacks/``. (A bare ``git reset --hard`` kept untracked leftovers in the tree
and dropped the hooks' changes to tracked files without a copy.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import git, make_repo, run_cli

PLAN = """\
version: 1
name: files
phases:
  - id: first
    steps:
      - id: edit
        run: "echo a2 > a.py"
        gate: [{{run: "true"}}]
on-rollback:
  run: [{hook}]
  verify: [{{run: "{verify}"}}]
"""

#: A hook that changes a tracked file and leaves a new one behind; then verification fails.
LEAVES = '"echo hooked >> c.py && echo junk > leftover.txt"'


@pytest.fixture
def migrated(tmp_path: Path, plan_file: Path) -> Path:
    repo = make_repo(tmp_path / "repo", {"a.py": "a1\n", "c.py": "c1\n"})
    plan_file.write_text(PLAN.format(hook='"true"', verify="true"))
    done = run_cli("run", str(plan_file), cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    return repo


def _assert_undone_and_saved(repo: Path, head: str, commit: str) -> None:
    assert git("rev-parse", "HEAD", cwd=repo) == head
    assert git("status", "--porcelain", cwd=repo) == ""  # leftovers gone from the tree...
    assert (repo / "a.py").read_text() == "a2\n"
    assert (repo / "c.py").read_text() == "c1\n"
    (patch,) = (repo / ".git/runner/rollbacks").glob("*files-undone.patch")
    text = patch.read_text()
    assert "+hooked" in text  # ...and saved
    assert "leftover.txt" in text
    refs = git("for-each-ref", "--format=%(objectname)", "refs/runner/rollbacks/", cwd=repo)
    assert commit in refs.split()  # the undone rollback commit stays reachable


def test_the_command_undoes_a_failed_file_rollback_saving_what_hooks_left(
    migrated: Path, plan_file: Path
) -> None:
    head = git("rev-parse", "HEAD", cwd=migrated)
    plan_file.write_text(PLAN.format(hook=LEAVES, verify="false"))

    done = run_cli("rollback", "a.py", "--plan", str(plan_file), cwd=migrated)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "discarded diff saved" in done.stdout
    commit = git("rev-parse", "HEAD@{1}", cwd=migrated)
    _assert_undone_and_saved(migrated, head, commit)


def test_recovery_undoes_a_failed_file_rollback_the_same_way(
    migrated: Path, plan_file: Path
) -> None:
    head = git("rev-parse", "HEAD", cwd=migrated)
    killed = run_cli(
        "rollback", "a.py", "--plan", str(plan_file), cwd=migrated,
        env={"RUNNER_FAULT": "kill:rollback-files-committed"},
    )  # fmt: skip
    assert killed.returncode == -9
    commit = git("rev-parse", "HEAD", cwd=migrated)
    plan_file.write_text(PLAN.format(hook=LEAVES, verify="false"))

    again = run_cli("run", str(plan_file), cwd=migrated)

    assert "failed verification and is undone" in again.stdout, again.stdout + again.stderr
    _assert_undone_and_saved(migrated, head, commit)
