"""Files a patch must not hold, moved aside before a rollback or a leftover save diffs.

A gate that leaves a 3 GB sparse file made ``git diff`` run out of memory while the
leftovers were saved (exit 2, and every later run repeated it); a FIFO or a socket is not
content at all. Before :func:`runner.ownership.paths.discard_changes` stages and diffs, each
changed or untracked path that is not a regular file, symlink or folder, or is larger than
:data:`LARGE_FILE_BYTES`, is renamed into ``<patch stem>-aside/`` next to the patch (a rename
on the same filesystem costs nothing; across filesystems a regular file is copied, and
a special file, which has no content to keep, is removed). The patch then holds the rest.
"""

from __future__ import annotations

import errno
import shutil
import stat
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runner.git import Repository

__all__ = ["LARGE_FILE_BYTES", "move_aside"]

#: Larger changed files are moved aside, not diffed into a patch (50 MiB).
LARGE_FILE_BYTES = 50 * 1024 * 1024


def move_aside(repo: Repository, base: str, dest: Path) -> tuple[str, ...]:
    """Move every changed or untracked path since ``base`` that a patch cannot hold into
    ``dest`` (same relative path); returns them (empty: nothing moved, ``dest`` not made)."""
    candidates = [p for p in repo.untracked_files() if not p.endswith("/")]
    candidates += [p for _, p in repo.index_changes(base)] + repo.unstaged_paths()
    moved = []
    for rel in dict.fromkeys(candidates):
        if _bulky(repo.root / rel):
            _move(repo.root / rel, dest / rel)
            moved.append(rel)
    return tuple(moved)


def _bulky(path: Path) -> bool:
    try:
        st = path.lstat()
    except OSError:
        return False
    if stat.S_ISLNK(st.st_mode) or stat.S_ISDIR(st.st_mode):
        return False
    return not stat.S_ISREG(st.st_mode) or st.st_size > LARGE_FILE_BYTES


def _move(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        src.rename(dst)
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
        if stat.S_ISREG(src.lstat().st_mode):
            shutil.copy2(src, dst)
        src.unlink(missing_ok=True)
