"""``on-failure: isolate`` and its ``isolate:`` settings, checked at load.

``isolate: {group: by-folder | none, then: stop | continue, max-gate-runs: N}`` only means
something on a step that changes files and has gates to search with, and only with
``on-failure: isolate``: each combination that cannot work is one problem at the key that
makes it so (``phases.yaml:12:5: ...``), never a silent default.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import replace

from yaml.nodes import MappingNode, Node, ScalarNode

from runner.model import IsolateSettings, OnFailure

__all__ = ["ISOLATE_KEYS", "MAX_GATE_RUNS", "parse_isolate"]

#: Where a problem is, as the plan loader's collector takes it.
Report = Callable[[Node | tuple[int, int], str], None]

ISOLATE_KEYS = ("group", "then", "max-gate-runs")
#: More probes than this is no longer a search but a rerun of the suite per file.
MAX_GATE_RUNS = 1000
_GROUPS = ("by-folder", "none")
_THEN = ("stop", "continue")
_INT = "tag:yaml.org,2002:int"
_STR = "tag:yaml.org,2002:str"


def parse_isolate(
    found: Mapping[str, tuple[ScalarNode, Node]],
    on_failure: OnFailure,
    *,
    has_action: bool,
    has_gates: bool,
    report: Report,
) -> IsolateSettings:
    """The step's isolate settings; every problem goes to ``report``."""
    isolate = found.get("isolate")
    if on_failure is OnFailure.ISOLATE:
        where = found["on-failure"][1]
        if not has_action:
            report(where, "on-failure: isolate needs an action that changes files; a step "
                   "with only gates has no change to search")  # fmt: skip
        elif not has_gates:
            report(where, "on-failure: isolate needs a 'gate' on the step to search with")
    elif isolate is not None:
        report(isolate[0], "'isolate' only applies with 'on-failure: isolate' on the same step")
        return IsolateSettings()
    if isolate is None:
        return IsolateSettings()
    return _settings(isolate[1], report)


def _settings(node: Node, report: Report) -> IsolateSettings:
    if not isinstance(node, MappingNode):
        report(node, "'isolate' must be a mapping like {group: by-folder, then: stop, "
               "max-gate-runs: 30}")  # fmt: skip
        return IsolateSettings()
    settings = IsolateSettings()
    for key, value in node.value:
        name = str(key.value)
        if name == "group":
            if (group := _word(value, "'isolate: group'", _GROUPS, report)) is not None:
                settings = replace(settings, by_folder=group == "by-folder")
        elif name == "then":
            if (then := _word(value, "'isolate: then'", _THEN, report)) is not None:
                settings = replace(settings, then_continue=then == "continue")
        elif name == "max-gate-runs":
            if (runs := _runs(value, report)) is not None:
                settings = replace(settings, max_gate_runs=runs)
        else:
            close = difflib.get_close_matches(name, ISOLATE_KEYS, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            report(key, f"unknown key '{name}' in 'isolate'{hint}; expected one of: "
                   f"{', '.join(ISOLATE_KEYS)}")  # fmt: skip
    return settings


def _word(node: Node, label: str, allowed: tuple[str, ...], report: Report) -> str | None:
    if isinstance(node, ScalarNode) and node.tag == _STR and node.value in allowed:
        return str(node.value)
    report(node, f"{label} must be one of {', '.join(allowed)}, got {_shown(node)}")
    return None


def _runs(node: Node, report: Report) -> int | None:
    text = str(node.value) if isinstance(node, ScalarNode) and node.tag == _INT else ""
    value = int(text) if text.lstrip("+").isdigit() else 0
    if 1 <= value <= MAX_GATE_RUNS:
        return value
    report(node, f"'isolate: max-gate-runs' must be a whole number from 1 to {MAX_GATE_RUNS}, "
           f"got {_shown(node)}")  # fmt: skip
    return None


def _shown(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if not isinstance(node, ScalarNode):
        return "a list"
    value = str(node.value)
    return f"'{value}'" if node.tag == _STR else (value or "nothing (an empty value)")
