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
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from runner.errors import GitError, RollbackIncomplete
from runner.git import Repository
from runner.journal import Journal, StateDir
from runner.ownership.bulky import LARGE_FILE_BYTES, move_aside
from runner.ownership.flags import (
    FlagSnapshot,
    keep_flags,
    read_flags,
    real_parents,
    snapshot_flags,
)
from runner.ownership.ignored import ignored_paths, snapshot_ignored
from runner.pathquote import quote_path

__all__ = [
    "Changes",
    "Discarded",
    "RunPaths",
    "SetAside",
    "collect_changes",
    "copies_notice",
    "discard_changes",
    "give_back_flags",
    "ignored_paths",
    "is_ignored_at_start",
    "keep_user_copies",
    "moved_notice",
    "set_aside",
    "snapshot_ignored",
    "start_run",
]

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
    flags: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # before the restore
    moved: tuple[str, ...] = ()  # too large or not regular files: moved into ``moved_to``
    moved_to: Path | None = None


@dataclass(slots=True)
class RunPaths:
    """What one run found at its start: the ignored paths and the flagged index entries."""

    ignored: frozenset[str]
    flags: FlagSnapshot | None = None

    def notices(self) -> list[str]:
        """The preflight's word on flagged entries (nothing when there are none)."""
        if self.flags is None or not self.flags.entries:
            return list(self.flags.notes) if self.flags else []
        shown = _shown([f.path for f in self.flags.entries])
        return [
            f"{len(self.flags.entries)} index entr(ies) marked assume-unchanged or skip-worktree "
            f"({shown}): runner never stages them and keeps their content byte for byte (a "
            "rollback that must restore one saves a copy first and says where)",
            *self.flags.notes,
        ]

    def check_staged(self, repo: Repository, changed: Sequence[str]) -> str | None:
        """After a step's staging: take back what it must not have touched; the step's
        failure message, or ``None``.

        ``changed`` (the paths the staged tree changes) is all a step that keeps to its own
        files costs: a set lookup per path, plus one ``git ls-files -v -s`` (flags set or
        cleared by the step) and a ``stat`` per flagged entry.
        """
        problems: list[str] = []
        if swallowed := [p for p in changed if is_ignored_at_start(p, self.ignored)]:
            repo.unstage_new(swallowed)
            problems.append(
                f"the step staged {len(swallowed)} file(s) ignored when the run started "
                f"({_shown(swallowed)}); runner never commits or deletes them: unstaged and "
                "left on disk as they are (did the step change a .gitignore?)"
            )
        if self.flags is not None and (flagged := self.flags.check(repo, who="the step")):
            problems.append(flagged)
        return "; ".join(problems) or None

    def check_flags(self, repo: Repository, who: str) -> str | None:
        """After the gates, as after the action: the flagged entries as the run found them."""
        return None if self.flags is None else self.flags.check(repo, who=who)


def start_run(
    repo: Repository,
    state: StateDir,
    journal: Journal,
    run_id: str,
    *,
    recovers: str | None = None,
) -> RunPaths:
    """The preflight's look: snapshot the ignored paths (kept for a recovery) and the
    flagged index entries, keeping a copy of each flagged file the user has edited.

    ``recovers``: the id of the interrupted run just recovered; its flagged files are given
    back from its snapshot before a new one replaces it.
    """
    ignored = snapshot_ignored(repo, state, journal, run_id)
    flags = snapshot_flags(repo, state, run_id=run_id, recovers=recovers)
    return RunPaths(frozenset(ignored), flags)


def give_back_flags(repo: Repository, state: StateDir, run_id: str, done: Discarded) -> list[str]:
    """After a rollback (its revert commits made): the flags the restored paths had are set
    again, and when ``run_id`` is the run that took the flagged snapshot, its flagged files get
    their bytes back (a step's overwrite of one is the step's to undo); notices."""
    keep_flags(repo, done.flags)
    snap = read_flags(state, run_id)
    return snap.give_back(repo) if snap is not None else []


def is_ignored_at_start(path: str, ignored: frozenset[str] | None) -> bool:
    """Whether ``path`` is, or lies in a folder (``dir/``) that is, in ``ignored``; with no
    snapshot (``None``) every path not tracked may be the user's, so every one is."""
    if ignored is None:
        return True
    if path in ignored or path + "/" in ignored:
        return True
    end = path.find("/")
    while end != -1:
        if path[: end + 1] in ignored:
            return True
        end = path.find("/", end + 1)
    return False


def collect_changes(
    repo: Repository, base: str, *, ignored: frozenset[str] | None, staged: bool
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
    ignored: frozenset[str] | None,
    staged: bool = False,
    restore_to: str | None = None,
) -> Discarded:
    """Save, then discard, every change the run made since ``base``, path by path.

    The patch (``base`` → the working tree, new files included) is written first, then the
    user's copies (see :func:`_keep_user_copies`) into ``<patch stem>-files/``; only then
    are the paths restored, as in ``restore_to`` (default ``base``; a revert-mode rollback
    restores the uncommitted part alone, to HEAD, and lets ``git revert`` do the rest). The
    branch is not moved. An ``OSError`` (a full disk) is raised before anything is
    discarded; :class:`RollbackIncomplete` when the restored paths are not then as in the
    target (the journal still holds the rollback, so the next run tries it again).
    """
    aside_in = patch.with_name(f"{patch.stem}-aside")
    aside = () if staged else move_aside(repo, base, aside_in)
    changes = collect_changes(repo, base, ignored=ignored, staged=staged)
    saved = repo.save_tree_patch(base, patch, cached=staged)
    copies_in = patch.with_name(f"{patch.stem}-files")
    copied = _keep_user_copies(repo, base, changes, copies_in)
    flags = repo.index_flags()
    if restore_to is not None and restore_to != base:
        changes = collect_changes(repo, restore_to, ignored=ignored, staged=staged)
        # A hidden edit (copied above) would stop `git revert`: it goes back to HEAD too.
        hidden = [p for p in copied if p in flags and p not in changes.paths]
        changes = replace(changes, present=changes.present + tuple(hidden))
    for rel in set(changes.present) & flags.keys():  # a checkout skips skip-worktree paths
        repo.set_flags(rel, assume=False, skip=False)
    target = restore_to or base
    try:
        repo.restore_literal(target, changes.present, changes.added)
    except GitError as e:
        raise RollbackIncomplete(
            _not_restored([str(e)], target, patch, copies_in, copied)
        ) from None
    keep_flags(repo, flags)
    if wrong := repo.literal_differences(target, changes.present, changes.added):
        raise RollbackIncomplete(_not_restored(wrong, target, patch, copies_in, copied))
    return Discarded(
        saved.files,
        copied,
        copies_in,
        saved.may_leave_behind or changes.nested,
        flags,
        moved=aside,
        moved_to=aside_in,
    )


def moved_notice(done: Discarded) -> str:
    """Where the files a patch could not hold went (see :mod:`runner.ownership.bulky`)."""
    shown = _shown(quote_path(p) for p in done.moved)
    return (
        f"{len(done.moved)} file(s) too large for a patch (over {LARGE_FILE_BYTES >> 20} MiB) "
        f"or not regular files ({shown}) were moved, not diffed, to {done.moved_to}/"
    )


@dataclass(frozen=True, slots=True)
class SetAside:
    """What :func:`set_aside` did before a restore of named paths: the user's copies (paths
    under ``copies_in``) and the flags to set again once the paths are restored."""

    copied: tuple[str, ...]
    copies_in: Path
    flags: dict[str, tuple[str, str, str]]

    def notice(self) -> str | None:
        """Where the copies are, or ``None`` when none were needed."""
        if not self.copied:
            return None
        return (
            f"{len(self.copied)} file(s) held content the run had not committed "
            f"({_shown(self.copied)}); a copy of each was saved under {self.copies_in}/ "
            "before the rollback restored it"
        )

    def keep_flags(self, repo: Repository) -> None:
        """The restored paths get their assume-unchanged / skip-worktree marks back."""
        keep_flags(repo, self.flags)


def set_aside(repo: Repository, paths: Sequence[str], dest: Path) -> SetAside:
    """Before ``paths`` are restored (``runner rollback FILE``): copy each flagged one whose
    bytes differ from its index entry (a hidden edit) into ``dest``, and clear the marks (a
    checkout skips skip-worktree paths); :meth:`SetAside.keep_flags` sets them again after."""
    flags = {p: e for p, e in repo.index_flags().items() if p in set(paths)}
    copied: list[str] = []
    for rel, (_tag, _mode, blob) in flags.items():
        path = repo.root / rel
        if not real_parents(repo.root, rel):
            continue
        disk = _blob_id(path, blob)
        if disk is not None and disk != blob:
            copy = dest / rel
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy, follow_symlinks=False)
            copied.append(rel)
        repo.set_flags(rel, assume=False, skip=False)
    return SetAside(tuple(copied), dest, flags)


def keep_user_copies(
    repo: Repository, base: str, present: Sequence[str], absent: Sequence[str], dest: Path
) -> tuple[str, ...]:
    """:func:`_keep_user_copies` for a restore of ``present`` paths to ``base`` and a
    removal of ``absent`` ones from a clean index (``runner rollback FILE...``): the one
    way every command that overwrites files keeps the user's."""
    deleted = frozenset(p for p in present if not repo.path_exists_at("HEAD", p))
    changes = Changes(tuple(present), tuple(absent), deleted, (), nested=False)
    return _keep_user_copies(repo, base, changes, dest)


def copies_notice(copied: Sequence[str], where: Path) -> str:
    """What a command says after it saved the user's copies: which, and where."""
    return (
        f"{len(copied)} file(s) held content the run had not committed ({_shown(copied)}); a "
        f"copy of each was saved under {where}/ before the rollback restored it"
    )


def _keep_user_copies(repo: Repository, base: str, changes: Changes, dest: Path) -> tuple[str, ...]:
    """Copy into ``dest`` every file about to be rewritten whose bytes are not what the run
    committed or staged: a flagged entry's hidden edit, or a file the plan un-tracked that
    is on disk again (ignored, so no diff shows it) unless it equals ``base``'s version.

    Whatever the user made at such a path is kept: a folder with its files (a checkout of
    the path replaces the whole folder), or a file or symlink where a folder of the path
    was (``cfg`` where ``cfg/key`` comes back).
    """
    if not changes.paths:
        return ()
    flagged = {path: blob for _, blob, path in repo.flagged_entries()}
    owned = frozenset(changes.added)
    at_risk: list[str] = []
    for rel in changes.paths:
        path = repo.root / rel
        if _through_symlink(repo.root, rel):
            continue  # read nothing through a symlinked folder (outside the repository)
        if rel in flagged:
            disk = _blob_id(path, flagged[rel])
            if disk is not None and disk != flagged[rel]:
                at_risk.append(rel)
        elif rel in changes.deleted:
            at_risk.extend(_in_the_way(repo, base, rel, owned))
    for rel in dict.fromkeys(at_risk):
        copy = dest / rel
        copy.parent.mkdir(parents=True, exist_ok=True)
        source = repo.root / rel
        if source.is_dir() and not source.is_symlink():
            shutil.copytree(source, copy, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copy2(source, copy, follow_symlinks=False)
    return tuple(dict.fromkeys(at_risk))


def _through_symlink(root: Path, rel: str) -> bool:
    """Whether reaching ``rel`` goes through a symlinked folder. A parent that is a file (the
    user's ``cfg`` where ``cfg/key`` comes back) is no way out: :func:`_in_the_way` keeps it."""
    current = root
    for name in rel.split("/")[:-1]:
        current = current / name
        if current.is_symlink():
            return True
        if not current.is_dir():
            return False
    return False


def _in_the_way(repo: Repository, base: str, rel: str, owned: frozenset[str]) -> list[str]:
    """What the user has on disk at ``rel`` (a path the plan un-tracked), or at one of its
    folders, that restoring ``rel`` as in ``base`` would overwrite; ``owned``: the files the
    run made (a folder of those alone, or such a file, is the run's, not the user's, as is
    a file HEAD holds)."""
    path = repo.root / rel
    found = [
        parent
        for parent in _parents(rel)
        if parent not in owned
        and ((repo.root / parent).is_symlink() or (repo.root / parent).is_file())
        and not repo.path_exists_at("HEAD", parent)  # committed: git holds its bytes
    ]
    if path.is_dir() and not path.is_symlink():
        if _holds_others(repo.root, rel, owned):
            found.append(rel)
    elif path.is_file() or path.is_symlink():
        then = repo.blob(base, rel)
        if _blob_id(path, then) != then:
            found.append(rel)
    return found[:1]  # the outermost: a copy of it holds the rest


def _holds_others(root: Path, rel: str, owned: frozenset[str]) -> bool:
    """Whether folder ``rel`` holds anything but the files in ``owned``."""
    for folder, dirs, files in os.walk(root / rel):
        here = Path(folder).relative_to(root).as_posix()
        links = [d for d in dirs if (Path(folder) / d).is_symlink()]
        if any(f"{here}/{name}" not in owned for name in [*files, *links]):
            return True
    return False


def _parents(rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _not_restored(
    wrong: list[str], target: str, patch: Path, copies_in: Path, copied: tuple[str, ...]
) -> str:
    """The truth when a restore left paths otherwise than the target."""
    copies = f"; the user's copies are under {copies_in}/" if copied else ""
    return (
        f"rollback to {target[:12]} could not complete: {len(wrong)} path(s) are not as in "
        f"{target[:12]} after the restore ({_shown(wrong)}); what was discarded is saved as "
        f"{patch}{copies}. Look with `git status`, put those paths right (something in the "
        "way on disk, a read-only folder), then run `runner run` again to finish the rollback"
    )


def _blob_id(path: Path, like: str) -> str | None:
    """The git blob id of ``path``'s bytes as they are (``like``: an id of the same hash
    kind), or ``None`` when there is no file. Clean filters are not applied: a file they
    would change counts as different, which only errs toward keeping a copy."""
    try:
        data = os.fsencode(path.readlink()) if path.is_symlink() else path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    algo = hashlib.sha256 if len(like) == 64 else hashlib.sha1
    return algo(b"blob %d\0" % len(data) + data).hexdigest()


def _shown(paths: Iterable[str]) -> str:
    items = list(paths)
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return ", ".join(items[:_SHOWN]) + more
