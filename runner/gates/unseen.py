"""Python files an ``affected`` gate's import graph cannot see: the ones git ignores.

The graph (:mod:`runner.importgraph`) holds the files git tracks or would add. A generated
or ignored test file is not among them, yet pytest collects it: a selection made from the
graph alone would skip it unseen, and a gate would pass without running a test that imports
the changed module. Where such files may be, pytest has to start and the plugin keeps every
file the graph never saw.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from runner.gitcore import pinned_repo

__all__ = ["unseen_python"]

#: Folders pytest never collects from by default (``norecursedirs``), and bytecode caches.
_NOT_COLLECTED = ("*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv",
                  "{arch}", "__pycache__", "*.egg-info", "site-packages")  # fmt: skip


def unseen_python(root: Path, under: Sequence[str]) -> bool:
    """Whether files git ignores under ``under`` may hold Python that pytest would collect.

    The graph holds the files git tracks or would add; a generated or ignored test file is
    not among them, and a selection made from the graph alone would skip it unseen. A
    folder git ignores whole (``--directory``) counts unless pytest never enters it.
    """
    paths = [u.strip("/") or "." for u in under]
    with pinned_repo(root) as repo:
        out = repo.git.ls_files("-o", "-i", "--exclude-standard", "--directory", "-z", "--", *paths)
    for entry in filter(None, out.split("\0")):
        parts = PurePosixPath(entry.rstrip("/")).parts
        if any(fnmatch.fnmatch(p, pat) for p in parts for pat in _NOT_COLLECTED):
            continue
        if entry.endswith(("/", ".py")):
            return True
    return False
