"""The generic half of plan validation: node shapes, scalars, names, messages.

:mod:`runner.plan` walks the plan; the gate and action sections live in
:mod:`runner.plangates` and :mod:`runner.planactions`. Each builds on :class:`Validator`,
whose methods check one shape of value and report a problem at its node.
"""

from __future__ import annotations

import difflib
import enum
import math
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from runner.model import (
    Command,
    Gate,
)
from runner.planvalues import dotted_name_problem, parse_duration, parse_size
from runner.yamlnodes import Collector, RefusedNode

__all__ = ["ACTIONS", "FORMAT_VERSION", "GATE_KINDS", "GATE_OPTIONS", "KEYS", "Validator"]

FORMAT_VERSION = 1

ACTIONS = ("run", "move-import", "rewrite-call", "delete")
GATE_KINDS = ("run", "pytest", "forbid-imports", "metric", "approve")
#: Keys a gate of each kind accepts besides its kind (every gate also takes ``timeout``).
GATE_OPTIONS: dict[str, tuple[str, ...]] = {
    "run": (),
    "pytest": ("baseline", "retries", "flaky", "affected", "workers"),
    "forbid-imports": ("max", "max-ratio"),
    "metric": ("max", "min"),
    "approve": (),
}
#: Every key each mapping of the format accepts; the JSON Schema is tested against this.
KEYS: dict[str, tuple[str, ...]] = {
    "plan": ("version", "name", "description", "settings", "gates", "phases", "on-rollback"),
    "settings": (
        "branch",
        "rollback",
        "rollback-mode",
        "timeout",
        "env",
        "exclude",
        "source-roots",
        "rehearsal-include",
        "replay",
        "max-file-size",
        "parallel-gates",
        "run-all-gates",
    ),
    "gate": (
        *GATE_KINDS,
        "max",
        "max-ratio",
        "min",
        "timeout",
        "report-only",
        "baseline",
        "retries",
        "flaky",
        "exclusive",
        "affected",
        "workers",
    ),
    "phase": ("id", "title", "gate", "steps"),
    "step": (
        "id",
        "title",
        *ACTIONS,
        "gate",
        "timeout",
        "on-failure",
        "isolate",
        "on-inconclusive",
        "run-all-gates",
    ),
    "move-import": ("from", "to", "as", "strings"),
    "rewrite-call": ("from", "to", "await"),
    "on-rollback": ("run", "verify"),
}

YAML_TAG = "tag:yaml.org,2002:"
PLAN_NAME = re.compile(r"[a-z0-9-]+")
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
DURATION_HINT = "a duration like 90s, 15m or 1h"

_E = TypeVar("_E", bound=enum.Enum)
_T = TypeVar("_T")
_N = TypeVar("_N")
Fields = dict[str, tuple[ScalarNode, Node]]


# --- describing values -------------------------------------------------------------------


def describe(node: Node) -> str:
    """What the user wrote, for "got ..." in messages."""
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping" + colon_hint(node)
    value = str(node.value)
    shown = value if len(value) <= 40 else value[:37] + "..."
    kind = node.tag.removeprefix(YAML_TAG)
    return {
        "null": "nothing (an empty value)",
        "bool": f"the boolean {shown}",
        "int": f"the number {shown}",
        "float": f"the number {shown}",
        "timestamp": f"the date {shown}",
    }.get(kind, f"'{shown}'")


def colon_hint(node: MappingNode) -> str:
    """A one-line ``key: value`` where a string was expected: a ``: `` inside unquoted text
    (``[echo "hook: restart"]``) is what made YAML read a mapping; say so, with the fix."""
    start, end = node.start_mark, node.end_mark
    buffer = getattr(start, "buffer", None)
    if len(node.value) != 1 or not buffer or start.line != end.line:
        return ""
    text = str(buffer[start.pointer : end.pointer]).strip()
    quoted = "'" + text.replace("'", "''") + "'"
    return f": the ': ' in {text} made it one; quote the whole text: {quoted}"


def quote_hint(node: Node) -> str:
    if isinstance(node, ScalarNode) and node.tag != YAML_TAG + "null":
        return f'; quote it if you mean the text: "{node.value}"'
    return ""


def suggest(word: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")


def is_str(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == YAML_TAG + "str"


def scalar_value(node: Node) -> object:
    """The Python value of an int, float or bool scalar (never constructs anything else)."""
    try:
        return SafeConstructor().construct_object(node)
    except (yaml.YAMLError, ValueError):
        return None


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3``, ... whichever is free first; then taken."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    taken.add(candidate)
    return candidate


class Validator:
    """One walk over a composed plan; every problem goes to the collector."""

    def __init__(self, report: Collector) -> None:
        self.report = report
        self.gate_names: set[str] = set()  # every key under `gates:`, valid or not
        self.gates: dict[str, Gate] = {}  # the named gates that validated

    def problem(self, where: Node, message: str) -> None:
        self.report.add(where, message)

    # --- generic shapes ----------------------------------------------------------------

    def fields(
        self, node: Node, section: str, what: str, *, required: Sequence[str] = ()
    ) -> Fields | None:
        """The known keys of a mapping; unknown keys, missing ones and non-mappings reported."""
        if isinstance(node, RefusedNode):
            return None
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a mapping of keys, got {describe(node)}")
            return None
        allowed = KEYS[section]
        found: Fields = {}
        for key, value in node.value:
            if key.value in allowed:
                found[key.value] = (key, value)
            else:
                self.unknown_key(key, allowed, what)
        for name in required:
            if name not in found:
                self.problem(node, f"{what} is missing the required key '{name}'")
        return found

    def unknown_key(self, key: ScalarNode, allowed: Sequence[str], what: str) -> None:
        if key.tag == YAML_TAG + "merge":
            self.problem(
                key, "YAML merge keys ('<<') are not supported in a plan; write the keys out"
            )
            return
        hint = suggest(key.value, allowed)
        if not hint:
            hint = f" in {what}; expected one of: {', '.join(allowed)}"
        self.problem(key, f"unknown key '{key.value}'{hint}")

    def string(self, node: Node, label: str, *, empty_ok: bool = False) -> str | None:
        if isinstance(node, RefusedNode):
            return None
        if not is_str(node):
            self.problem(node, f"{label} must be a string, got {describe(node)}{quote_hint(node)}")
            return None
        value = str(node.value)
        if not empty_ok and not value.strip():
            self.problem(node, f"{label} must not be empty")
            return None
        return value

    def strings(self, node: Node, label: str, *, single_ok: bool = True) -> list[Node] | None:
        """The items of a list (or a lone string, when ``single_ok``), not yet checked."""
        if isinstance(node, RefusedNode):
            return None
        if isinstance(node, SequenceNode):
            return list(node.value)
        if single_ok and is_str(node):
            return [node]
        expected = "a string or a list of strings" if single_ok else "a list"
        self.problem(node, f"{label} must be {expected}, got {describe(node)}")
        return None

    def each(self, nodes: Sequence[_N], check: Callable[[_N], _T | None]) -> tuple[_T, ...] | None:
        """``check`` applied to every node (all are checked); ``None`` if any failed."""
        results = [check(node) for node in nodes]
        valid = [r for r in results if r is not None]
        return tuple(valid) if len(valid) == len(results) else None

    def identifier(self, node: Node, label: str, pattern: re.Pattern[str], rule: str) -> str | None:
        value = self.string(node, label)
        if value is None:
            return None
        if not pattern.fullmatch(value):
            fixed = slug(value)
            hint = f"; did you mean '{fixed}'?" if fixed and pattern.fullmatch(fixed) else ""
            self.problem(node, f"{label} must be {rule}, got '{value}'{hint}")
            return None
        return value

    def ident(self, node: Node, label: str) -> str | None:
        return self.identifier(
            node,
            label,
            ID_PATTERN,
            "lowercase letters, digits, '-' and '_', starting with a letter or digit",
        )

    def number(self, node: Node, label: str, *, integer: bool = False) -> float | None:
        if isinstance(node, RefusedNode):
            return None
        allowed = ("int",) if integer else ("int", "float")
        value = scalar_value(node) if node.tag.removeprefix(YAML_TAG) in allowed else None
        kind = "a whole number" if integer else "a number"
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            self.problem(node, f"{label} must be {kind}, got {describe(node)}")
            return None
        return float(value)

    def boolean(self, node: Node, label: str) -> bool | None:
        value = scalar_value(node) if node.tag == YAML_TAG + "bool" else None
        if not isinstance(value, bool):
            if not isinstance(node, RefusedNode):
                self.problem(node, f"{label} must be true or false, got {describe(node)}")
            return None
        return value

    def duration(self, node: Node, label: str) -> float | None:
        if isinstance(node, RefusedNode):
            return None
        if is_str(node):
            raw: str | int | float | None = str(node.value)
        elif node.tag in {YAML_TAG + "int", YAML_TAG + "float"}:
            value = scalar_value(node)
            raw = value if isinstance(value, int | float) else None
        else:
            raw = None
        try:
            if raw is None:
                raise ValueError(raw)  # one message for every kind of bad value
            return parse_duration(raw)
        except ValueError as e:
            rule = "more than zero" if "positive" in str(e) else DURATION_HINT
            self.problem(node, f"{label} must be {rule}, got {describe(node)}")
            return None

    def size(self, node: Node, label: str) -> int | None:
        if isinstance(node, RefusedNode):
            return None
        value = scalar_value(node) if node.tag in {YAML_TAG + "int", YAML_TAG + "float"} else None
        raw = str(node.value) if is_str(node) else value
        try:
            if not isinstance(raw, str | int | float) or isinstance(raw, bool):
                raise ValueError(raw)  # one message for every kind of bad value
            return parse_size(raw)
        except ValueError:
            rule = "a size in bytes, or with a unit: 512KB, 1MB, 2GB"
            self.problem(node, f"{label} must be {rule}, got {describe(node)}")
            return None

    def choice(self, node: Node, label: str, enum_type: type[_E]) -> _E | None:
        values = [member.value for member in enum_type]
        if isinstance(node, RefusedNode):
            return None
        if is_str(node):
            for member in enum_type:
                if member.value == node.value:
                    return member
        hint = suggest(str(node.value), values) if is_str(node) else ""
        self.problem(
            node, f"{label} must be one of {', '.join(values)}, got {describe(node)}{hint}"
        )
        return None

    def dotted(self, node: Node, label: str) -> str | None:
        value = self.string(node, label)
        if value is None:
            return None
        reason = dotted_name_problem(value)
        if reason is not None:
            self.problem(node, f"{label} must be a dotted Python name like pkg.mod.Name: {reason}")
            return None
        return value

    def command(self, node: Node, label: str) -> Command | None:
        """A string (run by the shell) or a non-empty list of strings (argv)."""
        if isinstance(node, RefusedNode):
            return None
        if is_str(node):
            return self.string(node, label)
        if isinstance(node, SequenceNode) and node.value:
            words = [(item, i > 0) for i, item in enumerate(node.value)]
            label = f"each word of {label}"
            return self.each(words, lambda w: self.string(w[0], label, empty_ok=w[1]))
        got = "an empty list" if isinstance(node, SequenceNode) else describe(node)
        self.problem(
            node,
            f"{label} must be a command: a string (run by the shell) or a list of strings "
            f"(argv), got {got}",
        )
        return None
