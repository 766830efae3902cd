"""Which names a module defines itself, which are bound in inner scopes, and what a use means.

A rename must follow Python's scopes: ``def f(): Engine = 1`` keeps its local ``Engine`` when the
module's ``Engine`` import is renamed. LibCST's scope analysis answers that exactly but walks
the whole module, so it runs only for files where :func:`scope_facts` (one cheap ``ast`` pass
over nodes already walked) says an inner scope binds a name that is renamed.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, ScopeProvider

__all__ = ["ScopeFacts", "module_references", "scope_facts"]

_INNER = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True, slots=True)
class ScopeFacts:
    """``defined``: bound at module level other than by an import; ``inner``: bound in some
    function, lambda, class body or comprehension."""

    defined: frozenset[str]
    inner: frozenset[str]


def _bound(node: ast.AST) -> Iterable[tuple[str, bool]]:
    """Names ``node`` binds, each with whether the binding is an import."""
    if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
        yield node.id, False
    elif isinstance(node, ast.arg):
        yield node.arg, False
    elif isinstance(
        node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.ExceptHandler
    ):
        if node.name:
            yield node.name, False
    elif isinstance(node, ast.Import | ast.ImportFrom):
        for alias in node.names:
            yield (alias.asname or alias.name).partition(".")[0], True


def _module_level(tree: ast.Module) -> Iterable[ast.AST]:
    """The nodes of module scope: inner scopes are entered for their names only."""
    stack: list[ast.AST] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _INNER):
            stack.extend(getattr(node, "decorator_list", []))
            continue
        if isinstance(node, _COMPREHENSIONS):
            continue
        stack.extend(ast.iter_child_nodes(node))


def scope_facts(tree: ast.Module, nodes: Sequence[ast.AST]) -> ScopeFacts:
    """One pass over ``nodes`` (the whole module) and one over its module scope."""
    total: Counter[str] = Counter(n for node in nodes for n, _ in _bound(node))
    top: Counter[str] = Counter()
    defined: set[str] = set()
    for node in _module_level(tree):
        for name, is_import in _bound(node):
            top[name] += 1
            if not is_import:
                defined.add(name)
    inner = {name for name, count in total.items() if count > top[name]}
    return ScopeFacts(frozenset(defined), frozenset(inner))


def module_references(
    module: cst.Module, names: Collection[str], imports: Collection[int]
) -> set[int]:
    """``id`` of every ``Name`` in ``module`` that reads a binding of one of ``names`` made by
    one of the import statements ``imports`` (by ``id``), in whichever scope it stands. The
    module is analysed in place, so the ids are those of its own nodes."""
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    scopes = {id(s): s for s in wrapper.resolve(ScopeProvider).values() if s is not None}
    found: set[int] = set()
    for scope in scopes.values():
        for name in names:
            for assignment in scope.assignments[name]:
                node = getattr(assignment, "node", None)
                if id(node) in imports:
                    found.update(id(ref.node) for ref in assignment.references)
    return found
