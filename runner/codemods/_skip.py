"""Let LibCST walk only the statements that can change: the rest of a file is never visited.

A LibCST visitor or transformer costs about as much as the parse itself, per pass, over the
whole tree. The stdlib ``ast`` already knows on which lines the interesting names and imports
are, so statements whose lines hold none of them are marked to be skipped: visitors return
``False`` for them and transformers hand them back untouched, which also guarantees that
those lines stay byte-identical.

LibCST nodes carry no line numbers without the (costly) position metadata, so statements are
paired with their ``ast`` twins instead: a body has the same statements in both trees, except
that a LibCST ``SimpleStatementLine`` holds as many ``ast`` statements as it has ``;``-parts.
"""

from __future__ import annotations

import ast
import bisect
from collections.abc import Iterable, Sequence

import libcst as cst

__all__ = ["SkippingTransformer", "SkippingVisitor", "statements_to_skip"]


def _span(stmt: ast.stmt) -> tuple[int, int]:
    decorators = getattr(stmt, "decorator_list", [])
    start = min([stmt.lineno, *(d.lineno for d in decorators)])
    return start, stmt.end_lineno or stmt.lineno


def _hits(lines: Sequence[int], start: int, end: int) -> bool:
    i = bisect.bisect_left(lines, start)
    return i < len(lines) and lines[i] <= end


def _pairs(
    body: Sequence[cst.BaseStatement], stmts: Sequence[ast.stmt]
) -> Iterable[tuple[cst.BaseStatement, list[ast.stmt]]] | None:
    out: list[tuple[cst.BaseStatement, list[ast.stmt]]] = []
    i = 0
    for node in body:
        n = len(node.body) if isinstance(node, cst.SimpleStatementLine) else 1
        if i + n > len(stmts):
            return None
        out.append((node, list(stmts[i : i + n])))
        i += n
    return out if i == len(stmts) else None


def statements_to_skip(module: cst.Module, tree: ast.Module, lines: Iterable[int]) -> set[int]:
    """``id``s of statements of ``module`` that hold none of ``lines`` (classes and functions
    are looked into, so one method's change does not walk the whole class)."""
    wanted = sorted(set(lines))
    skip: set[int] = set()
    _mark(module.body, tree.body, wanted, skip)
    return skip


def _mark(
    body: Sequence[cst.BaseStatement], stmts: Sequence[ast.stmt], lines: list[int], skip: set[int]
) -> None:
    pairs = _pairs(body, stmts)
    if pairs is None:  # the trees disagree: visit everything rather than guess
        return
    for node, twins in pairs:
        start, end = _span(twins[0])[0], _span(twins[-1])[1]
        if not _hits(lines, start, end):
            skip.add(id(node))
            continue
        twin = twins[0]
        if (
            isinstance(node, cst.ClassDef | cst.FunctionDef)
            and isinstance(node.body, cst.IndentedBlock)
            and isinstance(twin, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        ):
            _mark(node.body.body, twin.body, lines, skip)


class SkippingVisitor(cst.CSTVisitor):
    """A visitor that does not enter the statements in ``skip``."""

    def __init__(self, skip: set[int]) -> None:
        super().__init__()
        self.skip = skip

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self.skip:
            return False
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if id(original_node) not in self.skip:
            super().on_leave(original_node)


class SkippingTransformer(cst.CSTTransformer):
    """A transformer that neither enters nor changes the statements in ``skip``."""

    def __init__(self, skip: set[int]) -> None:
        super().__init__()
        self.skip = skip

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self.skip:
            return False
        return super().on_visit(node)

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        if id(original_node) in self.skip:
            return updated_node
        return super().on_leave(original_node, updated_node)
