"""Index entries flagged assume-unchanged / skip-worktree are the user's, whatever a step does.

Each test builds a real repository with a flagged file (most with a hidden local edit), runs
``python -m runner`` as a user would, and checks that the user's bytes and flags are as they
were (or copied aside, with the output saying where), never staged, committed, or written
outside the repository.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import git, make_repo, run_cli

EDIT = "password=MY_REAL_PASSWORD\n"


def flagged_repo(tmp_path: Path, flag: str = "--assume-unchanged", name: str = "app.ini") -> Path:
    """A repository whose ``name`` is flagged and holds a hidden local edit."""
    repo = make_repo(tmp_path / "repo", {name: "password=changeme\n", "b.txt": "b\n"})
    git("update-index", flag, name, cwd=repo)
    (repo / name).write_text(EDIT)
    assert git("status", "--porcelain", cwd=repo) == ""
    return repo


def plan(tmp_path: Path, run: str, gate: str = "true", settings: str = "") -> Path:
    path = tmp_path / "phases.yaml"
    body = f"""\
    version: 1
    name: fl
    settings:
      timeout: 30s
    {settings}
    phases:
      - id: p
        steps:
          - id: s
            run: {run!r}
            gate: [{{run: {gate!r}}}]
    """
    path.write_text(textwrap.dedent(body))
    return path


def flag_of(repo: Path, path: str) -> str:
    return git("ls-files", "-v", "--", path, cwd=repo)[:1]


def everywhere(repo: Path, text: str) -> list[str]:
    """Every file of the work tree and the git dir holding ``text`` (objects aside)."""
    return sorted(
        str(p.relative_to(repo))
        for p in repo.rglob("*")
        if p.is_file() and not p.is_symlink() and text.encode() in p.read_bytes()
    )


def test_a_folder_swapped_for_a_symlink_never_gets_a_flagged_file_written_outside(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "app.ini").write_text("NOT IN THE REPO\n")
    repo = make_repo(tmp_path / "repo", {"conf/app.ini": "default\n"})
    git("update-index", "--assume-unchanged", "conf/app.ini", cwd=repo)

    done = run_cli("run", str(plan(tmp_path, f"rm -rf conf && ln -s {outside} conf")), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert (outside / "app.ini").read_text() == "NOT IN THE REPO\n"
    assert not (repo / "conf").is_symlink()
    assert (repo / "conf/app.ini").read_text() == "default\n"
    assert flag_of(repo, "conf/app.ini") == "h"
    assert git("status", "--porcelain", cwd=repo) == ""


def test_recovery_after_a_kill_gives_a_flagged_file_back_from_the_killed_runs_snapshot(
    tmp_path: Path,
) -> None:
    repo = flagged_repo(tmp_path)
    step = plan(tmp_path, "echo step > app.ini; echo y > b.txt")
    killed = run_cli("run", str(step), cwd=repo, env={"RUNNER_FAULT": "kill:action-done"})
    assert killed.returncode == -9, killed.stdout + killed.stderr
    quiet = plan(tmp_path, "echo y > b.txt")  # the next run, of any plan, recovers first

    again = run_cli("run", str(quiet), cwd=repo)

    assert "recovering" in again.stdout, again.stdout + again.stderr
    assert again.returncode == 0, again.stdout + again.stderr
    assert (repo / "app.ini").read_text() == EDIT
    assert flag_of(repo, "app.ini") == "h"
    assert EDIT not in git("log", "-p", cwd=repo)


def test_a_gate_that_overwrites_a_flagged_file_fails_the_step_and_gives_it_back(
    tmp_path: Path,
) -> None:
    repo = flagged_repo(tmp_path)

    done = run_cli("run", str(plan(tmp_path, "echo y > b.txt", "echo gate > app.ini")), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "a gate changed 1 file(s) the index marks" in " ".join(done.stdout.split())
    assert (repo / "app.ini").read_text() == EDIT
    assert git("rev-list", "--count", "HEAD", cwd=repo) == "1"


def test_a_step_that_deletes_the_state_folder_loses_no_flagged_edit(tmp_path: Path) -> None:
    repo = flagged_repo(tmp_path)
    step = plan(tmp_path, "rm -rf .git/runner; echo step > app.ini; echo y > b.txt")

    done = run_cli("run", str(step), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert (repo / "app.ini").read_text() == EDIT
    assert flag_of(repo, "app.ini") == "h"


@pytest.mark.parametrize(
    "run",
    [
        "git rm -rq --cached . && git add -A && echo y > b.txt",
        "git update-index --no-assume-unchanged app.ini && git add -A && echo y > b.txt",
    ],
)
def test_a_step_that_clears_a_flag_never_gets_the_hidden_content_committed(
    tmp_path: Path, run: str
) -> None:
    repo = flagged_repo(tmp_path)

    done = run_cli("run", str(plan(tmp_path, run)), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "app.ini" in done.stdout
    assert "MY_REAL_PASSWORD" not in git("log", "--all", "-p", cwd=repo)
    assert git("show", ":app.ini", cwd=repo) == "password=changeme"  # nor staged
    assert (repo / "app.ini").read_text() == EDIT
    assert flag_of(repo, "app.ini") == "h"


@pytest.mark.parametrize(
    ("flag", "who"),
    [("--assume-unchanged", "the step"), ("--skip-worktree", "the step"),
     ("--assume-unchanged", "a gate")],
)  # fmt: skip
def test_a_flag_a_step_sets_on_its_own_edit_is_taken_back_with_the_edit(
    tmp_path: Path, flag: str, who: str
) -> None:
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n", "b.txt": "b\n"})
    hide = f"git update-index {flag} b.txt && echo edit > b.txt"
    edit = "echo y >> a.txt"
    run, gate = (f"{hide} && {edit}", "true") if who == "the step" else (edit, hide)

    done = run_cli("run", str(plan(tmp_path, run, gate)), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    out = " ".join(done.stdout.split())
    assert f"{who} marked 1 file(s) assume-unchanged or skip-worktree (b.txt)" in out
    assert (repo / "b.txt").read_text() == "b\n"
    assert flag_of(repo, "b.txt") == "H"
    assert git("status", "--porcelain", cwd=repo) == ""


@pytest.mark.parametrize("mode", ["reset", "revert"])
@pytest.mark.parametrize("flag", ["--assume-unchanged", "--skip-worktree"])
def test_rollback_all_over_a_hidden_flagged_edit_copies_it_aside_and_keeps_the_flag(
    tmp_path: Path, mode: str, flag: str
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.ini": "default\n"})
    step = plan(tmp_path, "echo plan >> app.ini", settings=f"  rollback-mode: {mode}")
    assert run_cli("run", str(step), cwd=repo).returncode == 0
    git("update-index", flag, "app.ini", cwd=repo)
    (repo / "app.ini").write_text(EDIT)

    done = run_cli("rollback", "--all", "--plan", str(step), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert (repo / "app.ini").read_text() == "default\n"
    assert flag_of(repo, "app.ini") == ("h" if flag == "--assume-unchanged" else "S")
    copies = list((repo / ".git/runner/rollbacks").glob("*-files"))
    assert [(c / "app.ini").read_text() for c in copies] == [EDIT]
    assert copies[0].name in done.stdout.replace("\n", "")


@pytest.mark.parametrize("flag", ["--assume-unchanged", "--skip-worktree"])
def test_rollback_file_copies_a_hidden_flagged_edit_aside_and_keeps_the_flag(
    tmp_path: Path, flag: str
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.ini": "default\n"})
    step = plan(tmp_path, "echo plan >> app.ini")
    assert run_cli("run", str(step), cwd=repo).returncode == 0
    git("update-index", flag, "app.ini", cwd=repo)
    (repo / "app.ini").write_text(EDIT)

    done = run_cli("rollback", "--plan", str(step), "app.ini", cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert (repo / "app.ini").read_text() == "default\n"
    assert flag_of(repo, "app.ini") == ("h" if flag == "--assume-unchanged" else "S")
    assert git("show", "HEAD:app.ini", cwd=repo) == "default"
    copies = list((repo / ".git/runner/rollbacks").glob("*-files"))
    assert [(c / "app.ini").read_text() for c in copies] == [EDIT]
    assert copies[0].name in done.stdout.replace("\n", "")
