"""How a rollback restores paths: exactly, keeping what the user made, whatever the names.

Real repositories, ``python -m runner`` in a subprocess: a step swaps a folder for a file or
a symlink (and back), the user fills a path the plan un-tracked with a folder, a command
deletes the state folder, names are not UTF-8. After each rollback or recovery the tree is
compared byte for byte, ignored files included.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from tests._tree import tree_checksums
from tests.conftest import git, make_repo, run_cli

LATIN1 = os.fsdecode(b"caf\xe9.txt")  # a name that is not UTF-8: what a latin-1 system makes


def plan(path: Path, body: str, settings: str = "") -> Path:
    text = "version: 1\nname: own\nsettings:\n  timeout: 30s\n" + settings
    path.write_text(text + textwrap.dedent(body))
    return path


def failing_step(tmp_path: Path, command: str) -> Path:
    body = f"""\
    phases:
      - id: p
        steps:
          - id: s
            run: {command!r}
            gate: [{{run: "false"}}]
    """
    return plan(tmp_path / "phases.yaml", body)


def one_step(tmp_path: Path, command: str, settings: str = "") -> Path:
    body = f"""\
    phases:
      - id: p
        steps:
          - id: s
            run: {command!r}
    """
    return plan(tmp_path / "phases.yaml", body, settings)


def ok(done: object) -> str:
    return f"{getattr(done, 'stdout', '')}{getattr(done, 'stderr', '')}"


SWAPS = {
    "folder-to-file": "rm -rf conf && echo now-a-file > conf",
    "folder-to-symlink": "rm -rf conf && ln -s b.txt conf",
    "file-to-folder": "rm b.txt && mkdir b.txt && echo x > b.txt/inner",
    "symlink-to-folder": "rm link && mkdir link && echo x > link/inner",
}


@pytest.mark.parametrize("swap", SWAPS)
def test_a_folder_file_or_symlink_swap_comes_back_exactly(tmp_path: Path, swap: str) -> None:
    repo = make_repo(tmp_path / "repo", {"conf/app.ini": "default\n", "b.txt": "b\n"})
    os.symlink("conf", repo / "link")
    git("add", "link", cwd=repo)
    git("commit", "-qm", "link", cwd=repo)
    before = tree_checksums(repo)

    done = run_cli("run", str(failing_step(tmp_path, SWAPS[swap])), cwd=repo)

    assert done.returncode == 1, ok(done)
    assert git("status", "--porcelain", cwd=repo) == ""
    assert tree_checksums(repo) == before
    assert (repo / "link").is_symlink()
    assert "had not committed" not in " ".join(done.stdout.split())  # all of it the run's


def test_restoring_an_untracked_path_keeps_the_users_folder_there(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"cfg": "default\n", "app.py": "x = 1\n"})
    plan_file = one_step(tmp_path, "git rm -q --cached cfg && echo cfg >> .gitignore")
    assert run_cli("run", str(plan_file), cwd=repo).returncode == 0
    (repo / "cfg").unlink()
    (repo / "cfg").mkdir()
    (repo / "cfg" / "key").write_text("MY_SECRET_KEY\n")

    done = run_cli("rollback", "--all", "--plan", str(plan_file), cwd=repo)

    assert done.returncode == 0, ok(done)
    assert (repo / "cfg").read_text() == "default\n"
    copies = list((repo / ".git" / "runner" / "rollbacks").glob("*-files/cfg/key"))
    assert [c.read_text() for c in copies] == ["MY_SECRET_KEY\n"]
    assert str(copies[0].parent.parent) in " ".join(done.stdout.split())


def test_restoring_an_untracked_path_keeps_the_users_file_where_its_folder_was(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "repo", {"cfg/key": "default\n", "app.py": "x = 1\n"})
    plan_file = one_step(tmp_path, "git rm -q --cached cfg/key && echo cfg >> .gitignore")
    assert run_cli("run", str(plan_file), cwd=repo).returncode == 0
    (repo / "cfg" / "key").unlink()
    (repo / "cfg").rmdir()
    (repo / "cfg").write_text("MY_OWN_FILE\n")

    done = run_cli("rollback", "--all", "--plan", str(plan_file), cwd=repo)

    assert done.returncode == 0, ok(done)
    assert (repo / "cfg" / "key").read_text() == "default\n"
    copies = list((repo / ".git" / "runner" / "rollbacks").glob("*-files/cfg"))
    assert [c.read_text() for c in copies] == ["MY_OWN_FILE\n"]


def test_rollback_of_a_file_keeps_what_the_user_filled_since_the_plan_untracked_it(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "repo", {"local.cfg": "default\n", "app.py": "x = 1\n"})
    plan_file = one_step(tmp_path, "git rm -q --cached local.cfg && echo local.cfg >> .gitignore")
    assert run_cli("run", str(plan_file), cwd=repo).returncode == 0
    (repo / "local.cfg").write_text("MY_LOCAL_SECRET\n")

    done = run_cli("rollback", "--plan", str(plan_file), "local.cfg", cwd=repo)

    assert done.returncode == 0, ok(done)
    assert (repo / "local.cfg").read_text() == "default\n"
    copies = list((repo / ".git" / "runner" / "rollbacks").glob("*-files/local.cfg"))
    assert [c.read_text() for c in copies] == ["MY_LOCAL_SECRET\n"]
    assert "local.cfg" in done.stdout
    assert "saved under" in " ".join(done.stdout.split())


def test_recovering_an_interrupted_rollback_all_keeps_files_ignored_at_its_start(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "repo", {"b.txt": "b\n"})
    plan_file = one_step(tmp_path, "echo notes/ >> .gitignore")
    assert run_cli("run", str(plan_file), cwd=repo).returncode == 0
    (repo / "notes").mkdir()
    (repo / "notes" / "todo.txt").write_text("MY PRIVATE NOTES\n")

    killed = run_cli(
        "rollback", "--all", "--plan", str(plan_file), cwd=repo,
        env={"RUNNER_FAULT": "kill:rollback-done"},
    )  # fmt: skip
    assert killed.returncode == -9, ok(killed)
    again = run_cli("run", str(plan_file), cwd=repo)

    assert "recovering" in again.stdout, ok(again)
    assert (repo / "notes" / "todo.txt").read_text() == "MY PRIVATE NOTES\n"


@pytest.mark.parametrize("snapshot", ["repaired", "deleted-after-the-kill"])
def test_recovery_after_the_state_folder_was_deleted_keeps_the_users_ignored_file(
    tmp_path: Path, snapshot: str
) -> None:
    repo = make_repo(tmp_path / "repo", {".gitignore": ".env\n"})
    (repo / ".env").write_text("SECRET=hunter2\n")
    once = tmp_path / "once"
    command = f"[ -e {once} ] || {{ touch {once}; rm -rf .git/runner; }}; sed -i /env/d .gitignore"
    plan_file = one_step(tmp_path, command)

    killed = run_cli("run", str(plan_file), cwd=repo, env={"RUNNER_FAULT": "kill:rollback-started"})
    assert killed.returncode == -9, ok(killed)
    if snapshot == "deleted-after-the-kill":
        (repo / ".git" / "runner" / "ignored-at-start").unlink()
    else:
        assert (repo / ".git" / "runner" / "ignored-at-start").is_file()
    again = run_cli("run", str(plan_file), cwd=repo)

    assert "recovering" in again.stdout, ok(again)
    assert (repo / ".env").read_text() == "SECRET=hunter2\n"
    assert git("show", "HEAD:.gitignore", cwd=repo) == ".env"


def test_names_that_are_not_utf8_roll_back_and_recover(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"b.txt": "b\n", ".gitignore": "*.log\n"})
    (repo / LATIN1).write_text("1\n")
    (repo / os.fsdecode(b"bad\xff.log")).write_text("ignored, the user's\n")
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "latin-1", cwd=repo)
    before = tree_checksums(repo)
    script = tmp_path / "step.sh"
    script.write_bytes(b"echo 2 >> caf\xe9.txt && echo n > n\xe9w.txt\n")
    failing = failing_step(tmp_path, f"sh {script}")

    rolled = run_cli("run", str(failing), cwd=repo)
    assert rolled.returncode == 1, ok(rolled)
    assert "Traceback" not in rolled.stderr
    assert tree_checksums(repo) == before

    killed = run_cli("run", str(failing), cwd=repo, env={"RUNNER_FAULT": "kill:rollback-started"})
    assert killed.returncode == -9, ok(killed)
    recovered = run_cli("run", str(one_step(tmp_path, f"sh {script}")), cwd=repo)
    assert recovered.returncode == 0, ok(recovered)
    assert "recovering" in recovered.stdout

    taken = run_cli("rollback", "--plan", str(tmp_path / "phases.yaml"), LATIN1, cwd=repo)
    assert taken.returncode == 0, ok(taken)
    assert (repo / LATIN1).read_text() == "1\n"
    assert git("status", "--porcelain", cwd=repo) == ""
    every = run_cli("rollback", "--all", "--plan", str(tmp_path / "phases.yaml"), cwd=repo)
    assert every.returncode == 0, ok(every)
    assert tree_checksums(repo) == before


def test_a_refused_start_leaves_the_branch_and_no_journal(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"b.txt": "b\n"})
    (repo / ".git" / "runner" / "ignored-at-start").mkdir(parents=True)  # cannot be written
    plan_file = one_step(tmp_path, "echo y > b.txt", settings="  branch: mig\n")

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 2, ok(done)
    assert "Traceback" not in done.stderr
    assert git("branch", "--show-current", cwd=repo) == "main"
    assert git("branch", "--list", "mig", cwd=repo) == ""
    assert not (repo / ".git" / "runner" / "journal.jsonl").exists()


def test_rollback_of_a_symlink_the_plan_made_inside_the_repository(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n", "b.txt": "b\n"})
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.txt").write_text("not the repository's\n")
    plan_file = one_step(tmp_path, f"rm a.txt && ln -s {outside / 'x.txt'} a.txt")
    assert run_cli("run", str(plan_file), cwd=repo).returncode == 0

    done = run_cli("rollback", "--plan", str(plan_file), "a.txt", cwd=repo)

    assert done.returncode == 0, ok(done)
    assert not (repo / "a.txt").is_symlink()
    assert (repo / "a.txt").read_text() == "a\n"
    assert (outside / "x.txt").read_text() == "not the repository's\n"
    os.symlink(outside, repo / "out")
    through = run_cli("rollback", "--plan", str(plan_file), "out/x.txt", cwd=repo)
    assert through.returncode == 2, ok(through)
    assert "through a symlink" in through.stderr + through.stdout


def test_an_automatic_plan_rollback_keeps_a_folder_at_a_path_the_plan_untracked(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "repo", {"cfg": "default\n", "app.py": "x = 1\n"})
    body = """\
    phases:
      - id: p
        steps:
          - id: untrack
            run: "git rm -q --cached cfg && echo cfg >> .gitignore"
          - id: fill
            run: "rm cfg && mkdir cfg && echo MY_SECRET_KEY > cfg/key"
            gate: [{run: "false"}]
    """
    plan_file = plan(tmp_path / "phases.yaml", body, settings="  rollback: plan\n")

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 1, ok(done)
    assert (repo / "cfg").read_text() == "default\n"
    assert git("status", "--porcelain", cwd=repo) == ""
    copies = list((repo / ".git" / "runner" / "rollbacks").glob("*-files/cfg/key"))
    assert [c.read_text() for c in copies] == ["MY_SECRET_KEY\n"]
    assert "saved under" in " ".join(done.stdout.split())
