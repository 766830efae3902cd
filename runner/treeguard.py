"""What changed in the working tree while a step's gates ran, and the cleanup of it.

A step's checkpoint holds the tree staged right after its action; anything a gate writes
afterwards is neither the migration nor the user's, and would otherwise slip into the next
step's staging. A full ``git status`` scan finds it (~20 ms a step on 10,000 files); the tree
watch (:mod:`runner.watch`) lets a step skip that scan when it can prove nothing changed.
This module holds that proof and the cleanup, so the engine only asks two questions: "is the
tree still as staged?" and "may the gates have written?".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from runner.context import Runtime
from runner.git import Repository, quiet_folders
from runner.model import Step
from runner.nested import refuse_undeclared_gitlinks, set_aside_repositories
from runner.ownership.paths import discard_changes, ignored_paths, moved_notice
from runner.pathquote import quote_path
from runner.results import GateResult
from runner.watch import TreeWatch, WatchStarter

__all__ = ["TreeGuard", "discard_leftovers"]

#: Gate kinds that run a command, which may leave files in the tree.
_COMMAND_GATES = frozenset({"run", "pytest", "metric"})


class TreeGuard:
    """The tree watch of one run and the index stamp of the step being gated."""

    def __init__(self, root: Path, git_dir: Path, repo: Repository) -> None:
        # The watch walks the tree on a thread while the preflight waits on git.
        self._starter: WatchStarter | None = WatchStarter(root, lambda: quiet_folders(root))
        self._watch: TreeWatch | None = None
        self._index = git_dir / "index"
        self._repo = repo
        # The stat check of this step's tree, once started, and its answer once known.
        self._tracked: Callable[[], bool] | None = None
        self._tracked_answer: bool | None = None
        # The index file as the watch was settled after this step's files were staged;
        # None: not settled this step (no watch, or not yet).
        self._index_stamp: tuple[int, int, int] | None = None

    def watch(self) -> TreeWatch | None:
        """The tree watch, once its walk is done (``None``: the tree cannot be watched)."""
        if self._starter is not None:
            self._watch = self._starter.get()
            self._starter = None
        return self._watch

    def step_started(self) -> None:
        """A new step: nothing is settled until its files are staged."""
        self._index_stamp = None
        self._tracked = self._tracked_answer = None

    def settle(self, changed: tuple[str, ...]) -> None:
        """The working tree equals the index now: from here on, any change is news."""
        if watch := self.watch():
            if any(path.rpartition("/")[2] == ".gitignore" for path in changed):
                watch.watch_everything()  # ignored folders the watch skips may be so no more
            watch.settle()
            self._index_stamp = _stamp(self._index)

    def close(self) -> None:
        """Stop watching (the descriptor is closed on a thread: see :mod:`runner.watch`)."""
        if watch := self.watch():
            watch.close()
        self._watch = None

    def gitlinks(self, rt: Runtime, step: Step, base: str, tree: str) -> str | None:
        """Why the step's staged ``tree`` must not be committed: it adds a nested repository
        ``.gitmodules`` does not declare (see :mod:`runner.nested`)."""
        tarball = rt.ws.state.rollbacks / f"{rt.run_id}-{step.phase_id}-{step.id}-nested.tar"
        return refuse_undeclared_gitlinks(rt.repo, base, tree, tarball)

    def tree_is_staged(self) -> bool:
        """Whether the working tree and the index are still as staged after the action:
        the watch was settled then and has seen no change since, no gate rewrote the
        index (``git add``, or only a ``git status`` refreshing it), and no tracked file's
        stat data moved: nothing to scan for.

        inotify reports changes made through the watched folders only: a write through a
        hard link from outside the tree (or a bind mount, or another mount namespace)
        reaches the same file unseen. ``git diff-files`` backs the watch there: it compares
        each tracked file's size, mtime, ctime and inode with the index (~10-35 ms on 10,000
        files, measured in ``scripts/bench.py``), which any such write changes."""
        return (
            self._index_stamp is not None
            and self._watch is not None
            and self._watch.quiet()
            and _stamp(self._index) == self._index_stamp
            and self._tracked_unchanged()  # what the watch cannot see
        )

    def gates_finished(self, gates: tuple[GateResult, ...]) -> None:
        """Start the stat check of :meth:`tree_is_staged` now, where it will be asked, so
        that it runs beside the checkpoint commit (~10 ms a step on 10,000 files)."""
        # Not ``watch.quiet()``: it consumes the events it reads, which tree_is_staged needs.
        settled = self._watch is not None and self._index_stamp is not None
        if self._tracked is None and settled and _may_write(gates):
            self._tracked = self._repo.start_tracked_check()

    def _tracked_unchanged(self) -> bool:
        if self._tracked is None:
            self._tracked = self._repo.start_tracked_check()
        if self._tracked_answer is None:
            self._tracked_answer = self._tracked()
        return self._tracked_answer

    def gates_may_have_written(self, gates: tuple[GateResult, ...]) -> bool:
        """Whether the leftover scan is needed: a gate ran a command, and the tree watch
        (if any) saw something change while the gates ran."""
        return _may_write(gates) and not self.tree_is_staged()


def discard_leftovers(rt: Runtime, step: Step, sha: str) -> str:
    """Gates that wrote files (reports, caches not ignored): save them, then clean up.

    The commit holds what the action did; what the gates left behind is neither the
    migration nor the user's, so it is saved (files as a patch, nested repositories a patch
    cannot hold as a tarball) and removed. Returns the notice, which says what was saved and
    removed and what, if anything, is still in the tree.
    """
    stem = f"{rt.run_id}-{step.phase_id}-{step.id}-leftovers"
    nested = set_aside_repositories(rt.repo, rt.ws.state.rollbacks / f"{stem}.tar")
    patch = rt.ws.state.rollbacks / f"{stem}.patch"
    # Path by path, as a rollback: a whole-tree reset would overwrite hidden local edits.
    done = discard_changes(rt.repo, sha, patch, ignored=ignored_paths(rt.ws.state))
    if nested.kept == () and rt.repo.untracked_repositories():  # a gate staged one: now loose
        nested += set_aside_repositories(rt.repo, rt.ws.state.rollbacks / f"{stem}.tar")
    if done.files:
        parts = [f"{step.key}: gates left {done.files} changed file(s)"]
        parts.append(f"saved as {patch} and removed")
    else:  # only copies, moves or nested repositories: no count of zero files
        parts = [f"{step.key}: gates left changes in the tree"]
        patch.unlink(missing_ok=True)
    if done.copied:
        parts.append(f"files never committed were copied to {done.copies_in}/")
    if done.moved:
        parts.append(moved_notice(done))
    if nested.removed or nested.kept:
        parts.append(nested.describe())
    if left := [p for p in rt.repo.dirty_paths() if p.rstrip("/") not in nested.kept]:
        shown = ", ".join(quote_path(p) for p in left[:5])
        parts.append(f"still in the tree, not removed: {shown}")
    return "; ".join(parts)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """Inode, size and mtime of ``path``: git replaces the index file whenever it writes."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _may_write(gates: tuple[GateResult, ...]) -> bool:
    """Whether any gate ran a command (which may leave files); a full status scan costs
    ~20 ms on 10,000 files, so steps whose gates only read the tree skip it."""
    return any(g.kind in _COMMAND_GATES for g in gates)
