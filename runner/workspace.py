"""Where a plan runs: the user's repository, or a private repository for a rehearsal.

A rehearsal is chosen here, once, by the workspace handed to the engine (as alembic's
``as_sql`` is decided in one place): the engine runs the same code either way. The
rehearsal's repository (:mod:`runner.isolate`) borrows the user's objects and writes nothing
of theirs but its own record folder, ``.git/runner/rehearsals/<id>/``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from runner.context import Workspace
from runner.git import Repository, open_repository
from runner.journal import StateDir
from runner.model import Plan

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
def rehearsal_workspace(path: Path, *, keep: bool, plan: Plan | None = None) -> Iterator[Workspace]:
    """A private repository borrowing the user's objects (see :mod:`runner.isolate`),
    started where the real run of ``plan`` would start; removed afterwards unless ``keep``."""
    from runner.isolate import private_workspace  # noqa: PLC0415 - isolate imports context

    with private_workspace(path, plan, keep=keep) as (ws, _):
        yield ws


def dirty_note(repo: Repository, *, interrupted: bool = False) -> str | None:
    """For rehearsals on a dirty tree: say that HEAD is what gets rehearsed, and what the
    real run does with the changes (``interrupted``: a killed run's journal is there, and
    the real run's recovery first takes back the partial diff of the step it was running)."""
    dirty = repo.dirty_paths()
    if not dirty:
        return None
    if interrupted:
        return (
            f"the working tree has {len(dirty)} uncommitted change(s) and an interrupted "
            "run's journal: the real run first recovers (it restores the interrupted step's "
            "checkpoint and saves the partial diff as a patch, as this rehearsal does in its "
            "copy) and refuses to start only if changes remain after that"
        )
    return (
        f"the working tree has {len(dirty)} uncommitted change(s); the rehearsal runs on HEAD "
        "as committed, without them (the real run refuses to start until they are committed "
        "or stashed)"
    )
