"""Built-in actions on Python source (``move-import``, ``rewrite-call``, ``delete``) and the
import scanner behind the ``forbid-imports`` gate.

This module is import-light on purpose: LibCST costs ~145 ms to import, so it is imported
only inside the functions that transform code, never by ``runner --help``, ``status`` or
``check``. The records below are what the engine sees of a codemod.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CodemodResult", "FollowUp", "ImportSite", "SkippedFile"]


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
        return f"{self.path}: {self.reason}"


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
