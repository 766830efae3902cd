"""Where a plan runs: the user's repository, or a throwaway worktree for a rehearsal.

A rehearsal is chosen here, once, by the workspace handed to the engine (as alembic's
``as_sql`` is decided in one place): the engine runs the same code either way. The rehearsal
worktree is detached at the user's HEAD and keeps its runner state in its own git directory
(``.git/worktrees/NAME/runner``), so removing the worktree removes every trace; the user's
branches, index, working tree, stash, tags, config and ``.git/runner`` are never written.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from runner.context import Workspace
from runner.errors import LockHeld
from runner.git import Repository, open_repository
from runner.journal import Lock, StateDir

__all__ = ["real_workspace", "rehearsal_workspace"]


@contextlib.contextmanager
def real_workspace(path: Path) -> Iterator[Workspace]:
    """The user's repository, with runner state in its worktree's own git dir: ``.git/runner``
    for the main worktree, ``.git/worktrees/NAME/runner`` for a linked one. A run's state is
    bound to its worktree (and branch): a run killed in one worktree is never recovered, nor
    its lock taken, from another, whose HEAD is on another branch."""
    repo = open_repository(path)
    try:
        yield Workspace(repo, StateDir(repo.git_dir), rehearsal=False, origin=repo.root)
    finally:
        repo.close()


@contextlib.contextmanager
def rehearsal_workspace(path: Path, *, keep: bool) -> Iterator[Workspace]:
    """A detached worktree of HEAD in a temporary folder; removed and pruned afterwards.

    Refuses while a real run holds the repository's lock (it would rehearse a moving
    target). Two rehearsals may run at once: each has its own worktree and lock.
    """
    origin = open_repository(path)
    try:
        if Lock(StateDir(origin.git_dir), command="").is_held_elsewhere():
            msg = "a real run holds the lock on this repository; rehearse when it has finished"
            raise LockHeld(msg)
        head = origin.head()
        folder = Path(tempfile.mkdtemp(prefix="runner-rehearsal-"))
        worktree = folder / origin.root.name
        origin.add_worktree(worktree, head)
        try:
            repo = open_repository(worktree)
            try:
                yield Workspace(repo, StateDir(repo.git_dir), rehearsal=True, origin=origin.root)
            finally:
                repo.close()
        finally:
            if not keep:
                origin.remove_worktree(worktree)
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        origin.close()


def dirty_note(repo: Repository) -> str | None:
    """For rehearsals on a dirty tree: say that HEAD is what gets rehearsed."""
    dirty = repo.dirty_paths()
    if not dirty:
        return None
    return (
        f"the working tree has {len(dirty)} uncommitted change(s); the rehearsal runs on HEAD "
        "as committed, without them"
    )
