"""A rollback restores only the paths the run changed, and never destroys a user's copy.

Each test builds a real repository holding what users keep beside their code (a local edit
hidden by ``assume-unchanged``, an ignored ``.env``, a ``venv/``), runs ``python -m runner``
as a user would, and compares checksums of the whole work tree, ignored files included:
after any rollback or recovery, no file outside the plan's own surviving changes differs,
unless the output said where its copy was saved.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests._tree import changed_outside, tree_checksums
from tests.conftest import git, make_repo, run_cli

LOCAL_EDIT = "DEBUG = True  # my local edit, never to be committed\n"
SECRETS = "API_KEY = 'hunter2'\n"


def user_repo(tmp_path: Path, flag: str = "--assume-unchanged") -> Path:
    """A repository as users have them: a hidden local edit, ignored files, a venv."""
    repo = make_repo(
        tmp_path / "repo",
        {
            "app.py": "VALUE = 1\n",
            "settings.py": "DEBUG = False\n",
            "settings_local.py": "LOCAL = 'tracked default'\n",
            ".gitignore": ".env\nvenv/\n",
        },
    )
    (repo / "settings.py").write_text(LOCAL_EDIT)
    git("update-index", flag, "settings.py", cwd=repo)
    (repo / ".env").write_text(SECRETS)
    (repo / "venv" / "bin").mkdir(parents=True)
    (repo / "venv" / "bin" / "python").write_text("#!/bin/sh\n")
    (repo / "venv" / "pyvenv.cfg").write_text("home = /usr\n")
    assert git("status", "--porcelain", cwd=repo) == ""
    return repo


def plan(path: Path, body: str, settings: str = "") -> Path:
    text = "version: 1\nname: own\nsettings:\n  timeout: 30s\n" + settings
    path.write_text(text + textwrap.dedent(body))
    return path


def owned_by_plan(repo: Path, start: str) -> set[str]:
    """The paths the plan's surviving commits changed (its own changes)."""
    return set(git("diff", "--name-only", start, "HEAD", cwd=repo).split())


def flag_of(repo: Path, path: str) -> str:
    return git("ls-files", "-v", "--", path, cwd=repo)[:1]


TWO_PHASES = """\
phases:
  - id: one
    steps:
      - id: a
        run: "echo 'VALUE = 2' > app.py && echo new > added.py"
        gate: [{run: "echo report > report.txt"}]
  - id: two
    steps:
      - id: b
        run: "echo 'VALUE = 3' > app.py && echo tmp > tmp.txt && rm settings_local.py"
        gate: [{run: "python -c 'raise SystemExit(1)'"}]
"""


@pytest.mark.parametrize("mode", ["reset", "revert"])
@pytest.mark.parametrize("scope", ["step", "phase", "plan"])
def test_an_automatic_rollback_changes_no_byte_outside_the_plans_changes(
    tmp_path: Path, scope: str, mode: str
) -> None:
    repo = user_repo(tmp_path)
    start = git("rev-parse", "HEAD", cwd=repo)
    before = tree_checksums(repo)
    settings = f"  rollback: {scope}\n  rollback-mode: {mode}\n"

    done = run_cli("run", str(plan(tmp_path / "phases.yaml", TWO_PHASES, settings)), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    after = tree_checksums(repo)
    assert changed_outside(before, after, owned_by_plan(repo, start)) == []
    assert (repo / "settings.py").read_text() == LOCAL_EDIT
    assert "settings.py" in done.stdout  # the preflight names the flagged entry
    assert flag_of(repo, "settings.py") == "h"
    assert git("status", "--porcelain", cwd=repo) == ""


@pytest.mark.parametrize("flag", ["--assume-unchanged", "--skip-worktree"])
def test_a_flagged_local_edit_survives_a_rollback_of_a_step_that_never_touched_it(
    tmp_path: Path, flag: str
) -> None:
    repo = user_repo(tmp_path, flag)
    before = tree_checksums(repo)
    body = """\
    phases:
      - id: p
        steps:
          - id: s
            run: "echo 'VALUE = 2' > app.py"
            gate: [{run: "python -c 'raise SystemExit(1)'"}]
    """

    done = run_cli("run", str(plan(tmp_path / "phases.yaml", body)), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert changed_outside(before, tree_checksums(repo)) == []
    assert "assume-unchanged or skip-worktree (settings.py)" in done.stdout
    assert flag_of(repo, "settings.py") == ("h" if flag == "--assume-unchanged" else "S")


def test_a_step_that_changes_a_flagged_file_fails_and_gives_it_back(tmp_path: Path) -> None:
    repo = user_repo(tmp_path)
    before = tree_checksums(repo)
    body = """\
    phases:
      - id: p
        steps:
          - id: s
            run: "echo 'DEBUG = None' > settings.py && echo 'VALUE = 2' > app.py"
            gate: [{run: "true"}]
    """

    done = run_cli("run", str(plan(tmp_path / "phases.yaml", body)), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert changed_outside(before, tree_checksums(repo)) == []
    assert "the step changed 1 file(s) the index marks" in done.stdout
    assert git("rev-list", "--count", "HEAD", cwd=repo) == "1"


UNTRACK = """\
phases:
  - id: one
    steps:
      - id: untrack
        run: "git rm -q --cached settings_local.py && echo settings_local.py >> .gitignore"
        gate: [{run: "true"}]
"""


@pytest.mark.parametrize(
    ("args", "mode"), [(("--all",), "reset"), (("--all",), "revert"), (("--phase", "one"), "reset")]
)
def test_rollback_saves_a_now_ignored_file_the_user_filled_before_restoring_it(
    tmp_path: Path, args: tuple[str, ...], mode: str
) -> None:
    repo = user_repo(tmp_path)
    plan_file = plan(tmp_path / "phases.yaml", UNTRACK, f"  rollback-mode: {mode}\n")
    assert run_cli("run", str(plan_file), cwd=repo).returncode == 0
    (repo / "settings_local.py").write_text(SECRETS)  # ignored now: the user's own file
    before = tree_checksums(repo)

    done = run_cli("rollback", *args, "--plan", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    copies = list((repo / ".git/runner/rollbacks").glob("*-files"))
    assert len(copies) == 1
    assert (copies[0] / "settings_local.py").read_text() == SECRETS
    assert "settings_local.py" in done.stdout
    assert copies[0].name in done.stdout.replace("\n", "")  # says where the copy is
    assert (repo / "settings_local.py").read_text() == "LOCAL = 'tracked default'\n"
    owned = {"settings_local.py", ".gitignore"}  # restored as they were; the copy is saved
    assert changed_outside(before, tree_checksums(repo), owned) == []


UNIGNORE = "echo '# rules dropped' > .gitignore && echo 'VALUE = 2' > app.py"
FORCE_ADD = "git add -f .env venv && echo 'VALUE = 2' > app.py"


@pytest.mark.parametrize(
    ("action", "gate"),
    [(UNIGNORE, "true"), (UNIGNORE, "python -c 'raise SystemExit(1)'"), (FORCE_ADD, "true")],
)
def test_a_step_that_unignores_env_and_venv_never_commits_nor_deletes_them(
    tmp_path: Path, action: str, gate: str
) -> None:
    repo = user_repo(tmp_path)
    before = tree_checksums(repo)
    body = f"""\
    phases:
      - id: p
        steps:
          - id: s
            run: "{action}"
            gate: [{{run: "{gate}"}}]
    """

    done = run_cli("run", str(plan(tmp_path / "phases.yaml", body)), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert changed_outside(before, tree_checksums(repo)) == []
    assert git("log", "--all", "--name-only", "--format=", cwd=repo).split() == [
        ".gitignore", "app.py", "settings.py", "settings_local.py",
    ]  # fmt: skip
    out = " ".join(done.stdout.split())
    assert "the step staged 3 file(s) ignored when the run started" in out
    assert ".env" in out
    assert "venv/bin/python" in out
    assert git("status", "--porcelain", cwd=repo) == ""


@pytest.mark.parametrize("fault", ["kill:action-done", "kill:rollback-started"])
def test_recovery_after_a_kill_changes_no_byte_of_the_users_files(
    tmp_path: Path, fault: str
) -> None:
    repo = user_repo(tmp_path)
    before = tree_checksums(repo)
    body = """\
    phases:
      - id: p
        steps:
          - id: s
            run: "echo '# rules dropped' > .gitignore && echo 'VALUE = 2' > app.py && echo n > n.py"
            gate: [{run: "python -c 'raise SystemExit(1)'"}]
    """
    plan_file = plan(tmp_path / "phases.yaml", body)

    killed = run_cli("run", str(plan_file), cwd=repo, env={"RUNNER_FAULT": fault})
    assert killed.returncode == -9, killed.stdout + killed.stderr
    again = run_cli("run", str(plan_file), cwd=repo)

    assert "recovering" in again.stdout, again.stdout + again.stderr
    assert changed_outside(before, tree_checksums(repo)) == []
    assert git("status", "--porcelain", cwd=repo) == ""
