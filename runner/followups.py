"""Manual follow-ups as a live list: each one re-checked against the tree as it is now.

A codemod records what it could not rewrite (``FILE:LINE: reason``) in the step's commit.
People then fix those by hand, and the commit cannot know. So ``status`` and the end of
each run look again: a follow-up whose site is gone (the string target no longer in the
file, no sync call of the awaited factory left, the star import removed, the file deleted)
is *resolved*; one whose site is still there is *open*, at the line where it is now. A
reason this module cannot check stays open while its file exists: never a false "done".

Each file is read (and parsed, only if a check needs the tree) once, whatever the count.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from runner.codemods import FollowUp
from runner.isolated import HELD_BACK

__all__ = ["LiveFollowUp", "counts", "recheck"]

_STRING = re.compile(
    r"^(?:string target|string annotation|dynamic import of) (?P<lit>'(?:[^'\\]|\\.)*'|"
    r'"(?:[^"\\]|\\.)*")'
)
_SYNC_CALL = re.compile(r"^sync call site of an awaited factory: (?P<call>[\w.]+)\(")
_STAR = re.compile(r"^star import from (?P<base>[\w.]+) ")


@dataclass(frozen=True, slots=True)
class LiveFollowUp:
    """A recorded follow-up and what the tree says of it now."""

    step: str
    recorded: FollowUp
    open: bool
    line: int  # where the site is now (the recorded line when resolved or unknown)

    @property
    def location(self) -> str:
        """``FILE:LINE`` as it is now."""
        return f"{self.recorded.path}:{self.line}"

    def __str__(self) -> str:
        return f"{self.location}: {self.recorded.reason}"

    def to_json(self) -> dict[str, object]:
        """For ``status --json`` and the JSON report."""
        return {
            "step": self.step,
            "path": self.recorded.path,
            "line": self.line,
            "recorded_line": self.recorded.line,
            "reason": self.recorded.reason,
            "open": self.open,
        }


def recheck(root: Path, items: Iterable[tuple[str, FollowUp]]) -> tuple[LiveFollowUp, ...]:
    """Each ``(step, follow-up)`` checked against the files under ``root`` now."""
    files: dict[str, _File] = {}
    out = []
    for step, followup in items:
        file = files.get(followup.path)
        if file is None:
            file = files[followup.path] = _File(root / followup.path)
        line = file.site(followup)
        out.append(LiveFollowUp(step, followup, line is not None, line or followup.line))
    return tuple(out)


def counts(live: Iterable[LiveFollowUp]) -> tuple[int, int]:
    """``(open, resolved)``."""
    items = list(live)
    still = sum(1 for f in items if f.open)
    return still, len(items) - still


class _File:
    """One file's text and tree, read once and parsed only when a check needs it."""

    def __init__(self, path: Path) -> None:
        try:
            self.text: str | None = path.read_text(encoding="utf-8-sig", errors="replace")
        except (OSError, ValueError):
            self.text = None
        self._tree: ast.Module | None = None
        self._parsed = False

    @property
    def tree(self) -> ast.Module | None:
        if not self._parsed and self.text is not None:
            self._parsed = True
            try:
                self._tree = ast.parse(self.text)
            except (SyntaxError, ValueError):
                self._tree = None
        return self._tree

    def site(self, followup: FollowUp) -> int | None:
        """The line of the follow-up's site now, or ``None`` when it is gone."""
        if followup.reason.startswith(HELD_BACK):  # open while the step holds it back
            return followup.line
        if self.text is None:
            return None  # the file is gone (or unreadable): nothing left to fix there
        lines = self._lines(followup.reason)
        if lines is None:  # a reason with no check: open where it was recorded
            return followup.line
        if not lines:
            return None
        return min(lines, key=lambda n: abs(n - followup.line))

    def _lines(self, reason: str) -> list[int] | None:
        """The lines where the reason's site is now; ``None`` when it cannot be told."""
        tree = self.tree
        if (m := _STRING.match(reason)) is not None:
            value = ast.literal_eval(m["lit"])
            if tree is None:
                return _text_lines(self.text or "", value)
            return [
                n.lineno for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value == value
            ]
        if tree is None:
            return None
        if (m := _SYNC_CALL.match(reason)) is not None:
            return list(_sync_calls(tree, _local_names(tree, m["call"])))
        if (m := _STAR.match(reason)) is not None:
            return [
                n.lineno
                for n in ast.walk(tree)
                if isinstance(n, ast.ImportFrom)
                and n.level == 0
                and n.module == m["base"]
                and any(a.name == "*" for a in n.names)
            ]
        return None


def _text_lines(text: str, value: str) -> list[int]:
    return [i for i, line in enumerate(text.splitlines(), 1) if value in line]


def _local_names(tree: ast.Module, dotted: str) -> frozenset[str]:
    """The names ``dotted`` goes by in this file: its own last part, and any alias an import
    gives it (``from m import Engine as Old``), as the codemod resolved them."""
    module, _, name = dotted.rpartition(".")
    names = {name}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == module:
            names.update(a.asname for a in node.names if a.name == name and a.asname)
    return frozenset(names)


def _sync_calls(tree: ast.AST, names: frozenset[str], *, in_async: bool = False) -> Iterator[int]:
    """Lines calling one of ``names`` (bare or as an attribute) outside any ``async def``."""
    for node in ast.iter_child_nodes(tree):
        inside = in_async
        if isinstance(node, ast.AsyncFunctionDef):
            inside = True
        elif isinstance(node, ast.FunctionDef | ast.Lambda):
            inside = False
        if isinstance(node, ast.Call) and not in_async:
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if called in names:
                yield node.lineno
        yield from _sync_calls(node, names, in_async=inside)
