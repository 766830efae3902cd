"""Call templates of ``rewrite-call`` (``from: pkg.old.f(a, b=None, *, c)``), checked at load.

A template is plain Python text, so it is read with :mod:`ast` (never LibCST, which
``runner check`` must not import): ``from`` as the parameter list of a ``def``, ``to`` as a
call expression. Every problem points at the offending character of the YAML value
(``phases.yaml:12:15: ...``), since a template is one line that can go wrong in many places.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from yaml.nodes import Node, ScalarNode

from runner.model import CallTemplate, ParamKind, TemplateArg, TemplateParam
from runner.planvalues import dotted_name_problem

__all__ = ["TemplatePair", "is_template", "parse_templates"]

#: Where a problem is, as the plan loader's collector takes it: a node or a 1-based (line, col).
Report = Callable[[Node | tuple[int, int], str], None]

_FROM_SHAPE = "a call template like pkg.old.f(a, b=None, *, c)"
_TO_SHAPE = "a call like pkg.new.g(x=a, y=b)"


@dataclass(frozen=True, slots=True)
class TemplatePair:
    """The callables' dotted names and the argument mapping between them."""

    from_: str
    to: str
    template: CallTemplate


class _Bad(Exception):
    """One problem at ``offset`` characters into the value."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


def is_template(text: str) -> bool:
    """Whether a ``from``/``to`` value is written as a call rather than a plain dotted name."""
    return "(" in text


def _where(node: Node, offset: int) -> Node | tuple[int, int]:
    """The position ``offset`` characters into a one-line scalar; the node itself otherwise."""
    start, end = node.start_mark, node.end_mark
    if not isinstance(node, ScalarNode) or start is None or end is None or start.line != end.line:
        return node
    quote = 1 if node.style in ('"', "'") else 0
    return (start.line + 1, start.column + 1 + quote + offset)


def parse_templates(
    from_node: Node, from_text: str, to_node: Node, to_text: str, report: Report
) -> TemplatePair | None:
    """Both halves of a templated ``rewrite-call``, or ``None`` with every problem reported."""
    try:
        callee, params = _parse_from(from_text)
    except _Bad as e:
        report(_where(from_node, e.offset), f"'from' must be {_FROM_SHAPE}: {e.message}")
        return None
    try:
        target, args = _parse_to(to_text, params)
    except _Bad as e:
        report(_where(to_node, e.offset), f"'to' must be {_TO_SHAPE}: {e.message}")
        return None
    return TemplatePair(callee, target, CallTemplate(params, args))


def _callee(text: str) -> tuple[str, int]:
    """The dotted name before ``(`` and the offset of ``(``."""
    paren = text.find("(")
    if paren < 0:
        raise _Bad(len(text), "no '(' after the callable's name")
    name = text[:paren].strip()
    reason = dotted_name_problem(name) if name else "the callable's name is missing"
    if reason is not None:
        raise _Bad(0, reason)
    return name, paren


def _syntax(e: SyntaxError, shift: int, text: str) -> _Bad:
    offset = max(0, min(len(text), (e.offset or 1) - 1 - shift))
    return _Bad(offset, f"not valid Python: {e.msg}")


def _parse_from(text: str) -> tuple[str, tuple[TemplateParam, ...]]:
    name, paren = _callee(text)
    if not text.rstrip().endswith(")"):
        raise _Bad(len(text.rstrip()), "it must end with ')'")
    inner = text[paren + 1 : len(text.rstrip()) - 1]
    prefix = "def _("
    shift = len(prefix) - (paren + 1)  # source column - shift = offset in the value
    try:
        tree = ast.parse(f"{prefix}{inner}): pass")
    except SyntaxError as e:
        raise _syntax(e, shift, text) from None
    func = tree.body[0]
    assert isinstance(func, ast.FunctionDef)
    a = func.args
    for star, mark in ((a.vararg, "*"), (a.kwarg, "**")):
        if star is not None:
            raise _Bad(
                star.col_offset - shift - len(mark),
                f"'{mark}{star.arg}' cannot be bound to names; list the parameters one by one",
            )
    positional = [*a.posonlyargs, *a.args]
    first_default = len(positional) - len(a.defaults)
    params: list[TemplateParam] = []
    seen: set[str] = set()
    for i, arg in enumerate(positional):
        kind = ParamKind.POSITIONAL_ONLY if i < len(a.posonlyargs) else ParamKind.POSITIONAL
        params.append(TemplateParam(arg.arg, kind, has_default=i >= first_default))
    for arg, default in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        params.append(TemplateParam(arg.arg, ParamKind.KEYWORD_ONLY, default is not None))
    for arg, param in zip([*positional, *a.kwonlyargs], params, strict=True):
        if param.name in seen:
            raise _Bad(arg.col_offset - shift, f"the parameter '{param.name}' is listed twice")
        seen.add(param.name)
    return name, tuple(params)


def _parse_to(text: str, params: tuple[TemplateParam, ...]) -> tuple[str, tuple[TemplateArg, ...]]:
    name, _ = _callee(text)
    try:
        expr = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as e:
        raise _syntax(e, 0, text) from None
    lead = len(text) - len(text.lstrip())
    if not isinstance(expr, ast.Call) or ast.unparse(expr.func) != name:
        raise _Bad(0, "it is not a single call of a dotted name")
    known = {p.name for p in params}
    used: dict[str, int] = {}
    args: list[TemplateArg] = []
    for value, keyword in [*((v, None) for v in expr.args), *((k.value, k) for k in expr.keywords)]:
        at = lead + (keyword.col_offset if keyword is not None else value.col_offset)
        if isinstance(value, ast.Starred) or (keyword is not None and keyword.arg is None):
            raise _Bad(at, "'*' and '**' cannot be written from single parameters")
        if not isinstance(value, ast.Name) or value.id not in known:
            shown = ast.get_source_segment(text.strip(), value) or "this argument"
            names = ", ".join(p.name for p in params) or "none"
            raise _Bad(at, f"'{shown}' is not a parameter of 'from' (it has: {names})")
        if value.id in used:
            raise _Bad(at, f"the parameter '{value.id}' is written twice")
        used[value.id] = at
        args.append(TemplateArg(value.id, keyword.arg if keyword is not None else None))
    missing = [p.name for p in params if p.name not in used]
    if missing:
        raise _Bad(
            len(text.rstrip()) - 1,
            f"the parameter(s) {', '.join(missing)} of 'from' go nowhere; every argument a "
            "call site passes must be written in 'to'",
        )
    return name, tuple(args)
