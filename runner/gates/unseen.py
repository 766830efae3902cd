"""Python files an ``affected`` gate's import graph cannot see: the ones git ignores.

The graph (:mod:`runner.importgraph`) holds the files git tracks or would add. A generated
or ignored test file is not among them, yet pytest collects it: a selection made from the
graph alone would skip it unseen, and a gate would pass without running a test that imports
the changed module. Where such test files may be, pytest has to start (the plugin keeps
every file the graph never saw); an ignored ``conftest.py`` may import anything for every
test below it, so its gate runs them all.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from runner.gitcore import pinned_repo

__all__ = ["Unseen", "unseen_python"]

#: Folders pytest never collects from by default (``norecursedirs``), and bytecode caches.
_NOT_COLLECTED = ("*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv",
                  "{arch}", "__pycache__", "*.egg-info", "site-packages")  # fmt: skip
_MOST = 20_000  # entries looked at in ignored folders before assuming the worst


@dataclass(frozen=True, slots=True)
class Unseen:
    """What git ignores under the test roots that pytest would still load."""

    tests: bool  # a file that may be a test file
    conftest: str | None = None  # an ignored conftest.py, repository-relative


def unseen_python(root: Path, under: Sequence[str], patterns: Sequence[str] | None) -> Unseen:
    """Ignored files under ``under`` pytest would collect (``patterns``: ``python_files``,
    ``None`` when runner cannot tell, so every ``.py`` file counts)."""
    paths = [u.strip("/") or "." for u in under]
    with pinned_repo(root) as repo:
        out = repo.git.ls_files("-o", "-i", "--exclude-standard", "--directory", "-z", "--", *paths)
    tests, budget = False, _MOST
    for entry in filter(None, out.split("\0")):
        if _skipped(PurePosixPath(entry.rstrip("/")).parts):
            continue
        files = [entry] if not entry.endswith("/") else _walk(root, entry, budget)
        if files is None:
            return Unseen(tests=True)  # too many to look at: assume a test file is there
        budget -= len(files)
        for path in files:
            name = PurePosixPath(path).name
            if name == "conftest.py":
                return Unseen(tests=True, conftest=path)
            if name.endswith(".py") and (
                patterns is None or any(fnmatch.fnmatch(name, p) for p in patterns)
            ):
                tests = True
    return Unseen(tests=tests)


def _skipped(parts: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(p, pat) for p in parts for pat in _NOT_COLLECTED)


def _walk(root: Path, folder: str, budget: int) -> list[str] | None:
    """Files below ``folder`` pytest would enter; ``None`` past ``budget`` entries."""
    found: list[str] = []
    for where, dirs, files in os.walk(root / folder):
        if (Path(where) / "pyvenv.cfg").exists():  # a virtualenv: pytest does not enter it
            dirs[:] = []
            continue
        dirs[:] = [d for d in dirs if not _skipped([d])]
        rel = Path(where).relative_to(root).as_posix()
        found.extend(f"{rel}/{f}" for f in files)
        if len(found) > budget:
            return None
    return found
