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
from pathlib import Path

import libcst as cst

from runner.codemods import FollowUp
from runner.codemods._move_apply import Apply
from runner.codemods._move_plan import Planner, is_related
from runner.codemods._move_scan import MoveSpec, Scan
from runner.codemods._move_scopes import module_references, scope_facts
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
from runner.codemods._resolve import FileModule
from runner.codemods._skip import statements_to_skip
from runner.codemods._splice import module_bytes

__all__ = ["MoveSpec", "move_file", "rewrite_module"]


def _relevant_lines(facts: FileFacts, bindings: list[Binding], froms: tuple[str, ...]) -> set[int]:
    """Lines that may change: every import, and every use of a name bound to a moved thing."""
    lines = set(facts.import_lines)
    for b in bindings:
        if any(is_related(b.imported, f) or is_related(b.target, f) for f in froms):
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
    scan = Scan(file, facts, skip)
    module.visit(scan)
    scopes = scope_facts(tree, nodes)
    plan = Planner(scan, spec, path, bindings, scopes).run()
    if not plan.statements and not plan.replace and not plan.renames:
        return module, 0, plan.followups
    followups = [*plan.followups, *_string_annotations(nodes, path, plan.renames)]
    refs = None
    if scopes.inner & plan.renames.keys():  # a function binds a renamed name for itself
        refs = module_references(module, plan.renames.keys(), plan.statements)
    return module.visit(Apply(plan, file, skip, refs)), plan.sites, followups


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
