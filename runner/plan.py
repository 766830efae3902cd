"""``phases.yaml`` → the frozen records of :mod:`runner.model`, or every problem at once.

Loading runs nothing. :mod:`runner.yamlnodes` composes the text into a node tree (safe
loader, no construction, aliases and foreign tags refused); this module walks that tree once,
checks every rule of the plan format (``docs/plan-format-notes.md`` lists the choices made
where the contract is silent) and reports each mistake as ``FILE:LINE:COL: message`` at the
offending key or value. A broken phase does not hide problems in the next one: the walk
goes on after each problem and :class:`~runner.errors.PlanError` carries them all.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import math
import re
import shlex
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from runner.errors import PlanError, Problem
from runner.model import (
    Action,
    ApproveGate,
    CallRewrite,
    Command,
    Delete,
    ForbidImportsGate,
    Gate,
    GateSpec,
    ImportMove,
    MetricGate,
    MoveImport,
    OnFailure,
    OnRollback,
    Phase,
    Plan,
    PytestGate,
    RewriteCall,
    Rollback,
    RollbackMode,
    RunAction,
    RunGate,
    Settings,
    Step,
)
from runner.plancalls import is_template, parse_templates
from runner.planisolate import parse_isolate
from runner.planvalues import (
    branch_problem,
    dotted_name_problem,
    identifier_problem,
    parse_duration,
    parse_size,
    path_problem,
)
from runner.yamlnodes import MAX_BYTES, Collector, RefusedNode, compose

__all__ = [
    "ACTIONS",
    "FORMAT_VERSION",
    "GATE_KINDS",
    "GATE_OPTIONS",
    "KEYS",
    "load_plan",
    "parse_duration",
    "parse_plan",
]

FORMAT_VERSION = 1

ACTIONS = ("run", "move-import", "rewrite-call", "delete")
GATE_KINDS = ("run", "pytest", "forbid-imports", "metric", "approve")
#: Keys a gate of each kind accepts besides its kind (every gate also takes ``timeout``).
GATE_OPTIONS: dict[str, tuple[str, ...]] = {
    "run": (),
    "pytest": (),
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
    ),
    "gate": (*GATE_KINDS, "max", "max-ratio", "min", "timeout"),
    "phase": ("id", "title", "gate", "steps"),
    "step": ("id", "title", *ACTIONS, "gate", "timeout", "on-failure", "isolate"),
    "move-import": ("from", "to", "as", "strings"),
    "rewrite-call": ("from", "to", "await"),
    "on-rollback": ("run", "verify"),
}

_TAG = "tag:yaml.org,2002:"
_PLAN_NAME = re.compile(r"[a-z0-9-]+")
_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DURATION_HINT = "a duration like 90s, 15m or 1h"

_E = TypeVar("_E", bound=enum.Enum)
_T = TypeVar("_T")
_N = TypeVar("_N")
_Fields = dict[str, tuple[ScalarNode, Node]]


def load_plan(path: Path, *, display_path: str | None = None) -> Plan:
    """Read and validate the plan at ``path``; messages name it ``display_path``.

    ``display_path`` defaults to ``path`` as given, so a relative path the user typed stays
    relative. Raises :class:`~runner.errors.PlanError` listing every problem.
    """
    shown = str(path) if display_path is None else display_path
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                data += f.read()  # the size goes into the message; the cap is per plan
    except OSError as e:
        reason = e.strerror or str(e)
        raise PlanError([Problem(shown, 1, 1, f"cannot read the plan: {reason}")]) from None
    return parse_plan(data, path=shown)


def parse_plan(text: str | bytes, *, path: str = "phases.yaml") -> Plan:
    """Validate a plan given as text; ``path`` names it in messages."""
    report = Collector(path)
    root = compose(text, report)
    plan = _Validator(report).plan(root) if root is not None else None
    if report.problems or plan is None:
        problems = sorted(report.problems, key=lambda p: (p.line, p.col))
        raise PlanError(problems or [Problem(path, 1, 1, "the plan could not be read")])
    return dataclasses.replace(plan, path=path)


# --- describing values -------------------------------------------------------------------


def _describe(node: Node) -> str:
    """What the user wrote, for "got ..." in messages."""
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping" + _colon_hint(node)
    value = str(node.value)
    shown = value if len(value) <= 40 else value[:37] + "..."
    kind = node.tag.removeprefix(_TAG)
    return {
        "null": "nothing (an empty value)",
        "bool": f"the boolean {shown}",
        "int": f"the number {shown}",
        "float": f"the number {shown}",
        "timestamp": f"the date {shown}",
    }.get(kind, f"'{shown}'")


def _colon_hint(node: MappingNode) -> str:
    """A one-line ``key: value`` where a string was expected: a ``: `` inside unquoted text
    (``[echo "hook: restart"]``) is what made YAML read a mapping; say so, with the fix."""
    start, end = node.start_mark, node.end_mark
    buffer = getattr(start, "buffer", None)
    if len(node.value) != 1 or not buffer or start.line != end.line:
        return ""
    text = str(buffer[start.pointer : end.pointer]).strip()
    quoted = "'" + text.replace("'", "''") + "'"
    return f": the ': ' in {text} made it one; quote the whole text: {quoted}"


def _quote_hint(node: Node) -> str:
    if isinstance(node, ScalarNode) and node.tag != _TAG + "null":
        return f'; quote it if you mean the text: "{node.value}"'
    return ""


def _suggest(word: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")


def _is_str(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _TAG + "str"


def _scalar(node: Node) -> object:
    """The Python value of an int, float or bool scalar (never constructs anything else)."""
    try:
        return SafeConstructor().construct_object(node)
    except (yaml.YAMLError, ValueError):
        return None


class _Validator:
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
    ) -> _Fields | None:
        """The known keys of a mapping; unknown keys, missing ones and non-mappings reported."""
        if isinstance(node, RefusedNode):
            return None
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a mapping of keys, got {_describe(node)}")
            return None
        allowed = KEYS[section]
        found: _Fields = {}
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
        if key.tag == _TAG + "merge":
            self.problem(
                key, "YAML merge keys ('<<') are not supported in a plan; write the keys out"
            )
            return
        hint = _suggest(key.value, allowed)
        if not hint:
            hint = f" in {what}; expected one of: {', '.join(allowed)}"
        self.problem(key, f"unknown key '{key.value}'{hint}")

    def string(self, node: Node, label: str, *, empty_ok: bool = False) -> str | None:
        if isinstance(node, RefusedNode):
            return None
        if not _is_str(node):
            self.problem(
                node, f"{label} must be a string, got {_describe(node)}{_quote_hint(node)}"
            )
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
        if single_ok and _is_str(node):
            return [node]
        expected = "a string or a list of strings" if single_ok else "a list"
        self.problem(node, f"{label} must be {expected}, got {_describe(node)}")
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
            slug = _slug(value)
            hint = f"; did you mean '{slug}'?" if slug and pattern.fullmatch(slug) else ""
            self.problem(node, f"{label} must be {rule}, got '{value}'{hint}")
            return None
        return value

    def ident(self, node: Node, label: str) -> str | None:
        return self.identifier(
            node,
            label,
            _ID,
            "lowercase letters, digits, '-' and '_', starting with a letter or digit",
        )

    def number(self, node: Node, label: str, *, integer: bool = False) -> float | None:
        if isinstance(node, RefusedNode):
            return None
        allowed = ("int",) if integer else ("int", "float")
        value = _scalar(node) if node.tag.removeprefix(_TAG) in allowed else None
        kind = "a whole number" if integer else "a number"
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            self.problem(node, f"{label} must be {kind}, got {_describe(node)}")
            return None
        return float(value)

    def boolean(self, node: Node, label: str) -> bool | None:
        value = _scalar(node) if node.tag == _TAG + "bool" else None
        if not isinstance(value, bool):
            if not isinstance(node, RefusedNode):
                self.problem(node, f"{label} must be true or false, got {_describe(node)}")
            return None
        return value

    def duration(self, node: Node, label: str) -> float | None:
        if isinstance(node, RefusedNode):
            return None
        if _is_str(node):
            raw: str | int | float | None = str(node.value)
        elif node.tag in {_TAG + "int", _TAG + "float"}:
            value = _scalar(node)
            raw = value if isinstance(value, int | float) else None
        else:
            raw = None
        try:
            if raw is None:
                raise ValueError(raw)  # one message for every kind of bad value
            return parse_duration(raw)
        except ValueError as e:
            rule = "more than zero" if "positive" in str(e) else _DURATION_HINT
            self.problem(node, f"{label} must be {rule}, got {_describe(node)}")
            return None

    def size(self, node: Node, label: str) -> int | None:
        if isinstance(node, RefusedNode):
            return None
        value = _scalar(node) if node.tag in {_TAG + "int", _TAG + "float"} else None
        raw = str(node.value) if _is_str(node) else value
        try:
            if not isinstance(raw, str | int | float) or isinstance(raw, bool):
                raise ValueError(raw)  # one message for every kind of bad value
            return parse_size(raw)
        except ValueError:
            rule = "a size in bytes, or with a unit: 512KB, 1MB, 2GB"
            self.problem(node, f"{label} must be {rule}, got {_describe(node)}")
            return None

    def choice(self, node: Node, label: str, enum_type: type[_E]) -> _E | None:
        values = [member.value for member in enum_type]
        if isinstance(node, RefusedNode):
            return None
        if _is_str(node):
            for member in enum_type:
                if member.value == node.value:
                    return member
        hint = _suggest(str(node.value), values) if _is_str(node) else ""
        self.problem(
            node, f"{label} must be one of {', '.join(values)}, got {_describe(node)}{hint}"
        )
        return None

    def command(self, node: Node, label: str) -> Command | None:
        """A string (run by the shell) or a non-empty list of strings (argv)."""
        if isinstance(node, RefusedNode):
            return None
        if _is_str(node):
            return self.string(node, label)
        if isinstance(node, SequenceNode) and node.value:
            words = [(item, i > 0) for i, item in enumerate(node.value)]
            label = f"each word of {label}"
            return self.each(words, lambda w: self.string(w[0], label, empty_ok=w[1]))
        got = "an empty list" if isinstance(node, SequenceNode) else _describe(node)
        self.problem(
            node,
            f"{label} must be a command: a string (run by the shell) or a list of strings "
            f"(argv), got {got}",
        )
        return None

    # --- the plan --------------------------------------------------------------------------

    def plan(self, root: Node) -> Plan | None:
        if isinstance(root, SequenceNode | ScalarNode) and not isinstance(root, RefusedNode):
            self.problem(
                root,
                f"the plan must be a mapping with keys such as 'version:', 'name:' and "
                f"'phases:', got {_describe(root)} at the top",
            )
            return None
        top = self.fields(root, "plan", "the plan", required=("version", "name", "phases"))
        if top is None:
            return None
        version = self.version(top["version"][1]) if "version" in top else None
        name = None
        if "name" in top:
            name = self.identifier(
                top["name"][1], "'name'", _PLAN_NAME, "lowercase letters, digits and '-'"
            )
        description = ""
        if "description" in top:
            description = self.string(top["description"][1], "'description'", empty_ok=True) or ""
        settings = self.settings(top["settings"][1]) if "settings" in top else Settings()
        if "gates" in top:
            self.named_gates(top["gates"][1])
        phases = self.phases(top["phases"][1]) if "phases" in top else None
        on_rollback = OnRollback()
        if "on-rollback" in top:
            on_rollback = self.on_rollback(top["on-rollback"][1]) or on_rollback
        if version is None or name is None or settings is None or phases is None:
            return None
        return Plan(
            version=version,
            name=name,
            description=description,
            settings=settings,
            gates=tuple(self.gates.items()),
            phases=phases,
            on_rollback=on_rollback,
        )

    def version(self, node: Node) -> int | None:
        value = _scalar(node) if node.tag == _TAG + "int" else None
        if not isinstance(value, int):
            if not isinstance(node, RefusedNode):
                self.problem(
                    node,
                    f"'version' must be the number {FORMAT_VERSION}, got {_describe(node)}",
                )
            return None
        if value != FORMAT_VERSION:
            self.problem(
                node,
                f"unsupported plan format version {value}; this runner reads version "
                f"{FORMAT_VERSION}",
            )
            return None
        return value

    # --- settings --------------------------------------------------------------------------

    def settings(self, node: Node) -> Settings | None:
        found = self.fields(node, "settings", "'settings'")
        if found is None:
            return None
        before = len(self.report.problems)
        defaults = Settings()
        branch = None
        if "branch" in found:
            branch = self.branch(found["branch"][1])
        rollback = defaults.rollback
        if "rollback" in found:
            rollback = self.choice(found["rollback"][1], "'rollback'", Rollback) or rollback
        mode = defaults.rollback_mode
        if "rollback-mode" in found:
            mode = self.choice(found["rollback-mode"][1], "'rollback-mode'", RollbackMode) or mode
        timeout = defaults.timeout
        if "timeout" in found:
            timeout = self.duration(found["timeout"][1], "'timeout'")
        env = self.env(found["env"][1]) if "env" in found else ()
        exclude: tuple[str, ...] | None = ()
        if "exclude" in found:
            exclude = self.paths(found["exclude"][1], "'exclude'", glob=True)
        roots = defaults.source_roots
        if "source-roots" in found:
            roots = self.source_roots(found["source-roots"][1]) or roots
        include: tuple[str, ...] | None = defaults.rehearsal_include
        if "rehearsal-include" in found:
            include = self.paths(found["rehearsal-include"][1], "'rehearsal-include'", glob=True)
        replay = None
        if "replay" in found:
            replay = self.duration(found["replay"][1], "'replay'")
        max_size = defaults.max_file_size
        if "max-file-size" in found:
            max_size = self.size(found["max-file-size"][1], "'max-file-size'") or max_size
        if len(self.report.problems) > before or env is None or None in (exclude, include):
            return None
        assert exclude is not None
        assert include is not None
        return Settings(
            branch=branch,
            rollback=rollback,
            rollback_mode=mode,
            timeout=timeout,
            env=env,
            exclude=exclude,
            source_roots=roots,
            rehearsal_include=include,
            replay=replay,
            max_file_size=max_size,
        )

    def branch(self, node: Node) -> str | None:
        name = self.string(node, "'branch'")
        if name is None:
            return None
        reason = branch_problem(name)
        if reason is not None:
            self.problem(node, f"'branch' is not a valid git branch name: {reason}")
            return None
        return name

    def env(self, node: Node) -> tuple[tuple[str, str], ...] | None:
        if isinstance(node, RefusedNode):
            return None
        if not isinstance(node, MappingNode):
            self.problem(node, f"'env' must be a mapping of NAME: value, got {_describe(node)}")
            return None
        pairs: list[tuple[str, str]] = []
        for key, value in node.value:
            if not _ENV_NAME.fullmatch(key.value):
                self.problem(
                    key,
                    f"'{key.value}' is not an environment variable name (letters, digits "
                    "and '_', not starting with a digit)",
                )
                continue
            text = self.string(value, f"the value of {key.value}", empty_ok=True)
            if text is not None:
                pairs.append((key.value, text))
        if len(pairs) != len(node.value):
            return None
        return tuple(sorted(pairs))

    def paths(self, node: Node, label: str, *, glob: bool = False) -> tuple[str, ...] | None:
        items = self.strings(node, label)
        if items is None:
            return None
        return self.each(items, lambda item: self.path(item, f"each entry of {label}", glob=glob))

    def path(self, node: Node, label: str, *, glob: bool = False) -> str | None:
        value = self.string(node, label)
        if value is None:
            return None
        reason = path_problem(value, glob=glob)
        if reason is not None:
            self.problem(node, f"{label} must stay inside the repository, but '{value}': {reason}")
            return None
        return value

    def source_roots(self, node: Node) -> tuple[str, ...] | None:
        roots = self.paths(node, "'source-roots'")
        if roots == ():
            self.problem(node, "'source-roots' must list at least one directory (default: ., src)")
            return None
        return roots

    # --- gates -----------------------------------------------------------------------------

    def named_gates(self, node: Node) -> None:
        if isinstance(node, RefusedNode):
            return
        if not isinstance(node, MappingNode):
            self.problem(
                node, f"'gates' must be a mapping of gate names to gates, got {_describe(node)}"
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
            if _is_str(value) and value.value in self.gate_names:
                self.problem(value, _reference_message(name, values))
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
            elif named and _is_str(node):
                hint = f'; did you mean {{run: "{node.value}"}}?'
            self.problem(
                node,
                f"{what} must be a mapping with one gate kind ({', '.join(GATE_KINDS)}), got "
                f"{_describe(node)}{hint}",
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
        if spec is None or len(self.report.problems) > before:
            return None
        return Gate(name=name or kind, spec=spec, timeout=timeout)

    def unknown_gate_key(self, key: ScalarNode, kinds: Sequence[object], what: str) -> None:
        if key.value in {"gate", "gates"}:
            self.problem(
                key,
                f"{what} cannot refer to other gates; list the gates' names where they are used",
            )
        elif not kinds and (hint := _suggest(key.value, GATE_KINDS)):
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
        if _is_str(node):
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
                f"'pytest' must be its arguments, as a string or a list, got {_describe(node)}",
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
        elif _is_str(node) or isinstance(node, MappingNode):
            items = [node]
        else:
            self.problem(
                node,
                f"{label} must be a list of gate names or inline gates like {{run: ...}}, got "
                f"{_describe(node)}",
            )
            return None
        named = {str(item.value) for item in items if _is_str(item)}
        taken = set(named)
        seen: set[str] = set()
        gates: list[Gate | None] = []
        for item in items:
            if _is_str(item):
                gates.append(self.gate_ref(item, seen))
            elif isinstance(item, MappingNode):
                gate = self.gate(item, "an inline gate", name=None)
                if gate is not None:
                    gate = Gate(_unique(gate.name, taken), gate.spec, gate.timeout)
                gates.append(gate)
            elif not isinstance(item, RefusedNode):
                self.problem(
                    item,
                    f"each entry of {label} must be a gate name or an inline gate like "
                    f"{{run: ...}}, got {_describe(item)}",
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
        hint = _suggest(name, sorted(self.gate_names))
        if not hint and name in GATE_KINDS:
            hint = f"; for an inline gate write {{{name}: ...}}"
        elif not hint:
            defined = ", ".join(sorted(self.gate_names)) or "none"
            hint = f"; define it under 'gates:' (defined: {defined})"
        self.problem(node, f"unknown gate '{name}'{hint}")
        return None

    # --- phases and steps ------------------------------------------------------------------

    def phases(self, node: Node) -> tuple[Phase, ...] | None:
        items = self.strings(node, "'phases'", single_ok=False)
        if items is None:
            return None
        if not items:
            self.problem(node, "'phases' must list at least one phase")
            return None
        ids: dict[str, Node] = {}
        return self.each(items, lambda item: self.phase(item, ids))

    def phase(self, node: Node, ids: dict[str, Node]) -> Phase | None:
        found = self.fields(node, "phase", "a phase", required=("id", "steps"))
        if found is None:
            return None
        before = len(self.report.problems)
        phase_id = self.unique_id(found, "phase", ids)
        what = f"phase '{_written_id(found)}'" if _written_id(found) else "this phase"
        title = self.title(found, phase_id)
        gates: tuple[Gate, ...] | None = ()
        if "gate" in found:
            gates = self.gate_list(found["gate"][1], "'gate'")
        steps = None
        if "steps" in found:
            steps = self.steps(found["steps"][1], _written_id(found) or "?", what)
        if len(self.report.problems) > before or steps is None or gates is None:
            return None
        return Phase(id=phase_id or "", title=title or "", steps=steps, gates=gates)

    def unique_id(self, found: _Fields, what: str, ids: dict[str, Node]) -> str | None:
        if "id" not in found:
            return None
        node = found["id"][1]
        value = self.ident(node, "'id'")
        if value is None:
            return None
        if value in ids:
            line = ids[value].start_mark.line + 1
            self.problem(node, f"duplicate {what} id '{value}' (first used at line {line})")
            return None
        ids[value] = node
        return value

    def title(self, found: _Fields, default: str | None) -> str | None:
        if "title" not in found:
            return default
        return self.string(found["title"][1], "'title'")

    def steps(self, node: Node, phase_id: str, what: str) -> tuple[Step, ...] | None:
        items = self.strings(node, "'steps'", single_ok=False)
        if items is None:
            return None
        if not items:
            self.problem(node, f"{what} must have at least one step under 'steps'")
            return None
        ids: dict[str, Node] = {}
        return self.each(items, lambda item: self.step(item, phase_id, ids))

    def step(self, node: Node, phase_id: str, ids: dict[str, Node]) -> Step | None:
        found = self.fields(node, "step", "a step", required=("id",))
        if found is None:
            return None
        before = len(self.report.problems)
        step_id = self.unique_id(found, "step", ids)
        written = _written_id(found)
        what = f"step '{phase_id}/{written}'" if written else "this step"
        title = self.title(found, step_id)
        action = self.action(found)
        gates: tuple[Gate, ...] | None = ()
        if "gate" in found:
            gates = self.gate_list(found["gate"][1], "'gate'")
        if not any(a in found for a in ACTIONS) and gates == ():
            self.problem(
                node,
                f"{what} does nothing: give it an action ({', '.join(ACTIONS)}) or a 'gate'",
            )
        timeout = None
        if "timeout" in found:
            timeout = self.duration(found["timeout"][1], "'timeout'")
        on_failure = OnFailure.ROLLBACK
        if "on-failure" in found:
            choice = self.choice(found["on-failure"][1], "'on-failure'", OnFailure)
            on_failure = choice or on_failure
        isolate = parse_isolate(
            found, on_failure, has_action=action is not None, has_gates=bool(gates),
            report=self.report.add,
        )  # fmt: skip
        if len(self.report.problems) > before or gates is None:
            return None
        return Step(
            phase_id=phase_id,
            id=step_id or "",
            title=title or "",
            action=action,
            gates=gates,
            timeout=timeout,
            on_failure=on_failure,
            line=node.start_mark.line + 1,
            isolate=isolate,
        )

    def action(self, found: _Fields) -> Action | None:
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
                got = "an empty list" if isinstance(node, SequenceNode) else _describe(node)
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

    def dotted(self, node: Node, label: str) -> str | None:
        value = self.string(node, label)
        if value is None:
            return None
        reason = dotted_name_problem(value)
        if reason is not None:
            self.problem(node, f"{label} must be a dotted Python name like pkg.mod.Name: {reason}")
            return None
        return value

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

    # --- on-rollback -----------------------------------------------------------------------

    def on_rollback(self, node: Node) -> OnRollback | None:
        found = self.fields(node, "on-rollback", "'on-rollback'")
        if found is None:
            return None
        commands: tuple[Command, ...] | None = ()
        if "run" in found:
            items = self.strings(found["run"][1], "'run'")
            label = "each command of 'run'"
            commands = None if items is None else self.each(items, lambda i: self.command(i, label))
        verify: tuple[Gate, ...] | None = ()
        if "verify" in found:
            verify = self.gate_list(found["verify"][1], "'verify'", verify=True)
        if commands is None or verify is None:
            return None
        return OnRollback(run=commands, verify=verify)


def _written_id(found: _Fields) -> str | None:
    """The id as written, valid or not, to name a phase or step in messages."""
    node = found["id"][1] if "id" in found else None
    return str(node.value) if node is not None and _is_str(node) and node.value else None


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3``, ... whichever is free first; then taken."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    taken.add(candidate)
    return candidate


def _reference_message(name: str, values: dict[str, Node]) -> str:
    chain = [name]
    current = values[name]
    while _is_str(current) and current.value in values and current.value not in chain:
        chain.append(str(current.value))
        current = values[chain[-1]]
    target = str(values[name].value)
    message = (
        f"gate '{name}' refers to gate '{target}', but a named gate must define its own check "
        f"({', '.join(GATE_KINDS)}); list both names where they are used"
    )
    if _is_str(current) and current.value in chain:
        cycle = " -> ".join([*chain[chain.index(str(current.value)) :], str(current.value)])
        message += f" (they form a cycle: {cycle})"
    return message
