"""Repositories that are not what a plan expects: each is a clear refusal (exit 2, one line,
no traceback), a clear stop that says how to recover (exit 3), or runs and stays byte-exact.

Not a git repository, an unborn branch, a detached HEAD and a merge in progress are covered
by ``test_engine.py``; this module covers the rest. Tests run as root, who reads and writes
through any permission bits, so permission cases run the runner with the DAC capabilities
dropped (``setpriv``) and skip, saying why, where that is not possible.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.conftest import ROOT, git, make_repo, run_cli

FAILING_STEP = """\
version: 1
name: shapes
phases:
  - id: p
    steps:
      - id: ok
        run: "echo new > new.txt"
      - id: broken
        run: "{broken}"
        gate: [{{run: "false"}}]
"""


def plan(plan_file: Path, broken: str = "echo more > more.txt") -> Path:
    plan_file.write_text(FAILING_STEP.format(broken=broken))
    return plan_file


def refused(done: subprocess.CompletedProcess[str], expected: str, code: int = 2) -> None:
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert expected in lines[0]


# --- not a working tree, or one in the middle of something ------------------------------


def test_a_bare_repository_is_refused(tmp_path: Path, plan_file: Path) -> None:
    bare = tmp_path / "bare.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)

    refused(run_cli("run", str(plan(plan_file)), "--repo", str(bare), cwd=tmp_path),
            "a bare repository has no working tree")  # fmt: skip
    refused(run_cli("run", str(plan_file), cwd=bare), "a bare repository has no working tree")


def _conflict(repo: Path) -> None:
    """``main`` and ``other`` change app.py differently."""
    git("checkout", "-q", "-b", "other", cwd=repo)
    (repo / "app.py").write_text("other\n")
    git("commit", "-qam", "other", cwd=repo)
    git("checkout", "-q", "main", cwd=repo)
    (repo / "app.py").write_text("main\n")
    git("commit", "-qam", "main", cwd=repo)


def _stuck(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, capture_output=True, check=False)


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (("rebase", "other"), "a rebase is in progress"),
        (("cherry-pick", "other"), "a cherry-pick is in progress"),
        (("revert", "--no-edit", "HEAD"), "a revert is in progress"),
        (("bisect", "start"), "a bisect is in progress"),
        (("am", "--3way"), "a rebase or git am is in progress"),
    ],
)
def test_a_git_operation_left_half_done_is_refused_and_left_alone(
    repo: Path, plan_file: Path, operation: Sequence[str], expected: str
) -> None:
    _conflict(repo)
    if operation[0] == "am":
        patch = git("format-patch", "-1", "--stdout", "other", cwd=repo)
        (repo.parent / "other.patch").write_text(patch + "\n")
        _stuck(repo, "am", "--3way", str(repo.parent / "other.patch"))
    elif operation[0] == "revert":
        (repo / "app.py").write_text("again\n")
        git("commit", "-qam", "again", cwd=repo)
        _stuck(repo, "revert", "--no-edit", "HEAD~1")
    else:
        _stuck(repo, *operation)
    before = git("status", "--porcelain", cwd=repo), git("rev-parse", "HEAD", cwd=repo)

    refused(run_cli("run", str(plan(plan_file)), cwd=repo), expected)

    assert (git("status", "--porcelain", cwd=repo), git("rev-parse", "HEAD", cwd=repo)) == before


def test_a_stale_index_lock_is_refused_before_any_step_runs(repo: Path, plan_file: Path) -> None:
    """``git commit`` killed mid-way leaves ``index.lock``; the first ``git add`` would fail."""
    (repo / ".git/index.lock").touch()

    refused(run_cli("run", str(plan(plan_file)), cwd=repo), "index.lock exists")

    assert not (repo / "new.txt").exists()


# --- submodules -----------------------------------------------------------------------


@pytest.fixture
def with_submodule(tmp_path: Path) -> Path:
    lib = make_repo(tmp_path / "lib", {"lib.py": "VALUE = 1\n"})
    repo = make_repo(tmp_path / "super", {"app.py": "import lib\n"})
    git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "vendor/lib",
        cwd=repo)  # fmt: skip
    git("commit", "-qm", "add the library", cwd=repo)
    return repo


def test_steps_beside_a_submodule_run_and_roll_back_as_usual(
    with_submodule: Path, plan_file: Path
) -> None:
    repo = with_submodule
    sub_head = git("rev-parse", "HEAD", cwd=repo / "vendor/lib")

    done = run_cli("run", str(plan(plan_file)), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert git("log", "-1", "--format=%s", cwd=repo) == "shapes: p/ok: ok"
    assert git("status", "--porcelain", cwd=repo) == ""
    assert git("rev-parse", "HEAD", cwd=repo / "vendor/lib") == sub_head


def test_a_step_that_edits_inside_a_submodule_stops_with_how_to_recover(
    with_submodule: Path, plan_file: Path
) -> None:
    """A reset does not reach into a submodule: the rollback says so (exit 3) and keeps the
    change; once it is discarded by hand, the next run finishes the rollback."""
    repo = with_submodule
    plan(plan_file, "echo changed >> vendor/lib/lib.py && echo more > more.txt")

    done = run_cli("run", str(plan_file), cwd=repo)

    refused(done, "changes inside vendor/lib (a submodule or nested repository)", code=3)
    assert "git -C vendor/lib checkout -- ." in done.stderr
    assert (repo / "vendor/lib/lib.py").read_text() == "VALUE = 1\nchanged\n"  # kept
    assert not (repo / "more.txt").exists()  # the rest is rolled back, and in the patch
    (patch,) = (repo / ".git/runner/rollbacks").glob("*.patch")
    assert "more.txt" in patch.read_text()
    status = run_cli("status", str(plan_file), cwd=repo)
    assert "the next `runner run` finishes that rollback first" in status.stdout

    git("checkout", "--", ".", cwd=repo / "vendor/lib")
    plan(plan_file)  # the step no longer touches the submodule
    again = run_cli("run", str(plan_file), cwd=repo)

    assert again.returncode == 1, again.stdout + again.stderr
    assert "recovering:" in again.stdout
    assert git("status", "--porcelain", cwd=repo) == ""


# --- bytes that are not plain UTF-8 text with LF ----------------------------------------

ODD_FILES = {
    "crlf.txt": b"first line\r\nsecond line\r\n",
    "latin1.py": b"# -*- coding: latin-1 -*-\nNAME = '\xe9t\xe9'\n",
    "mixed.txt": b"lf\ncrlf\r\nlone cr\rend",
    "binary.bin": bytes(range(256)),
    "no-newline.txt": b"no newline at the end",
}


@pytest.fixture
def odd_repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "odd", {"app.py": "x = 1\n"})
    for name, data in ODD_FILES.items():
        (repo / name).write_bytes(data)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "odd files", cwd=repo)
    return repo


def test_files_a_step_does_not_touch_stay_byte_exact(odd_repo: Path, plan_file: Path) -> None:
    done = run_cli("run", str(plan(plan_file)), cwd=odd_repo)

    assert done.returncode == 1, done.stdout + done.stderr
    for name, data in ODD_FILES.items():
        assert (odd_repo / name).read_bytes() == data, name
    assert git("status", "--porcelain", cwd=odd_repo) == ""


def test_a_rolled_back_edit_of_odd_bytes_comes_back_byte_exact_from_its_patch(
    odd_repo: Path, plan_file: Path
) -> None:
    edit = (
        "printf 'third\\\\r\\\\n' >> crlf.txt && printf '\\\\351\\\\n' >> latin1.py && "
        "printf '\\\\000\\\\377' >> binary.bin"
    )
    plan(plan_file, edit)

    done = run_cli("run", str(plan_file), cwd=odd_repo)

    assert done.returncode == 1, done.stdout + done.stderr
    for name, data in ODD_FILES.items():
        assert (odd_repo / name).read_bytes() == data, name
    (patch,) = (odd_repo / ".git/runner/rollbacks").glob("*.patch")
    git("apply", str(patch), cwd=odd_repo)
    assert (odd_repo / "crlf.txt").read_bytes() == ODD_FILES["crlf.txt"] + b"third\r\n"
    assert (odd_repo / "latin1.py").read_bytes() == ODD_FILES["latin1.py"] + b"\xe9\n"
    assert (odd_repo / "binary.bin").read_bytes() == ODD_FILES["binary.bin"] + b"\x00\xff"


# --- permissions ----------------------------------------------------------------------

_NO_DAC = ("--bounding-set=-dac_override,-dac_read_search,-fowner",)


def run_unprivileged(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``runner ARGS`` with the capabilities that let root ignore permission bits dropped."""
    setpriv = shutil.which("setpriv")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [str(setpriv), *_NO_DAC, sys.executable, "-m", "runner", *args], cwd=cwd, env=env,
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip


def permissions_apply(path: Path) -> bool:
    """Whether a mode-000 file is unreadable to the runner as ``run_unprivileged`` starts it."""
    if os.geteuid() != 0:
        return True
    if shutil.which("setpriv") is None:
        return False
    probe = path / "probe"
    probe.write_text("x")
    probe.chmod(0)
    try:
        done = subprocess.run(["setpriv", *_NO_DAC, "cat", str(probe)], capture_output=True,
                              check=False)  # fmt: skip
    finally:
        probe.unlink()
    return done.returncode != 0


def runner(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:
        return run_unprivileged(*args, cwd=cwd)
    return run_cli(*args, cwd=cwd)


def test_an_unreadable_tracked_file_is_refused_by_name(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    if not permissions_apply(tmp_path):
        pytest.skip("root reads through mode 000 and setpriv cannot drop that here")
    secret = repo / "secret.txt"
    secret.write_text("x\n")
    git("add", "secret.txt", cwd=repo)
    git("commit", "-qm", "secret", cwd=repo)
    secret.chmod(0)
    try:
        done = runner("run", str(plan(plan_file)), cwd=repo)
    finally:
        secret.chmod(0o644)

    refused(done, "secret.txt")
    assert git("log", "-1", "--format=%s", cwd=repo) == "secret"


@pytest.mark.parametrize("what", ["runner", "runner/rollbacks", "git"])
def test_a_read_only_state_directory_is_a_clear_refusal(
    repo: Path, plan_file: Path, tmp_path: Path, what: str
) -> None:
    if not permissions_apply(tmp_path):
        pytest.skip("root writes through mode 555 and setpriv cannot drop that here")
    state = repo / ".git" / what.removeprefix("git").lstrip("/")
    if what != "git":
        state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o555)
    try:
        done = runner("run", str(plan(plan_file)), cwd=repo)
    finally:
        state.chmod(0o755)

    refused(done, "cannot write runner state under")
    assert "Permission denied" in done.stderr
    assert git("log", "-1", "--format=%s", cwd=repo) == "base"
    assert git("status", "--porcelain", cwd=repo) == ""
