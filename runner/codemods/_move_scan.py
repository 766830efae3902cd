"""``move-import``, phase one: the spec, and the imports and attribute chains of a module.

The scan visits only the statements the ``ast`` prefilter kept (:mod:`._skip`), recording every
import binding and every dotted chain (``pkg.old.Engine``) for the planner to decide on.
"""

# LibCST dispatches on visit_<NodeName> method names.

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from runner.codemods._cst import chain_text
from runner.codemods._pyast import FileFacts
from runner.codemods._resolve import FileModule, resolve_from
from runner.codemods._skip import SkippingVisitor

__all__ = ["Bind", "Chain", "Fate", "MoveSpec", "Scan"]


@dataclass(frozen=True, slots=True)
class MoveSpec:
    """The mappings of one ``move-import`` action, in the shape workers need (picklable)."""

    froms: tuple[str, ...]
    tos: tuple[str, ...]
    aliases: tuple[str | None, ...]
    #: Modules that symbols move out of: star and dynamic imports of them need a person.
    symbol_parents: tuple[str, ...] = ()
    #: Per mapping: rewrite string literals naming the old path (``strings: exact``).
    strings: tuple[bool, ...] = ()


@dataclass(slots=True)
class Fate:
    """One imported name's fate: ``import``, ``from``, ``to_from``, ``plain`` or ``drop``.

    ``plain`` is a ``from parent import old`` whose new home is a top-level module
    (``os.path`` → ``posixpath``): it becomes ``import posixpath as path``.
    """

    kind: str
    module: str = ""
    name: str = ""
    local: str | None = None


@dataclass(slots=True)
class Bind:
    stmt: cst.Import | cst.ImportFrom
    alias: cst.ImportAlias
    local: str
    target: str
    imported: str
    fate: Fate | None = None


class Scan(SkippingVisitor):
    """Phase one: the imports and attribute chains of the statements that matter."""

    def __init__(self, file: FileModule | None, facts: FileFacts, skip: set[int]) -> None:
        super().__init__(skip)
        self.file = file
        self.binds: list[Bind] = []
        self.stars: list[tuple[cst.ImportFrom, str]] = []
        self.names = facts.names
        self.all_names = facts.public
        self.class_bound = facts.class_bound
        self.chains: list[list[tuple[cst.Name | cst.Attribute, str]]] = []
        self._inner: set[int] = set()

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            dotted = chain_text(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
                self.binds.append(Bind(node, alias, local, dotted, dotted))
            else:
                top = dotted.partition(".")[0]
                self.binds.append(Bind(node, alias, top, top, dotted))
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        module = chain_text(node.module) if node.module is not None else None
        base = resolve_from(self.file, len(node.relative), module)
        if base is None:
            return False
        if isinstance(node.names, cst.ImportStar):
            self.stars.append((node, base))
            return False
        for alias in node.names:
            full = f"{base}.{chain_text(alias.name)}"
            local = alias.evaluated_alias or alias.evaluated_name
            self.binds.append(Bind(node, alias, local, full, full))
        return False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if id(node) in self._inner:
            return
        chain: list[tuple[cst.Name | cst.Attribute, str]] = []
        cur: cst.BaseExpression = node
        while isinstance(cur, cst.Attribute):
            chain.append((cur, ""))
            self._inner.add(id(cur.value))
            cur = cur.value
        if not isinstance(cur, cst.Name):
            return
        chain.append((cur, cur.value))
        chain.reverse()
        text = cur.value
        for i in range(1, len(chain)):
            attr = chain[i][0]
            assert isinstance(attr, cst.Attribute)
            text = f"{text}.{attr.attr.value}"
            chain[i] = (attr, text)
        self.chains.append(chain)


Chain = list[tuple[cst.Name | cst.Attribute, str]]
