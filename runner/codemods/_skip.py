"""Let LibCST walk only the statements that can change: the rest of a file is never visited.

A LibCST visitor or transformer costs about as much as the parse itself, per pass, over the
whole tree. The stdlib ``ast`` already knows on which lines the interesting names and imports
are, so statements whose lines hold none of them are marked to be skipped: visitors return
``False`` for them and transformers hand them back untouched, which also guarantees that
those lines stay byte-identical.

LibCST nodes carry no line numbers without the (costly) position metadata, so statements are
paired with their ``ast`` twins instead: a body has the same statements in both trees, except
that a LibCST ``SimpleStatementLine`` holds as many ``ast`` statements as it has ``;``-parts.

Inside the statements they do walk, neither class enters whitespace, comments, brackets or
operator tokens (:data:`INERT`): no codemod looks at them, and a transformer that rebuilt them
would only make equal copies, which is most of what a walk costs. For the same reason the
transformer hands back the original node, not LibCST's equal copy, wherever nothing below it
changed: the statements it walked but left alone are then still the parsed ones, whose text
:mod:`._splice` copies from the source instead of generating it again.
"""

from __future__ import annotations

import ast
import bisect
import dataclasses
from collections.abc import Iterable, Sequence

import libcst as cst

__all__ = [
    "INERT",
    "SkippingTransformer",
    "SkippingVisitor",
    "pair_statements",
    "statement_start",
    "statements_to_skip",
]


def _with_subclasses(*bases: type) -> frozenset[type]:
    out: set[type] = set()
    todo = list(bases)
    while todo:
        cls = todo.pop()
        out.add(cls)
        todo += cls.__subclasses__()
    return frozenset(out)


#: Node types made of nothing but text and whitespace: never visited, left nor rebuilt.
INERT = _with_subclasses(
    cst.SimpleWhitespace,
    cst.ParenthesizedWhitespace,
    cst.TrailingWhitespace,
    cst.EmptyLine,
    cst.Newline,
    cst.Comment,
    cst.Comma,
    cst.Dot,
    cst.Colon,
    cst.Semicolon,
    cst.AssignEqual,
    cst.ImportStar,
    cst.LeftParen,
    cst.RightParen,
    cst.LeftSquareBracket,
    cst.RightSquareBracket,
    cst.LeftCurlyBrace,
    cst.RightCurlyBrace,
    cst.BaseBinaryOp,
    cst.BaseBooleanOp,
    cst.BaseCompOp,
    cst.BaseUnaryOp,
    cst.BaseAugOp,
)


def statement_start(stmt: ast.stmt) -> int:
    """The first line of ``stmt``, its decorators included."""
    decorators: list[ast.expr] = getattr(stmt, "decorator_list", [])
    return min([stmt.lineno, *(d.lineno for d in decorators)])


def _span(stmt: ast.stmt) -> tuple[int, int]:
    return statement_start(stmt), stmt.end_lineno or stmt.lineno


def _hits(lines: Sequence[int], start: int, end: int) -> bool:
    i = bisect.bisect_left(lines, start)
    return i < len(lines) and lines[i] <= end


def pair_statements(
    body: Sequence[cst.BaseStatement], stmts: Sequence[ast.stmt]
) -> list[tuple[cst.BaseStatement, list[ast.stmt]]] | None:
    """Each statement of a LibCST ``body`` with its ``ast`` twins; ``None`` if they disagree."""
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
    pairs = pair_statements(body, stmts)
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
    """A visitor that does not enter the statements in ``skip``, nor :data:`INERT` nodes."""

    def __init__(self, skip: set[int]) -> None:
        super().__init__()
        self.skip = skip

    def on_visit(self, node: cst.CSTNode) -> bool:
        if type(node) in INERT or id(node) in self.skip:
            return False
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if type(original_node) not in INERT and id(original_node) not in self.skip:
            super().on_leave(original_node)


class SkippingTransformer(cst.CSTTransformer):
    """A transformer that neither enters nor changes the statements in ``skip``, nor
    :data:`INERT` nodes."""

    def __init__(self, skip: set[int]) -> None:
        super().__init__()
        self.skip = skip

    def on_visit(self, node: cst.CSTNode) -> bool:
        if type(node) in INERT or id(node) in self.skip:
            return False
        return super().on_visit(node)

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        if type(original_node) in INERT or id(original_node) in self.skip:
            return updated_node
        result = super().on_leave(original_node, updated_node)
        if result is updated_node and _same_children(original_node, updated_node):
            return original_node  # an equal copy: keep the original (see the module doc)
        return result


_FIELDS: dict[type, tuple[str, ...]] = {}


def _same_children(original: cst.CSTNode, updated: cst.CSTNode) -> bool:
    """Whether ``updated`` is ``original`` rebuilt from the very same children."""
    if updated is original:
        return True
    cls = type(original)
    if type(updated) is not cls:
        return False
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(original))
    for name in names:
        a, b = getattr(original, name), getattr(updated, name)
        if a is b:
            continue
        if not (
            isinstance(a, tuple | list)
            and isinstance(b, tuple | list)
            and len(a) == len(b)
            and all(x is y for x, y in zip(a, b, strict=True))
        ):
            return False
    return True
