"""Where ``move-import``'s rewritten imports sit: joined to their module's statement, and the
blank lines of an import removed entirely.

* A file that already has ``from pkg.util import a`` gets ``text_`` added to that statement,
  in its style (parenthesised, one per line, trailing comma), rather than a second
  ``from pkg.util import ...`` line. Only the joined statement is regenerated; every line
  not rewritten keeps its bytes (:mod:`._splice`).
* An import removed entirely takes its blank lines with it when it stood inside a block of
  imports; when it opened the block (after a docstring or code) the blank lines separating
  the block stay, handed to the import that now opens it.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from runner.codemods._cst import chain_text
from runner.codemods._resolve import FileModule, resolve_from

__all__ = ["BlankLines", "is_import_line", "join_imports"]


def is_import_line(node: cst.CSTNode | None) -> bool:
    """A top-level line holding only import statements."""
    return isinstance(node, cst.SimpleStatementLine) and all(
        isinstance(s, cst.Import | cst.ImportFrom) for s in node.body
    )


def _only_blank(lines: Sequence[cst.EmptyLine]) -> bool:
    return all(line.comment is None for line in lines)


class BlankLines:
    """Hands the blank lines of an import that opened a block to the import after it."""

    def __init__(self) -> None:
        self.opens_block: set[int] = set()
        self.next_of: dict[int, cst.BaseStatement] = {}
        self.given: dict[int, Sequence[cst.EmptyLine]] = {}

    def learn(self, body: Sequence[cst.BaseStatement]) -> None:
        """Which top-level statements open a block of imports, and what follows each."""
        for k, stmt in enumerate(body):
            if k + 1 < len(body):
                self.next_of[id(stmt)] = body[k + 1]
            if is_import_line(stmt) and (k == 0 or not is_import_line(body[k - 1])):
                self.opens_block.add(id(stmt))

    def removed(self, original: cst.SimpleStatementLine) -> None:
        """``original`` went entirely: its blank lines stay if it opened its block."""
        lines = self.given.pop(id(original), original.leading_lines)
        after = self.next_of.get(id(original))
        if id(original) not in self.opens_block or not is_import_line(after):
            return
        assert isinstance(after, cst.SimpleStatementLine)
        if _only_blank(after.leading_lines):
            self.given[id(after)] = lines
            self.opens_block.add(id(after))

    def kept(
        self, original: cst.SimpleStatementLine, first: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        """``first``, the line now standing where ``original`` stood, with any lines given."""
        lines = self.given.pop(id(original), None)
        return first if lines is None else first.with_changes(leading_lines=lines)

    def leave_module(self, module: cst.Module) -> cst.Module:
        """Lines given to statements the transform never visited."""
        if not self.given:
            return module
        body = [
            stmt.with_changes(leading_lines=self.given[id(stmt)])
            if id(stmt) in self.given and isinstance(stmt, cst.SimpleStatementLine)
            else stmt
            for stmt in module.body
        ]
        return module.with_changes(body=body)


def _base(stmt: cst.ImportFrom, file: FileModule | None) -> str | None:
    if isinstance(stmt.names, cst.ImportStar):
        return None
    module = chain_text(stmt.module) if stmt.module is not None else None
    return resolve_from(file, len(stmt.relative), module)


def _single_from(node: cst.BaseStatement) -> cst.ImportFrom | None:
    if isinstance(node, cst.SimpleStatementLine) and len(node.body) == 1:
        stmt = node.body[0]
        if isinstance(stmt, cst.ImportFrom) and not isinstance(stmt.names, cst.ImportStar):
            return stmt
    return None


def join_imports(original: cst.Module, module: cst.Module, file: FileModule | None) -> cst.Module:
    """Each top-level ``from M import ...`` this codemod wrote joins the file's own statement
    importing from ``M`` when there is one."""
    untouched = {id(s) for s in original.body}
    homes: dict[str, int] = {}
    for k, node in enumerate(module.body):
        stmt = _single_from(node)
        base = _base(stmt, file) if stmt is not None and id(node) in untouched else None
        if base is not None:
            homes.setdefault(base, k)
    if not homes:
        return module
    body = list(module.body)
    drop: set[int] = set()
    for k, node in enumerate(module.body):
        stmt = _single_from(node)
        if stmt is None or id(node) in untouched:
            continue
        assert isinstance(node, cst.SimpleStatementLine)
        base = _base(stmt, file)
        if base not in homes or not _only_blank(node.leading_lines):
            continue
        if node.trailing_whitespace.comment is not None or stmt.rpar is not None:
            continue  # a comment on the line, or a parenthesised statement: leave it its own
        home = homes[base]
        line = body[home]
        assert isinstance(line, cst.SimpleStatementLine)
        target = line.body[0]
        assert isinstance(target, cst.ImportFrom)
        joined = _join(target, stmt)
        body[home] = line.with_changes(body=[joined])
        drop.add(k)
    if not drop:
        return module
    return module.with_changes(body=[s for k, s in enumerate(body) if k not in drop])


def _key(alias: cst.ImportAlias) -> tuple[str, str]:
    return alias.evaluated_name, alias.evaluated_alias or alias.evaluated_name


def _join(target: cst.ImportFrom, extra: cst.ImportFrom) -> cst.ImportFrom:
    """``target`` with the names of ``extra`` appended in ``target``'s own style."""
    assert not isinstance(target.names, cst.ImportStar)
    assert not isinstance(extra.names, cst.ImportStar)
    names = list(target.names)
    have = {_key(a) for a in names}
    adding = [a for a in extra.names if _key(a) not in have]
    for alias in adding:
        last = names[-1]
        if len(names) > 1 and isinstance(names[-2].comma, cst.Comma):
            separator = names[-2].comma
        elif target.lpar is not None and isinstance(
            target.lpar.whitespace_after, cst.ParenthesizedWhitespace
        ):
            separator = cst.Comma(whitespace_after=target.lpar.whitespace_after)
        else:
            separator = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        names[-1] = last.with_changes(comma=separator)
        names.append(alias.with_changes(comma=last.comma))
    return target.with_changes(names=names)
