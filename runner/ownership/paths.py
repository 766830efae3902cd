"""Which files a rollback may restore, and how it keeps the user's copies.

A run owns the paths its own steps changed; every other file is the user's. So a rollback
never resets the whole tree: it restores exactly the paths that differ between its target
and the index or the working tree (the rolled-back commits, what the current step staged or
wrote, the files it created), leaving every other index entry, its flags
(``assume-unchanged``, ``skip-worktree``) and its bytes on disk as they are. Three kinds of
file are the user's even inside that set, and get special care:

- files ignored when the run started (``.env``, ``venv/``): never staged, committed or
  deleted; a step that un-ignores them (an edit of ``.gitignore``) fails, and its rollback
  unstages them and leaves them on disk;
- index entries flagged ``assume-unchanged`` / ``skip-worktree``: git hides their local
  edits, so a whole-tree reset would overwrite them without a word; they are named at
  preflight and kept byte for byte, and a step that changes one fails and gives it back;
- a file whose bytes are not what the run committed or staged for it (a path the plan
  un-tracked, which the user has filled since): copied into the rollback's saved folder
  before it is overwritten, and the rollback says where.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runner.git import Repository
from runner.journal import StateDir
from runner.ownership.bulky import LARGE_FILE_BYTES, move_aside
from runner.pathquote import quote_path

__all__ = [
    "Changes",
    "Discarded",
    "RunPaths",
    "collect_changes",
    "discard_changes",
    "ignored_paths",
    "is_ignored_at_start",
    "moved_notice",
    "start_run",
]

#: The files and folders (``dir/``) ignored when the run started, NUL-separated, in the state
#: folder: a recovery after a crash reads the snapshot of the run it finishes.
_IGNORED_SNAPSHOT = "ignored-at-start"

#: Where preflight keeps a copy of each flagged file whose bytes differ from its index entry
#: (the user's hidden local edit), so a step that overwrites one cannot lose it.
_FLAGGED_COPIES = "flagged-at-start"

_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Changes:
    """What a rollback to ``base`` must restore: ``present`` paths come back as in ``base``,
    ``added`` ones (absent from ``base``) are removed; ``deleted`` paths are in ``base`` but
    not in the index (a file the plan un-tracked, maybe the user's now); ``kept``: files
    ignored at the start that a step had staged, now unstaged and left on disk."""

    present: tuple[str, ...]
    added: tuple[str, ...]
    deleted: frozenset[str]
    kept: tuple[str, ...]
    nested: bool  # an untracked nested repository: beyond a path restore, checked after

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path the rollback rewrites or removes."""
        return self.present + self.added


@dataclass(frozen=True, slots=True)
class Discarded:
    """What :func:`discard_changes` did: the patch's file count, the user's copies saved
    (repository-relative paths under ``copies_in``), and whether a check must follow."""

    files: int
    copied: tuple[str, ...]
    copies_in: Path
    may_leave_behind: bool
    moved: tuple[str, ...] = ()  # too large or not regular files: moved into ``moved_to``
    moved_to: Path | None = None


@dataclass(frozen=True, slots=True)
class _Flagged:
    path: str
    tag: str
    index_blob: str
    stamp: tuple[int, int, int] | None  # None: no file on disk (a sparse checkout's)
    disk_blob: str | None
    copy: Path | None  # the user's edit, saved at preflight


@dataclass(slots=True)
class RunPaths:
    """What one run found at its start: the ignored paths and the flagged index entries."""

    ignored: frozenset[str]
    flagged: tuple[_Flagged, ...] = field(default=())

    def notices(self) -> list[str]:
        """The preflight's word on flagged entries (nothing when there are none)."""
        if not self.flagged:
            return []
        shown = _shown([f.path for f in self.flagged])
        return [
            f"{len(self.flagged)} index entr(ies) marked assume-unchanged or skip-worktree "
            f"({shown}): runner never stages them and keeps their content byte for byte (a "
            "rollback that must restore one saves a copy first and says where)"
        ]

    def check_staged(self, repo: Repository, changed: Sequence[str]) -> str | None:
        """After a step's staging: take back what it must not have touched; the step's
        failure message, or ``None``.

        ``changed`` (the paths the staged tree changes) is all a step that keeps to its own
        files costs: a set lookup per path, plus a ``stat`` per flagged entry.
        """
        problems: list[str] = []
        if swallowed := [p for p in changed if is_ignored_at_start(p, self.ignored)]:
            repo.unstage_new(swallowed)
            problems.append(
                f"the step staged {len(swallowed)} file(s) ignored when the run started "
                f"({_shown(swallowed)}); runner never commits or deletes them: unstaged and "
                "left on disk as they are (did the step change a .gitignore?)"
            )
        if touched := self._restore_flagged(repo):
            problems.append(
                f"the step changed {len(touched)} file(s) the index marks assume-unchanged or "
                f"skip-worktree ({_shown(touched)}); runner cannot stage them, so they are put "
                "back byte for byte as they were when the run started"
            )
        return "; ".join(problems) or None

    def _restore_flagged(self, repo: Repository) -> list[str]:
        touched: list[str] = []
        # Only files on disk at the start: a sparse checkout's skip-worktree entries that
        # are not checked out may be many, and a stat of each at every step is not free.
        for f in self.flagged:
            path = repo.root / f.path
            if f.disk_blob is None or _stamp(path) == f.stamp:
                continue
            if _blob_id(path, f.index_blob) == f.disk_blob:
                continue
            touched.append(f.path)
            path.unlink(missing_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            if f.copy:
                shutil.copy2(f.copy, path)
            else:
                path.write_bytes(repo.blob_bytes(f.index_blob))
        return touched


def start_run(repo: Repository, state: StateDir) -> RunPaths:
    """The preflight's look: snapshot the ignored paths (kept for a recovery) and the
    flagged index entries, keeping a copy of each flagged file the user has edited."""
    ignored = repo.ignored_untracked()
    snapshot = state.root / _IGNORED_SNAPSHOT
    snapshot.write_bytes(b"\0".join(p.encode() for p in ignored))
    copies = state.root / _FLAGGED_COPIES
    shutil.rmtree(copies, ignore_errors=True)
    flagged: list[_Flagged] = []
    for tag, blob, rel in repo.flagged_entries():
        path = repo.root / rel
        disk = _blob_id(path, blob)
        copy = None
        if disk is not None and disk != blob and path.is_file() and not path.is_symlink():
            copy = copies / rel
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
        flagged.append(_Flagged(rel, tag, blob, _stamp(path), disk, copy))
    return RunPaths(frozenset(ignored), tuple(flagged))


def ignored_paths(state: StateDir) -> frozenset[str]:
    """The files ignored when the last run started (a step may have changed ``.gitignore``
    since). Files ignored now need no list: git never shows them as untracked, and a
    rollback only restores paths git shows as changed."""
    snapshot = state.root / _IGNORED_SNAPSHOT
    try:
        return frozenset(p for p in snapshot.read_bytes().decode().split("\0") if p)
    except OSError:
        return frozenset()


def is_ignored_at_start(path: str, ignored: frozenset[str]) -> bool:
    """Whether ``path`` is, or lies in a folder (``dir/``) that is, in ``ignored``."""
    if path in ignored or path + "/" in ignored:
        return True
    end = path.find("/")
    while end != -1:
        if path[: end + 1] in ignored:
            return True
        end = path.find("/", end + 1)
    return False


def collect_changes(
    repo: Repository, base: str, *, ignored: frozenset[str], staged: bool
) -> Changes:
    """The paths a rollback to ``base`` restores; files the step created are staged on the
    way (so the patch holds them), files ignored at the start are unstaged, never listed.

    ``staged``: the working tree is known to equal the index, so only the index is asked.
    """
    nested = False
    if not staged:
        new: list[str] = []
        for p in repo.untracked_files():
            if p.endswith("/"):
                nested = True  # a nested repository: git cannot take it back path by path
            elif not is_ignored_at_start(p, ignored):
                new.append(p)
        repo.stage_new(new)
    status = repo.index_changes(base)
    kept = [p for s, p in status if s == "A" and is_ignored_at_start(p, ignored)]
    repo.unstage_new(kept)
    added = [p for s, p in status if s == "A" and p not in set(kept)]
    present = [p for s, p in status if s != "A"]
    if not staged:
        listed = {p for _, p in status}
        present += [p for p in repo.unstaged_paths() if p not in listed]
    deleted = frozenset(p for s, p in status if s == "D")
    return Changes(tuple(present), tuple(added), deleted, tuple(kept), nested)


def discard_changes(
    repo: Repository,
    base: str,
    patch: Path,
    *,
    ignored: frozenset[str],
    staged: bool = False,
    restore_to: str | None = None,
) -> Discarded:
    """Save, then discard, every change the run made since ``base``, path by path.

    The patch (``base`` → the working tree, new files included) is written first, then the
    user's copies (see :func:`_keep_user_copies`) into ``<patch stem>-files/``; only then
    are the paths restored, as in ``restore_to`` (default ``base``; a revert-mode rollback
    restores the uncommitted part alone, to HEAD, and lets ``git revert`` do the rest). The
    branch is not moved. An ``OSError`` (a full disk) is raised before anything is
    discarded.
    """
    aside_in = patch.with_name(f"{patch.stem}-aside")
    aside = () if staged else move_aside(repo, base, aside_in)
    changes = collect_changes(repo, base, ignored=ignored, staged=staged)
    saved = repo.save_tree_patch(base, patch, cached=staged)
    copies_in = patch.with_name(f"{patch.stem}-files")
    copied = _keep_user_copies(repo, base, changes, copies_in)
    if restore_to is not None and restore_to != base:
        changes = collect_changes(repo, restore_to, ignored=ignored, staged=staged)
    repo.restore_literal(restore_to or base, changes.present, changes.added)
    return Discarded(
        saved.files, copied, copies_in, saved.may_leave_behind or changes.nested, aside, aside_in
    )


def moved_notice(done: Discarded) -> str:
    """Where the files a patch could not hold went (see :mod:`runner.ownership.bulky`)."""
    shown = _shown(quote_path(p) for p in done.moved)
    return (
        f"{len(done.moved)} file(s) too large for a patch (over {LARGE_FILE_BYTES >> 20} MiB) "
        f"or not regular files ({shown}) were moved, not diffed, to {done.moved_to}/"
    )


def _keep_user_copies(repo: Repository, base: str, changes: Changes, dest: Path) -> tuple[str, ...]:
    """Copy into ``dest`` every file about to be rewritten whose bytes are not what the run
    committed or staged: a flagged entry's hidden edit, or a file the plan un-tracked that
    is on disk again (ignored, so no diff shows it) unless it equals ``base``'s version."""
    if not changes.paths:
        return ()
    flagged = {path: blob for _, blob, path in repo.flagged_entries()}
    at_risk: list[str] = []
    for rel in changes.paths:
        path = repo.root / rel
        if rel in flagged:
            disk = _blob_id(path, flagged[rel])
            if disk is not None and disk != flagged[rel]:
                at_risk.append(rel)
        elif rel in changes.deleted and (path.is_file() or path.is_symlink()):
            then = repo.blob(base, rel)
            if _blob_id(path, then) != then:
                at_risk.append(rel)
    for rel in at_risk:
        copy = dest / rel
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo.root / rel, copy, follow_symlinks=False)
    return tuple(at_risk)


def _blob_id(path: Path, like: str) -> str | None:
    """The git blob id of ``path``'s bytes as they are (``like``: an id of the same hash
    kind), or ``None`` when there is no file. Clean filters are not applied: a file they
    would change counts as different, which only errs toward keeping a copy."""
    try:
        data = str(path.readlink()).encode() if path.is_symlink() else path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    algo = hashlib.sha256 if len(like) == 64 else hashlib.sha1
    return algo(b"blob %d\0" % len(data) + data).hexdigest()


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.lstat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _shown(paths: Iterable[str]) -> str:
    items = list(paths)
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return ", ".join(items[:_SHOWN]) + more
