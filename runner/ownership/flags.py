"""Index entries flagged ``assume-unchanged`` / ``skip-worktree``: the user's, kept as found.

Git hides a flagged entry's local edit: ``git add -A`` skips it, ``git status`` is silent, a
checkout overwrites it without a word. So a run takes a snapshot of every flagged entry at
its start (tag, mode, blob, and the bytes of each hidden edit, in memory and in the state
folder), and checks it after the action's staging and after the gates:

- a flag the step cleared, or an entry it re-staged (``git rm --cached . && git add -A``):
  the entry is written back as it was (its blob and its flags), so the user's hidden bytes
  are never staged or committed, and the step fails naming the file;
- a flagged file the step (or a gate) overwrote: put back byte for byte, and the step fails;
- a flag the step set itself: cleared and the path staged, so the rollback sees and takes
  back the edit it hid, and the step fails.

Files are written back only through real folders inside the repository (each parent is
``lstat``-ed; the file is written to a temporary name, ``O_NOFOLLOW``, then renamed over):
a step that replaced a parent folder by a symlink never gets runner to write outside.

After any rollback the flags found on the restored paths are set again; a rollback made by
the run that took the snapshot (or the recovery of that run, after a crash) also gives every
flagged file back its bytes from the snapshot.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from runner.errors import GitError
from runner.git import Repository
from runner.journal import StateDir

__all__ = [
    "FlagSnapshot",
    "Flagged",
    "keep_flags",
    "read_flags",
    "real_parents",
    "snapshot_flags",
]

#: The snapshot in the state folder: ``list.json`` and one copy per hidden edit.
_FOLDER = "flagged-at-start"

_SHOWN = 5

#: The snapshots taken by runs of this process, by state folder and run id: they survive a
#: step that deletes the state folder (a rehearsal's copy has a state folder of its own).
_TAKEN: dict[tuple[str, str], FlagSnapshot] = {}


@dataclass(frozen=True, slots=True)
class Flagged:
    """One flagged index entry as the run found it."""

    path: str
    tag: str  # as `git ls-files -v` shows it: lowercase assume-unchanged, S skip-worktree
    mode: str
    blob: str
    content: bytes | None  # the bytes on disk when they differ from the blob (a hidden edit)
    file_mode: int | None  # the file's permission bits, or None: no regular file on disk
    stamp: tuple[int, int, int] | None

    @property
    def assume(self) -> bool:
        return self.tag.islower()

    @property
    def skip(self) -> bool:
        return self.tag.upper() == "S"

    def wanted(self, repo: Repository) -> bytes | None:
        """The bytes the file must hold (``None``: no regular file to keep)."""
        if self.file_mode is None:
            return None
        return self.content if self.content is not None else repo.blob_bytes(self.blob)


@dataclass(frozen=True, slots=True)
class FlagSnapshot:
    """Every flagged entry of the index when run ``run_id`` started."""

    run_id: str
    entries: tuple[Flagged, ...]
    notes: tuple[str, ...] = ()  # what giving back an interrupted run's snapshot could not do

    def check(self, repo: Repository, *, who: str) -> str | None:
        """After the action's staging or the gates: put the user's flagged entries back and
        undo flags ``who`` set; the step's failure message, or ``None``."""
        now = repo.index_flags()
        problems: list[str] = []
        restaged = []
        for f in self.entries:
            if now.get(f.path) != (f.tag, f.mode, f.blob):
                # In the way (a parent staged as a file or symlink): the step fails all the
                # same, and its rollback writes the entry back from the checkpoint.
                with contextlib.suppress(GitError):
                    repo.set_index_entry(f.path, f.mode, f.blob)
                    repo.set_flags(f.path, assume=f.assume, skip=f.skip)
                restaged.append(f.path)
        if restaged:
            problems.append(
                f"{who} cleared the assume-unchanged or skip-worktree mark of, or re-staged, "
                f"{len(restaged)} file(s) ({_shown(restaged)}); runner never stages their "
                "hidden content: the index entries and marks are put back as they were"
            )
        touched, refused = self._give_back_files(repo, only_changed=True)
        if touched:
            problems.append(
                f"{who} changed {len(touched)} file(s) the index marks assume-unchanged or "
                f"skip-worktree ({_shown(touched)}); runner cannot stage them, so they are put "
                "back byte for byte as they were when the run started"
            )
        if refused:
            problems.append(_refused(who, refused))
        start = {f.path for f in self.entries}
        if new := sorted(p for p in now if p not in start):
            for path in new:
                repo.set_flags(path, assume=False, skip=False)
            repo.stage_new(new)
            problems.append(
                f"{who} marked {len(new)} file(s) assume-unchanged or skip-worktree "
                f"({_shown(new)}), which hides their changes from git; the marks are cleared "
                "so the rollback takes the changes back"
            )
        self.persist_if_lost(repo)
        return "; ".join(problems) or None

    def give_back(self, repo: Repository) -> list[str]:
        """After a rollback of this run: each flagged entry whose index blob is the one the
        run found gets its flags and its bytes back; notices for files it could not write."""
        now = repo.index_flags()  # one call: a sparse checkout may flag many entries
        ours: set[str] = set()  # entries as the run found them: their bytes come back too
        for f in self.entries:
            if now.get(f.path) == (f.tag, f.mode, f.blob):
                ours.add(f.path)
                continue
            entry = repo.index_entry(f.path)
            if entry is None or entry[1:] != (f.mode, f.blob):
                # A step that replaced a parent folder: the checkpoint has the entry back.
                # Any other blob is a rollback to before the run: its version stays.
                if not _at_head(repo, f.path, f.blob):
                    continue
                with contextlib.suppress(GitError):
                    repo.set_index_entry(f.path, f.mode, f.blob)
            with contextlib.suppress(GitError):
                repo.set_flags(f.path, assume=f.assume, skip=f.skip)
                ours.add(f.path)
        _, refused = self._give_back_files(repo, only_changed=False, only=ours)
        if not refused:
            return []
        # The snapshot is replaced by the next run: the hidden edits go where rollbacks keep
        # the user's copies.
        keep = StateDir(repo.git_dir).rollbacks / f"{self.run_id}-flagged-files"
        for f in self.entries:
            if f.path in refused and f.content is not None:
                with contextlib.suppress(OSError):
                    (keep / f.path).parent.mkdir(parents=True, exist_ok=True)
                    (keep / f.path).write_bytes(f.content)
        return [_refused("the rolled-back tree", refused, keep)]

    def _give_back_files(
        self, repo: Repository, *, only_changed: bool, only: set[str] | None = None
    ) -> tuple[list[str], list[str]]:
        touched: list[str] = []
        refused: list[str] = []
        for f in self.entries:
            if f.file_mode is None or (only is not None and f.path not in only):
                continue  # not on disk at the start (a sparse checkout's): nothing to keep
            path = repo.root / f.path
            if only_changed and _stamp(path) == f.stamp:
                continue  # a stat per entry is all an untouched flagged file costs
            want = f.wanted(repo)
            assert want is not None
            parents_real = real_parents(repo.root, f.path)
            if parents_real and _read(path) == want:
                continue
            touched.append(f.path)
            if not parents_real or not _write_inside(repo.root, f.path, want, f.file_mode):
                refused.append(f.path)
        return touched, refused

    def persist_if_lost(self, repo: Repository) -> None:
        """Write the snapshot again if a step deleted the state folder (a recovery needs it)."""
        folder = StateDir(repo.git_dir).root / _FOLDER
        if not (folder / "list.json").is_file():
            with contextlib.suppress(OSError):
                _persist(self, folder)


def snapshot_flags(
    repo: Repository, state: StateDir, *, run_id: str, recovers: str | None
) -> FlagSnapshot:
    """The run's snapshot of the flagged entries. When it recovers run ``recovers`` (whose
    snapshot is still in the state folder), that run's flagged files are given back first:
    its snapshot is only replaced once nothing in it is needed any more."""
    folder = state.root / _FOLDER
    old = read_flags(state) if recovers is not None else None
    notes = old.give_back(repo) if old is not None and old.run_id == recovers else []
    entries: list[Flagged] = []
    for path, (tag, mode, blob) in repo.index_flags().items():
        full = repo.root / path
        try:
            st = full.lstat()
        except OSError:
            st = None
        regular = st is not None and stat.S_ISREG(st.st_mode) and real_parents(repo.root, path)
        data = _read(full) if regular else None
        content = data if data is not None and _blob_id(data, blob) != blob else None
        entries.append(
            Flagged(
                path, tag, mode, blob, content,
                stat.S_IMODE(st.st_mode) if regular and st is not None else None,
                _stamp(full),
            )
        )  # fmt: skip
    snap = FlagSnapshot(run_id, tuple(entries), tuple(notes))
    _TAKEN[str(state.root), run_id] = snap
    _persist(snap, folder)
    return snap


def read_flags(state: StateDir, run_id: str | None = None) -> FlagSnapshot | None:
    """The snapshot of run ``run_id`` (from memory when this process took it), or the one in
    the state folder (``run_id`` ``None``: whichever run took it)."""
    if run_id is not None and (str(state.root), run_id) in _TAKEN:
        return _TAKEN[str(state.root), run_id]
    folder = state.root / _FOLDER
    try:
        listed = json.loads((folder / "list.json").read_text())
        entries = []
        for e in listed["entries"]:
            content = (folder / "copies" / e["path"]).read_bytes() if e["copied"] else None
            stamp = tuple(e["stamp"]) if e["stamp"] else None
            entries.append(
                Flagged(e["path"], e["tag"], e["mode"], e["blob"], content, e["file_mode"],
                        stamp)
            )  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if run_id is not None and listed.get("run") != run_id:
        return None
    return FlagSnapshot(str(listed.get("run")), tuple(entries))


def keep_flags(repo: Repository, before: dict[str, tuple[str, str, str]]) -> None:
    """After a rollback: set again the flags ``before`` had on paths still in the index (a
    checkout of a path drops them; the docs promise them kept)."""
    now = repo.index_flags()
    for path, (tag, _mode, _blob) in before.items():
        if now.get(path, ("",))[0] == tag:
            continue
        entry = repo.index_entry(path)
        if entry is not None and entry[0] != tag:
            repo.set_flags(path, assume=tag.islower(), skip=tag.upper() == "S")


def _persist(snap: FlagSnapshot, folder: Path) -> None:
    """Write the new snapshot beside the old one, then swap: never a moment without one."""
    fresh = folder.with_name(f"{_FOLDER}.new")
    shutil.rmtree(fresh, ignore_errors=True)
    listed = []
    for f in snap.entries:
        if f.content is not None:
            copy = fresh / "copies" / f.path
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(f.content)
        listed.append(
            {"path": f.path, "tag": f.tag, "mode": f.mode, "blob": f.blob,
             "copied": f.content is not None, "file_mode": f.file_mode, "stamp": f.stamp}
        )  # fmt: skip
    fresh.mkdir(parents=True, exist_ok=True)
    (fresh / "list.json").write_text(json.dumps({"run": snap.run_id, "entries": listed}))
    old = folder.with_name(f"{_FOLDER}.old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    fresh.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def real_parents(root: Path, rel: str) -> bool:
    """Whether every parent folder of ``rel`` is a real folder (not a symlink) or absent."""
    current = root
    for name in rel.split("/")[:-1]:
        current = current / name
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            return True  # created on the way, inside the repository
        except OSError:
            return False
        if not stat.S_ISDIR(st.st_mode):
            return False
    return True


def _write_inside(root: Path, rel: str, data: bytes, file_mode: int) -> bool:
    """Write ``data`` at ``rel`` through real folders only; the old file is replaced in one
    rename once the new bytes are on disk. ``False``: something in the way (not written)."""
    parts = rel.split("/")
    current = root
    try:
        for name in parts[:-1]:
            current = current / name
            try:
                st = os.lstat(current)
            except FileNotFoundError:
                current.mkdir()
                continue
            if not stat.S_ISDIR(st.st_mode):
                return False
        target = current / parts[-1]
        tmp = current / f".{parts[-1]}.runner-put-back"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, file_mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, file_mode)  # noqa: PTH101 - the umask must not narrow it
        try:
            tmp.replace(target)
        except OSError:
            tmp.unlink(missing_ok=True)
            return False
    except OSError:
        return False
    return True


def _at_head(repo: Repository, path: str, blob: str) -> bool:
    try:
        return repo.blob("HEAD", path) == blob
    except GitError:
        return False


def _read(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        try:
            return f.read()
        except OSError:
            return None


def _blob_id(data: bytes, like: str) -> str:
    algo = hashlib.sha256 if len(like) == 64 else hashlib.sha1
    return algo(b"blob %d\0" % len(data) + data).hexdigest()


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.lstat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _refused(who: str, paths: list[str], keep: Path | None = None) -> str:
    where = keep or ".git/runner/flagged-at-start/copies"
    return (
        f"{len(paths)} file(s) the index marks assume-unchanged or skip-worktree "
        f"({_shown(paths)}) could not be put back: in {who} a parent folder is a symlink or a "
        "file, and runner never writes through one (outside the repository, maybe); a hidden "
        f"edit of each is kept under {where}/, the rest is in the index"
    )


def _shown(paths: Iterable[str]) -> str:
    items = list(paths)
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return ", ".join(items[:_SHOWN]) + more
