"""``rewrite-call``: calls of one callable become calls of another, optionally awaited.

A call matches when its callee, resolved through the file's imports and aliases, is ``from``
(``Engine(...)`` after ``from pkg.new import UserEngine as Engine``; ``mod.UserEngine(...)``
after ``import pkg.new as mod``). Names the file defines itself are not imports and never
match, so the defining module (whose factory may well call the constructor) is left alone.

The new callee is written in the file's own terms: ``to`` under ``from`` extends the callee
(``Engine.create_from_legacy``); another callable is reached through an existing import when
there is one, else ``from MODULE import NAME`` is added after the file's import of the old
callee. With ``await: true`` only calls whose nearest enclosing function is an ``async def``
are rewritten (``await`` added, parenthesised where a trailer follows); calls in sync
functions, lambdas, class bodies, generator expressions or at module level become follow-ups.
Line numbers for follow-ups come from the stdlib ``ast``, which applies the same rules.
"""

# LibCST and ast dispatch on visit_<NodeName> method names.

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from runner.codemods import FollowUp
from runner.codemods._cst import build_dotted, chain_text, from_import
from runner.codemods._parallel import FileOutcome, read_source
from runner.codemods._pyast import (
    Binding,
    dotted_name,
    import_bindings,
    parse_source,
    walk_nodes,
)
from runner.codemods._resolve import FileModule
from runner.codemods._skip import SkippingTransformer, statements_to_skip
from runner.codemods._splice import module_bytes
from runner.codemods.call_template import ast_shape, bind, rewrite_arguments
from runner.model import CallTemplate

__all__ = ["CallSpec", "RewriteSpec", "rewrite_file"]


@dataclass(frozen=True, slots=True)
class CallSpec:
    """One mapping; ``to_module`` is the module part of ``to`` (for an added import)."""

    from_: str
    to: str
    await_: bool
    to_module: str
    #: The argument mapping of a templated rewrite (see :mod:`.call_template`).
    template: CallTemplate | None = None


@dataclass(frozen=True, slots=True)
class RewriteSpec:
    """Every mapping of one ``rewrite-call`` action."""

    calls: tuple[CallSpec, ...]


def _resolver(bindings: Sequence[Binding]) -> dict[str, str]:
    """Local name → dotted target, leaving out names bound to different things."""
    seen: dict[str, set[str]] = {}
    for b in bindings:
        seen.setdefault(b.local, set()).add(b.target)
    return {local: next(iter(t)) for local, t in seen.items() if len(t) == 1}


def _resolve(text: str | None, names: dict[str, str]) -> str | None:
    if text is None:
        return None
    head, dot, rest = text.partition(".")
    target = names.get(head)
    if target is None:
        return None
    return target + dot + rest


def _match(resolved: str | None, spec: RewriteSpec) -> int | None:
    return next((i for i, c in enumerate(spec.calls) if c.from_ == resolved), None)


class _AstCalls(ast.NodeVisitor):
    """Matching calls with their line, and whether an ``await`` may be added there."""

    def __init__(self, names: dict[str, str], spec: RewriteSpec) -> None:
        self.names = names
        self.spec = spec
        self.is_async = [False]
        #: (line, mapping, may await, why a template cannot bind it or "")
        self.found: list[tuple[int, int, bool, str]] = []

    def _outer(self, nodes: Sequence[ast.AST | None]) -> None:
        for node in nodes:
            if node is not None:
                self.visit(node)

    def _inside(self, body: Sequence[ast.AST], *, is_async: bool) -> None:
        self.is_async.append(is_async)
        for node in body:
            self.visit(node)
        self.is_async.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._outer([*node.decorator_list, node.args, node.returns])
        self._inside(node.body, is_async=isinstance(node, ast.AsyncFunctionDef))

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._outer([node.args])
        self._inside([node.body], is_async=False)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._outer([*node.decorator_list, *node.bases, *node.keywords])
        self._inside(node.body, is_async=False)

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        self._inside([node.elt, *node.generators], is_async=False)

    def visit_Call(self, node: ast.Call) -> None:
        index = _match(_resolve(dotted_name(node.func), self.names), self.spec)
        if index is not None:
            template = self.spec.calls[index].template
            bound = bind(template, ast_shape(node)) if template is not None else None
            why = bound if isinstance(bound, str) else ""
            self.found.append((node.lineno, index, self.is_async[-1], why))
        self.generic_visit(node)


@dataclass(slots=True)
class _Needs:
    imports: list[tuple[str, str]] = field(default_factory=list)
    after_locals: set[str] = field(default_factory=set)


class _Apply(SkippingTransformer):
    """Rewrites matching calls where allowed; mirrors :class:`_AstCalls`' notion of async."""

    def __init__(
        self,
        names: dict[str, str],
        bindings: Sequence[Binding],
        spec: RewriteSpec,
        *,
        taken: set[str],
        file: FileModule | None,
        skip: set[int],
    ) -> None:
        super().__init__(skip)
        self.names = names
        self.bindings = bindings
        self.spec = spec
        self.taken = taken
        self.file = file
        self.is_async = [False]
        self.awaited: set[int] = set()
        self.sites = 0
        self.needs = _Needs()

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self.is_async.append(node.asynchronous is not None)

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self.is_async.pop()

    def visit_Lambda_body(self, node: cst.Lambda) -> None:
        self.is_async.append(False)

    def leave_Lambda_body(self, node: cst.Lambda) -> None:
        self.is_async.pop()

    def visit_ClassDef_body(self, node: cst.ClassDef) -> None:
        self.is_async.append(False)

    def leave_ClassDef_body(self, node: cst.ClassDef) -> None:
        self.is_async.pop()

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self.is_async.append(False)

    def leave_GeneratorExp(
        self, original_node: cst.GeneratorExp, updated_node: cst.GeneratorExp
    ) -> cst.GeneratorExp:
        self.is_async.pop()
        return updated_node

    def visit_Await(self, node: cst.Await) -> None:
        self.awaited.add(id(node.expression))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        updated_node = self._paren_trailer(updated_node)
        text = chain_text(original_node.func)
        index = _match(_resolve(text, self.names), self.spec)
        if index is None:
            return updated_node
        spec = self.spec.calls[index]
        if spec.await_ and not self.is_async[-1]:
            return updated_node
        if spec.template is not None:
            rebound = rewrite_arguments(spec.template, updated_node)
            if rebound is None:
                return updated_node  # listed as a follow-up by the ast pass
            updated_node = rebound
        func = self._callee(updated_node.func, spec, (text or "").partition(".")[0])
        if func is None:
            return updated_node
        self.sites += 1
        call = updated_node.with_changes(func=func)
        if not spec.await_ or id(original_node) in self.awaited:
            return call
        return cst.Await(expression=call)

    def _callee(
        self, func: cst.BaseExpression, spec: CallSpec, head: str
    ) -> cst.BaseExpression | None:
        if spec.to == spec.from_:
            return func  # a template that only changes the arguments: the callee stays
        if spec.to.startswith(spec.from_ + "."):
            for part in spec.to[len(spec.from_) + 1 :].split("."):
                func = cst.Attribute(value=func, attr=cst.Name(part))
            return func
        via = self._via(spec)
        if via:
            best = max(via, key=lambda b: len(b.target))
            return build_dotted(best.local + spec.to[len(best.target) :])
        name, _, rest = spec.to[len(spec.to_module) + 1 :].partition(".")
        if name in self.taken and (spec.to_module, name) not in self.needs.imports:
            return None
        if (spec.to_module, name) not in self.needs.imports:
            self.needs.imports.append((spec.to_module, name))
        self.needs.after_locals.add(head)
        return build_dotted(f"{name}.{rest}" if rest else name)

    def _via(self, spec: CallSpec) -> list[Binding]:
        """Imports of the file through which ``spec.to`` can be reached."""
        return [
            b
            for b in self.bindings
            if self.names.get(b.local) == b.target
            and spec.to.startswith(b.target + ".")
            and (not b.statement or b.local != b.target or spec.to.startswith(b.imported + "."))
        ]

    def unnameable(self, spec: CallSpec) -> str | None:
        """The name that keeps ``spec.to`` from being written in this file, if any: the
        callee would need a new import under a name the file already uses."""
        if spec.to == spec.from_ or spec.to.startswith(spec.from_ + ".") or self._via(spec):
            return None
        name = spec.to[len(spec.to_module) + 1 :].partition(".")[0]
        return name if name in self.taken else None

    @staticmethod
    def _paren_trailer(node: cst.Call) -> cst.Call:
        if isinstance(node.func, cst.Await) and not node.func.lpar:
            return node.with_changes(
                func=node.func.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            )
        return node

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.Attribute:
        if isinstance(updated_node.value, cst.Await) and not updated_node.value.lpar:
            value = updated_node.value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            return updated_node.with_changes(value=value)
        return updated_node

    def leave_Subscript(
        self, original_node: cst.Subscript, updated_node: cst.Subscript
    ) -> cst.Subscript:
        if isinstance(updated_node.value, cst.Await) and not updated_node.value.lpar:
            value = updated_node.value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            return updated_node.with_changes(value=value)
        return updated_node

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self.needs.imports:
            return updated_node
        body = list(updated_node.body)
        at = self._insert_at(body)
        lines = [
            cst.SimpleStatementLine(body=[from_import(self.file, 0, module, [(name, name)])])
            for module, name in self.needs.imports
        ]
        return updated_node.with_changes(body=[*body[:at], *lines, *body[at:]])

    def _insert_at(self, body: Sequence[cst.BaseStatement]) -> int:
        """After the import of the old callee; else after the last module-level import."""
        last = 0
        for i, stmt in enumerate(body):
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if isinstance(small, cst.Import | cst.ImportFrom):
                    last = i + 1
                    if _binds(small) & self.needs.after_locals:
                        return i + 1
        return last


def _binds(stmt: cst.Import | cst.ImportFrom) -> set[str]:
    if isinstance(stmt.names, cst.ImportStar):
        return set()
    out = set()
    for alias in stmt.names:
        if alias.asname is None and isinstance(stmt, cst.Import):
            out.add(alias.evaluated_name.partition(".")[0])
        else:
            out.add(alias.evaluated_alias or alias.evaluated_name)
    return out


def _followups(
    path: str, spec: RewriteSpec, found: list[tuple[int, int, bool, str]]
) -> list[FollowUp]:
    out = []
    for line, index, may_await, why in found:
        call = spec.calls[index]
        if why:
            reason = f"call of {call.from_} left as it is: it {why}; rewrite it by hand"
            out.append(FollowUp(path, line, reason))
        elif call.await_ and not may_await:
            reason = (
                f"sync call site of an awaited factory: {call.from_}(...) is not inside an "
                f"async def; rewrite it to {call.to} by hand"
            )
            out.append(FollowUp(path, line, reason))
    return out


def rewrite_file(task: tuple[str, str, FileModule | None, RewriteSpec]) -> FileOutcome:
    """Worker: one candidate file through ``rewrite-call``; never writes."""
    root, path, file, spec = task
    source = read_source(Path(root), path)
    if isinstance(source, str):
        return FileOutcome(path, skipped=source)
    tree = parse_source(source)
    if isinstance(tree, str):
        return FileOutcome(path, skipped=tree)
    nodes = walk_nodes(tree)
    bindings = import_bindings(tree, file, nodes)
    names = _resolver(bindings)
    finder = _AstCalls(names, spec)
    finder.visit(tree)
    if not finder.found:
        return FileOutcome(path)
    followups = tuple(_followups(path, spec, finder.found))
    if not any(not why and (may or not spec.calls[i].await_) for _, i, may, why in finder.found):
        return FileOutcome(path, followups=followups)
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as e:
        return FileOutcome(path, skipped=f"does not parse: {e.message} (line {e.raw_line})")
    taken = {n.id for n in nodes if isinstance(n, ast.Name)} | set(names)
    skip = statements_to_skip(module, tree, {line for line, _, _, _ in finder.found})
    apply = _Apply(names, bindings, spec, taken=taken, file=file, skip=skip)
    followups += tuple(_unnamed(path, spec, finder.found, apply))
    new = module_bytes(module, module.visit(apply), tree, source)
    return FileOutcome(path, new if new != source else None, apply.sites, followups)


def _unnamed(
    path: str, spec: RewriteSpec, found: list[tuple[int, int, bool, str]], apply: _Apply
) -> list[FollowUp]:
    """Sites left as they were because the new callable's name already means something else
    in the file: listed, never skipped in silence."""
    out = []
    for line, index, may_await, why in found:
        call = spec.calls[index]
        name = apply.unnameable(call)
        if name is None or why or (call.await_ and not may_await):
            continue
        reason = (
            f"call of {call.from_} left as it is: {name} already names something else here, "
            f"so {call.to} cannot be imported under it; rewrite it by hand"
        )
        out.append(FollowUp(path, line, reason))
    return out
