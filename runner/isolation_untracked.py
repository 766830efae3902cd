"""Files a step un-tracked but left on disk, kept as it left them while its culprits are sought.

A step may stop tracking a file and keep it (``git rm --cached .env`` and a ``.gitignore``
line): the file leaves the tree, not the disk. Each probe of :mod:`runner.isolation_run`
switches the working tree between trees, and a tree without the file deletes it from disk,
one with it writes the checkpoint's bytes over it: after the search the file would be gone,
or the checkpoint's, and no patch holds the bytes the step left (they are in no tree). So
they are copied aside before the first probe (into the run's rollbacks folder, where a crash
leaves them) and written back after every switch of the tree; the copy is dropped when the
search is over.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.gitsubset import PathChange

__all__ = ["UntrackedKept"]


@dataclass(frozen=True, slots=True)
class UntrackedKept:
    """The files the step un-tracked and left on disk, and where their copies are."""

    root: Path
    folder: Path
    paths: tuple[str, ...]

    @classmethod
    def capture(cls, root: Path, changes: Mapping[str, PathChange], folder: Path) -> UntrackedKept:
        """Copy aside each path the change deletes that is still on disk (a file or a link)."""
        paths = tuple(
            p for p, c in changes.items() if c.deleted and _is_file(root / p)
        )  # fmt: skip
        for path in paths:
            dest = folder / path
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / path, dest, follow_symlinks=False)
        return cls(root, folder, paths)

    def put_back(self) -> None:
        """Each file as the step left it, whatever the last switch of the tree wrote there."""
        for path in self.paths:
            target = self.root / path
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)  # a probe's tree has a folder there: the run's own
            elif target.exists() or target.is_symlink():
                target.unlink()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.folder / path, target, follow_symlinks=False)

    def drop(self) -> None:
        """The search is over and the files are back: the copies go."""
        if self.paths:
            shutil.rmtree(self.folder, ignore_errors=True)


def _is_file(path: Path) -> bool:
    return path.is_symlink() or path.is_file()
