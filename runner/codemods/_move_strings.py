"""Strings ``move-import`` rewrites: targets on request (``strings: exact``), and annotations.

* ``strings: exact`` rewrites a string literal whose whole value is an old dotted path, or
  starts with it followed by ``.`` (``mock.patch("pkg.old.Engine")``,
  ``"pkg.old.Engine.create"``, ``"pkg.compat.x"`` for a module move). Without it such strings
  stay follow-ups: a string can name a path for reasons the codemod cannot see.
* An annotation written as a string (``x: "Engine"``) that names a local the file renames is
  rewritten when the string parses as an expression: the code follows the new name, and a
  type checker reading the string must too.

Only plain literals are rewritten: one piece, no escapes, no ``b``/``f`` prefix, so the text
between the quotes is the value. The ``ast`` side (which sites, which follow-ups) and the
LibCST side (the rewrite) both decide with :func:`plain_inner`, so they agree.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence

from runner.codemods import FollowUp
from runner.codemods._resolve import match_prefix

__all__ = [
    "annotation_lines",
    "plain_inner",
    "rewrite_annotation",
    "string_followups",
    "string_target",
    "string_target_lines",
]


def plain_inner(text: str) -> str | None:
    """The text between the quotes of a plain string literal, or ``None``."""
    body = text.lstrip("rRuU")
    if len(text) - len(body) > 1:
        return None
    for quote in ('"""', "'''", '"', "'"):
        if body.startswith(quote) and body.endswith(quote) and len(body) >= 2 * len(quote):
            inner = body[len(quote) : -len(quote)]
            return None if "\\" in inner else inner
    return None


def string_target(
    value: str, froms: Sequence[str], tos: Sequence[str], on: Sequence[bool]
) -> str | None:
    """The new text of a string naming an old path, where its mapping asked for strings."""
    hit = match_prefix(value, froms)
    if hit is None or not (hit[0] < len(on) and on[hit[0]]):
        return None
    return tos[hit[0]] + hit[1]


def string_target_lines(
    nodes: Sequence[ast.AST],
    source: str,
    froms: Sequence[str],
    tos: Sequence[str],
    on: Sequence[bool],
) -> dict[int, set[str]]:
    """Line → values of the plain string literals there that :func:`string_target` rewrites."""
    found: dict[int, set[str]] = {}
    if not any(on):
        return found
    for node in nodes:
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        if string_target(node.value, froms, tos, on) is None:
            continue
        segment = ast.get_source_segment(source, node)
        if segment is not None and plain_inner(segment) == node.value:
            found.setdefault(node.lineno, set()).add(node.value)
    return found


def _annotations(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.arg | ast.AnnAssign):
        return [node.annotation] if node.annotation is not None else []
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return [node.returns] if node.returns is not None else []
    return []


def _annotation_strings(nodes: Sequence[ast.AST]) -> list[ast.Constant]:
    return [
        const
        for node in nodes
        for annotation in _annotations(node)
        for const in ast.walk(annotation)
        if isinstance(const, ast.Constant) and isinstance(const.value, str)
    ]


def annotation_lines(nodes: Sequence[ast.AST]) -> set[int]:
    """Lines holding a string inside an annotation: the rewrite may need to visit them."""
    return {c.lineno for c in _annotation_strings(nodes)}


def rewrite_annotation(inner: str, renames: Mapping[str, str]) -> str | None:
    """``inner`` with each renamed name replaced, or ``None`` when nothing (or no expression)."""
    lead = len(inner) - len(inner.lstrip())
    try:
        expr = ast.parse(inner.strip(), mode="eval")
    except SyntaxError:
        return None
    names = [n for n in ast.walk(expr) if isinstance(n, ast.Name) and n.id in renames]
    if not names or any(n.lineno != 1 for n in names):
        return None
    out = inner
    for name in sorted(names, key=lambda n: n.col_offset, reverse=True):
        start = lead + name.col_offset
        out = out[:start] + renames[name.id] + out[start + len(name.id) :]
    return out


def string_followups(
    nodes: Sequence[ast.AST], source: str, path: str, renames: Mapping[str, str]
) -> list[FollowUp]:
    """String annotations naming a renamed local that could not be rewritten (not a plain
    literal, or not an expression): the code is renamed, the string would not be."""
    if not renames:
        return []
    found: list[tuple[int, int, str]] = []
    for const in _annotation_strings(nodes):
        segment = ast.get_source_segment(source, const)
        inner = plain_inner(segment) if segment is not None else None
        if inner is not None and rewrite_annotation(inner, renames) is not None:
            continue
        try:
            expr = ast.parse(str(const.value).strip(), mode="eval")
        except SyntaxError:
            continue
        used = sorted({n.id for n in ast.walk(expr) if isinstance(n, ast.Name)} & renames.keys())
        for old in used:
            reason = (
                f"string annotation {const.value!r} names {old}, renamed to "
                f"{renames[old]} in the code; update it by hand"
            )
            found.append((const.lineno, const.col_offset, reason))
    return [FollowUp(path, line, reason) for line, _, reason in sorted(found)]
