"""The yardstick of "nothing of the user's changed": a checksum of every file of a work tree.

Ignored files are included (``.env``, ``venv/``): they are the user's as much as tracked ones.
Only ``.git`` is left out; a symlink counts by its target string, not what it points at.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["changed_outside", "tree_checksums"]


def tree_checksums(root: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``root`` except ``.git``."""
    sums: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if here == root and ".git" in dirs:
            dirs.remove(".git")
        for name in files:
            path = here / name
            data = str(path.readlink()).encode() if path.is_symlink() else path.read_bytes()
            sums[path.relative_to(root).as_posix()] = hashlib.sha256(data).hexdigest()
    return sums


def changed_outside(
    before: dict[str, str], after: dict[str, str], owned: set[str] | frozenset[str] = frozenset()
) -> list[str]:
    """Paths, not in ``owned``, that appeared, vanished or changed between two checksums."""
    paths = before.keys() | after.keys()
    return sorted(p for p in paths if p not in owned and before.get(p) != after.get(p))
