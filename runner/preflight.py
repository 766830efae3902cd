"""Repository shapes a run must not start in: what git cannot show runner, or cannot commit.

Each check here refuses (exit 2) before any journal is written or any step runs, naming the
command that makes the repository fit. They are refusals rather than workarounds because
each shape hides something a run relies on:

- a **sparse checkout** leaves tracked files out of the working tree, where gates and codemods
  read: a ``forbid-imports`` gate with ``max: 0`` would pass with "0 sites" while the commit
  under test still imports the module in a folder not checked out;
- a **shallow clone** ends history early: the plan's earlier checkpoints (and the parents a
  phase, a plan or a rollback returns to) may not be there, so a run could not tell which
  steps are done, and a rollback could not reach its target;
- **no committer identity**: every gate would run, then the checkpoint commit would fail.
"""

from __future__ import annotations

import os
from pathlib import Path

from runner.errors import PreconditionError
from runner.git import Repository, repository
from runner.pathquote import quote_path

__all__ = ["check_repository_shape"]

_SHOWN = 3


def check_repository_shape(repo: Repository, origin: Path | None = None) -> None:
    """Refuse a sparse checkout, a shallow clone, or a repository where git has no identity
    to commit with; returns quietly for an ordinary clone.

    ``origin``: the user's repository, named in the messages (a rehearsal checks its
    private copy, which inherits the history and the identity from it, but the fix is made
    in the origin); its sparseness is read from the origin itself.
    """
    where = origin or repo.root
    if origin is not None and origin != repo.root:
        # A rehearsal's private copy is checked out whole: ask the user's own worktree, so
        # that the rehearsal refuses what the real run would refuse.
        with repository(origin) as user:
            _refuse_sparse(user, where)
    else:
        _refuse_sparse(repo, where)
    _refuse_shallow(repo, where)
    _refuse_no_identity(repo, where)


def _refuse_sparse(repo: Repository, where: Path) -> None:
    # Skip-worktree entries present on disk are a user's local-edit trick, not sparseness;
    # those missing from disk are what a sparse checkout (or a half-undone one) leaves out.
    missing = [p for p in repo.skip_worktree_paths() if not os.path.lexists(repo.root / p)]
    what = ["core.sparseCheckout is on"] if repo.sparse_checkout() else []
    if missing:
        shown = ", ".join(quote_path(p) for p in missing[:_SHOWN])
        more = f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else ""
        what.append(f"{len(missing)} tracked file(s) are not checked out ({shown}{more})")
    if not what:
        return
    msg = (
        f"{where} is a sparse checkout: {' and '.join(what)}, so gates and codemods "
        "would not see the whole tree of the commit under test (a forbid-imports gate would "
        "pass over imports in folders not checked out). Check out the whole tree with "
        "`git sparse-checkout disable`, then run again"
    )
    raise PreconditionError(msg)


def _refuse_shallow(repo: Repository, where: Path) -> None:
    if not repo.is_shallow():
        return
    msg = (
        f"{where} is a shallow clone: its history ends early, so the plan's earlier "
        "checkpoints and the commits a rollback returns to may be missing. Fetch the whole "
        "history with `git fetch --unshallow`, then run again"
    )
    raise PreconditionError(msg)


def _refuse_no_identity(repo: Repository, where: Path) -> None:
    problem = repo.identity_problem()
    if problem is None:
        return
    msg = (
        f"git has no identity to commit with in {where} ({problem}), so no checkpoint "
        'could be committed. Set one with `git config --global user.name "Your Name"` and '
        '`git config --global user.email "you@example.com"` (without --global: this '
        "repository only), then run again"
    )
    raise PreconditionError(msg)
