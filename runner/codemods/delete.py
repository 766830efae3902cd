"""``delete``: remove files, folders, or single definitions (``path.py::Class.method``).

Everything is checked before anything is removed: a target outside the repository, a missing
file, a file that does not parse or a definition that is not there fails the whole action
with a message, and nothing is written. A definition goes with its decorators and the comment
lines directly above it (a comment separated by a blank line belongs to what follows and
stays); a class left empty gets ``pass``. Every definition of the name at that level goes, so
a property's getter and setter leave together. A folder is removed file by file (it is under
git, so recoverable), except files the plan must not touch (``exclude``, or taken back by a
partial rollback), which stay with their folders.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from runner.codemods import CodemodResult, SkippedFile
from runner.codemods._parallel import is_protected
from runner.codemods._write import write_all

__all__ = ["glob_matches", "run_delete"]


@dataclass(slots=True)
class _Work:
    remove: list[str] = field(default_factory=list)
    rewrite: dict[str, bytes] = field(default_factory=dict)
    sites: int = 0
    errors: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


def glob_matches(path: str, patterns: Sequence[str]) -> bool:
    """Whether ``path`` matches a git-style glob (``vendor/**``, ``*.py``, ``a/*/b.py``)."""
    return any(_glob_regex(p).fullmatch(path) for p in patterns)


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def _check_path(root: Path, path: str) -> str | None:
    """Why ``path`` may not be deleted, or ``None``."""
    pure = PurePosixPath(path)
    if not path or path.strip("/") in {"", "."}:
        return "refusing to delete the repository root"
    if pure.is_absolute() or PureWindowsPath(path).is_absolute() or PureWindowsPath(path).drive:
        return "an absolute path; give a path relative to the repository root"
    if ".." in pure.parts:
        return "'..' leaves the repository; give a path inside it"
    if ".git" in pure.parts:
        return "refusing to delete git's own files"
    full = root / pure
    try:
        full.resolve().relative_to(root.resolve())
    except ValueError:
        return "resolves outside the repository"
    except (OSError, RuntimeError) as e:  # a symlink loop, an unreadable folder on the way
        return f"cannot be resolved ({getattr(e, 'strerror', None) or e})"
    if not full.exists() and not full.is_symlink():
        return "no such file or folder"
    for parent in list(pure.parents)[:-1]:  # a rollback cannot reach into another repository
        if (root / parent / ".git").exists():
            return (
                f"is inside {parent.as_posix()}, a submodule or nested repository: a step "
                "changes only this repository's files"
            )
    return None


def _files_under(root: Path, folder: Path) -> list[str]:
    """Tracked files only: ignored and untracked files in the folder are not the plan's."""
    from runner.git import tracked_files  # noqa: PLC0415 - GitPython only when deleting

    return tracked_files(root, folder.relative_to(root).as_posix())


def _plan_path(
    root: Path, path: str, work: _Work, untouchable: tuple[Sequence[str], Collection[str]]
) -> None:
    exclude, protected = untouchable
    full = root / path
    files = (
        _files_under(root, full)
        if full.is_dir() and not full.is_symlink()
        else [PurePosixPath(path).as_posix()]
    )
    for file in files:
        if (root / file).is_dir() and not (root / file).is_symlink():
            work.errors.append(
                f"{path}: {file} is a submodule (a repository of its own), which delete "
                f"cannot remove; remove it in a run step (`git rm {file}`) instead"
            )
        elif glob_matches(file, exclude):
            work.skipped.append(SkippedFile(file, "excluded by settings.exclude; left in place"))
        elif is_protected(file, protected):
            work.skipped.append(
                SkippedFile(file, "taken back by a partial rollback; left in place")
            )
        else:
            work.remove.append(file)
    work.sites += 1


def _plan_definition(root: Path, path: str, qualname: str, work: _Work) -> None:
    from runner.codemods.delete_def import delete_definition  # noqa: PLC0415 - LibCST on demand

    target = f"{path}::{qualname}"
    if not path.endswith(".py") or not (root / path).is_file():
        work.errors.append(f"{target}: not a Python file")
        return
    source = work.rewrite.get(path)
    if source is None:
        try:
            source = (root / path).read_bytes()
        except OSError as e:  # gone meanwhile, unreadable
            work.errors.append(f"{target}: cannot read it ({e.strerror or e})")
            return
    result = delete_definition(source, qualname)
    if isinstance(result, str):
        work.errors.append(f"{target}: {result}")
        return
    new, count = result
    work.rewrite[path] = new
    work.sites += count


def run_delete(
    targets: Sequence[str],
    root: Path,
    *,
    exclude: Sequence[str] = (),
    protected: Collection[str] = (),
) -> CodemodResult:
    """Carry out a ``delete`` action; on any error nothing is written."""
    work = _Work()
    for target in targets:
        path, _, qualname = target.partition("::")
        problem = _check_path(root, path)
        if problem is not None:
            work.errors.append(f"{target}: {problem}")
            continue
        rel = PurePosixPath(path).as_posix()
        if qualname and (glob_matches(rel, exclude) or is_protected(rel, protected)):
            work.skipped.append(
                SkippedFile(rel, "not to be touched by this plan; definition left in place")
            )
        elif qualname:
            _plan_definition(root, rel, qualname, work)
        else:
            _plan_path(root, rel, work, (exclude, protected))
    if work.errors:
        return CodemodResult(errors=tuple(work.errors))
    return _carry_out(root, work)


def _carry_out(root: Path, work: _Work) -> CodemodResult:
    removed = set(work.remove)
    rewrites = [(path, data) for path, data in work.rewrite.items() if path not in removed]
    write_all(root, rewrites, work.remove)  # all or nothing: a failure puts the rest back
    for path in sorted(removed):
        with contextlib.suppress(OSError):  # a folder left in place is no failure
            _prune_empty(root, (root / path).parent)
    changed = removed | {path for path, _ in rewrites}
    return CodemodResult(
        changed=tuple(sorted(changed)), sites=work.sites, skipped=tuple(work.skipped)
    )


def _prune_empty(root: Path, folder: Path) -> None:
    """Remove folders the deletion emptied (and their ``__pycache__``), up to the root."""
    stop = root.resolve()
    while folder.resolve() != stop and folder.is_dir():
        cache = folder / "__pycache__"
        rest = [p for p in folder.iterdir() if p != cache]
        if rest:
            return
        if cache.exists():
            shutil.rmtree(cache)
        folder.rmdir()
        folder = folder.parent
