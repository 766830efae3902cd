"""Call templates of ``rewrite-call``: a site's arguments bound to ``from``, written as ``to``.

``from: pkg.old.ExecutionEngine(registry, websocket_bridge, user_context)`` and
``to: pkg.new.UserExecutionEngine(context=user_context, agent_factory=registry, ...)``: each
call site's arguments are bound to the names of ``from`` as Python binds them (positional,
keyword, positional-only, keyword-only, defaults), then written where ``to`` puts them.

* Only what the site passed is written: a left-out parameter keeps its default in the new
  callable too, and spelling the old default out would pin a value the new API may change.
* Order, for the smallest diff: what the site passed by position comes first, in ``to``'s
  order; what it passed by keyword follows in the site's own order, renamed as ``to`` says.
* Each argument keeps its source text (comments, line breaks inside it); the call keeps the
  site's layout, slot by slot: the n-th argument takes the separator and line break of the
  site's n-th, so one line stays one line and one-per-line stays one-per-line. A comment at
  the end of an argument's line travels with the argument.
* A site Python itself would refuse, or whose binding cannot be known from the text
  (``*args``, ``**kwargs``, an unknown keyword, too many arguments, a value given twice or a
  required one missing), is left as it is; :func:`bind` says why, for the follow-up.

Binding is decided from a site's *shape* alone (star and keyword of each argument), so the
``ast`` pass that finds sites and lines and the LibCST pass that rewrites them agree.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from runner.model import CallTemplate, ParamKind

__all__ = ["Bound", "ast_shape", "bind", "rewrite_arguments"]

#: One argument of a site: its star (``""``, ``"*"``, ``"**"``) and keyword (``None``: by position).
Shape = Sequence[tuple[str, str | None]]


@dataclass(frozen=True, slots=True)
class Bound:
    """Where each of the site's arguments goes: ``(site index, keyword or None)`` in new order."""

    order: tuple[tuple[int, str | None], ...]


def ast_shape(call: ast.Call) -> list[tuple[str, str | None]]:
    """The shape of a call as :mod:`ast` sees it (positional arguments always come first)."""
    shape: list[tuple[str, str | None]] = [
        ("*" if isinstance(a, ast.Starred) else "", None) for a in call.args
    ]
    shape += [("**", None) if k.arg is None else ("", k.arg) for k in call.keywords]
    return shape


def _cst_shape(call: cst.Call) -> list[tuple[str, str | None]]:
    return [(a.star, a.keyword.value if a.keyword is not None else None) for a in call.args]


def bind(template: CallTemplate, shape: Shape) -> Bound | str:
    """The new order of a site's arguments, or why the site cannot be rewritten safely."""
    for star, _ in shape:
        if star:
            what = "*args" if star == "*" else "**kwargs"
            return f"passes {what}: which parameters it fills is only known at run time"
    by_position = [p for p in template.params if p.kind is not ParamKind.KEYWORD_ONLY]
    positional = [i for i, (_, keyword) in enumerate(shape) if keyword is None]
    if len(positional) > len(by_position):
        return (
            f"passes {len(positional)} arguments by position, the template takes at most "
            f"{len(by_position)}"
        )
    param_of: dict[str, int] = {by_position[n].name: i for n, i in enumerate(positional)}
    keyword_sites: list[tuple[int, str]] = []
    known = {p.name: p for p in template.params}
    for i, (_, keyword) in enumerate(shape):
        if keyword is None:
            continue
        param = known.get(keyword)
        if param is None or param.kind is ParamKind.POSITIONAL_ONLY:
            return f"passes the keyword {keyword}=, which the template does not take"
        if keyword in param_of:
            return f"passes {keyword} twice (by position and by keyword)"
        param_of[keyword] = i
        keyword_sites.append((i, keyword))
    missing = [p.name for p in template.params if not p.has_default and p.name not in param_of]
    if missing:
        return f"does not pass {', '.join(missing)}, which the template requires"
    return _order(template, param_of, keyword_sites)


def _order(
    template: CallTemplate, param_of: dict[str, int], keyword_sites: list[tuple[int, str]]
) -> Bound | str:
    by_keyword = {name for _, name in keyword_sites}
    arg_of = {a.param: a for a in template.args}
    order: list[tuple[int, str | None]] = []
    gap = ""
    for arg in template.args:  # ``to``'s positional arguments: a prefix, written in order
        if arg.keyword is not None:
            continue
        if arg.param not in param_of:
            gap = arg.param
            continue
        if gap:
            return f"leaves out {gap}, which the new call takes by position before {arg.param}"
        order.append((param_of[arg.param], None))
    for arg in template.args:
        if arg.keyword is not None and arg.param in param_of and arg.param not in by_keyword:
            order.append((param_of[arg.param], arg.keyword))
    for i, name in keyword_sites:
        keyword = arg_of[name].keyword
        if keyword is not None:
            order.append((i, keyword))
    return Bound(tuple(order))


def rewrite_arguments(template: CallTemplate, call: cst.Call) -> cst.Call | None:
    """``call`` with its arguments as ``to`` writes them; ``None`` where :func:`bind` refuses."""
    bound = bind(template, _cst_shape(call))
    if isinstance(bound, str):
        return None
    old = list(call.args)
    equal = next((a.equal for a in old if a.keyword is not None), None)
    if not isinstance(equal, cst.AssignEqual):
        equal = cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        )
    new: list[cst.Arg] = []
    for slot, (source, keyword) in enumerate(bound.order):
        arg, layout = old[source], old[slot]
        own_equal = arg.equal if arg.keyword is not None else equal
        moved = layout.with_changes(
            value=arg.value,
            keyword=cst.Name(keyword) if keyword is not None else None,
            equal=own_equal if keyword is not None else cst.MaybeSentinel.DEFAULT,
            whitespace_after_star=arg.whitespace_after_star,
        )
        new.append(_carry_comment(moved, arg, layout))
    return call.with_changes(args=new)


def _line_end(arg: cst.Arg) -> cst.ParenthesizedWhitespace | None:
    """The whitespace that ends the argument's line, where a trailing comment lives."""
    comma = arg.comma
    if isinstance(comma, cst.Comma) and isinstance(
        comma.whitespace_after, cst.ParenthesizedWhitespace
    ):
        return comma.whitespace_after
    if isinstance(arg.whitespace_after_arg, cst.ParenthesizedWhitespace):
        return arg.whitespace_after_arg
    return None


def _set_line_end(arg: cst.Arg, end: cst.BaseParenthesizableWhitespace) -> cst.Arg:
    comma = arg.comma
    if isinstance(comma, cst.Comma) and (
        isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace)
        or not isinstance(arg.whitespace_after_arg, cst.ParenthesizedWhitespace)
    ):
        return arg.with_changes(comma=comma.with_changes(whitespace_after=end))
    return arg.with_changes(whitespace_after_arg=end)


def _carry_comment(moved: cst.Arg, arg: cst.Arg, layout: cst.Arg) -> cst.Arg:
    """A comment ending the argument's own line goes where the argument goes."""
    if arg is layout:
        return moved
    mine, slot = _line_end(arg), _line_end(layout)
    comment = mine.first_line.comment if mine is not None else None
    if slot is not None:
        first = slot.first_line.with_changes(
            comment=comment,
            whitespace=mine.first_line.whitespace if mine else slot.first_line.whitespace,
        )
        return _set_line_end(moved, slot.with_changes(first_line=first))
    if mine is not None and comment is not None:
        return _set_line_end(moved, mine)  # keep the comment even where the slot had none
    return moved
