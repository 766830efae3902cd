"""The repository's own setup files, kept byte for byte while plan commands run.

A plan command may ``git config`` anything: ``core.hooksPath`` (the user's next commit
runs other hooks), ``core.worktree`` / ``core.bare`` (their next ``git status`` looks at
another folder), ``extensions.worktreeConfig`` with a ``--worktree`` value in
``config.worktree``, ``include.path``, ``core.sparseCheckout``, ``core.excludesFile``,
``remote.*``. Rather than a list of keys that matter (there is no closed one), the files
that hold the repository's setup are snapshotted when a step starts and compared after
each command; a change is put back byte for byte and named:

- ``config`` and ``config.worktree`` (this worktree's and the main one's), and every file
  they include that lies inside the git directory;
- ``info/exclude``, ``info/attributes``, ``info/sparse-checkout``;
- the hooks in ``hooks/`` (added, changed or removed).

The files are only read again when their inode, mtime, size or mode changed (git writes
config through a lock file renamed into place), so an unchanged setup costs a few stats.
Config outside the git directory (``~/.gitconfig``, a file included from elsewhere) is the
user's: a change there that alters a key runner depends on is named with the command that
puts it back, never rewritten (see :func:`outside_changes`).
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from runner.git import Repository

__all__ = ["KEYS", "SetupFiles", "outside_changes"]

#: Keys that change what git (and runner's pinned calls' neighbours) do with the
#: repository; an effective value that moved and could not be put back is named.
KEYS = (
    "core.worktree",
    "core.bare",
    "core.hookspath",
    "core.sparsecheckout",
    "core.excludesfile",
    "core.attributesfile",
    "extensions.worktreeconfig",
)

_Stamp = tuple[int, int, int, int]  # inode, mtime, size, mode


@dataclass(frozen=True, slots=True)
class _File:
    stamp: _Stamp | None  # None: absent
    data: bytes | None


@dataclass(frozen=True, slots=True)
class SetupFiles:
    """The setup files as they were, and the config entries git read from them."""

    files: tuple[tuple[Path, _File], ...]
    hooks: frozenset[str]
    entries: tuple[tuple[str, str, str, str], ...]  # (scope, origin, key, value)
    watched: tuple[tuple[Path, _Stamp | None], ...]  # config elsewhere: looked at, not kept

    @classmethod
    def capture(cls, repo: Repository, *, like: SetupFiles | None = None) -> SetupFiles:
        """The files now; with ``like``, files whose stamp did not move are not read again
        and git's config is not listed again when none moved."""
        entries = tuple(repo.config_entries()) if like is None else like.entries
        paths, elsewhere = _paths(repo, entries)
        hooks_dir = repo.common_dir / "hooks"
        hooks = frozenset(_hook_names(hooks_dir))
        paths += [hooks_dir / name for name in sorted(hooks | (like.hooks if like else hooks))]
        old = dict(like.files) if like else {}
        files = []
        for path in dict.fromkeys(paths):
            stamp = _stamp(path)
            was = old.get(path)
            files.append((path, was if was and was.stamp == stamp else _read(path, stamp)))
        watched = tuple((p, _stamp(p)) for p in dict.fromkeys(elsewhere))
        if like is not None and (any(f != old.get(p) for p, f in files) or watched != like.watched):
            entries = tuple(repo.config_entries())
        return cls(tuple(files), hooks, entries, watched)

    def moved(self, now: SetupFiles) -> list[Path]:
        """The files whose bytes (or presence, or mode) differ in ``now``."""
        old = dict(self.files)
        return [p for p, f in now.files if _differs(old.get(p, _File(None, None)), f)]

    def describe(self, repo: Repository, now: SetupFiles, path: Path) -> str:
        """What changed in ``path``, for the user: the config entries, else the file."""
        added = Counter(e[1:] for e in now.entries) - Counter(e[1:] for e in self.entries)
        gone = Counter(e[1:] for e in self.entries) - Counter(e[1:] for e in now.entries)
        said = [f"{k} = {v!r} added" for o, k, v in added if _origin(repo, o) == path]
        said += [f"{k} = {v!r} removed" for o, k, v in gone if _origin(repo, o) == path]
        was = dict(self.files).get(path)
        shown = _shown(repo, path)
        if said:
            return f"{shown}: {', '.join(said)}"
        if was is None or was.stamp is None:
            return f"{shown} was created"
        if now_file := dict(now.files).get(path):
            return f"{shown} was deleted" if now_file.stamp is None else f"{shown} was changed"
        return f"{shown} was changed"

    def put_back(self, paths: list[Path]) -> tuple[dict[Path, str], list[str]]:
        """Each of ``paths`` as it was, byte for byte; returns those that could not be, with
        the reason, and anything else done on the way (a folder moved aside)."""
        old = dict(self.files)
        failed, also = {}, []
        for path in paths:
            try:
                if aside := _restore(path, old.get(path, _File(None, None))):
                    also.append(aside)
            except OSError as e:
                failed[path] = e.strerror or str(e)
        return failed, also

    @staticmethod
    def shown(repo: Repository, path: Path) -> str:
        """``path`` as the user reads it: relative to the work tree where it can be."""
        return _shown(repo, path)


def outside_changes(before: SetupFiles, after: list[tuple[str, str, str, str]]) -> list[str]:
    """The :data:`KEYS` whose effective values differ between ``before`` and ``after``
    (read once the repository's own files were put back): set in a file runner does not
    rewrite. One phrase each, with the command that puts the value back."""
    said = []
    for key in KEYS:
        was = [(o, v) for _, o, k, v in before.entries if k == key]
        now = [(o, v) for _, o, k, v in after if k == key]
        for origin, value in (e for e in now if e not in was):
            where = origin.removeprefix("file:")
            said.append(f"{key} = {value!r} was set in {where}, which runner does not rewrite "
                        f"(`git config --file {where} --unset-all {key}` removes it)")  # fmt: skip
        for origin, value in (e for e in was if e not in now):
            where = origin.removeprefix("file:")
            back = f"git config --file {where} --add {key} {value}"
            said.append(f"{key} = {value!r} was removed from {where}, which runner does not "
                        f"rewrite (`{back}` puts it back)")  # fmt: skip
    return said


def _paths(
    repo: Repository, entries: tuple[tuple[str, str, str, str], ...]
) -> tuple[list[Path], list[Path]]:
    """The repository's own setup files, and the config files elsewhere git reads."""
    dirs = (repo.common_dir, repo.git_dir)
    own = [
        repo.common_dir / "config",
        repo.common_dir / "config.worktree",
        repo.git_dir / "config.worktree",
        repo.common_dir / "info" / "exclude",
        repo.common_dir / "info" / "attributes",
        repo.git_dir / "info" / "sparse-checkout",
    ]
    home = Path(os.environ.get("HOME", "~")).expanduser()
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    global_config = os.environ.get("GIT_CONFIG_GLOBAL")
    elsewhere = [Path(global_config)] if global_config else [home / ".gitconfig"]
    elsewhere.append(xdg / "git" / "config")
    for _, origin, _, _ in entries:
        if (path := _origin(repo, origin)) is not None:
            (own if any(path.is_relative_to(d) for d in dirs) else elsewhere).append(path)
    return own, elsewhere


def _hook_names(folder: Path) -> list[str]:
    try:
        return [e.name for e in os.scandir(folder) if not e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def _stamp(path: Path) -> _Stamp | None:
    try:
        st = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return (st.st_ino, st.st_mtime_ns, -1, st.st_mode)
    return st.st_ino, st.st_mtime_ns, st.st_size, st.st_mode


def _read(path: Path, stamp: _Stamp | None) -> _File:
    """The file's bytes, or a symbolic link's target (a hook may be one)."""
    if stamp is None or (stamp[2] < 0 and not stat.S_ISLNK(stamp[3])):
        return _File(stamp, None)
    try:
        if stat.S_ISLNK(stamp[3]):
            return _File(stamp, os.fsencode(path.readlink()))
        return _File(stamp, path.read_bytes())
    except OSError:
        return _File(stamp, None)


def _differs(was: _File, now: _File) -> bool:
    if was.stamp is None or now.stamp is None:
        return was.stamp != now.stamp
    return was.data != now.data or was.stamp[3] != now.stamp[3]


def _restore(path: Path, was: _File) -> str:
    """``path`` as ``was`` had it; returns what else was done (``""``: nothing). A folder
    the command made where a setup file was (or was not) is moved aside, not deleted."""
    aside = ""
    if path.is_dir() and not path.is_symlink():
        moved = path.with_name(f".{path.name}.runner-aside")
        path.rename(moved)
        aside = f"the folder it made at {path} is now {moved}"
    if was.stamp is None:
        path.unlink(missing_ok=True)
        return aside
    if was.data is None:
        raise OSError(0, "it was not a regular file, so runner kept no copy of it")
    tmp = path.with_name(f".{path.name}.runner-before")
    tmp.unlink(missing_ok=True)
    if stat.S_ISLNK(was.stamp[3]):
        tmp.symlink_to(os.fsdecode(was.data))
    else:
        tmp.write_bytes(was.data)
        tmp.chmod(stat.S_IMODE(was.stamp[3]))
    tmp.replace(path)
    return aside


def _origin(repo: Repository, origin: str) -> Path | None:
    """The file a ``--show-origin`` names (relative to the work tree, where git runs)."""
    if not origin.startswith("file:"):
        return None
    return (repo.root / origin.removeprefix("file:")).resolve()


def _shown(repo: Repository, path: Path) -> str:
    try:
        return path.relative_to(repo.root).as_posix()
    except ValueError:
        return str(path)
