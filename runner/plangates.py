"""Plan validation of gates: named gates, inline gates, gate lists and each kind's options."""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Sequence

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from runner.model import (
    ApproveGate,
    ForbidImportsGate,
    Gate,
    GateSpec,
    MetricGate,
    PytestGate,
    RunGate,
)
from runner.planbase import (
    GATE_KINDS,
    GATE_OPTIONS,
    KEYS,
    Validator,
    describe,
    is_str,
    suggest,
    unique_name,
)
from runner.planverdicts import report_only_option
from runner.yamlnodes import RefusedNode

__all__ = ["GateValidator"]


class GateValidator(Validator):
    """Checks the ``gates:`` section and every place a gate is listed."""

    def named_gates(self, node: Node) -> None:
        if isinstance(node, RefusedNode):
            return
        if not isinstance(node, MappingNode):
            self.problem(
                node, f"'gates' must be a mapping of gate names to gates, got {describe(node)}"
            )
            return
        values: dict[str, Node] = {}
        for key, value in node.value:
            self.gate_names.add(key.value)
            values[key.value] = value
        for key, value in node.value:
            name = self.ident(key, "a gate name")
            if name is None:
                continue
            if is_str(value) and value.value in self.gate_names:
                self.problem(value, reference_message(name, values))
                continue
            gate = self.gate(value, f"gate '{name}'", name=name, named=True)
            if gate is not None:
                self.gates[name] = gate

    def gate(self, node: Node, what: str, *, name: str | None, named: bool = False) -> Gate | None:
        """A gate written as a mapping with one kind; ``name=None`` names it after its kind."""
        if isinstance(node, RefusedNode):
            return None
        if not isinstance(node, MappingNode):
            hint = ""
            if named and isinstance(node, SequenceNode):
                hint = "; to run several gates, list their names in a step's 'gate:' instead"
            elif named and is_str(node):
                hint = f'; did you mean {{run: "{node.value}"}}?'
            self.problem(
                node,
                f"{what} must be a mapping with one gate kind ({', '.join(GATE_KINDS)}), got "
                f"{describe(node)}{hint}",
            )
            return None
        before = len(self.report.problems)
        kinds = [(k, v) for k, v in node.value if k.value in GATE_KINDS]
        for key, _ in node.value:
            if key.value not in KEYS["gate"]:
                self.unknown_gate_key(key, kinds, what)
        if not kinds:
            if len(self.report.problems) == before:
                self.problem(node, f"{what} needs a kind: one of {', '.join(GATE_KINDS)}")
            return None
        for key, _ in kinds[1:]:
            self.problem(
                key,
                f"{what} has two kinds, '{kinds[0][0].value}' and '{key.value}'; a gate has "
                "exactly one: split it into two gates",
            )
        kind = kinds[0][0].value
        options = {k.value: v for k, v in node.value if k.value in KEYS["gate"]}
        for key, _ in node.value:
            if key.value in {"max", "max-ratio", "min"} and key.value not in GATE_OPTIONS[kind]:
                users = " and ".join(k for k in GATE_KINDS if key.value in GATE_OPTIONS[k])
                self.problem(key, f"'{key.value}' does not apply to a {kind} gate, only to {users}")
        spec = self.gate_spec(kind, kinds[0][1], options, what)
        timeout = None
        if "timeout" in options:
            timeout = self.duration(options["timeout"], "'timeout'")
        report_only = report_only_option(self, kind, options)
        if spec is None or len(self.report.problems) > before:
            return None
        return Gate(name=name or kind, spec=spec, timeout=timeout, report_only=report_only)

    def unknown_gate_key(self, key: ScalarNode, kinds: Sequence[object], what: str) -> None:
        if key.value in {"gate", "gates"}:
            self.problem(
                key,
                f"{what} cannot refer to other gates; list the gates' names where they are used",
            )
        elif not kinds and (hint := suggest(key.value, GATE_KINDS)):
            self.problem(key, f"unknown gate kind '{key.value}'{hint}")
        else:
            self.unknown_key(key, KEYS["gate"], what)

    def gate_spec(
        self, kind: str, value: Node, options: dict[str, Node], what: str
    ) -> GateSpec | None:
        if kind == "run":
            command = self.command(value, "'run'")
            return None if command is None else RunGate(command)
        if kind == "pytest":
            args = self.pytest_args(value)
            return None if args is None else PytestGate(args)
        if kind == "forbid-imports":
            return self.forbid_imports(value, options)
        if kind == "metric":
            return self.metric(value, options, what)
        question = self.string(value, "'approve' (the question to ask)")
        return None if question is None else ApproveGate(question)

    def pytest_args(self, node: Node) -> tuple[str, ...] | None:
        if is_str(node):
            try:
                return tuple(shlex.split(str(node.value)))
            except ValueError as e:
                self.problem(node, f"'pytest' arguments cannot be split like a shell would: {e}")
                return None
        if isinstance(node, SequenceNode):
            return self.each(node.value, lambda item: self.string(item, "each pytest argument"))
        if not isinstance(node, RefusedNode):
            self.problem(
                node,
                f"'pytest' must be its arguments, as a string or a list, got {describe(node)}",
            )
        return None

    def forbid_imports(self, node: Node, options: dict[str, Node]) -> GateSpec | None:
        items = self.strings(node, "'forbid-imports'")
        names = None
        if items == []:
            self.problem(node, "'forbid-imports' must list at least one dotted name")
        elif items is not None:
            names = self.each(items, lambda item: self.dotted(item, "'forbid-imports'"))
        limit = None
        if "max" in options:
            limit = self.count(options["max"], "'max'")
        ratio = None
        if "max-ratio" in options:
            ratio = self.number(options["max-ratio"], "'max-ratio'")
            if ratio is not None and not 0 <= ratio <= 1:
                self.problem(
                    options["max-ratio"],
                    f"'max-ratio' must be between 0 and 1, got {options['max-ratio'].value}",
                )
                ratio = None
        if names is None:
            return None
        if "max" not in options and "max-ratio" not in options:
            limit = 0  # "forbid" with no limit means none at all (docs/plan-format-notes.md)
        return ForbidImportsGate(names, max=limit, max_ratio=ratio)

    def count(self, node: Node, label: str) -> int | None:
        value = self.number(node, label, integer=True)
        if value is None:
            return None
        if value < 0:
            self.problem(node, f"{label} must be 0 or more, got {int(value)}")
            return None
        return int(value)

    def metric(self, node: Node, options: dict[str, Node], what: str) -> GateSpec | None:
        command = self.command(node, "'metric' (the command printing the number)")
        high = self.number(options["max"], "'max'") if "max" in options else None
        low = self.number(options["min"], "'min'") if "min" in options else None
        if "max" not in options and "min" not in options:
            self.problem(
                node, f"{what} needs 'max', 'min' or both: the bounds the number must stay in"
            )
            return None
        if high is not None and low is not None and low > high:
            self.problem(
                options["min"], f"'min' ({low:g}) is above 'max' ({high:g}): nothing can pass"
            )
            return None
        return None if command is None else MetricGate(command, max=high, min=low)

    def gate_list(self, node: Node, label: str, *, verify: bool = False) -> tuple[Gate, ...] | None:
        """``gate:`` as a name, an inline gate, or a list of both; names resolved."""
        if isinstance(node, RefusedNode):
            return None
        if isinstance(node, SequenceNode):
            items = list(node.value)
        elif is_str(node) or isinstance(node, MappingNode):
            items = [node]
        else:
            self.problem(
                node,
                f"{label} must be a list of gate names or inline gates like {{run: ...}}, got "
                f"{describe(node)}",
            )
            return None
        named = {str(item.value) for item in items if is_str(item)}
        taken = set(named)
        seen: set[str] = set()
        gates: list[Gate | None] = []
        for item in items:
            if is_str(item):
                gates.append(self.gate_ref(item, seen))
            elif isinstance(item, MappingNode):
                gate = self.gate(item, "an inline gate", name=None)
                if gate is not None:
                    gate = dataclasses.replace(gate, name=unique_name(gate.name, taken))
                gates.append(gate)
            elif not isinstance(item, RefusedNode):
                self.problem(
                    item,
                    f"each entry of {label} must be a gate name or an inline gate like "
                    f"{{run: ...}}, got {describe(item)}",
                )
                gates.append(None)
            else:
                gates.append(None)
            gate = gates[-1]
            if verify and gate is not None and isinstance(gate.spec, ApproveGate):
                self.problem(
                    item,
                    "an approve gate cannot verify a rollback: a rollback must finish "
                    "without waiting for a person",
                )
                gates[-1] = None
        valid = [g for g in gates if g is not None]
        return tuple(valid) if len(valid) == len(gates) else None

    def gate_ref(self, node: Node, seen: set[str]) -> Gate | None:
        name = str(node.value)
        if name in seen:
            self.problem(node, f"gate '{name}' is listed twice here")
            return None
        seen.add(name)
        if name in self.gates:
            return self.gates[name]
        if name in self.gate_names:
            return None  # defined but invalid: reported where it is defined
        hint = suggest(name, sorted(self.gate_names))
        if not hint and name in GATE_KINDS:
            hint = f"; for an inline gate write {{{name}: ...}}"
        elif not hint:
            defined = ", ".join(sorted(self.gate_names)) or "none"
            hint = f"; define it under 'gates:' (defined: {defined})"
        self.problem(node, f"unknown gate '{name}'{hint}")
        return None


def reference_message(name: str, values: dict[str, Node]) -> str:
    chain = [name]
    current = values[name]
    while is_str(current) and current.value in values and current.value not in chain:
        chain.append(str(current.value))
        current = values[chain[-1]]
    target = str(values[name].value)
    message = (
        f"gate '{name}' refers to gate '{target}', but a named gate must define its own check "
        f"({', '.join(GATE_KINDS)}); list both names where they are used"
    )
    if is_str(current) and current.value in chain:
        cycle = " -> ".join([*chain[chain.index(str(current.value)) :], str(current.value)])
        message += f" (they form a cycle: {cycle})"
    return message
