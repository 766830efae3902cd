"""Git's setup held whole: the run's branch, HEAD, and the repository's setup files.

A plan command that deletes or moves the run's branch, checks out an orphan branch, or
changes the repository's config (``config``, ``config.worktree``, an included file),
``info/exclude`` or a hook fails its step; what moved is put back (the branch at the sha
runner knows, the files byte for byte) and named, and the step is rolled back.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import git, make_repo, run_cli

PLAN = """\
version: 1
name: held
phases:
  - id: one
    steps:
      - id: first
        run: "echo first > first.py"
      - id: attack
        {on_failure}
        run: {action}
        gate: [{gate}]
      - id: after
        run: "echo after > after.py"
"""


def _run(
    repo: Path, plan_file: Path, action: str, gate: str = "true", on_failure: str = ""
) -> subprocess.CompletedProcess[str]:
    plan_file.write_text(
        PLAN.format(
            action=json.dumps(action),
            gate=json.dumps({"run": gate}),
            on_failure=on_failure,
        )
    )
    return run_cli("run", str(plan_file), cwd=repo)


def _setup_files(repo: Path) -> dict[str, bytes]:
    gitdir = repo / ".git"
    names = ["config", "config.worktree", "info/exclude", "info/attributes", "extra.cfg"]
    found = {n: (gitdir / n).read_bytes() for n in names if (gitdir / n).is_file()}
    for hook in (gitdir / "hooks").iterdir():
        found[f"hooks/{hook.name}"] = (
            str(hook.readlink()).encode() if hook.is_symlink() else hook.read_bytes()
        )
    return found


def _assert_step_rolled_back(repo: Path, out: str, start: str) -> None:
    """HEAD on main, at the first step's checkpoint, the tree clean: the step taken back."""
    assert "Traceback" not in out
    assert "failed:" not in out  # never a raw git error
    assert "changed git's setup" in out
    assert git("symbolic-ref", "--short", "HEAD", cwd=repo) == "main"
    assert git("log", "-1", "--format=%s", "main", cwd=repo) == "held: one/first: first"
    assert git("rev-parse", "main^", cwd=repo) == start
    assert git("status", "--porcelain", cwd=repo) == ""
    assert not (repo / "after.py").exists()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo", {"app.py": "v1\n"})
    (repo / "app.py").write_text("v2\n")
    git("commit", "-qam", "second", cwd=repo)
    (tmp_path / "outside").mkdir()
    return repo


@pytest.mark.parametrize(
    ("action", "gate"),
    [
        ("echo changed > app.py && git update-ref -d refs/heads/main", "true"),
        ("echo changed > app.py && git checkout -q --orphan scratch", "true"),
        ("echo changed > app.py", "git checkout -q --orphan scratch"),
        ("echo changed > app.py && git update-ref refs/heads/main HEAD~1", "true"),
        ("echo changed > app.py && git reset -q --soft HEAD~2", "true"),
        ("echo changed > app.py && git switch -q -c side && git branch -f main HEAD~1", "true"),
        ("echo changed > app.py && git switch -q -c side && git branch -q -D main", "true"),
    ],
    ids=[
        "deleted",
        "orphan",
        "orphan-in-gate",
        "update-ref",
        "reset-back",
        "moved-from-side",
        "deleted-from-side",
    ],
)
def test_a_step_that_deletes_or_moves_the_runs_branch_is_rolled_back_on_it(
    repo: Path, plan_file: Path, action: str, gate: str
) -> None:
    start = git("rev-parse", "HEAD", cwd=repo)

    done = _run(repo, plan_file, action, gate)

    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    _assert_step_rolled_back(repo, out, start)
    assert (repo / "first.py").read_text() == "first\n"
    assert (repo / "app.py").read_text() == "v2\n"
    assert "branch main" in out  # named
    assert not git("branch", "--list", "scratch", cwd=repo)  # an orphan makes no branch
    if "-c side" in action:
        assert git("rev-parse", "side", cwd=repo) == git(
            "rev-parse", "main", cwd=repo
        )  # the user's now: left, named


@pytest.mark.parametrize(
    ("action", "gate", "named"),
    [
        (
            "git config extensions.worktreeConfig true && "
            "git config --worktree core.worktree {outside}",
            "true",
            "core.worktree",
        ),
        (
            "true",
            "git config extensions.worktreeConfig true && git config --worktree core.bare true",
            "core.bare",
        ),
        ("git config core.hooksPath {outside}", "true", "core.hookspath"),
        ("git config --file .git/extra.cfg core.worktree {outside}", "true", "core.worktree"),
        ("git config include.path {outside}/inc.cfg", "true", "include.path"),
        ("echo '*.py' >> .git/info/exclude", "true", "info/exclude"),
        ("printf '#!/bin/sh\\nexit 1\\n' > .git/hooks/pre-commit", "true", "hooks/pre-commit"),
        ("rm .git/hooks/pre-push.sample", "true", "hooks/pre-push.sample"),
        ("rm .git/info/exclude && mkdir .git/info/exclude", "true", ".exclude.runner-aside"),
        ("ln -sfn /bin/false .git/hooks/post-commit", "true", "hooks/post-commit"),
        ("ln -sfn /bin/false .git/hooks/pre-rebase", "true", "hooks/pre-rebase"),
    ],
    ids=[
        "worktree-config",
        "worktree-bare-in-gate",
        "hooksPath",
        "included-file",
        "include-path",
        "exclude",
        "hook-added",
        "hook-removed",
        "exclude-made-a-folder",
        "hook-symlink-added",
        "hook-symlink-retargeted",
    ],
)
def test_a_step_that_changes_the_repositorys_setup_files_gets_them_back_byte_for_byte(
    repo: Path, plan_file: Path, action: str, gate: str, named: str
) -> None:
    outside = repo.parent / "outside"
    (outside / "inc.cfg").write_text("[core]\n\tbare = true\n")
    git("config", "include.path", "extra.cfg", cwd=repo)  # the user's own include
    (repo / ".git" / "extra.cfg").write_text("[user]\n\tnote = kept\n")
    (repo / ".git" / "hooks" / "pre-rebase").symlink_to("/bin/true")  # a hook of the user's
    git("commit", "-qm", "with include", "--allow-empty", cwd=repo)
    start = git("rev-parse", "HEAD", cwd=repo)
    before = _setup_files(repo)

    action = f"echo changed > app.py && {action}".format(outside=outside)
    done = _run(repo, plan_file, action, gate.format(outside=outside))

    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    _assert_step_rolled_back(repo, out, start)
    assert _setup_files(repo) == before
    assert named in out
    assert "byte for byte" in out
    assert "NOT put back" not in out
    assert "core.worktree" not in git("config", "--list", cwd=repo)


def test_a_key_set_in_a_file_outside_the_repository_is_named_not_claimed(
    repo: Path, plan_file: Path
) -> None:
    shared = repo.parent / "outside" / "shared.cfg"
    shared.write_text("[user]\n\tnote = shared\n")
    git("config", "include.path", str(shared), cwd=repo)
    start = git("rev-parse", "HEAD", cwd=repo)

    action = f"echo changed > app.py && git config --file {shared} core.hooksPath /nowhere"
    done = _run(repo, plan_file, action)

    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    _assert_step_rolled_back(repo, out, start)
    assert "NOT put back: core.hookspath" in out
    assert f"git config --file {shared} --unset-all core.hookspath" in out
    assert "hookspath" in shared.read_text().lower()  # the user's file: named, not rewritten


NESTED = (
    "mkdir vendored && cd vendored && git init -q && echo v > v.txt && git add v.txt && "
    "git -c user.name=n -c user.email=n@n commit -qm v"
)


@pytest.mark.parametrize("then", ["true", "false"], ids=["action-passed", "action-failed"])
def test_a_step_committed_as_failed_never_commits_an_undeclared_gitlink(
    repo: Path, plan_file: Path, then: str
) -> None:
    action = f"echo changed > app.py && {NESTED} && {then}"
    done = _run(repo, plan_file, action, on_failure="on-failure: continue")

    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Traceback" not in out
    assert "would commit vendored as a nested repository" in out
    failed = git("log", "-1", "--format=%H", "--grep", "attack", "main", cwd=repo)
    assert failed, out  # committed as failed, as on-failure: continue asks
    assert "160000" not in git("ls-tree", "-r", failed, cwd=repo)
    assert git("show", f"{failed}:app.py", cwd=repo) == "changed"  # the rest is committed
    assert not (repo / "vendored").exists()
    assert any((repo / ".git" / "runner" / "rollbacks").glob("*-nested.tar"))
    assert git("status", "--porcelain", cwd=repo) == ""


def test_a_step_that_replaces_dot_git_by_a_gitfile_is_told_truthfully(
    repo: Path, plan_file: Path
) -> None:
    moved = repo.parent / "moved.git"
    action = f"echo changed > app.py && mv .git {moved} && echo 'gitdir: {moved}' > .git"

    done = _run(repo, plan_file, action)

    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "writable folder again" not in done.stderr  # impossible while .git is a file
    assert f"replaced by a file pointing at {moved}" in done.stderr
    assert f"`rm {repo / '.git'} && mv {moved} {repo / '.git'}`" in done.stderr
    (repo / ".git").unlink()  # what the message says to do
    moved.rename(repo / ".git")
    again = _run(repo, plan_file, "true")  # and the step is taken back
    assert "recovering" in again.stdout, again.stdout + again.stderr
    assert again.returncode == 0, again.stdout + again.stderr
    assert (repo / "app.py").read_text() == "v2\n"
    assert git("status", "--porcelain", cwd=repo) == ""


def test_a_rehearsal_of_a_step_that_sets_config_fails_as_the_run_would_and_leaks_nothing(
    repo: Path, plan_file: Path
) -> None:
    before = _setup_files(repo)

    done = _run(repo, plan_file, "echo changed > app.py && git config migration.marker yes")
    rehearsed = run_cli("run", str(plan_file), "--dry-run", cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert rehearsed.returncode == 1, rehearsed.stdout + rehearsed.stderr
    assert "migration.marker = 'yes' added" in rehearsed.stdout + rehearsed.stderr
    assert _setup_files(repo) == before
