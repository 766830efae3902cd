"""``move-import``: point imports of a moved symbol or module at its new home, format-preserving.

One pass per file applies every mapping. Rules, in the order a file is read:

* ``from old import X [as Y]`` and relative forms resolving to ``old``: the moved names leave
  the statement (the others stay where they were, in the statement's own shape) and get their
  own ``from new import ...`` right after it; when every name moves to one place, the statement
  is rewritten in place. The local name is the file's ``as``, else the mapping's ``as``, else
  the new name, and uses in the file follow. The old local name is kept (``as Engine``) when
  renaming could change behaviour: in a package ``__init__`` (a re-export), when it is listed
  in ``__all__``, bound by more than one import, bound as a class attribute somewhere in the
  file (``class C: Engine = None``, read elsewhere as ``C.Engine``), or when the new name is
  already taken.
* ``import old`` (a top-level module) keeps its local name: ``import mock`` becomes
  ``from unittest import mock``; ``import a.old as c`` becomes ``import a.new as c``;
  ``import a.old`` becomes ``import a.new`` and the chains ``a.old...`` become ``a.new...``.
* Uses through a module that is not itself moved (``import pkg.old`` + ``pkg.old.Engine``,
  ``from pkg import old`` + ``old.Engine``) become the new local name, imported right after
  that module's import with ``from pkg.new import UserEngine``; the module import is dropped
  when nothing else uses it. A name imported, rather than an attribute chain, cannot clash
  with another ``pkg`` binding, and it is the form the migration's own patterns use.
* ``to: builtins.X`` drops the import and renames uses to ``X``.
* Module-level imports that end up identical are merged into the first.

Star imports, dynamic imports and string targets are reported (see :mod:`._pyast`), and
so are annotations written as strings (``e: "Engine"``) that name a local the file renames:
the code follows the new name, the string would not.
"""

# LibCST and ast dispatch on visit_<NodeName> method names.

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from runner.codemods import FollowUp
from runner.codemods._cst import (
    build_dotted,
    chain_text,
    drop_aliases,
    from_import,
    module_ref,
    set_alias,
)
from runner.codemods._parallel import FileOutcome, read_source
from runner.codemods._pyast import (
    Binding,
    FileFacts,
    MoveNames,
    file_facts,
    import_bindings,
    move_followups,
    overlaps,
    parse_source,
    walk_nodes,
)
from runner.codemods._resolve import FileModule, match_prefix, resolve_from, split_dotted
from runner.codemods._skip import SkippingTransformer, SkippingVisitor, statements_to_skip
from runner.codemods._splice import module_bytes

__all__ = ["MoveSpec", "move_file", "rewrite_module"]


@dataclass(frozen=True, slots=True)
class MoveSpec:
    """The mappings of one ``move-import`` action, in the shape workers need (picklable)."""

    froms: tuple[str, ...]
    tos: tuple[str, ...]
    aliases: tuple[str | None, ...]
    #: Modules that symbols move out of: star and dynamic imports of them need a person.
    symbol_parents: tuple[str, ...] = ()


@dataclass(slots=True)
class _Fate:
    """One imported name's fate: ``import``, ``from``, ``to_from``, ``plain`` or ``drop``.

    ``plain`` is a ``from parent import old`` whose new home is a top-level module
    (``os.path`` → ``posixpath``): it becomes ``import posixpath as path``.
    """

    kind: str
    module: str = ""
    name: str = ""
    local: str | None = None


@dataclass(slots=True)
class _Bind:
    stmt: cst.Import | cst.ImportFrom
    alias: cst.ImportAlias
    local: str
    target: str
    imported: str
    fate: _Fate | None = None


class _Scan(SkippingVisitor):
    """Phase one: the imports and attribute chains of the statements that matter."""

    def __init__(self, file: FileModule | None, facts: FileFacts, skip: set[int]) -> None:
        super().__init__(skip)
        self.file = file
        self.binds: list[_Bind] = []
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
                self.binds.append(_Bind(node, alias, local, dotted, dotted))
            else:
                top = dotted.partition(".")[0]
                self.binds.append(_Bind(node, alias, top, top, dotted))
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
            self.binds.append(_Bind(node, alias, local, full, full))
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


@dataclass(slots=True)
class _Plan:
    """Phase two's decisions, keyed by the ``id`` of nodes of the parsed module."""

    fates: dict[int, _Fate] = field(default_factory=dict)
    star_modules: dict[int, str] = field(default_factory=dict)
    renames: dict[str, str] = field(default_factory=dict)
    replace: dict[int, cst.BaseExpression] = field(default_factory=dict)
    appended: dict[int, list[tuple[str, str, str]]] = field(default_factory=dict)
    statements: set[int] = field(default_factory=set)
    sites: int = 0
    followups: list[FollowUp] = field(default_factory=list)


class _Planner:
    """Decides every rewrite of one module from the scan, before anything is transformed."""

    def __init__(self, scan: _Scan, spec: MoveSpec, path: str, lines: list[Binding]) -> None:
        self.scan = scan
        self.spec = spec
        self.path = path
        self.lines = lines
        self.plan = _Plan()
        self.bind_count = Counter(b.local for b in scan.binds)
        self.targets: dict[str, set[str]] = {}
        for b in scan.binds:
            self.targets.setdefault(b.local, set()).add(b.target)
        self._replaced: dict[int, int] = {}

    def run(self) -> _Plan:
        for node, base in self.scan.stars:
            hit = match_prefix(base, self.spec.froms)
            if hit is not None:
                self.plan.star_modules[id(node)] = self.spec.tos[hit[0]] + hit[1]
                self.plan.statements.add(id(node))
                self.plan.sites += 1
        for bind in self.scan.binds:
            self._decide(bind)
        for chain in self.scan.chains:
            self._chain(chain)
        self._drop_unused()
        return self.plan

    def _taken(self, name: str, target: str) -> bool:
        """Whether binding ``name`` to ``target`` would clash with another meaning in the file."""
        known = self.targets.get(name)
        if known is not None:
            return known != {target}
        return self.scan.names[name] > 0

    def _decide(self, bind: _Bind) -> None:
        hit = match_prefix(bind.imported, self.spec.froms)
        if hit is None:
            return
        index, suffix = hit
        new = self.spec.tos[index] + suffix
        if isinstance(bind.stmt, cst.Import):
            bind.fate = self._import_fate(bind, new)
        else:
            bind.fate = self._from_fate(bind, new, suffix, self.spec.aliases[index])
        self.plan.fates[id(bind.alias)] = bind.fate
        self.plan.statements.add(id(bind.stmt))
        self.plan.sites += 1

    def _import_fate(self, bind: _Bind, new: str) -> _Fate:
        if bind.alias.asname is not None:
            return _Fate("import", new, local=bind.local)
        if "." in bind.imported:
            return _Fate("import", new)
        parent, last = split_dotted(new)
        if parent:
            return _Fate("to_from", parent, last, bind.local)
        return _Fate("import", new, local=bind.local)

    def _from_fate(self, bind: _Bind, new: str, suffix: str, as_: str | None) -> _Fate:
        module, name = split_dotted(new)
        own_alias = bind.alias.asname is not None
        if module == "builtins":
            if bind.local != name:
                self.plan.renames[bind.local] = name
            return _Fate("drop")
        if suffix or own_alias:
            local = bind.local
        elif as_:
            local = as_
        elif self._keep_local(bind, name, new):
            local = bind.local
        else:
            local = name
        if local != bind.local:
            self.plan.renames[bind.local] = local
            self.targets.setdefault(local, set()).add(new)
        return _Fate("from" if module else "plain", module, name, local)

    def _keep_local(self, bind: _Bind, name: str, new: str) -> bool:
        """Renaming uses is unsafe where the old name is public or ambiguous, or the new taken,
        or where a class attribute of the same name would be renamed with it."""
        if name == bind.local:
            return True
        file = self.scan.file
        return (
            (file is not None and file.is_package)
            or bind.local in self.scan.all_names
            or bind.local in self.scan.class_bound
            or self.bind_count[bind.local] > 1
            or self._taken(name, new)
        )

    def _chain(self, chain: list[tuple[cst.Name | cst.Attribute, str]]) -> None:
        head = chain[0][1]
        binds = [b for b in self.scan.binds if b.local == head]
        if not binds or len({b.target for b in binds}) > 1:
            return
        target = binds[0].target
        for node, text in reversed(chain):
            resolved = target + text[len(head) :]
            index = self._exact(resolved)
            if index is None:
                continue
            related = [b for b in binds if _related(b.imported, resolved)]
            moved = [b for b in related if b.fate is not None]
            if moved:
                self._rewrite_through_moved(moved[0], node, index)
            else:
                providers = [b for b in related if resolved.startswith(b.imported + ".")]
                if providers:
                    self._use_new_name(max(providers, key=lambda b: len(b.imported)), node, index)
            return

    def _exact(self, dotted: str) -> int | None:
        return next((i for i, f in enumerate(self.spec.froms) if f == dotted), None)

    def _rewrite_through_moved(
        self, bind: _Bind, node: cst.Name | cst.Attribute, index: int
    ) -> None:
        """``import a.old`` became ``import a.new``: the chain ``a.old`` becomes ``a.new``."""
        fate = bind.fate
        if fate is None or fate.kind != "import" or fate.local is not None:
            return  # the binding keeps its local name, or is renamed: uses need nothing
        new = self.spec.tos[index]
        module, name = split_dotted(new)
        expr = cst.Name(name) if module == "builtins" else build_dotted(new)
        self.plan.replace[id(node)] = expr.with_changes(lpar=node.lpar, rpar=node.rpar)
        self.plan.sites += 1

    def _use_new_name(self, bind: _Bind, node: cst.Name | cst.Attribute, index: int) -> None:
        """``pkg.old.Engine`` through an unmoved module import becomes ``UserEngine``."""
        new = self.spec.tos[index]
        module, name = split_dotted(new)
        local = name if module == "builtins" else (self.spec.aliases[index] or name)
        if module != "builtins":
            if self._taken(local, new):
                line = next((b.line for b in self.lines if b.local == bind.local), 1)
                reason = (
                    f"cannot import {new} as {local}: the name is taken here; rewrite it by hand"
                )
                self.plan.followups.append(FollowUp(self.path, line, reason))
                return
            self.targets.setdefault(local, set()).add(new)
            added = self.plan.appended.setdefault(id(bind.stmt), [])
            if (module, name, local) not in added:
                added.append((module, name, local))
            self.plan.statements.add(id(bind.stmt))
        self.plan.replace[id(node)] = cst.Name(local, lpar=node.lpar, rpar=node.rpar)
        self.plan.sites += 1
        self._replaced[id(bind.alias)] = self._replaced.get(id(bind.alias), 0) + 1

    def _drop_unused(self) -> None:
        """A module import whose every use was rewritten to the new name goes away."""
        for bind in self.scan.binds:
            done = self._replaced.get(id(bind.alias), 0)
            if not done or bind.fate is not None:
                continue
            if isinstance(bind.stmt, cst.Import) and bind.alias.asname is None:
                needs = sum(
                    1
                    for chain in self.scan.chains
                    if chain[0][1] == bind.local and _related(chain[-1][1], bind.imported)
                )
                others = self.scan.names[bind.local] - needs
                drop = done == needs and (others == 0 or self.bind_count[bind.local] > 1)
            else:
                drop = done == self.scan.names[bind.local]
            if drop:
                bind.fate = _Fate("drop")
                self.plan.fates[id(bind.alias)] = bind.fate
                self.plan.statements.add(id(bind.stmt))


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


_Key = tuple[str, str, str]


class _Apply(SkippingTransformer):
    """Phase three: carry out the plan, touching only the nodes it names."""

    def __init__(self, plan: _Plan, file: FileModule | None, skip: set[int]) -> None:
        super().__init__(skip)
        self.plan = plan
        self.file = file
        self.depth = 0
        self.seen: dict[_Key, bool] = {}
        self.not_renamed: set[int] = set()
        self.shadowed: list[set[str]] = []

    # --- names ------------------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.not_renamed.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.not_renamed.add(id(node.keyword))

    def visit_Param(self, node: cst.Param) -> None:
        self.not_renamed.add(id(node.name))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.not_renamed.add(id(node.name))
        self._shadow(node.params)

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        self.shadowed.pop()
        return updated_node

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._shadow(node.params)

    def leave_Lambda(self, original_node: cst.Lambda, updated_node: cst.Lambda) -> cst.Lambda:
        self.shadowed.pop()
        return updated_node

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.not_renamed.add(id(node.name))

    def _shadow(self, params: cst.Parameters) -> None:
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                every.append(star)
        self.shadowed.append({p.name.value for p in every} & self.plan.renames.keys())

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        replacement = self.plan.replace.get(id(original_node))
        if replacement is not None:
            return replacement
        new = self.plan.renames.get(updated_node.value)
        if new is None or id(original_node) in self.not_renamed:
            return updated_node
        if any(updated_node.value in names for names in self.shadowed):
            return updated_node
        return updated_node.with_changes(value=new)

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        return self.plan.replace.get(id(original_node), updated_node)

    # --- statements -------------------------------------------------------------------

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.depth += 1

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        self.depth -= 1
        if not updated_node.body:
            return updated_node.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])
        return updated_node

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> (
        cst.SimpleStatementLine | cst.FlattenSentinel[cst.SimpleStatementLine] | cst.RemovalSentinel
    ):
        maybe_body: list[cst.BaseSmallStatement | None] = []
        maybe_extra: list[cst.BaseSmallStatement | None] = []
        changed = False
        for original, updated in zip(original_node.body, updated_node.body, strict=True):
            if (
                isinstance(original, cst.Import | cst.ImportFrom)
                and id(original) in self.plan.statements
            ):
                changed = True
                here, after = self._rewrite(original)
                if here is not None:
                    maybe_body.append(self._dedupe(here, touched=True))
                maybe_extra += [self._dedupe(s, touched=True) for s in after]
            else:
                here2 = self._dedupe(updated, touched=False) if self.depth == 0 else updated
                changed = changed or here2 is not updated
                maybe_body.append(here2)
        if not changed:
            return updated_node
        body = [s for s in maybe_body if s is not None]
        extra = [s for s in maybe_extra if s is not None]
        lines = [updated_node.with_changes(body=body)] if body else []
        lines += [cst.SimpleStatementLine(body=[s]) for s in extra]
        if not lines:
            return cst.RemovalSentinel.REMOVE
        if not body:
            lines[0] = lines[0].with_changes(
                leading_lines=updated_node.leading_lines,
                trailing_whitespace=updated_node.trailing_whitespace,
            )
        return lines[0] if len(lines) == 1 else cst.FlattenSentinel(lines)

    def _rewrite(
        self, stmt: cst.Import | cst.ImportFrom
    ) -> tuple[cst.BaseSmallStatement | None, list[cst.BaseSmallStatement]]:
        after: list[cst.BaseSmallStatement] = []
        here: cst.BaseSmallStatement | None
        if isinstance(stmt, cst.Import):
            here, after = self._rewrite_import(stmt)
        else:
            here, after = self._rewrite_from(stmt)
        level = len(stmt.relative) if isinstance(stmt, cst.ImportFrom) else 0
        for module, name, local in self.plan.appended.get(id(stmt), []):
            after.append(self._import_one(level, module, name, local))
        return here, after

    def _import_one(
        self, level: int, module: str, name: str, local: str | None
    ) -> cst.BaseSmallStatement:
        """``from module import name as local``, or ``import name as local`` for a top-level
        module (``os.path`` moved to ``posixpath`` has no parent to import from)."""
        if module or level:
            return from_import(self.file, level, module, [(name, local or name)])
        asname = None if local in (None, name) else cst.AsName(cst.Name(local))
        return cst.Import([cst.ImportAlias(cst.Name(name), asname=asname)])

    def _rewrite_import(
        self, stmt: cst.Import
    ) -> tuple[cst.Import | None, list[cst.BaseSmallStatement]]:
        aliases: list[cst.ImportAlias] = []
        keep: list[bool] = []
        after: list[cst.BaseSmallStatement] = []
        for alias in stmt.names:
            fate = self.plan.fates.get(id(alias))
            if fate is not None and fate.kind == "import":
                alias = set_alias(alias, fate.module, fate.local)  # noqa: PLW2901
            elif fate is not None and fate.kind == "to_from":
                local = fate.local or fate.name
                after.append(from_import(self.file, 0, fate.module, [(fate.name, local)]))
            aliases.append(alias)
            keep.append(fate is None or fate.kind == "import")
        if not any(keep):
            return None, after
        return stmt.with_changes(names=drop_aliases(aliases, keep)), after

    def _rewrite_from(
        self, stmt: cst.ImportFrom
    ) -> tuple[cst.ImportFrom | None, list[cst.BaseSmallStatement]]:
        level = len(stmt.relative)
        if isinstance(stmt.names, cst.ImportStar):
            relative, module = module_ref(self.file, level, self.plan.star_modules[id(stmt)])
            return stmt.with_changes(relative=relative, module=module), []
        aliases = list(stmt.names)
        fates = [self.plan.fates.get(id(a)) for a in aliases]
        groups: dict[str, list[int]] = {}
        for i, fate in enumerate(fates):
            if fate is not None and fate.kind == "from":
                groups.setdefault(fate.module, []).append(i)
        keep = [f is None for f in fates]
        here: cst.ImportFrom | None = None
        if any(keep):
            here = stmt.with_changes(names=drop_aliases(aliases, keep))
        elif groups:
            first = next(iter(groups))
            mask = [i in groups[first] for i in range(len(aliases))]
            renamed = [
                set_alias(a, f.name, f.local) if m and f is not None else a
                for a, f, m in zip(aliases, fates, mask, strict=True)
            ]
            relative, module = module_ref(self.file, level, first)
            here = stmt.with_changes(
                relative=relative, module=module, names=drop_aliases(renamed, mask)
            )
            del groups[first]
        after: list[cst.BaseSmallStatement] = []
        for module_name, indexes in groups.items():
            names = []
            for i in indexes:
                fate = fates[i]
                assert fate is not None
                names.append((fate.name, fate.local or fate.name))
            after.append(from_import(self.file, level, module_name, names))
        for fate in fates:
            if fate is not None and fate.kind == "plain":
                after.append(self._import_one(0, "", fate.name, fate.local))
        return here, after

    # --- one import per module-level binding ------------------------------------------

    def _keys(self, stmt: cst.BaseSmallStatement) -> list[_Key | None]:
        if isinstance(stmt, cst.Import):
            return [
                ("import", chain_text(a.name) or "", a.evaluated_alias or "") for a in stmt.names
            ]
        if isinstance(stmt, cst.ImportFrom) and not isinstance(stmt.names, cst.ImportStar):
            module = chain_text(stmt.module) if stmt.module is not None else None
            base = resolve_from(self.file, len(stmt.relative), module)
            if base is None:
                return [None for _ in stmt.names]
            return [
                (base, a.evaluated_name, a.evaluated_alias or a.evaluated_name) for a in stmt.names
            ]
        return []

    def _dedupe(
        self, stmt: cst.BaseSmallStatement, *, touched: bool
    ) -> cst.BaseSmallStatement | None:
        """Drop names a module-level import already bound, when this codemod made the twin."""
        keys = self._keys(stmt) if self.depth == 0 else []
        if not keys:
            return stmt
        keep = []
        for key in keys:
            dup = key is not None and key in self.seen and (touched or self.seen[key])
            keep.append(not dup)
            if key is not None and not dup:
                self.seen[key] = self.seen.get(key, False) or touched
        if all(keep):
            return stmt
        if not any(keep):
            return None
        assert isinstance(stmt, cst.Import | cst.ImportFrom)
        assert not isinstance(stmt.names, cst.ImportStar)
        return stmt.with_changes(names=drop_aliases(list(stmt.names), keep))


def _relevant_lines(facts: FileFacts, bindings: list[Binding], froms: tuple[str, ...]) -> set[int]:
    """Lines that may change: every import, and every use of a name bound to a moved thing."""
    lines = set(facts.import_lines)
    for b in bindings:
        if any(_related(b.imported, f) or _related(b.target, f) for f in froms):
            lines |= facts.lines.get(b.local, set())
    return lines


def rewrite_module(
    module: cst.Module,
    tree: ast.Module,
    file: FileModule | None,
    spec: MoveSpec,
    path: str,
    *,
    nodes: list[ast.AST] | None = None,
) -> tuple[cst.Module, int, list[FollowUp]]:
    """The rewritten module, the number of sites rewritten, and follow-ups found on the way.

    ``tree`` is the same source parsed by ``ast``: it tells which statements can change, so
    LibCST walks only those. ``nodes`` is :func:`walk_nodes` of ``tree``, if already known.
    """
    if nodes is None:
        nodes = walk_nodes(tree)
    facts = file_facts(tree, nodes)
    bindings = import_bindings(tree, file, nodes)
    skip = statements_to_skip(module, tree, _relevant_lines(facts, bindings, spec.froms))
    scan = _Scan(file, facts, skip)
    module.visit(scan)
    plan = _Planner(scan, spec, path, bindings).run()
    if not plan.statements and not plan.replace and not plan.renames:
        return module, 0, plan.followups
    followups = [*plan.followups, *_string_annotations(nodes, path, plan.renames)]
    return module.visit(_Apply(plan, file, skip)), plan.sites, followups


def _string_annotations(nodes: list[ast.AST], path: str, renames: dict[str, str]) -> list[FollowUp]:
    """Annotations written as strings (``x: "Engine"``) that name a renamed local: the code
    is renamed, the string is not, and a type checker would then look up the old name."""
    if not renames:
        return []
    found: list[tuple[int, int, str]] = []
    for node in nodes:
        for annotation in _annotations(node):
            for const in ast.walk(annotation):
                if not (isinstance(const, ast.Constant) and isinstance(const.value, str)):
                    continue
                try:
                    expr = ast.parse(const.value.strip(), mode="eval")
                except SyntaxError:
                    continue
                used = sorted(
                    {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)} & renames.keys()
                )
                for old in used:
                    reason = (
                        f"string annotation {const.value!r} names {old}, renamed to "
                        f"{renames[old]} in the code; update it by hand"
                    )
                    found.append((const.lineno, const.col_offset, reason))
    return [FollowUp(path, line, reason) for line, _, reason in sorted(found)]


def _annotations(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.arg | ast.AnnAssign):
        return [node.annotation] if node.annotation is not None else []
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return [node.returns] if node.returns is not None else []
    return []


def move_file(task: tuple[str, str, FileModule | None, MoveSpec]) -> FileOutcome:
    """Worker: one candidate file through ``move-import``; never writes."""
    root, path, file, spec = task
    source = read_source(Path(root), path)
    if isinstance(source, str):
        return FileOutcome(path, skipped=source)
    tree = parse_source(source)
    if isinstance(tree, str):
        return FileOutcome(path, skipped=tree)
    nodes = walk_nodes(tree)
    followups = move_followups(
        tree, path, file, MoveNames(spec.froms, spec.tos, spec.symbol_parents), nodes
    )
    if not overlaps(tree, file, spec.froms, nodes):
        return FileOutcome(path, followups=tuple(followups))
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as e:
        return FileOutcome(path, skipped=f"does not parse: {e.message} (line {e.raw_line})")
    new_module, sites, more = rewrite_module(module, tree, file, spec, path, nodes=nodes)
    new = module_bytes(module, new_module, tree, source)
    followups = sorted([*followups, *more], key=lambda f: f.line)
    return FileOutcome(path, new if new != source else None, sites, tuple(followups))
