"""The tree watch on real folders and the real kernel: it may only ever skip a scan that
would have found nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner import watch as watch_module
from runner.git import quiet_folders
from runner.watch import TreeWatch
from tests.conftest import git, make_repo

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for name in ("a/b/c.py", "a/d.py", "e.txt", ".git/HEAD"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x\n")
    return root


@pytest.fixture
def watch(tree: Path) -> Iterator[TreeWatch]:
    started = TreeWatch.start(tree)
    if started is None:  # a container without inotify: the engine scans, nothing to test
        pytest.skip("inotify is not available here")
    yield started
    started.close()


def test_nothing_written_is_quiet_even_after_reads(tree: Path, watch: TreeWatch) -> None:
    watch.settle()
    subprocess.run(["cat", str(tree / "a" / "b" / "c.py")], check=True, capture_output=True)
    os.listdir(tree / "a")

    assert watch.quiet()


@pytest.mark.parametrize(
    "change",
    [
        lambda t: (t / "a" / "b" / "c.py").write_text("y\n"),  # modified
        lambda t: (t / "a" / "new.py").write_text("n\n"),  # created
        lambda t: (t / "e.txt").unlink(),  # deleted
        lambda t: (t / "e.txt").chmod(0o755),  # mode
        lambda t: (t / "a" / "d.py").rename(t / "a" / "b" / "d.py"),  # moved
        lambda t: (t / "a" / "x" / "y").mkdir(parents=True),  # folders only
    ],
)
def test_any_change_in_the_tree_is_seen(tree: Path, watch: TreeWatch, change: object) -> None:
    watch.settle()
    change(tree)  # type: ignore[operator]

    assert not watch.quiet()


def test_changes_inside_the_git_folder_are_not_the_trees(tree: Path, watch: TreeWatch) -> None:
    watch.settle()
    (tree / ".git" / "index").write_text("i\n")

    assert watch.quiet()


def test_a_folder_made_before_settle_is_watched_in_the_window(tree: Path, watch: TreeWatch) -> None:
    (tree / "out" / "deep").mkdir(parents=True)  # an action made it; git cannot see it
    watch.settle()
    assert watch.quiet()

    (tree / "out" / "deep" / "report.txt").write_text("r\n")

    assert not watch.quiet()


def test_a_moved_folder_is_watched_under_its_new_name(tree: Path, watch: TreeWatch) -> None:
    (tree / "a").rename(tree / "moved")
    watch.settle()
    assert watch.quiet()

    (tree / "moved" / "b" / "new.py").write_text("n\n")

    assert not watch.quiet()


def test_lost_events_are_never_taken_for_quiet(tree: Path, watch: TreeWatch) -> None:
    limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    if limit > 50_000:
        pytest.skip(f"max_queued_events is {limit}")
    many = tree / "many"
    many.mkdir()
    watch.settle()
    for i in range(limit + 100):  # more events than the queue holds: it overflows
        (many / f"f{i}").touch()

    assert not watch.quiet()  # overflowed: "maybe changed"
    watch.settle()  # watches the tree anew
    assert watch.quiet()
    (many / "f0").write_text("after\n")
    assert not watch.quiet()


def test_a_tree_beyond_the_folder_limit_is_not_watched(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch_module, "MAX_FOLDERS", 2)

    assert TreeWatch.start(tree) is None  # the engine scans instead


def test_skipped_folders_are_not_watched(tree: Path) -> None:
    (tree / "node_modules" / "pkg").mkdir(parents=True)
    started = TreeWatch.start(tree, skip=["node_modules"])
    assert started is not None
    try:
        started.settle()
        (tree / "node_modules" / "pkg" / "index.js").write_text("x\n")
        assert started.quiet()
        (tree / "a" / "new.py").write_text("n\n")
        assert not started.quiet()
    finally:
        started.close()


def test_quiet_folders_are_ignored_ones_without_tracked_files(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {".gitignore": "build/\nvendor/\nnode_modules/\n*.pyc\n", "app.py": "x = 1\n"},
    )
    for name in ("build/out.o", "node_modules/a/b/c.js", "vendor/keep.txt", "pkg/m.pyc"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("x\n")
    git("add", "-f", "vendor/keep.txt", cwd=repo)
    git("commit", "-qm", "vendored", cwd=repo)

    assert sorted(quiet_folders(repo)) == ["build", "node_modules"]
