"""Small LibCST builders shared by the codemods: dotted names in and out, import statements.

Imported only by the codemod modules, so LibCST loads when a codemod runs and never when
``runner.codemods`` is merely imported.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from runner.codemods._resolve import FileModule, relative_module

__all__ = [
    "build_dotted",
    "chain_text",
    "drop_aliases",
    "from_import",
    "module_ref",
    "set_alias",
]


def chain_text(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a pure ``Name``/``Attribute`` chain, else ``None``."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = chain_text(node.value)
        return None if head is None else f"{head}.{node.attr.value}"
    return None


def build_dotted(dotted: str) -> cst.Name | cst.Attribute:
    """The expression ``a.b.c`` (also the ``module`` of an import statement)."""
    parts = dotted.split(".")
    node: cst.Name | cst.Attribute = cst.Name(parts[0])
    for part in parts[1:]:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


def module_ref(
    file: FileModule | None, level: int, target: str
) -> tuple[list[cst.Dot], cst.Name | cst.Attribute | None]:
    """``relative`` and ``module`` of a ``from`` import of ``target``.

    An import written relative (``level`` dots) stays relative when ``target`` is still under
    the package those dots reach; otherwise it becomes absolute.
    """
    rest = relative_module(file, level, target)
    if rest is None:
        return [], build_dotted(target)
    return [cst.Dot() for _ in range(level)], (build_dotted(rest) if rest else None)


def set_alias(alias: cst.ImportAlias, name: str, local: str | None) -> cst.ImportAlias:
    """``alias`` importing ``name`` bound as ``local`` (no ``as`` when it equals the last part)."""
    new_name = build_dotted(name)
    if local is None or ("." not in name and local == name):
        return alias.with_changes(name=new_name, asname=None)
    if alias.asname is not None:
        return alias.with_changes(
            name=new_name, asname=alias.asname.with_changes(name=cst.Name(local))
        )
    return alias.with_changes(name=new_name, asname=cst.AsName(name=cst.Name(local)))


def from_import(
    file: FileModule | None, level: int, module: str, names: Sequence[tuple[str, str]]
) -> cst.ImportFrom:
    """A fresh one-line ``from module import name [as local], ...``."""
    relative, mod = module_ref(file, level, module)
    aliases = []
    for i, (name, local) in enumerate(names):
        comma = (
            cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            if i < len(names) - 1
            else cst.MaybeSentinel.DEFAULT
        )
        asname = None if local == name else cst.AsName(name=cst.Name(local))
        aliases.append(cst.ImportAlias(name=cst.Name(name), asname=asname, comma=comma))
    return cst.ImportFrom(module=mod, relative=relative, names=aliases)


def drop_aliases(aliases: Sequence[cst.ImportAlias], keep: Sequence[bool]) -> list[cst.ImportAlias]:
    """``aliases`` where ``keep`` is true, commas fixed so the statement keeps its shape.

    Dropping an entry takes its line (its comma carries the whitespace up to the next one);
    when the last entry goes, the new last entry inherits its comma, so a trailing comma
    before ``)`` or the absence of one survives.
    """
    kept = [a for a, k in zip(aliases, keep, strict=True) if k]
    if kept and not keep[-1]:
        kept[-1] = kept[-1].with_changes(comma=_last_comma(kept[-1].comma, aliases[-1].comma))
    return kept


def _last_comma(
    own: cst.Comma | cst.MaybeSentinel, last: cst.Comma | cst.MaybeSentinel
) -> cst.Comma | cst.MaybeSentinel:
    """The dropped last entry's comma, but keeping the new last entry's own line comment."""
    if not (isinstance(own, cst.Comma) and isinstance(last, cst.Comma)):
        return last
    mine, theirs = own.whitespace_after, last.whitespace_after
    if isinstance(mine, cst.ParenthesizedWhitespace) and isinstance(
        theirs, cst.ParenthesizedWhitespace
    ):
        kept = theirs.with_changes(first_line=mine.first_line, empty_lines=mine.empty_lines)
        return last.with_changes(whitespace_after=kept)
    return last
