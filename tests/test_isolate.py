"""Rehearsals in a private repository: they predict the real run and leave nothing behind.

Each test is a way a rehearsal in a shared ``git worktree`` went wrong; each fingerprints
the user's repository before and after (refs and tags, config, worktree list, index, stash,
the work tree with ignored files, ``.git/runner`` apart from ``rehearsals/<id>/``) and
points ``TMPDIR`` at a folder of its own, which must be empty afterwards.
"""

from __future__ import annotations

import os
import re
import signal
import textwrap
from pathlib import Path

import pytest

from runner.isolate import private_workspace
from tests.conftest import git, make_repo, run_cli, start_cli, wait_for
from tests.test_rehearsal import fingerprint


@pytest.fixture
def tmpdir_(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder of every process the test starts (it must end empty)."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


def plan_text(steps: str, settings: str = "") -> str:
    head = "version: 1\nname: iso\n"
    if settings:
        head += "settings:\n" + textwrap.indent(textwrap.dedent(settings), "  ")
    body = textwrap.indent(textwrap.dedent(steps), "      ")
    return head + "phases:\n  - id: p\n    steps:\n" + body


def rehearsal_records(repo: Path) -> list[Path]:
    folder = repo / ".git/runner/rehearsals"
    return sorted(folder.iterdir()) if folder.exists() else []


# --- 1. refs, tags, config and stash stay the user's ----------------------------------


def test_tags_branches_config_and_stash_made_in_a_rehearsal_stay_in_it(
    tmp_path: Path, plan_file: Path, tmpdir_: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n", ".gitignore": "*.log\n"})
    plan_file.write_text(
        plan_text("""\
        - id: tag
          run: >-
            git tag pre-migration && git branch side
            && echo y > app.py && git stash -q && echo one > one.txt
          gate: [{run: "true"}]
        """)
    )
    before = fingerprint(repo)

    done = run_cli("run", str(plan_file), "--dry-run", cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert fingerprint(repo) == before
    assert list(tmpdir_.iterdir()) == []
    real = run_cli("run", str(plan_file), cwd=repo)
    assert real.returncode == 0, real.stdout + real.stderr  # no "tag already exists"


# --- 2. never prune a worktree runner did not create ----------------------------------


def test_a_user_worktree_on_an_unmounted_disk_stays_registered(
    tmp_path: Path, plan_file: Path, tmpdir_: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    git("worktree", "add", "-q", "-b", "side", str(tmp_path / "disk/wt"), cwd=repo)
    (tmp_path / "disk").rename(tmp_path / "unmounted")  # the disk is gone for now
    plan_file.write_text(plan_text('- id: s\n  run: "echo a > a.txt"\n'))
    before = fingerprint(repo)

    done = run_cli("run", str(plan_file), "--dry-run", cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert fingerprint(repo) == before
    assert str(tmp_path / "disk/wt") in git("worktree", "list", "--porcelain", cwd=repo)


# --- 3. nothing left behind on any way out ---------------------------------------------


@pytest.mark.parametrize(
    ("setup", "code"),
    [("failing post-checkout hook", 0), ("failing gate", 1), ("refused: detached HEAD", 2)],
)
def test_nothing_is_left_behind(
    tmp_path: Path, plan_file: Path, tmpdir_: Path, setup: str, code: int
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    gate = '{run: "false"}' if setup == "failing gate" else '{run: "true"}'
    plan_file.write_text(plan_text(f'- id: s\n  run: "echo a > a.txt"\n  gate: [{gate}]\n'))
    if setup.startswith("failing post"):
        hook = repo / ".git/hooks/post-checkout"
        hook.write_text("#!/bin/sh\necho 'git-lfs: command not found' >&2\nexit 1\n")
        hook.chmod(0o755)
    if setup.startswith("refused"):
        git("checkout", "-q", "--detach", cwd=repo)
    before = fingerprint(repo)

    done = run_cli("run", str(plan_file), "--dry-run", cwd=repo)

    assert done.returncode == code, done.stdout + done.stderr
    assert fingerprint(repo) == before
    assert list(tmpdir_.iterdir()) == []
    assert git("worktree", "list", "--porcelain", cwd=repo).count("worktree ") == 1


def test_ctrl_c_leaves_nothing_behind(tmp_path: Path, plan_file: Path, tmpdir_: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    started = tmp_path / "started"
    plan_file.write_text(
        plan_text(
            f'- id: s\n  run: "echo a > a.txt"\n  gate: [{{run: "touch {started} && sleep 60"}}]\n'
        )
    )
    before = fingerprint(repo)
    proc = start_cli("run", str(plan_file), "--dry-run", cwd=repo)
    wait_for(started)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)

    assert proc.returncode == 130
    assert fingerprint(repo) == before
    assert list(tmpdir_.iterdir()) == []


def test_an_exception_inside_the_rehearsal_removes_its_folder(
    tmp_path: Path, tmpdir_: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    seen: list[Path] = []
    with pytest.raises(RuntimeError), private_workspace(repo, None) as (ws, rehearsal):
        seen.append(rehearsal.folder)
        assert (ws.repo.root / "app.py").read_text() == "x = 1\n"
        raise RuntimeError
    assert not seen[0].exists()


# --- 4. the starting point is the real run's -------------------------------------------


def test_a_rehearsal_starts_on_the_plan_branch_with_done_steps_skipped(
    tmp_path: Path, plan_file: Path, tmpdir_: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    plan_file.write_text(
        plan_text(
            """\
            - id: one
              run: "echo one > one.txt"
            - id: two
              run: "echo two > two.txt"
              gate: [{run: "test -f fix.txt"}]
            """,
            settings="branch: migration\n",
        )
    )
    assert run_cli("run", str(plan_file), "--only", "p/one", cwd=repo).returncode == 0
    (repo / "fix.txt").write_text("the fix step two needs\n")
    git("add", "fix.txt", cwd=repo)
    git("commit", "-qm", "fix", cwd=repo)
    git("switch", "-q", "main", cwd=repo)
    before = fingerprint(repo)

    done = run_cli("run", str(plan_file), "--dry-run", cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "p/one  already done" in done.stdout
    assert "skipping 1 done step(s)" in done.stdout
    assert fingerprint(repo) == before
    assert run_cli("run", str(plan_file), cwd=repo).returncode == 0


def test_a_rehearsal_recovers_an_interrupted_run_in_its_copy(
    tmp_path: Path, plan_file: Path, tmpdir_: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    plan_file.write_text(plan_text('- id: s\n  run: "echo a > a.txt"\n'))
    killed = run_cli("run", str(plan_file), cwd=repo, env={"RUNNER_FAULT": "kill:action-done"})
    assert killed.returncode == -signal.SIGKILL
    git("stash", "-q", "--include-untracked", cwd=repo)  # a rehearsal reads HEAD only
    before = fingerprint(repo)

    done = run_cli("run", str(plan_file), "--dry-run", cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "recovering: " in done.stdout
    assert fingerprint(repo) == before  # the user's journal is still there, unread


# --- 5. the gates see what the real run's gates see -----------------------------------


def test_gates_see_the_venv_env_file_and_submodules_and_cannot_change_them(
    tmp_path: Path, plan_file: Path, tmpdir_: Path
) -> None:
    lib = make_repo(tmp_path / "lib", {"lib.txt": "library\n"})
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n", ".gitignore": ".venv/\n.env\n"})
    git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "vendor/lib",
        cwd=repo)  # fmt: skip
    git("commit", "-qm", "submodule", cwd=repo)
    venv = repo / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.0\n")
    tool = venv / "bin/tool"
    tool.write_text(f"#!/bin/sh\n# venv at {venv}\necho tool ran\n")
    tool.chmod(0o755)
    mark = venv / "bin/mark"  # found on PATH, as in an activated venv: marks its own folder
    mark.write_text('#!/bin/sh\ntouch "$(dirname "$0")/ran"\n')
    mark.chmod(0o755)
    (repo / ".env").write_text("SECRET=1\n")
    plan_file.write_text(
        plan_text("""\
        - id: s
          run: "echo a > a.txt"
          gate:
            - {run: ".venv/bin/tool"}
            - {run: "grep -q SECRET .env && echo changed >> .env"}
            - {run: "test -f vendor/lib/lib.txt"}
            - {run: "grep -q \\"$RUNNER_REPO/.venv\\" .venv/bin/tool && touch .venv/written"}
            - {run: "mark && test -f .venv/bin/ran"}
        """)
    )
    before = fingerprint(repo)
    activated = {"PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}

    done = run_cli("run", str(plan_file), "--dry-run", cwd=repo, env=activated)

    assert done.returncode == 0, done.stdout + done.stderr
    assert fingerprint(repo) == before  # .venv and .env are ignored files: in the print
    assert not (venv / "written").exists()
    assert str(venv) in tool.read_text()


# --- 6. every path a rehearsal prints exists afterwards --------------------------------


def test_a_failed_rehearsal_prints_paths_that_exist_and_status_names_it(
    tmp_path: Path, plan_file: Path, tmpdir_: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    plan_file.write_text(
        plan_text('- id: s\n  run: "echo y >> app.py"\n  gate: [{run: "echo boom; false"}]\n')
    )
    before = fingerprint(repo)

    done = run_cli("run", str(plan_file), "--dry-run", cwd=repo)

    assert done.returncode == 1
    assert fingerprint(repo) == before
    printed = [
        Path(p) for p in re.findall(r"(?:full output|records|git apply):? (/\S+)", done.stdout)
    ]
    assert len(printed) >= 3, done.stdout
    assert all(p.exists() for p in printed), printed
    (records,) = rehearsal_records(repo)
    assert all(p.is_relative_to(records) for p in printed)
    status = run_cli("status", str(plan_file), cwd=repo)
    assert f"last rehearsal: {records.name}, would stop at p/s, " in status.stdout
    assert " ago" in status.stdout


# --- 7. the last line says what the real run would do ---------------------------------


def test_the_last_line_says_what_the_real_run_would_do_and_that_nothing_moved(
    tmp_path: Path, plan_file: Path, tmpdir_: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    plan_file.write_text(plan_text('- id: s\n  run: "echo a > a.txt"\n', settings="branch: mig\n"))
    head = git("rev-parse", "HEAD", cwd=repo)

    done = run_cli("run", str(plan_file), "--dry-run", cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert "done: HEAD" not in done.stdout
    assert "the real run would complete (1 step(s) to run), on new branch mig" in last
    assert f"your repository did not move (main at {head[:10]})" in last
    for sha in re.findall(r"\b[0-9a-f]{10}\b", last):  # only commits the user has
        git("cat-file", "-e", f"{sha}^{{commit}}", cwd=repo)


def test_a_shallow_clone_is_refused_by_the_rehearsal_as_by_the_real_run(
    tmp_path: Path, plan_file: Path, tmpdir_: Path
) -> None:
    """The copy keeps the user's history cut where theirs is, so the rehearsal predicts the
    real run's refusal (and leaves nothing behind) rather than passing where it would not."""
    origin = make_repo(tmp_path / "origin", {"app.py": "x = 1\n"})
    (origin / "app.py").write_text("x = 2\n")
    git("commit", "-qam", "second", cwd=origin)
    repo = tmp_path / "repo"
    git("clone", "-q", "--depth", "1", f"file://{origin}", str(repo), cwd=tmp_path)
    plan_file.write_text(plan_text('- id: s\n  run: "echo a > a.txt"\n'))
    before = fingerprint(repo)

    rehearsal = run_cli("run", str(plan_file), "--dry-run", cwd=repo)
    after_rehearsal = fingerprint(repo)
    real = run_cli("run", str(plan_file), cwd=repo)

    assert (rehearsal.returncode, real.returncode) == (2, 2), rehearsal.stdout + rehearsal.stderr
    assert f"{repo} is a shallow clone" in rehearsal.stderr  # names the user's repository
    assert "shallow clone" in real.stderr
    assert after_rehearsal == before
    assert not list(tmpdir_.iterdir())


def test_a_detached_head_is_refused_as_the_real_run_refuses_it(
    tmp_path: Path, plan_file: Path, tmpdir_: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    plan_file.write_text(plan_text('- id: s\n  run: "echo a > a.txt"\n', settings="branch: mig\n"))
    git("checkout", "-q", "--detach", cwd=repo)

    rehearsal = run_cli("run", str(plan_file), "--dry-run", cwd=repo)
    real = run_cli("run", str(plan_file), cwd=repo)

    assert (rehearsal.returncode, real.returncode) == (2, 2)
    assert "HEAD is detached" in rehearsal.stderr
    assert "HEAD is detached" in real.stderr
