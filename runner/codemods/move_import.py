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

Star imports and dynamic imports are reported (see :mod:`._pyast`), and string targets
unless the mapping says ``strings: exact``; annotations written as strings (``e: "Engine"``)
that name a local the file renames are renamed with it (see :mod:`._move_strings`).
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
from runner.codemods._move_strings import annotation_lines, string_followups, string_target_lines
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
    text: str = "",
    targets: dict[int, set[str]] | None = None,
) -> tuple[cst.Module, int, list[FollowUp]]:
    """The rewritten module, the number of sites rewritten, and follow-ups found on the way.

    ``tree`` is the same source parsed by ``ast``: it tells which statements can change, so
    LibCST walks only those. ``nodes`` is :func:`walk_nodes` of ``tree``, if already known;
    ``text`` the decoded source, ``targets`` the string literals to rewrite by line.
    """
    if nodes is None:
        nodes = walk_nodes(tree)
    facts = file_facts(tree, nodes)
    bindings = import_bindings(tree, file, nodes)
    targets = targets or {}
    lines = _relevant_lines(facts, bindings, spec.froms) | annotation_lines(nodes) | set(targets)
    skip = statements_to_skip(module, tree, lines)
    scan = Scan(file, facts, skip)
    module.visit(scan)
    scopes = scope_facts(tree, nodes)
    plan = Planner(scan, spec, path, bindings, scopes).run()
    if not plan.statements and not plan.replace and not plan.renames and not targets:
        return module, 0, plan.followups
    followups = [*plan.followups, *string_followups(nodes, text, path, plan.renames)]
    refs = None
    if scopes.inner & plan.renames.keys():  # a function binds a renamed name for itself
        refs = module_references(module, plan.renames.keys(), plan.statements)
    apply = Apply(plan, file, skip, refs, spec if targets else None)
    new = module.visit(apply)
    return new, plan.sites + apply.strings_rewritten, followups


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
    text = source.decode("utf-8", "replace")
    targets = string_target_lines(nodes, text, spec.froms, spec.tos, spec.strings)
    followups = [f for f in followups if not _rewritten(f, targets)]
    if not targets and not overlaps(tree, file, spec.froms, nodes):
        return FileOutcome(path, followups=tuple(_once(followups)))
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as e:
        return FileOutcome(path, skipped=f"does not parse: {e.message} (line {e.raw_line})")
    new_module, sites, more = rewrite_module(
        module, tree, file, spec, path, nodes=nodes, text=text, targets=targets
    )
    new = module_bytes(module, new_module, tree, source)
    followups = _once(sorted([*followups, *more], key=lambda f: f.line))
    return FileOutcome(path, new if new != source else None, sites, tuple(followups))


def _rewritten(followup: FollowUp, targets: dict[int, set[str]]) -> bool:
    """A string-target follow-up for a literal that ``strings: exact`` rewrites."""
    values = targets.get(followup.line, set())
    return any(repr(v) in followup.reason for v in values)


def _once(followups: list[FollowUp]) -> list[FollowUp]:
    """A follow-up repeated with the same text at several sites: listed once, with its lines."""
    lines: dict[str, list[int]] = {}
    first: dict[str, FollowUp] = {}
    for f in followups:
        lines.setdefault(f.reason, []).append(f.line)
        first.setdefault(f.reason, f)
    out = []
    for reason, f in first.items():
        more = sorted(set(lines[reason]) - {f.line})
        if more:
            f = FollowUp(f.path, f.line, f"{reason} (also lines {', '.join(map(str, more))})")  # noqa: PLW2901
        out.append(f)
    return out
