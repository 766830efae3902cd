"""A run's state and rollbacks act on the run's own branch and the plan's own commits only.

Recovery after a crash refuses to act from another branch (or another linked worktree, which
has a state folder of its own); ``runner rollback --all|--phase`` and the automatic
``rollback: phase|plan`` name commits that are not the plan's (a hand fix, a merge) and
refuse unless ``--include-other-commits``; revert mode reverts only the plan's own commits.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import git, make_repo, run_cli

PLAN = """\
version: 1
name: owned
settings:
  rollback: plan
  rollback-mode: {mode}
phases:
  - id: p
    steps:
      - id: one
        run: "echo one > shared.txt && echo one > one.txt"
        gate: [{{run: "true"}}]
      - id: two
        run: "echo two > two.txt"
        gate: [{{run: "{two}"}}]
"""


def setup(tmp_path: Path, *, mode: str = "reset", two: str = "true") -> tuple[Path, Path]:
    """A repository on branch ``migration`` (made from ``main``) and the plan beside it."""
    repo = make_repo(tmp_path / "repo", {"shared.txt": "base\n", "app.py": "print(1)\n"})
    git("switch", "-q", "-c", "migration", cwd=repo)
    plan = tmp_path / "phases.yaml"
    plan.write_text(PLAN.format(mode=mode, two=two))
    return repo, plan


def commit(repo: Path, name: str, text: str, message: str) -> str:
    (repo / name).write_text(text)
    git("add", name, cwd=repo)
    git("commit", "-qm", message, cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo)


def ancestors(repo: Path, ref: str = "HEAD") -> set[str]:
    return set(git("rev-list", ref, cwd=repo).split())


def run(*args: str, cwd: Path, fault: str | None = None) -> tuple[int, str]:
    done = run_cli(*args, cwd=cwd, env={"RUNNER_FAULT": fault} if fault else None)
    return done.returncode, done.stdout + done.stderr


# --- a run's state is bound to its branch and worktree --------------------------------


def test_recovery_refuses_on_another_branch_and_recovers_on_its_own(tmp_path: Path) -> None:
    repo, plan = setup(tmp_path, two="false")
    code, out = run("run", str(plan), cwd=repo, fault="kill:rollback-done")
    assert code == -9, out
    git("switch", "-q", "main", cwd=repo)
    mine = {commit(repo, "mine1.txt", "1\n", "mine 1"), commit(repo, "mine2.txt", "2\n", "mine 2")}
    head = git("rev-parse", "HEAD", cwd=repo)

    code, out = run("run", str(plan), cwd=repo)
    assert git("rev-parse", "HEAD", cwd=repo) == head  # main untouched
    assert mine <= ancestors(repo)
    assert (repo / "mine1.txt").exists()
    assert (repo / "mine2.txt").exists()
    assert code == 2, out
    assert "interrupted on branch migration" in out
    assert "git switch migration" in out
    assert (repo / ".git/runner/journal.jsonl").exists()  # still there to recover

    code, out = run("status", str(plan), cwd=repo)
    assert code == 0, out
    assert "on branch migration" in out
    assert "git switch migration" in out

    git("switch", "-q", "migration", cwd=repo)
    code, out = run("run", str(plan), cwd=repo)
    assert code == 1, out  # recovered, then the plan ran again and step two failed again
    assert "recovering" in out
    assert git("rev-parse", "main", cwd=repo) == head


def test_a_run_in_a_linked_worktree_has_state_of_its_own(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"shared.txt": "base\n"})
    linked = tmp_path / "linked"
    git("worktree", "add", "-q", "-b", "migration", str(linked), cwd=repo)
    plan = tmp_path / "phases.yaml"
    plan.write_text(PLAN.format(mode="reset", two="false"))
    code, out = run("run", str(plan), cwd=linked, fault="kill:rollback-done")
    assert code == -9, out
    mine = {commit(repo, "mine1.txt", "1\n", "mine 1"), commit(repo, "mine2.txt", "2\n", "mine 2")}

    code, out = run("run", str(plan), cwd=repo)
    assert mine <= ancestors(repo, "main")
    assert (repo / "mine1.txt").exists()
    assert (repo / "mine2.txt").exists()
    assert code == 1, out  # the plan runs on main here; step two fails and is rolled back
    assert "recovering" not in out
    assert (repo / ".git/worktrees/linked/runner/journal.jsonl").exists()  # its own state
    code, out = run("status", str(plan), cwd=repo)
    assert code == 0, out
    assert "interrupted" not in out  # the linked worktree's run is not this worktree's

    code, out = run("status", str(plan), cwd=linked)
    assert "interrupted" in out, out
    code, out = run("run", str(plan), cwd=linked)
    assert code == 1, out
    assert "recovering" in out
    assert mine <= ancestors(repo, "main")


def test_recovery_refuses_to_undo_commits_made_on_the_branch_after_the_crash(
    tmp_path: Path,
) -> None:
    repo, plan = setup(tmp_path, two="false")
    code, out = run("run", str(plan), cwd=repo, fault="kill:rollback-done")
    assert code == -9, out
    fix = commit(repo, "fix.txt", "fix\n", "a fix made after the crash")

    code, out = run("run", str(plan), cwd=repo)
    assert git("rev-parse", "HEAD", cwd=repo) == fix
    assert (repo / "fix.txt").read_text() == "fix\n"
    assert code == 2, out
    assert "a fix made after the crash" in out
    assert "git reset --keep" in out


def test_rollback_refuses_on_another_branch_than_the_plans(tmp_path: Path) -> None:
    repo, plan = setup(tmp_path)
    plan.write_text(plan.read_text().replace("  rollback: plan\n", "  branch: migration\n"))
    code, out = run("run", str(plan), cwd=repo)
    assert code == 0, out
    git("switch", "-q", "main", cwd=repo)
    head = git("rev-parse", "HEAD", cwd=repo)
    code, out = run("rollback", "--all", "--plan", str(plan), cwd=repo)
    assert code == 2, out
    assert "git switch migration" in out
    assert git("rev-parse", "HEAD", cwd=repo) == head


# --- rollbacks undo the plan's own commits only -----------------------------------------


def merge_main(repo: Path) -> str:
    """A colleague's commit on main, merged into the migration branch."""
    git("switch", "-q", "main", cwd=repo)
    theirs = commit(repo, "theirs.txt", "theirs\n", "a colleague's change")
    git("switch", "-q", "migration", cwd=repo)
    git("merge", "-q", "--no-ff", "-m", "Merge main into migration", "main", cwd=repo)
    return theirs


@pytest.mark.parametrize("other", ["hand fix", "merge"])
def test_reset_rollback_refuses_over_other_commits_then_goes_ahead_when_told(
    other: str, tmp_path: Path
) -> None:
    repo, plan = setup(tmp_path)
    base = git("rev-parse", "HEAD", cwd=repo)
    code, out = run("run", str(plan), cwd=repo)
    assert code == 0, out
    if other == "merge":
        merge_main(repo)
        named = "Merge main into migration (a merge)"
    else:
        commit(repo, "fix.txt", "fix\n", "a hand fix")
        named = "a hand fix"
    head = git("rev-parse", "HEAD", cwd=repo)

    for args in (("--all",), ("--phase", "p")):
        code, out = run("rollback", *args, "--plan", str(plan), cwd=repo)
        assert git("rev-parse", "HEAD", cwd=repo) == head
        assert git("status", "--porcelain", cwd=repo) == ""
        assert code == 2, out
        assert named in out
        assert f"runner rollback {' '.join(args)} --include-other-commits" in out
    assert not (repo / ".git/runner/journal.jsonl").exists()  # refused: nothing to recover

    code, out = run("rollback", "--all", "--include-other-commits", "--plan", str(plan), cwd=repo)
    assert code == 0, out
    assert git("rev-parse", "HEAD", cwd=repo) == base
    assert not (repo / "one.txt").exists()
    refs = git("for-each-ref", "--format=%(objectname)", "refs/runner/rollbacks/", cwd=repo)
    assert head in refs.split()  # the discarded commits stay reachable


def test_revert_rollback_reverts_only_the_plans_commits_never_a_merge(tmp_path: Path) -> None:
    repo, plan = setup(tmp_path, mode="revert")
    code, out = run("run", str(plan), cwd=repo)
    assert code == 0, out
    fix = commit(repo, "fix.txt", "fix\n", "a hand fix")
    merge_main(repo)
    head = git("rev-parse", "HEAD", cwd=repo)

    code, out = run("rollback", "--all", "--plan", str(plan), cwd=repo)
    assert git("rev-parse", "HEAD", cwd=repo) == head
    assert code == 2, out
    assert "a hand fix" in out
    assert "Merge main into migration (a merge)" in out

    code, out = run("rollback", "--all", "--include-other-commits", "--plan", str(plan), cwd=repo)
    assert code == 0, out
    made = git("log", "--format=%s", f"{head}..HEAD", cwd=repo).splitlines()
    assert made == ["owned: revert p/one", "owned: revert p/two"]
    assert (repo / "fix.txt").read_text() == "fix\n"
    assert (repo / "theirs.txt").read_text() == "theirs\n"
    assert not (repo / "one.txt").exists()
    assert not (repo / "two.txt").exists()
    assert fix in ancestors(repo)


def test_a_revert_conflict_stops_with_exit_3_and_a_clean_tree(tmp_path: Path) -> None:
    repo, plan = setup(tmp_path, mode="revert")
    code, out = run("run", str(plan), cwd=repo)
    assert code == 0, out
    commit(repo, "shared.txt", "fixed by hand\n", "a hand fix of shared.txt")
    head = git("rev-parse", "HEAD", cwd=repo)

    code, out = run("rollback", "--all", "--include-other-commits", "--plan", str(plan), cwd=repo)
    assert code == 3, out
    assert "conflicts" in out
    assert "the tree is clean" in out
    assert git("status", "--porcelain", cwd=repo) == ""
    assert not (repo / ".git/REVERT_HEAD").exists()
    assert (repo / "shared.txt").read_text() == "fixed by hand\n"
    made = git("log", "--format=%s", f"{head}..HEAD", cwd=repo).splitlines()
    assert made == ["owned: revert p/two"]  # step two reverted; step one conflicts: stopped
    code, out = run("status", str(plan), cwd=repo)
    assert "interrupted" not in out, out


@pytest.mark.parametrize("mode", ["reset", "revert"])
def test_an_automatic_plan_rollback_takes_back_the_step_but_not_a_users_commit(
    mode: str, tmp_path: Path
) -> None:
    repo, plan = setup(tmp_path, mode=mode, two="false")
    code, out = run("run", str(plan), "--only", "p/one", cwd=repo)
    assert code == 0, out
    fix = commit(repo, "fix.txt", "fix\n", "a fix between two runs")

    code, out = run("run", str(plan), cwd=repo)
    assert git("rev-parse", "HEAD", cwd=repo) == fix
    assert (repo / "fix.txt").read_text() == "fix\n"
    assert git("status", "--porcelain", cwd=repo) == ""
    assert not (repo / "two.txt").exists()
    assert (repo / "one.txt").exists()  # the plan's step one stays: the wider rollback refused
    assert code == 2, out
    assert "step p/two failed and its own changes were rolled back" in out
    assert "a fix between two runs" in out
    assert "runner rollback --all --include-other-commits" in out
    code, out = run("status", str(plan), cwd=repo)
    assert "interrupted" not in out, out
