"""Repositories inside the tree that no plan declared: saved, removed, never committed.

A command that runs ``git clone`` (or ``git init``) inside the working tree leaves a folder
holding a ``.git`` of its own. ``git add -A`` stages such a folder as a gitlink (mode
160000), a pointer to a commit that exists only in that folder, and a reset does not remove
it: a patch cannot hold it and ``git reset --hard`` leaves it where it was. So a gate's
nested repository is packed into a tarball under the state folder and removed like any
other leftover, and a step whose staged tree gains a gitlink that ``.gitmodules`` does not
declare fails, naming it, instead of committing a pointer nobody can check out.
"""

from __future__ import annotations

import shutil
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.git import Repository
from runner.pathquote import quote_path

__all__ = ["SetAside", "refuse_undeclared_gitlinks", "set_aside_repositories"]


@dataclass(frozen=True, slots=True)
class SetAside:
    """What happened to the untracked nested repositories of the tree."""

    removed: tuple[str, ...] = ()
    tarball: Path | None = None
    kept: tuple[str, ...] = ()  # could not be saved or removed: still in the tree
    problem: str = ""

    def __add__(self, other: SetAside) -> SetAside:
        return SetAside(
            self.removed + other.removed,
            other.tarball or self.tarball,
            self.kept + other.kept,
            other.problem or self.problem,
        )

    def describe(self) -> str:
        """One clause for a notice; ``""`` when there was nothing."""
        parts = []
        if self.removed:
            parts.append(
                f"nested repositories {_names(self.removed)} saved as {self.tarball} and removed"
            )
        if self.kept:
            parts.append(
                f"nested repositories {_names(self.kept)} NOT removed ({self.problem}); "
                "they are still in the tree"
            )
        return "; ".join(parts)


def _names(paths: Sequence[str]) -> str:
    return ", ".join(quote_path(p) for p in paths)


def set_aside_repositories(
    repo: Repository, tarball: Path, paths: list[str] | None = None
) -> SetAside:
    """Pack every untracked nested repository into ``tarball`` (added to it if it exists),
    then remove it (``paths``: these nested repositories, untracked or staged, instead).

    Nothing is removed unless the tarball was written first; what could not be
    saved or removed is reported in ``kept``.
    """
    found = repo.untracked_repositories() if paths is None else paths
    if not found:
        return SetAside()
    try:
        tarball.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball, "a" if tarball.exists() else "w") as tar:
            for path in found:
                tar.add(repo.root / path, arcname=path)
    except OSError as e:
        return SetAside(kept=tuple(found), problem=f"saving {tarball} failed: {e.strerror}")
    removed, kept, problem = [], [], ""
    for path in found:
        try:
            shutil.rmtree(repo.root / path)
        except OSError as e:
            kept.append(path)
            problem = f"removing it failed: {e.strerror}"
        else:
            removed.append(path)
    return SetAside(tuple(removed), tarball, tuple(kept), problem)


def refuse_undeclared_gitlinks(repo: Repository, base: str, tree: str, tarball: Path) -> str | None:
    """Why ``tree`` must not be committed on top of ``base``, or ``None``.

    A gitlink that ``.gitmodules`` (in ``tree``) does not declare is a nested repository a
    step's ``git add`` picked up: a checkout elsewhere could not fill it. Its folder is
    saved to ``tarball`` and removed, so the step's rollback leaves the tree clean, and the
    gitlink is taken out of the index: a step committed as failed (``on-failure:
    continue``), or one whose action had already failed, never commits it either.
    """
    added = repo.added_gitlinks(base, tree)
    if not added:
        return None
    undeclared = sorted(set(added) - repo.declared_submodules(tree))
    if not undeclared:
        return None
    present = [p for p in undeclared if (repo.root / p / ".git").exists()]
    aside = set_aside_repositories(repo, tarball, present)
    repo.unstage_new(undeclared)  # whatever the step's on-failure, never in a checkpoint
    saved = f"; {aside.describe()}" if present else ""
    return (
        f"the step would commit {_names(undeclared)} as a nested repository (a gitlink, "
        "mode 160000) that .gitmodules does not declare, which no other checkout could fill"
        f"{saved}. Declare it with `git submodule add URL PATH`, or remove its .git folder "
        "to commit its files"
    )
