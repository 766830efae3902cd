"""Staging a step's changes, failing the step (never the run) when it cannot be staged.

``git add`` refuses some trees outright: a folder an action made a repository of its own
without a commit (``git init emptyrepo``: "does not have a commit checked out"), a path
inside a submodule ("is in submodule"). Such an error used to escape as a raw git error
(exit 2) with the step's changes left in the tree, and the next run's rollback then stopped
at the nested repository with advice that could not work. Now nested repositories an action
leaves (with or without commits) are saved to a tarball and removed before staging, as
gates' are (:mod:`runner.nested`), and any other staging failure fails the step, which is
rolled back as usual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner.errors import GitError
from runner.nested import set_aside_repositories
from runner.pathquote import quote_path

if TYPE_CHECKING:
    from runner.context import Runtime
    from runner.model import Step

__all__ = ["stage_step"]


def stage_step(rt: Runtime, step: Step, changed: tuple[str, ...] | None) -> str | None:
    """Stage what the step changed (``changed``: a codemod's paths; ``None``: a command's,
    anywhere). Returns why the step fails, or ``None``."""
    repo, why = rt.repo, None
    tarball = rt.ws.state.rollbacks / f"{rt.run_id}-{step.phase_id}-{step.id}-nested.tar"
    if changed is None and (found := repo.untracked_repositories()):
        aside = set_aside_repositories(repo, tarball, found)
        names = ", ".join(quote_path(p) for p in found)
        why = (
            f"the step would commit {names} as a nested repository (a folder with a .git of "
            "its own, which .gitmodules does not declare and no other checkout could fill); "
            f"{aside.describe()}. Declare it with `git submodule add URL PATH`, or remove its "
            ".git folder to commit its files"
        )
    try:
        if changed is None:
            repo.stage_all()
        else:
            repo.stage_paths(changed)
    except GitError as e:
        return "; ".join(filter(None, [why, f"the step's changes cannot be staged: {e}"]))
    return why
