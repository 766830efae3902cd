"""The pytest plugin an ``affected: true`` gate loads: collect only the selected test files.

Copied next to the gate's JUnit file and loaded with ``-p``, in the project's own python (so
it imports nothing of runner's). The gate's arguments stay as written: pytest finds its
rootdir, ini file, conftest files and test order exactly as in a full run, and this plugin
only skips the test files the step's change cannot reach. Files given by name on the command
line are deselected after collection rather than skipped, since pytest collects those
whatever ``pytest_ignore_collect`` says.

``RUNNER_AFFECTED`` names a JSON file: ``files`` (absolute paths of reached files),
``known`` (the Python files runner's import graph saw: a test file it never saw, one git
ignores, may import anything and runs), ``dirs`` (folders whose ``conftest.py`` was
reached: every test below runs) and ``report``
(a folder where each pytest process writes how many test files it kept and saw).
"""

from __future__ import annotations

import fnmatch
import json
import os
from pathlib import Path

import pytest

_SELECTION = os.environ.get("RUNNER_AFFECTED", "")


def _load() -> tuple[frozenset[str], tuple[str, ...], str, frozenset[str]]:
    with open(_SELECTION, encoding="utf-8") as f:  # noqa: PTH123 - the plugin stays minimal
        data = json.load(f)
    dirs = tuple(d.rstrip("/") + "/" for d in data["dirs"])
    return frozenset(data["files"]), dirs, str(data["report"]), frozenset(data["known"])


_FILES, _DIRS, _REPORT, _KNOWN = _load() if _SELECTION else (frozenset(), (), "", frozenset())
_kept: set[str] = set()  # selected test files pytest collected
_left: set[str] = set()  # test files pytest would have collected, left out


def _is_test_file(path: Path, config: pytest.Config) -> bool:
    """Matches ``python_files``, or is named on the command line (collected either way)."""
    if path.suffix != ".py":
        return False
    patterns = config.getini("python_files")
    return any(fnmatch.fnmatch(path.name, p) for p in patterns) or path.resolve() in _named(config)


def _named(config: pytest.Config) -> set[Path]:
    where = config.invocation_params.dir
    return {Path(where, arg.split("::", 1)[0]).resolve() for arg in config.args}


def _selected(path: str) -> bool:
    """Reached, or never seen by runner's graph (a file git ignores): only then skipped."""
    return path in _FILES or path.startswith(_DIRS) or path not in _KNOWN


def _in_scope(path: Path, config: pytest.Config) -> bool:
    """Whether pytest would collect ``path`` at all: it is, or is under, one of its args.

    pytest also asks about the siblings of a file named on the command line, which it would
    not collect; those must not count as left out.
    """
    for arg in config.args:
        where = Path(config.invocation_params.dir, arg.split("::", 1)[0]).resolve()
        if path == where or where in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Skip a test file the change does not reach; ``None`` lets pytest decide the rest."""
    if not _SELECTION or not _is_test_file(collection_path, config):
        return None
    path = str(collection_path)
    if _selected(path):
        return None
    if _in_scope(collection_path, config):
        _left.add(path)
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect tests of files named on the command line that the change does not reach."""
    if not _SELECTION:
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        path = str(item.path)
        if not _is_test_file(item.path, config) or _selected(path):
            keep.append(item)
            if _is_test_file(item.path, config):
                _kept.add(path)
        else:
            drop.append(item)
            _left.add(path)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Say how many test files were kept out of how many pytest saw (one file per process)."""
    del session
    if not _SELECTION:
        return
    out = Path(_REPORT) / f"{os.getpid()}.json"
    counts = {"kept": len(_kept), "seen": len(_kept | _left)}
    out.write_text(json.dumps(counts), encoding="utf-8")
