"""Rehearsals in a private repository: they predict the real run and leave nothing behind.

Each test is a way a rehearsal in a shared ``git worktree`` went wrong; each fingerprints
the user's repository before and after (refs and tags, config, worktree list, index, stash,
the work tree with ignored files, ``.git/runner`` apart from ``rehearsals/<id>/``) and
points ``TMPDIR`` at a folder of its own, which must be empty afterwards.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import textwrap
from pathlib import Path

import pytest

from runner.isolate import private_workspace
from runner.process import kill_orphans
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
    dirty = run_cli("run", str(plan_file), "--dry-run", cwd=repo)
    assert "the real run first recovers" in dirty.stdout, dirty.stdout
    assert "refuses to start until" not in dirty.stdout
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


def test_symlinked_includes_and_links_into_the_tree_lead_to_copies(
    tmp_path: Path, plan_file: Path, tmpdir_: Path
) -> None:
    """``.env -> /shared/env`` and ``.venv -> /abs/venv`` are copied through the link; in the
    copied venv, an absolute link into the user's tree (``flit install --symlink``) and the
    venv's own absolute paths lead to the copy: the gates import and write the rehearsed code,
    and nothing of the user's (in the repository or beside it) changes."""
    repo = make_repo(
        tmp_path / "repo",
        {"src/mypkg/__init__.py": "X = 1\n", ".gitignore": "venv\n.venv\n.env\n__pycache__/\n"},
    )
    shared = tmp_path / "shared"
    (shared / "env").parent.mkdir()
    (shared / "env").write_text("SECRET=orig\n")
    (repo / ".env").symlink_to(shared / "env")
    venv = tmp_path / "venvs/app"
    site = venv / "lib/python3.11/site-packages"
    site.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "bin").mkdir()
    tool = venv / "bin/tool"
    tool.write_text(f'#!/bin/sh\ntouch "{venv}/bin/ran"\n')
    tool.chmod(0o755)
    (site / "mypkg").symlink_to(repo / "src/mypkg")
    (venv / "bin/sh").symlink_to("/bin/sh")  # outside both: stays a link
    (repo / ".venv").symlink_to(venv)
    os.mkfifo(repo / "venv")  # a pipe matching an include: skipped, not read forever
    imp = "import mypkg, pathlib; assert mypkg.X == 2, mypkg.__file__; "
    write = 'pathlib.Path(mypkg.__file__).with_name(\\"cache.txt\\").write_text(\\"x\\")'
    plan_file.write_text(
        plan_text(f"""\
        - id: s
          run: "echo 'X = 2' > src/mypkg/__init__.py"
          gate:
            - {{run: "echo SECRET=rehearsal > .env"}}
            - {{run: "PYTHONPATH=.venv/lib/python3.11/site-packages python3 -c '{imp}{write}'"}}
            - {{run: ".venv/bin/tool && test -f .venv/bin/ran && test -L .venv/bin/sh"}}
        """)
    )
    before = fingerprint(repo)
    beside = {p: p.read_bytes() for p in (shared / "env", tool)}

    done = run_cli("run", str(plan_file), "--dry-run", cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert fingerprint(repo) == before
    assert {p: p.read_bytes() for p in beside} == beside
    assert not (venv / "bin/ran").exists()
    assert sorted(p.name for p in (repo / "src/mypkg").iterdir()) == ["__init__.py"]
    assert list(tmpdir_.iterdir()) == []


def test_a_killed_rehearsals_processes_are_stopped_before_its_folder_is_swept(
    tmp_path: Path, plan_file: Path, tmpdir_: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    started = tmp_path / "started"
    loop = f'mkdir -p \\"$RUNNER_REPO/build\\"; touch {started}; sleep 0.1'
    plan_file.write_text(
        plan_text(
            f"""\
            - id: s
              run: "echo a > a.txt"
              gate: [{{run: "test -n \\"$SECOND\\" || while true; do {loop}; done"}}]
            """
        )
    )
    proc = start_cli("run", str(plan_file), "--dry-run", cwd=repo)
    try:
        wait_for(started)
        proc.kill()
        proc.communicate(timeout=60)
        assert orphans(proc.pid), "the gate should outlive the killed rehearsal"

        done = run_cli("run", str(plan_file), "--dry-run", cwd=repo, env={"SECOND": "1"})

        assert done.returncode == 0, done.stdout + done.stderr
        assert not orphans(proc.pid)
        assert list(tmpdir_.iterdir()) == []
    finally:
        kill_orphans(proc.pid, next(tmpdir_.glob("runner-rehearsal-*/repo"), tmpdir_))


def test_sigterm_while_a_rehearsal_is_set_up_says_no_step_had_started(
    tmp_path: Path, plan_file: Path, tmpdir_: Path
) -> None:
    """The sweep of a killed rehearsal stops its orphans first; one that ignores SIGTERM keeps
    the next rehearsal in its setup long enough to be terminated there, deterministically."""
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    plan_file.write_text(plan_text('- id: s\n  run: "echo a > a.txt"\n'))
    dead = subprocess.Popen(["true"])
    dead.wait()
    folder = tmpdir_ / "runner-rehearsal-dead"
    (folder / "repo").mkdir(parents=True)
    records = repo / ".git/runner/rehearsals/20000101-000000-dead00"
    records.mkdir(parents=True)
    (records / "rehearsal.json").write_text(json.dumps({"pid": dead.pid, "folder": str(folder)}))
    marker = tmp_path / "asked-to-stop"
    env = {**os.environ, "RUNNER_PID": str(dead.pid), "RUNNER_REPO": str(folder / "repo")}
    orphan = subprocess.Popen(
        ["sh", "-c", f"trap 'touch {marker}' TERM; while true; do sleep 0.1; done"],
        env=env,
        start_new_session=True,  # its own group, as a runner's commands have
    )
    try:
        proc = start_cli("run", str(plan_file), "--dry-run", cwd=repo)
        wait_for(marker)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        os.killpg(orphan.pid, signal.SIGKILL)
        orphan.wait()

    assert proc.returncode == 143, err
    assert "terminated (SIGTERM) while the rehearsal was being set up: no step had" in err
    assert "the running step was rolled back" not in err


def test_a_failed_gate_reading_beside_the_repository_names_the_known_limit(
    tmp_path: Path, plan_file: Path, tmpdir_: Path
) -> None:
    repo = make_repo(tmp_path / "app", {"app.py": "x = 1\n"})
    (tmp_path / "common").mkdir()
    (tmp_path / "common/x.py").write_text("V = 1\n")
    plan_file.write_text(
        plan_text(
            '- id: s\n  run: "echo a > a.txt"\n  gate: [{run: "test -f ../common/shared.py"}]\n'
        )
    )

    done = run_cli("run", str(plan_file), "--dry-run", cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "the plan names paths outside the repository (../)" in done.stdout


def orphans(pid: int) -> list[str]:
    """Live processes started by the runner with ``pid`` (its ``RUNNER_PID``)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if f"RUNNER_PID={pid}".encode() in environ and state not in ("Z", "X"):
            found.append(entry.name)
    return found


def test_the_copy_has_the_users_excludes_local_edits_and_identity(
    tmp_path: Path, plan_file: Path, tmpdir_: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``.git/info/exclude`` (else ``.env`` makes the copy's tree dirty), files flagged
    skip-worktree or assume-unchanged with local content (the real run's gates read it), and
    an identity from ``includeIf "gitdir:..."`` (which matches the user's path only)."""
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n", "a.yaml": "db: prod\n",
                                         "b.yaml": "db: prod\n"})  # fmt: skip
    (repo / ".git/info").mkdir(exist_ok=True)
    (repo / ".git/info/exclude").write_text(".env\n")
    (repo / ".env").write_text("SECRET=1\n")
    git("update-index", "--skip-worktree", "a.yaml", cwd=repo)
    git("update-index", "--assume-unchanged", "b.yaml", cwd=repo)
    (repo / "a.yaml").write_text("db: local\n")
    (repo / "b.yaml").write_text("db: local\n")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                 "GIT_COMMITTER_EMAIL", "EMAIL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work.gitconfig"
    work.write_text("[user]\n\tname = W\n\temail = w@example.com\n")
    config = tmp_path / "global.gitconfig"
    config.write_text(
        f'[user]\n\tuseConfigOnly = true\n[includeIf "gitdir:{repo}/"]\n\tpath = {work}\n'
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    plan_file.write_text(
        plan_text(
            """\
            - id: s
              run: "echo a > a.txt"
              gate:
                - {run: "test -f .env && grep -q local a.yaml && grep -q local b.yaml"}
            - id: t
              run: "echo t > t.txt"
              gate: [{run: "test \\"$(git log -1 --format=%an)\\" = W"}]
            """
        )
    )
    before = fingerprint(repo)

    done = run_cli("run", str(plan_file), "--dry-run", cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "(a.yaml, b.yaml)" in done.stdout  # named as the real run names them
    assert fingerprint(repo) == before
    real = run_cli("run", str(plan_file), cwd=repo)
    assert real.returncode == 0, real.stdout + real.stderr


def test_a_plan_branch_checked_out_in_another_worktree_is_refused_as_the_real_run_does(
    tmp_path: Path, plan_file: Path, tmpdir_: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    git("worktree", "add", "-q", "-b", "mig", str(tmp_path / "wt"), cwd=repo)
    plan_file.write_text(plan_text('- id: s\n  run: "echo a > a.txt"\n', settings="branch: mig\n"))
    before = fingerprint(repo)

    rehearsal = run_cli("run", str(plan_file), "--dry-run", cwd=repo)
    after = fingerprint(repo)
    real = run_cli("run", str(plan_file), cwd=repo)

    assert (rehearsal.returncode, real.returncode) == (2, 2), rehearsal.stdout + rehearsal.stderr
    for done in (rehearsal, real):
        assert f"'mig' is already checked out at '{tmp_path / 'wt'}" in done.stderr
    assert after == before
    assert list(tmpdir_.iterdir()) == []


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
