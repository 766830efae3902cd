"""Plan validation of a step's action: ``run``, ``move-import``, ``rewrite-call``, ``delete``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from yaml.nodes import MappingNode, Node, SequenceNode

from runner.model import (
    Action,
    CallRewrite,
    Delete,
    ImportMove,
    MoveImport,
    RewriteCall,
    RunAction,
)
from runner.planbase import (
    ACTIONS,
    Fields,
    Validator,
    describe,
)
from runner.plancalls import is_template, parse_templates
from runner.planvalues import (
    dotted_name_problem,
    identifier_problem,
    path_problem,
)
from runner.yamlnodes import RefusedNode

__all__ = ["ActionValidator"]

_T = TypeVar("_T")


class ActionValidator(Validator):
    """Checks the one action a step may have and the codemod mappings it takes."""

    def action(self, found: Fields) -> Action | None:
        """The step's action; with two or more, each is still checked, and none is kept."""
        present = sorted(
            (name for name in ACTIONS if name in found),
            key=lambda name: found[name][0].start_mark.index,
        )
        for name in present[1:]:
            self.problem(
                found[name][0],
                f"a step has at most one action, but this one has '{present[0]}' and "
                f"'{name}'; split it into two steps",
            )
        actions = [self.one_action(name, found[name][1]) for name in present]
        return actions[0] if len(actions) == 1 else None

    def one_action(self, kind: str, node: Node) -> Action | None:
        if kind == "run":
            command = self.command(node, "'run'")
            return None if command is None else RunAction(command)
        if kind == "move-import":
            moves = self.mappings(node, "'move-import'", self.import_move)
            return None if moves is None else MoveImport(moves)
        if kind == "rewrite-call":
            rewrites = self.mappings(node, "'rewrite-call'", self.call_rewrite)
            return None if rewrites is None else RewriteCall(rewrites)
        targets = self.delete_targets(node)
        return None if targets is None else Delete(targets)

    def mappings(
        self, node: Node, label: str, check: Callable[[Node], _T | None]
    ) -> tuple[_T, ...] | None:
        if isinstance(node, MappingNode):
            items: list[Node] = [node]
        elif isinstance(node, SequenceNode) and node.value:
            items = list(node.value)
        else:
            if not isinstance(node, RefusedNode):
                got = "an empty list" if isinstance(node, SequenceNode) else describe(node)
                self.problem(node, f"{label} must be a mapping or a list of mappings, got {got}")
            return None
        return self.each(items, check)

    def import_move(self, node: Node) -> ImportMove | None:
        found = self.fields(node, "move-import", "'move-import'", required=("from", "to"))
        if found is None:
            return None
        source = self.dotted(found["from"][1], "'from'") if "from" in found else None
        target = self.dotted(found["to"][1], "'to'") if "to" in found else None
        alias = None
        if "as" in found:
            alias = self.string(found["as"][1], "'as'")
            reason = identifier_problem(alias) if alias is not None else None
            if reason is not None:
                self.problem(found["as"][1], f"'as' must be a local name: {reason}")
                return None
        strings = None
        if "strings" in found:
            strings = self.string(found["strings"][1], "'strings'")
            if strings is not None and strings != "exact":
                self.problem(
                    found["strings"][1],
                    f"'strings' must be exact (rewrite string literals naming the old path), "
                    f"got '{strings}'",
                )
                return None
        if source is None or target is None:
            return None
        if source == target:
            self.problem(node, f"'from' and 'to' are both '{source}': nothing would move")
            return None
        return ImportMove(from_=source, to=target, as_=alias, strings=strings)

    def call_rewrite(self, node: Node) -> CallRewrite | None:
        found = self.fields(node, "rewrite-call", "'rewrite-call'", required=("from", "to"))
        if found is None:
            return None
        await_: bool | None = False
        if "await" in found:
            await_ = self.boolean(found["await"][1], "'await'")
        if "from" in found and "to" in found and await_ is not None:
            templated = self.call_template(found["from"][1], found["to"][1], await_=await_)
            if not isinstance(templated, bool):
                return templated
        source = self.dotted(found["from"][1], "'from'") if "from" in found else None
        target = self.dotted(found["to"][1], "'to'") if "to" in found else None
        if source is None or target is None or await_ is None:
            return None
        if source == target and not await_:
            self.problem(node, f"'from' and 'to' are both '{source}': nothing would change")
            return None
        return CallRewrite(from_=source, to=target, await_=await_)

    def call_template(
        self, source: Node, target: Node, *, await_: bool
    ) -> CallRewrite | bool | None:
        """A templated rewrite (see :mod:`runner.plancalls`); ``False`` for the plain form."""
        texts = [self.string(n, label) for n, label in ((source, "'from'"), (target, "'to'"))]
        if texts[0] is None or texts[1] is None:
            return None
        if not (is_template(texts[0]) or is_template(texts[1])):
            return False
        if not (is_template(texts[0]) and is_template(texts[1])):
            plain = source if is_template(texts[1]) else target
            self.problem(plain, "'from' and 'to' must both be call templates, or both names")
            return None
        pair = parse_templates(source, texts[0], target, texts[1], self.report.add)
        if pair is None:
            return None
        return CallRewrite(pair.from_, pair.to, await_=await_, template=pair.template)

    def delete_targets(self, node: Node) -> tuple[str, ...] | None:
        items = self.strings(node, "'delete'")
        if items == []:
            self.problem(node, "'delete' must list at least one path")
            return None
        return None if items is None else self.each(items, self.delete_target)

    def delete_target(self, node: Node) -> str | None:
        value = self.string(node, "each entry of 'delete'")
        if value is None:
            return None
        path, sep, name = value.partition("::")
        reason = path_problem(path)
        if reason is None and path.strip("/") in {"", "."}:
            reason = "that is the whole repository"
        if reason is None and sep and not path.endswith(".py"):
            reason = "a definition ('::Name') can only be deleted from a .py file"
        if reason is None and sep:
            reason = dotted_name_problem(name)
        if reason is not None:
            self.problem(
                node,
                f"'delete' takes a path in the repository or path.py::Dotted.name, but "
                f"'{value}': {reason}",
            )
            return None
        return value
