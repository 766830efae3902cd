"""A rewritten module's bytes, generating code only for the top-level statements that changed.

LibCST's code generation walks every node of the module, and costs about a third of the parse
itself; but a codemod touches a few statements of a file, and LibCST hands the others back as
the very same objects. LibCST reproduces its input, so the text of an untouched top-level
statement is its slice of the source: only new or rebuilt statements need generating.

A top-level statement's slice runs from its leading comment and blank lines to the start of
the next statement's; where it starts is known from the ``ast`` twin's first line (decorators
included) minus the text of the LibCST statement's ``leading_lines``. That rests on line ends
that ``ast`` and this module count alike (``\n`` and ``\r\n``, not a lone ``\r``), on each
statement starting a line of its own; any file where
one of these might not hold (a lone ``\r``, a backslash continuation in front of a statement,
a slice that is not what it should be) gets LibCST's full code generation instead. A module
without a final newline is spliced as if it had one, which is then taken off again.

Where LibCST's code generation is not exact, the two differ: it drops the space in
``except E :`` and a form feed that starts a statement's line (``\fclass A:``). Lines a
codemod does not rewrite keep every byte: an untouched statement is copied (form feeds, vertical
tabs, trailing spaces, mixed line ends and all), a rebuilt top-level statement gets back the
form feeds its first line started with, and a module nothing changed in is its source.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Sequence

import libcst as cst

from runner.codemods._skip import pair_statements, statement_start

__all__ = ["module_bytes"]

#: A ``\r`` not followed by ``\n`` ends a line for ``ast`` but not for :func:`_line_starts`:
#: files with one get LibCST's own code generation (``\r\n`` counts the same in both).
_LONE_CR = re.compile(rb"\r(?!\n)")


def module_bytes(original: cst.Module, new: cst.Module, tree: ast.Module, source: bytes) -> bytes:
    """``new.bytes``, where ``new`` is ``original`` (parsed from ``source``, as ``tree`` is too)
    after a transformer: untouched top-level statements are copied from ``source``.

    Nothing changed: ``source`` itself, byte for byte (LibCST would drop a form feed that
    starts a statement's line, ``\fclass A:``, and the space of ``except E :``).
    """
    if new is original:
        return source
    if b"\r" in source and _LONE_CR.search(source):
        return new.bytes
    text = _spliced(original, new, tree, source)
    return new.bytes if text is None else text.encode(new.encoding)


def _code(module: cst.Module, nodes: Sequence[cst.CSTNode]) -> str:
    return "".join(module.code_for_node(n) for n in nodes)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    at = text.find("\n")
    while at != -1:
        starts.append(at + 1)
        at = text.find("\n", at + 1)
    return starts


class _Bounds:
    """Where each top-level statement's slice of ``text`` starts, worked out on demand."""

    def __init__(self, original: cst.Module, tree: ast.Module, text: str) -> None:
        self.module = original
        self.text = text
        self.pairs = pair_statements(original.body, tree.body) or []
        self.starts = _line_starts(text)
        footer = _code(original, original.footer)
        self.end = len(text) - len(footer) if text.endswith(footer) else -1
        self.cache: dict[int, int] = {len(self.pairs): self.end}
        self.feeds: dict[int, str] = {}  # form feeds that start statement k's first line

    def __call__(self, k: int) -> int:
        """The start of statement ``k`` (of the footer for the last + 1); -1 when unsure."""
        at = self.cache.get(k)
        if at is None:
            at = self.cache[k] = self._start(k)
        return at

    def _start(self, k: int) -> int:
        node, twins = self.pairs[k]
        if not isinstance(node, cst.SimpleStatementLine | cst.BaseCompoundStatement):
            return -1
        text, line = self.text, statement_start(twins[0])
        if not 0 < line <= len(self.starts):
            return -1
        at = self.starts[line - 1]
        lead = _code(self.module, node.leading_lines)
        begin = at - len(lead)
        if begin < 0 or text[begin:at] != lead:
            return -1
        if begin > 0 and (text[begin - 1] != "\n" or text[begin - 2 : begin] == "\\\n"):
            return -1  # not the start of a line of its own
        feeds = 0
        while text[at + feeds : at + feeds + 1] == "\f":
            feeds += 1
        self.feeds[k] = text[at : at + feeds]  # LibCST drops them; the slice keeps them
        first = text[at + feeds : at + feeds + 1]
        if first == "" or first.isspace() or first in "\\#":
            return -1
        decorated = isinstance(node, cst.FunctionDef | cst.ClassDef) and node.decorators
        return -1 if decorated and first != "@" else begin


def _spliced(original: cst.Module, new: cst.Module, tree: ast.Module, source: bytes) -> str | None:
    if original.has_trailing_newline != new.has_trailing_newline:
        return None
    try:
        text = source.decode(original.encoding)
    except (LookupError, UnicodeDecodeError):
        return None
    if not original.has_trailing_newline:  # LibCST parsed it as if the newline were there
        end = original.default_newline
        out = _spliced_text(original, new, tree, text + end)
        return out[: -len(end)] if out is not None and out.endswith(end) else None
    return _spliced_text(original, new, tree, text)


def _spliced_text(original: cst.Module, new: cst.Module, tree: ast.Module, text: str) -> str | None:
    bounds = _Bounds(original, tree, text)
    if not bounds.pairs or bounds.end < 0:
        return None
    first = bounds(0)
    if first < 0 or text[:first] != _code(original, original.header):
        return None
    index = {id(node): k for k, node in enumerate(original.body)}
    parts = [_code(new, new.header)]
    run: list[int] = []  # original statements kept, consecutive: copied as one slice
    copied = [0]  # where the last slice copied ended: slices come in order, never overlap
    kept = {k for stmt in new.body if (k := index.get(id(stmt), -1)) >= 0}
    following = [0]  # the original statement a rebuilt one stands in for, if any

    def flush() -> bool:
        if run:
            begin, end = bounds(run[0]), bounds(run[-1] + 1)
            if begin < copied[0] or end <= begin:
                return False
            parts.append(text[begin:end])
            copied[0] = end
            run.clear()
        return True

    for stmt in new.body:
        k = index.get(id(stmt), -1)
        if k >= 0 and original.body[k] is stmt:
            if run and run[-1] + 1 != k and not flush():
                return None
            run.append(k)
            following[0] = k + 1
            continue
        if not flush():
            return None
        was = _stands_in_for(original, stmt, kept, following[0])
        if was is None:
            parts.append(new.code_for_node(stmt))  # a statement added: nothing to carry over
        else:
            following[0] = was + 1
            parts.append(_with_feeds(new, stmt, bounds, was))
    if not flush():
        return None
    parts.append(_code(new, new.footer))
    return "".join(parts) or None


def _stands_in_for(
    original: cst.Module, stmt: cst.CSTNode, kept: set[int], start: int
) -> int | None:
    """The original statement a rebuilt ``stmt`` replaces, among the ones dropped from
    ``start`` on up to the next kept one: the one it equals but for its leading lines (a
    neighbour of a deleted definition), else the first of its kind (``None``: it is new)."""
    same: list[int] = []
    for k in range(start, len(original.body)):
        if k in kept:
            break
        if type(original.body[k]) is type(stmt):
            same.append(k)
    for k in same:
        was = original.body[k]
        lead = getattr(was, "leading_lines", None)
        if lead is not None and stmt.with_changes(leading_lines=lead).deep_equals(was):
            return k
    return same[0] if same else None


def _with_feeds(new: cst.Module, stmt: cst.CSTNode, bounds: _Bounds, was: int) -> str:
    """The code of a rebuilt statement, with the bytes LibCST's code generation lost on lines
    of original statement ``was`` (which it stands in for) that were not rewritten: the form
    feeds its first line started with, ``except E :``, a form feed before a nested line."""
    code = new.code_for_node(stmt)
    begin, end = bounds(was), bounds(was + 1)
    if begin < 0:
        return code
    if end > begin:
        return _keep_spacing(bounds.text[begin:end], code)
    if not (feeds := bounds.feeds.get(was)):
        return code
    lead = len(_code(new, getattr(stmt, "leading_lines", ())))
    return code if code[lead : lead + 1] == "\f" else code[:lead] + feeds + code[lead:]


_SPACE = re.compile(r"[ \t\f\v\r]+")
#: Above this many lines between the first and the last difference of a rebuilt statement
#: whose line count changed, the line matcher (quadratic on repetitive code) is not run.
_MATCH_LINES = 2000


def _keep_spacing(old: str, new: str) -> str:
    """``new``, where each of its lines that differs from its counterpart in ``old`` only by
    spacing is that line of ``old``. Lines split at ``\n`` alone (``str.splitlines`` would
    also split at ``\f``, ``\v``, ``\x1c``-``\x1e``, ``\x85``, ``\u2028``).

    The lines before the first and after the last real difference are paired directly, so
    the line matcher (quadratic on repetitive code) only sees the few rewritten lines.
    """
    if old == new:
        return new
    a, b = old.split("\n"), new.split("\n")
    sa, sb = [_spacing_key(x) for x in a], [_spacing_key(y) for y in b]
    head = 0
    while head < min(len(a), len(b)) and sa[head] == sb[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and sa[-1 - tail] == sb[-1 - tail]:
        tail += 1
    out = a[:head]
    ma, mb = slice(head, len(a) - tail), slice(head, len(b) - tail)
    if len(a) == len(b):  # renames keep the line count: line i is line i
        out += [x if p == q else y for x, y, p, q in zip(a[ma], b[mb], sa[ma], sb[mb], strict=True)]
    elif max(len(a), len(b)) - head - tail <= _MATCH_LINES:
        matcher = difflib.SequenceMatcher(None, sa[ma], sb[mb], autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            out += a[head + i1 : head + i2] if tag == "equal" else b[head + j1 : head + j2]
    else:
        out += b[mb]  # too many lines between the differences to match them cheaply
    return "\n".join([*out, *a[len(a) - tail :]])


def _spacing_key(line: str) -> str:
    """What must match for two lines to differ "only by spacing": the indentation (it is
    Python's syntax; form feeds aside, which LibCST drops) and every other character."""
    body = line.lstrip(" \t\f")
    return line[: len(line) - len(body)].replace("\f", "") + "|" + _SPACE.sub("", body)
