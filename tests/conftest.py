"""Real repositories in tmp paths, real git, real subprocesses: no mocks.

Git is pinned to an empty global config and a fixed identity (pre-commit's tox.ini does
the same), so a developer's own config never changes what a test sees.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _pinned_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path_factory.getbasetemp() / "gitconfig"
    config.touch()
    for key, value in {
        "GIT_CONFIG_GLOBAL": str(config),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Runner Tests",
        "GIT_AUTHOR_EMAIL": "tests@runner.invalid",
        "GIT_COMMITTER_NAME": "Runner Tests",
        "GIT_COMMITTER_EMAIL": "tests@runner.invalid",
        "PYTHONDONTWRITEBYTECODE": "1",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "RUNNER_FAULT"):
        monkeypatch.delenv(key, raising=False)
    # Plan commands find the interpreter running the tests first on PATH, as `python`.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def git(*args: str, cwd: Path) -> str:
    """Run git for a test and return its stdout (stripped)."""
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def make_repo(path: Path, files: dict[str, str] | None = None) -> Path:
    """A real repository with one commit holding ``files``."""
    path.mkdir(parents=True, exist_ok=True)
    for name, text in (files or {"app.py": "import pkg.old\n"}).items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git("init", "-q", "-b", "main", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "-qm", "base", cwd=path)
    return path


def processes_matching(marker: str) -> list[int]:
    """Pids whose command line contains ``marker`` (a /proc scan: no pgrep needed)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if marker in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with ``app.py`` committed on ``main``."""
    return make_repo(tmp_path / "repo")


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m runner ARGS`` as a user would run it, in a real subprocess."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "runner", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def start_cli(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """``python -m runner ARGS`` started in the background, for tests that signal or race it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "runner", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def wait_for(path: Path, *, seconds: float = 20) -> None:
    """Poll until ``path`` exists (a run reached a known point), or give up quietly."""
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def plan_file(tmp_path: Path) -> Iterator[Path]:
    """Where a test writes its plan: outside the repository, as a lead engineer might."""
    yield tmp_path / "phases.yaml"
