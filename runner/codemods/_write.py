"""A codemod's changes reach the disk all together or not at all.

A codemod decides everything before it writes, but writing can still fail on one file of
many: an immutable file (``chattr +i``), a read-only mount, a file replaced by a folder, a
full disk. The files written before it would then hold half a migration that no checkpoint
describes. So each file's bytes (and mode) are kept before it is touched, and when a write or
a removal fails, everything done so far is put back before the failure is reported.
"""

from __future__ import annotations

import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.errors import ActionNotCarriedOut

__all__ = ["write_all"]


@dataclass(frozen=True, slots=True)
class _Before:
    """A file as it was before the codemod touched it (``data`` None: it did not exist)."""

    path: str
    data: bytes | None
    mode: int = 0o644
    link: str | None = None  # a symlink's target, for a removed symlink


def write_all(root: Path, writes: Sequence[tuple[str, bytes]], removes: Sequence[str] = ()) -> None:
    """Write ``writes`` (path, bytes) and remove ``removes``, all or nothing.

    Raises :class:`ActionNotCarriedOut` naming the file and the reason when one fails, after
    restoring every file already written or removed (the message says if that failed too).
    """
    done: list[_Before] = []
    path, verb = "", "write"
    try:
        for path, data in writes:
            before = _keep(root, path)
            done.append(before)  # before the write: a write cut short is undone too
            (root / path).write_bytes(data)
        verb = "remove"
        for path in removes:
            before = _keep(root, path)
            (root / path).unlink(missing_ok=True)
            done.append(before)
    except OSError as e:
        failed = _restore(root, done)
        msg = f"{path}: cannot {verb} it ({e.strerror or e}); " + (
            "every file the action had changed is back as it was, nothing was changed"
            if not failed
            else f"restoring {', '.join(failed)} failed too: check them with `git status`"
        )
        raise ActionNotCarriedOut(msg) from None


def _keep(root: Path, path: str) -> _Before:
    full = root / path
    try:
        st = full.lstat()
    except FileNotFoundError:
        return _Before(path, None)
    if stat.S_ISLNK(st.st_mode):
        return _Before(path, b"", link=str(full.readlink()))
    return _Before(path, full.read_bytes(), stat.S_IMODE(st.st_mode))


def _restore(root: Path, done: list[_Before]) -> list[str]:
    """Put ``done`` back, newest first; the paths that could not be."""
    failed = []
    for before in reversed(done):
        full = root / before.path
        try:
            if before.link is None and before.data is not None and _holds(full, before.data):
                continue  # the failed write never got to change it
            if before.data is None:
                full.unlink(missing_ok=True)
            elif before.link is not None:
                full.unlink(missing_ok=True)
                full.symlink_to(before.link)
            else:
                full.parent.mkdir(parents=True, exist_ok=True)
                full.write_bytes(before.data)
                full.chmod(before.mode)
        except OSError:
            failed.append(before.path)
    return failed


def _holds(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except OSError:
        return False
