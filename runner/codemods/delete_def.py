"""Remove one definition (``Class.method``, ``function``, ``Class``) from a module's source.

Kept apart from :mod:`.delete` so that deleting files and folders never loads LibCST.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst

from runner.codemods._splice import module_bytes

__all__ = ["delete_definition"]


def delete_definition(source: bytes, qualname: str) -> tuple[bytes, int] | str:
    """The source without ``qualname`` and how many definitions went, or why it cannot be done."""
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as e:
        return f"the file does not parse ({e.message}, line {e.raw_line}); nothing deleted"
    parts = qualname.split(".")
    if not all(p.isidentifier() for p in parts):
        return f"not a dotted definition name: {qualname!r}"
    result = _delete(module.body, parts, "at module level")
    if isinstance(result, str):
        return result
    body, count = result
    new = module.with_changes(body=body)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return new.bytes, count  # LibCST took it; its own code generation it is
    return module_bytes(module, new, tree, source), count  # untouched lines keep every byte


def _delete(
    body: Sequence[cst.BaseStatement], parts: list[str], where: str
) -> tuple[list[cst.BaseStatement], int] | str:
    name = parts[0]
    hits = [
        i
        for i, stmt in enumerate(body)
        if isinstance(stmt, cst.FunctionDef | cst.ClassDef) and stmt.name.value == name
    ]
    if not hits:
        return f"no definition named {name} {where}"
    if len(parts) == 1:
        return _remove(body, hits), len(hits)
    out = list(body)
    count = 0
    for i in hits:
        cls = out[i]
        if not isinstance(cls, cst.ClassDef) or not isinstance(cls.body, cst.IndentedBlock):
            continue
        result = _delete(cls.body.body, parts[1:], f"in class {name}")
        if isinstance(result, str):
            return result
        inner, n = result
        block = cls.body.with_changes(body=inner or [cst.SimpleStatementLine([cst.Pass()])])
        out[i] = cls.with_changes(body=block)
        count += n
    if not count:
        return f"{name} is not a class with an indented body {where}"
    return out, count


def _remove(body: Sequence[cst.BaseStatement], indexes: list[int]) -> list[cst.BaseStatement]:
    """``body`` without the statements at ``indexes``, minding the lines around them."""
    out = list(body)
    for i in sorted(indexes, reverse=True):
        removed = out.pop(i)
        if i >= len(out):
            continue
        following = out[i]
        assert isinstance(removed, cst.SimpleStatementLine | cst.BaseCompoundStatement)
        assert isinstance(following, cst.SimpleStatementLine | cst.BaseCompoundStatement)
        detached = _detached(removed.leading_lines)
        lead = list(following.leading_lines)
        if detached:
            lead = detached + lead
        elif i == 0:
            while lead and lead[0].comment is None:
                lead.pop(0)
        out[i] = following.with_changes(leading_lines=lead)
    return out


def _detached(lines: Sequence[cst.EmptyLine]) -> list[cst.EmptyLine]:
    """The comments above a definition that belong to what precedes it, not to the definition.

    Comment lines directly above the definition are attached to it and go with it; a comment
    separated from it by a blank line (a section header) stays.
    """
    rest = list(lines)
    while rest and rest[-1].comment is not None:
        rest.pop()
    if not any(line.comment is not None for line in rest):
        return []
    while rest and rest[-1].comment is None:
        rest.pop()
    return rest
