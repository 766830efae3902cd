"""Built-in actions on Python source (``move-import``, ``rewrite-call``, ``delete``) and the
import scanner behind the ``forbid-imports`` gate.

This module is import-light on purpose: LibCST costs ~145 ms to import, so it is imported
only inside the functions that transform code, never by ``runner --help``, ``status`` or
``check``. The records below are what the engine sees of a codemod.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from runner.pathquote import quote_path
from runner.termtext import printable

if TYPE_CHECKING:
    from runner.model import Delete, MoveImport, RewriteCall

__all__ = [
    "CodemodResult",
    "FollowUp",
    "ImportSite",
    "SkippedFile",
    "apply_codemod",
    "find_import_sites",
]


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A site the codemod could not rewrite safely; a person must look at it."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A candidate file left byte-identical because it could not be read or parsed."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{quote_path(self.path)}: {printable(self.reason, keep='')}"


@dataclass(frozen=True, slots=True)
class CodemodResult:
    """What one codemod action did to the working tree.

    ``errors`` non-empty means the action failed (for example a ``delete`` target that does
    not exist) and nothing was written.
    """

    changed: tuple[str, ...] = ()
    sites: int = 0
    followups: tuple[FollowUp, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportSite:
    """One import site or attribute use of a forbidden name, as ``forbid-imports`` reports."""

    path: str
    line: int
    name: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.name}"


def apply_codemod(
    action: MoveImport | RewriteCall | Delete,
    root: Path,
    *,
    exclude: Sequence[str] = (),
    protected: Collection[str] = (),
    source_roots: Sequence[str] = (".", "src"),
    jobs: int | None = None,
    max_file_size: int | None = None,
) -> CodemodResult:
    """Carry out one codemod action on the repository at ``root``.

    ``exclude`` globs and ``protected`` paths (taken back by a partial rollback) are never
    touched; ``source_roots`` are where packages start, for relative imports; ``jobs`` is the
    number of processes (``None``: every core). Every candidate is parsed before anything is
    written; files that cannot be read or parsed, and candidates larger than
    ``max_file_size`` bytes (``move-import``, ``rewrite-call``), are reported in ``skipped``
    and left as is.
    """
    # Imported here, not at module level: they pull in LibCST or GitPython (see module doc).
    from runner.codemods._apply import run_move_import, run_rewrite_call  # noqa: PLC0415
    from runner.codemods.delete import run_delete  # noqa: PLC0415
    from runner.model import Delete, MoveImport  # noqa: PLC0415

    excluded, kept = tuple(exclude), frozenset(protected)
    if isinstance(action, Delete):
        return run_delete(action.targets, root, exclude=excluded, protected=kept)
    run = run_move_import if isinstance(action, MoveImport) else run_rewrite_call
    return run(
        action,  # type: ignore[arg-type]  # the isinstance above picks the matching runner
        root,
        exclude=excluded,
        protected=kept,
        source_roots=source_roots,
        jobs=jobs,
        max_file_size=max_file_size,
    )


def find_import_sites(
    root: Path,
    names: Sequence[str],
    *,
    exclude: Sequence[str] = (),
    source_roots: Sequence[str] = (".", "src"),
    jobs: int | None = None,
) -> tuple[ImportSite, ...]:
    """Import sites and module-attribute uses of ``names`` (see :mod:`runner.codemods.scan`).

    Files that do not parse are not counted; :func:`runner.codemods.scan.scan_files` also
    returns them, for a gate that wants to say so.
    """
    from runner.codemods.scan import scan_files  # noqa: PLC0415 - see module doc

    return scan_files(root, names, exclude=exclude, source_roots=source_roots, jobs=jobs).sites
