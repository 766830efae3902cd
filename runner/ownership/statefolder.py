"""The state folder (``.git/runner``) staying what the run left, whatever its commands do.

The state folder is the run's own, and the journal in it is what makes a crash recoverable.
A plan command may delete it, replace the journal or ``logs/``, or take its write access
away; :meth:`runner.journal.Journal.repair` asks :func:`find_damage` after every action
and gate and, if anything is found, makes the folder again (:func:`give_back_access`, then
``StateDir.ensure``) and rewrites the journal from the events it holds in memory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from runner.journal import StateDir

__all__ = ["find_damage", "git_dir_gone", "give_back_access"]


def find_damage(
    state: StateDir,
    journal_fd: int,
    written: str,
    kept: Mapping[Path, bytes] | None = None,
    lock_fd: int | None = None,
) -> list[str]:
    """What a command did to the state folder, one phrase each (empty: nothing).

    ``journal_fd`` is the run's open journal and ``written`` what it wrote there: a journal
    file that is not that file, or does not hold exactly that, was deleted or changed.
    ``kept``: the other files a recovery reads (the ignored-files snapshot), and their bytes.
    ``lock_fd`` holds the run lock: a ``lock`` file that is not that file was deleted or
    replaced, and a second run could take the new one while this one runs.
    """
    if not state.root.is_dir():
        return ["deleted it"]
    damage = []
    if _locked_out(state.root):
        damage.append("made it unwritable")
    folders = (state.logs, state.rollbacks, state.runs, state.tmp)
    if gone := [f.name for f in folders if not f.is_dir()]:
        damage.append(f"deleted or replaced {'/, '.join(gone)}/")
    try:
        same = state.journal.stat().st_ino == os.fstat(journal_fd).st_ino
        intact = same and state.journal.read_text(encoding="utf-8") == written
    except OSError:
        intact = False
    if not intact:
        damage.append(f"deleted or changed {state.journal.name}")
    for path, data in (kept or {}).items():
        try:
            same_bytes = path.read_bytes() == data
        except OSError:
            same_bytes = False
        if not same_bytes:
            damage.append(f"deleted or changed {path.name}")
    if lock_fd is not None and not _same_file(state.root / "lock", lock_fd):
        damage.append("deleted or replaced lock")
    return damage


def _same_file(path: Path, fd: int) -> bool:
    try:
        st, held = path.stat(), os.fstat(fd)
    except OSError:
        return False
    return (st.st_ino, st.st_dev) == (held.st_ino, held.st_dev)


def give_back_access(state: StateDir) -> None:
    """Owner read, write and search on the state folders a command locked us out of."""
    for folder in (state.root, state.logs, state.rollbacks, state.runs, state.tmp):
        try:
            if folder.is_dir() and _locked_out(folder):
                folder.chmod(folder.stat().st_mode | 0o700)
        except OSError:
            continue  # StateDir.ensure says what is still wrong


def _locked_out(folder: Path) -> bool:
    """Whether the owner lost access to ``folder``: by its mode bits, which say it for
    root too (root passes ``os.access``; the next user of the repository may not)."""
    return folder.stat().st_mode & 0o700 != 0o700


def git_dir_gone(state: StateDir, who: str) -> str | None:
    """Why the state folder cannot be made again when the git directory that holds it is
    no longer a folder (a command replaced ``.git`` by a gitfile, moved or deleted it), with
    what puts it back; ``None`` when the git directory is still a folder."""
    git_dir = state.root.parent
    if git_dir.is_dir():
        return None
    target = _gitfile_target(git_dir)
    fix = f"put the repository's git directory back at {git_dir}"
    if target is not None and (target / "HEAD").exists():
        what = f"replaced by a file pointing at {target}"
        fix = f"`rm {git_dir} && mv {target} {git_dir}`"
    elif git_dir.exists() or git_dir.is_symlink():
        what = "replaced by something that is not a folder"
    else:
        what = "deleted or moved"
    return (
        f"{who} left no git directory at {git_dir}: it was {what}, and runner's state folder "
        "and journal were in it. Nothing was taken back: the step's changes are still in the "
        f"tree. Put the git directory back ({fix}), then `runner run` takes the step back"
    )


def _gitfile_target(path: Path) -> Path | None:
    """The folder a gitfile (``gitdir: PATH``) names, or ``None``."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 4096:
            return None
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None
    target = Path(text.removeprefix("gitdir:").strip())
    return target if target.is_absolute() else path.parent / target
