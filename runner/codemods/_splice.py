"""A rewritten module's bytes, generating code only for the top-level statements that changed.

LibCST's code generation walks every node of the module, and costs about a third of the parse
itself; but a codemod touches a few statements of a file, and LibCST hands the others back as
the very same objects. LibCST reproduces its input, so the text of an untouched top-level
statement is its slice of the source: only new or rebuilt statements need generating.

A top-level statement's slice runs from its leading comment and blank lines to the start of
the next statement's; where it starts is known from the ``ast`` twin's first line (decorators
included) minus the text of the LibCST statement's ``leading_lines``. That rests on plain
``\\n`` line ends, on each statement starting a line of its own, and on the module ending with
a newline; any file where one of these might not hold (``\\r``, a backslash continuation in
front of a statement, a slice that is not what it should be) gets LibCST's full code
generation instead.

Where LibCST's code generation is not exact, the two differ: it drops the space in
``except E :`` and a form feed before a statement. An untouched statement now keeps its bytes
(as :mod:`._skip` means it to); files with a form feed, and modules nothing changed in, still
get ``Module.bytes``, as before.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst

from runner.codemods._skip import pair_statements, statement_start

__all__ = ["module_bytes"]

#: LibCST drops a form feed that starts a statement's line (``\f`` before ``def``), so the
#: source is not what it would write back; a ``\r`` could end lines that ``ast`` does not count.
#: Files with either get LibCST's own code generation.
_LOSSY = (b"\x0c", b"\r")


def module_bytes(original: cst.Module, new: cst.Module, tree: ast.Module, source: bytes) -> bytes:
    """``new.bytes``, where ``new`` is ``original`` (parsed from ``source``, as ``tree`` is too)
    after a transformer: untouched top-level statements are copied from ``source``."""
    if new is original or any(c in source for c in _LOSSY):
        return new.bytes  # nothing changed: exactly what LibCST writes back, as before
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
        first = text[at : at + 1]
        if first == "" or first.isspace() or first in "\\#":
            return -1
        decorated = isinstance(node, cst.FunctionDef | cst.ClassDef) and node.decorators
        return -1 if decorated and first != "@" else begin


def _spliced(original: cst.Module, new: cst.Module, tree: ast.Module, source: bytes) -> str | None:
    if not (original.has_trailing_newline and new.has_trailing_newline):
        return None
    try:
        text = source.decode(original.encoding)
    except (LookupError, UnicodeDecodeError):
        return None
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
            continue
        if not flush():
            return None
        parts.append(new.code_for_node(stmt))
    if not flush():
        return None
    parts.append(_code(new, new.footer))
    return "".join(parts) or None
