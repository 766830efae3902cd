"""Repository shapes a run must not start in, refused before anything is written.

A sparse checkout hides files from gates, a shallow clone hides the plan's history, and a
repository without a committer identity cannot take a checkpoint: each is refused at
preflight (exit 2, one line, the command that proceeds), and every preflight refusal leaves
``.git/runner`` without a journal, so the next command is not told a run was interrupted.
A commit that fails later all the same rolls its step back and leaves no journal either.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import git, make_repo, run_cli

PLAN = """\
version: 1
name: shapes
phases:
  - id: p
    steps:
{steps}
"""
EDIT = """\
      - id: edit
        run: "echo new > new.txt"
        gate: [{run: "touch ../gate-ran"}, {forbid-imports: [pkg.old], max: 0}]
"""
MORE = """\
      - id: more
        run: "echo more > more.txt"
"""
FILES = {"app.py": "import pkg.new\n", "legacy/mod.py": "import pkg.old\n"}
IDENTITY = ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")


def _plan(plan_file: Path, *steps: str) -> Path:
    plan_file.write_text(PLAN.format(steps="".join(steps)))
    return plan_file


def _no_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """No user.name/user.email anywhere: the global config is empty, the system one is off."""
    for key in (*IDENTITY, "EMAIL"):
        monkeypatch.delenv(key, raising=False)


def _sparse(tmp_path: Path, _mp: pytest.MonkeyPatch) -> Path:
    repo = make_repo(tmp_path / "repo", FILES)
    git("sparse-checkout", "set", "--no-cone", "/app.py", cwd=repo)
    return repo


def _skip_worktree_missing(tmp_path: Path, _mp: pytest.MonkeyPatch) -> Path:
    """What a sparse checkout leaves, without core.sparseCheckout: flagged files not on disk."""
    repo = make_repo(tmp_path / "repo", FILES)
    git("update-index", "--skip-worktree", "legacy/mod.py", cwd=repo)
    (repo / "legacy/mod.py").unlink()
    return repo


def _upstream_ran(tmp_path: Path, plan_file: Path) -> Path:
    """A repository where the plan's first step is done, as a colleague pushed it."""
    upstream = make_repo(tmp_path / "colleague" / "upstream", FILES)  # its gate-ran: beside it
    (upstream / "legacy/mod.py").write_text("import pkg.new\n")
    git("commit", "-qam", "migrate legacy", cwd=upstream)
    done = run_cli("run", str(_plan(plan_file, EDIT)), cwd=upstream)
    assert done.returncode == 0, done.stdout + done.stderr
    return upstream


def _shallow(tmp_path: Path, _mp: pytest.MonkeyPatch) -> Path:
    upstream = _upstream_ran(tmp_path, tmp_path / "upstream-phases.yaml")
    clone = tmp_path / "repo"
    git("clone", "-q", "--depth", "1", f"file://{upstream}", str(clone), cwd=tmp_path)
    return clone


def _nobody(tmp_path: Path, mp: pytest.MonkeyPatch) -> Path:
    repo = make_repo(tmp_path / "repo", FILES)
    _no_identity(mp)
    return repo


def _dirty(tmp_path: Path, _mp: pytest.MonkeyPatch) -> Path:
    repo = make_repo(tmp_path / "repo", FILES)
    (repo / "app.py").write_text("edited\n")
    return repo


def _detached(tmp_path: Path, _mp: pytest.MonkeyPatch) -> Path:
    repo = make_repo(tmp_path / "repo", FILES)
    git("checkout", "-q", "--detach", cwd=repo)
    return repo


def _index_lock(tmp_path: Path, _mp: pytest.MonkeyPatch) -> Path:
    repo = make_repo(tmp_path / "repo", FILES)
    (repo / ".git/index.lock").touch()
    return repo


SPARSE = "sparse checkout: core.sparseCheckout is on and 1 tracked file(s) are not checked out"
MISSING = "sparse checkout: 1 tracked file(s) are not checked out (legacy/mod.py)"
REFUSALS: dict[str, tuple[Callable[[Path, pytest.MonkeyPatch], Path], str]] = {
    "sparse-checkout": (
        _sparse,
        SPARSE,
    ),
    "skip-worktree": (
        _skip_worktree_missing,
        "sparse checkout: 1 tracked file(s) are not checked out (legacy/mod.py)",
    ),
    "shallow": (_shallow, "is a shallow clone"),
    "no-identity": (_nobody, "git has no identity to commit with"),
    "dirty": (_dirty, "uncommitted changes"),
    "detached": (_detached, "HEAD is detached"),
    "index-lock": (_index_lock, "index.lock exists"),
}
PROCEEDS = {
    "sparse-checkout": "`git sparse-checkout disable`",
    "skip-worktree": "`git sparse-checkout disable`",
    "shallow": "`git fetch --unshallow`",
    "no-identity": '`git config --global user.email "you@example.com"`',
}

#: The command each message names, and what the same run then does: the sparse checkout's
#: gate now sees legacy/mod.py and fails; the clone, now whole, finishes the plan.
AFTER = {
    "sparse-checkout": (("sparse-checkout", "disable"), 1),
    "shallow": (("fetch", "-q", "--unshallow"), 0),
}


@pytest.mark.parametrize("shape", REFUSALS)
def test_every_preflight_refusal_leaves_no_journal_and_runs_nothing(
    tmp_path: Path, plan_file: Path, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    make, expected = REFUSALS[shape]
    repo = make(tmp_path, monkeypatch)
    head = git("rev-parse", "HEAD", cwd=repo)
    status = git("status", "--porcelain", cwd=repo)

    done = run_cli("run", str(_plan(plan_file, EDIT, MORE)), cwd=repo)

    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert expected in line
    assert PROCEEDS.get(shape, "") in line
    assert not (repo / ".git/runner/journal.jsonl").exists()
    assert not (tmp_path / "gate-ran").exists()
    assert git("rev-parse", "HEAD", cwd=repo) == head
    assert git("status", "--porcelain", cwd=repo) == status
    if shape == "sparse-checkout":  # a rehearsal's worktree inherits it; the fix is here
        rehearsal = run_cli("run", str(plan_file), "--dry-run", cwd=repo)
        assert rehearsal.returncode == 2
        assert f"error: {repo} is a sparse checkout" in rehearsal.stderr
    if shape in ("sparse-checkout", "shallow"):  # and rollback is refused the same way
        again = run_cli("rollback", "--all", "--plan", str(plan_file), cwd=repo)
        assert again.returncode == 2
        assert expected in again.stderr
        assert not (repo / ".git/runner/journal.jsonl").exists()
    if shape in AFTER:
        proceed, code = AFTER[shape]
        git(*proceed, cwd=repo)
        done = run_cli("run", str(plan_file), cwd=repo)
        assert done.returncode == code, done.stdout + done.stderr
        seen = "legacy/mod.py" in done.stdout if code else (repo / "more.txt").exists()
        assert seen, done.stdout


#: What takes the commit away after the gates passed, git's reason, and what puts it back.
COMMIT_FAILS = {
    "identity": (  # in the user's global config: a step may not change the repository's
        "git config --global --unset user.email && git config --global user.useConfigOnly true",
        "(no email was given and auto-detection is disabled)",
        ("config", "--global", "user.email", "repo@runner.invalid"),
    ),
    "ref-lock": (
        "touch .git/refs/heads/main.lock",
        "cannot lock ref 'HEAD': Unable to create",
        ("update-ref", "-d", "refs/heads/none"),  # a no-op: the test removes the lock
    ),
}


@pytest.mark.parametrize("cause", COMMIT_FAILS)
def test_a_commit_that_fails_after_the_gates_rolls_the_step_back(
    repo: Path, plan_file: Path, monkeypatch: pytest.MonkeyPatch, cause: str, tmp_path: Path
) -> None:
    """Everything is in order at preflight; a gate takes the commit away."""
    gate_command, reason, fix = COMMIT_FAILS[cause]
    _no_identity(monkeypatch)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "global.gitconfig"))  # this test's
    git("config", "user.name", "Repo Person", cwd=repo)
    git("config", "--global", "user.email", "repo@runner.invalid", cwd=repo)
    gate = f'gate: [{{run: "{gate_command}"}}]'
    step = f'      - id: edit\n        run: "echo new > new.txt"\n        {gate}\n'
    head = git("rev-parse", "HEAD", cwd=repo)

    done = run_cli("run", str(_plan(plan_file, step, MORE)), cwd=repo)

    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "step p/edit passed its gates but its checkpoint could not be committed" in line
    assert reason in line
    assert git("rev-parse", "HEAD", cwd=repo) == head
    assert git("status", "--porcelain", "--ignored", cwd=repo) == ""
    assert not (repo / "new.txt").exists()
    assert not (repo / "more.txt").exists()  # the run stopped there
    assert not (repo / ".git/runner/journal.jsonl").exists()
    [patch] = (repo / ".git/runner/rollbacks").glob("*.patch")
    assert str(patch) in line
    assert "+new" in patch.read_text()
    # Nothing was left for the next run to recover: with the cause gone, it just runs.
    git(*fix, cwd=repo)
    (repo / ".git/refs/heads/main.lock").unlink(missing_ok=True)
    step = '      - id: edit\n        run: "echo new > new.txt"\n'
    again = run_cli("run", str(_plan(plan_file, step, MORE)), cwd=repo)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "recovering" not in again.stdout + again.stderr


def test_a_file_rollback_whose_commit_fails_puts_the_files_back(
    repo: Path, plan_file: Path
) -> None:
    step = '      - id: edit\n        run: "echo new > app.py"\n'
    assert run_cli("run", str(_plan(plan_file, step)), cwd=repo).returncode == 0
    head = git("rev-parse", "HEAD", cwd=repo)
    (repo / ".git/refs/heads/main.lock").touch()  # another git command holds the branch

    done = run_cli("rollback", "app.py", "--plan", str(plan_file), cwd=repo)

    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "the rollback commit could not be made" in done.stderr
    assert git("rev-parse", "HEAD", cwd=repo) == head
    assert git("status", "--porcelain", cwd=repo) == ""
    assert (repo / "app.py").read_text() == "new\n"
    assert not (repo / ".git/runner/journal.jsonl").exists()
