"""Dotted names without importing anything: which module a file is, what a relative import means.

Codemods and the scanner must resolve ``from ..old import Engine`` to ``pkg.old.Engine`` from
the file's path alone (``settings.source-roots``), never by importing the user's code, and must
match a moved name against an imported one the same way everywhere; both live here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = [
    "FileModule",
    "file_module",
    "match_prefix",
    "module_exists",
    "relative_module",
    "resolve_from",
    "split_dotted",
    "symbol_module",
]


@dataclass(frozen=True, slots=True)
class FileModule:
    """The dotted module a file is (``pkg.sub.mod``) and whether it is a package ``__init__``."""

    name: str
    is_package: bool

    @property
    def package(self) -> str:
        """The package relative imports start from: the module itself for an ``__init__``."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


def _normal_roots(source_roots: Sequence[str]) -> list[PurePosixPath]:
    """Source roots as clean relative paths, the deepest first so ``src`` wins over ``.``."""
    roots = {PurePosixPath(r.strip("/") or ".") for r in source_roots}
    return sorted(roots, key=lambda r: (len(r.parts), str(r)), reverse=True)


def file_module(path: str, source_roots: Sequence[str]) -> FileModule | None:
    """The module a repo-relative ``*.py`` path defines, under the deepest matching source root."""
    pure = PurePosixPath(path)
    if pure.suffix != ".py":
        return None
    for root in _normal_roots(source_roots):
        if root != PurePosixPath(".") and root not in pure.parents:
            continue
        parts = list(pure.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        if parts and all(p.isidentifier() for p in parts):
            return FileModule(".".join(parts), is_package)
    return None


def resolve_from(module: FileModule | None, level: int, name: str | None) -> str | None:
    """The absolute module of ``from <level dots><name> import``; ``None`` if it leaves the tree."""
    if level == 0:
        return name
    if module is None:
        return None
    parts = module.package.split(".") if module.package else []
    if level > len(parts):
        return None  # "attempted relative import beyond top-level package"
    base = parts[: len(parts) - (level - 1)]
    if name:
        base.append(name)
    return ".".join(base) or None


def relative_module(module: FileModule | None, level: int, target: str) -> str | None:
    """``target`` written with ``level`` dots from ``module``, if it stays under their anchor.

    ``None`` means the target is outside the package those dots reach, so the import must be
    written absolute.
    """
    if module is None or level == 0:
        return None
    anchor = resolve_from(module, level, None) or ""
    if anchor and target == anchor:
        return ""
    if anchor and target.startswith(anchor + "."):
        return target[len(anchor) + 1 :]
    return None


def match_prefix(dotted: str, froms: Sequence[str]) -> tuple[int, str] | None:
    """The most specific ``froms[i]`` that ``dotted`` is or lies under, with the rest of ``dotted``.

    ``match_prefix("pkg.old.Engine", ["pkg.old"])`` is ``(0, ".Engine")``: a module move
    carries everything under it along.
    """
    best: tuple[int, str] | None = None
    for i, old in enumerate(froms):
        if (dotted == old or dotted.startswith(old + ".")) and (
            best is None or len(old) > len(froms[best[0]])
        ):
            best = (i, dotted[len(old) :])
    return best


def split_dotted(dotted: str) -> tuple[str, str]:
    """``pkg.new.Engine`` → (``pkg.new``, ``Engine``); top-level names have parent ``""``."""
    parent, _, last = dotted.rpartition(".")
    return parent, last


def module_exists(root: Path, source_roots: Sequence[str], dotted: str) -> bool:
    """Whether ``dotted`` is a module or package in the repository (any source root)."""
    rel = PurePosixPath(*dotted.split("."))
    for src in _normal_roots(source_roots):
        base = root / src / rel
        if base.with_suffix(".py").is_file() or base.is_dir():
            return True
    return False


def symbol_module(root: Path, source_roots: Sequence[str], dotted: str) -> str:
    """The module part of a dotted callable such as ``pkg.new.UserEngine.create_from_legacy``.

    The longest prefix that is a module in the repository; else the parts before the first
    capitalised one (a class); else the parent. Used to write ``from MODULE import NAME``.
    """
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        if module_exists(root, source_roots, ".".join(parts[:cut])):
            return ".".join(parts[:cut])
    for cut in range(1, len(parts)):
        if parts[cut][:1].isupper():
            return ".".join(parts[:cut])
    return split_dotted(dotted)[0]
