"""The JSON Schema (draft 2020-12) of ``phases.yaml``, for editors (``runner schema``).

The schema helps while typing: completion, descriptions, enum values, patterns. The loader
(:mod:`runner.plan`) stays the authority: some rules are beyond a schema (gate names that
must exist, unique ids, paths inside the repository, git branch rules). The key sets here
are tested against :data:`runner.plan.KEYS` so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from runner.model import OnFailure, OnInconclusive, Rollback, RollbackMode
from runner.plan import ACTIONS, FORMAT_VERSION, GATE_KINDS, GATE_OPTIONS
from runner.plantests import BASELINES, FLAKY, TEST_OPTIONS

__all__ = ["SCHEMA_ID", "plan_schema"]

SCHEMA_ID = "https://runner.invalid/schemas/phases.schema.json"

_ID_PATTERN = "^[a-z0-9][a-z0-9_-]*$"
_NUM = r"\d+(\.\d+)?"
_DURATION_PATTERN = f"^({_NUM}|({_NUM}h)?({_NUM}m)?({_NUM}s)?)$"

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


def _one_or_many(item: Schema, description: str) -> Schema:
    # anyOf, not oneOf: `run: [a, b]` under on-rollback is both one argv and two commands;
    # the loader reads a list as many (docs/plan-format-notes.md).
    return {
        "description": description,
        "anyOf": [item, {"type": "array", "items": item, "minItems": 1}],
    }


def _enum(values: list[str], description: str) -> Schema:
    return {"type": "string", "enum": values, "description": description}


def _gate_kinds() -> dict[str, Schema]:
    return {
        "run": _ref("command")
        | {"description": "Passes when the command exits 0 (string: shell, list: argv)."},
        "pytest": {
            "description": "Arguments for python -m pytest: a string (split like a shell) "
            "or a list; counts passed/failed/skipped.",
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
        },
        "forbid-imports": _one_or_many(
            _ref("dotted-name"),
            "Dotted names whose imports and uses are counted; without max or max-ratio, max is 0.",
        ),
        "metric": _ref("command")
        | {"description": "A command whose last printed number must stay within min/max."},
        "approve": {
            "type": "string",
            "minLength": 1,
            "description": "A question a person answers yes or no.",
        },
    }


def _gate() -> Schema:
    kinds = _gate_kinds()
    options: dict[str, Schema] = {
        "max": {
            "type": "number",
            "description": "forbid-imports: most sites allowed (whole number >= 0); "
            "metric: the highest passing value.",
        },
        "max-ratio": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "forbid-imports: most sites allowed, as a share of the count "
            "when the plan started.",
        },
        "min": {"type": "number", "description": "metric: the lowest passing value."},
        "timeout": _ref("duration") | {"description": "Limit for this gate."},
        "report-only": {
            "type": "boolean",
            "description": "Run and record the gate, never block on it (not for approve).",
        },
        **_test_options(),
        "exclusive": {
            "type": "boolean",
            "description": "Never run beside another gate (settings.parallel-gates).",
        },
        "affected": {
            "type": "boolean",
            "description": "pytest, as a step gate: only the test files the step's change "
            "reaches through imports (phase and on-rollback gates run all).",
        },
        "workers": {
            "oneOf": [{"const": "auto"}, {"type": "integer", "minimum": 1}],
            "description": "pytest: pytest-xdist's -n (auto or a count), when it is installed.",
        },
    }
    branches = []
    for kind in GATE_KINDS:
        others = {k: False for k in GATE_KINDS if k != kind}
        shared = ("max", "max-ratio", "min", *TEST_OPTIONS)
        banned = {o: False for o in shared if o not in GATE_OPTIONS[kind]}
        limited = ("max", "max-ratio", "min", "affected", "workers")
        banned = {o: False for o in limited if o not in GATE_OPTIONS[kind]}
        branch: Schema = {"required": [kind], "properties": others | banned}
        if kind == "forbid-imports":
            branch["properties"] |= {"max": {"type": "integer", "minimum": 0}}
        if kind == "metric":
            branch["anyOf"] = [{"required": ["max"]}, {"required": ["min"]}]
        if kind == "approve":
            branch["properties"] |= {"report-only": {"const": False}}
        branches.append(branch)
    return {
        "type": "object",
        "description": "A gate: exactly one kind (" + ", ".join(GATE_KINDS) + ").",
        "properties": kinds | options,
        "additionalProperties": False,
        "oneOf": branches,
    }


def _test_options() -> dict[str, Schema]:
    """``pytest`` gates only (see :mod:`runner.plantests`)."""
    return {
        "baseline": _enum(
            list(BASELINES),
            "pytest: judge only tests that did not already fail on the plan's starting commit.",
        ),
        "retries": {
            "type": "integer",
            "minimum": 0,
            "description": "pytest: re-run the failed tests (by node id) up to this many times; "
            "one that passes is flaky.",
        },
        "flaky": _enum(
            list(FLAKY), "pytest: whether a test that passed only on a re-run fails the gate."
        ),
    }


def _gate_list(description: str) -> Schema:
    item = {"oneOf": [_ref("gate-name"), _ref("gate")]}
    return {
        "description": description,
        "oneOf": [item, {"type": "array", "items": item}],
    }


def _move() -> Schema:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["from", "to"],
        "properties": {
            "from": _ref("dotted-name") | {"description": "The symbol or module to move."},
            "to": _ref("dotted-name") | {"description": "Where it lives now."},
            "as": {
                "type": "string",
                "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                "description": "The local name to keep.",
            },
            "strings": {
                "enum": ["exact"],
                "description": "Also rewrite string literals naming the old path.",
            },
        },
    }


def _rewrite() -> Schema:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["from", "to"],
        "properties": {
            "from": {
                "anyOf": [_ref("dotted-name"), _ref("call-template")],
                "description": "The callable whose calls change, or a call template of it: "
                "pkg.old.f(a, b=None, *, c).",
            },
            "to": {
                "anyOf": [_ref("dotted-name"), _ref("call-template")],
                "description": "The callable called instead, or the new call written with the "
                "names of 'from': pkg.new.g(x=a, y=b).",
            },
            "await": {
                "type": "boolean",
                "description": "Add await inside async def; other sites are listed.",
            },
        },
    }


def _step() -> Schema:
    actions = {
        "run": _ref("command") | {"description": "Any command (string: shell, list: argv)."},
        "move-import": _one_or_many(_ref("move-import"), "Move symbols or modules."),
        "rewrite-call": _one_or_many(_ref("rewrite-call"), "Rename calls of callables."),
        "delete": _one_or_many(
            _ref("delete-target"), "Files, folders or path.py::Dotted.name definitions."
        ),
    }
    no_action = {"not": {"anyOf": [{"required": [a]} for a in ACTIONS]}}
    return {
        "type": "object",
        "description": "One step: at most one action, then its gates; one commit when it passes.",
        "additionalProperties": False,
        "required": ["id"],
        "properties": {
            "id": _ref("id") | {"description": "Unique in its phase; addressed as PHASE/STEP."},
            "title": {"type": "string", "minLength": 1, "description": "Default: the id."},
            **actions,
            "gate": _gate_list("Gates run after the action: names or inline gates."),
            "timeout": _ref("duration") | {"description": "Limit for the action."},
            "on-failure": _enum(
                [m.value for m in OnFailure], "What a failed gate does (default: rollback)."
            ),
            "isolate": {
                "type": "object",
                "description": "With on-failure: isolate: how the culprit search runs.",
                "additionalProperties": False,
                "properties": {
                    "group": _enum(["by-folder", "none"], "A unit: a folder, or one file."),
                    "then": _enum(["stop", "continue"], "After a partial step (default: stop)."),
                    "max-gate-runs": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 1000,
                        "description": "Bound on the search's gate runs (default: 30).",
                    },
                },
            },
            "on-inconclusive": _enum(
                [m.value for m in OnInconclusive],
                "What a gate that could not judge does (default: rollback).",
            ),
            "run-all-gates": {
                "type": "boolean",
                "description": "Every gate runs even after one failed (default: the setting).",
            },
        },
        "oneOf": [*({"required": [a]} for a in ACTIONS), {"required": ["gate"]} | no_action],
    }


def _phase() -> Schema:
    return {
        "type": "object",
        "description": "An ordered group of steps.",
        "additionalProperties": False,
        "required": ["id", "steps"],
        "properties": {
            "id": _ref("id") | {"description": "Unique among phases."},
            "title": {"type": "string", "minLength": 1, "description": "Default: the id."},
            "gate": _gate_list("Gates run once after the phase's last step."),
            "steps": {"type": "array", "items": _ref("step"), "minItems": 1},
        },
    }


def _settings() -> Schema:
    return {
        "type": "object",
        "description": "Every key optional.",
        "additionalProperties": False,
        "properties": {
            "branch": {
                "type": "string",
                "minLength": 1,
                "description": "Run on this branch; created from HEAD if missing.",
            },
            "rollback": _enum([m.value for m in Rollback], "How far a rollback reaches."),
            "rollback-mode": _enum(
                [m.value for m in RollbackMode],
                "reset: move the branch back; revert: add revert commits.",
            ),
            "timeout": _ref("duration") | {"description": "Default limit (default 15m)."},
            "env": {
                "type": "object",
                "description": "Environment for every command; values are strings.",
                "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                "additionalProperties": {"type": "string"},
            },
            "exclude": _one_or_many(
                _ref("relative-path"), "Globs of paths codemod steps never touch."
            ),
            "source-roots": _one_or_many(
                _ref("relative-path"), "Where packages live (default: ., src)."
            ),
            "rehearsal-include": _one_or_many(
                _ref("relative-path"),
                "Ignored files a rehearsal copies for its gates "
                "(default: .venv, venv, .env, node_modules).",
            ),
            "replay": _ref("duration")
            | {"description": "Replay a rehearsal at most this old on every run."},
            "max-file-size": {
                "type": ["integer", "string"],
                "pattern": r"^\s*\d+(\.\d+)?\s*[kKmMgG]?[bB]?\s*$",
                "minimum": 1,
                "description": "Codemods leave larger files unchanged, and say so (default 512KB).",
            },
            "parallel-gates": {
                "oneOf": [{"const": "auto"}, {"type": "integer", "minimum": 1}],
                "description": "How many of a step's gates run at once: auto (one per core) "
                "or a number (default 1: one after another).",
            },
            "run-all-gates": {
                "type": "boolean",
                "description": "Every gate runs even after one failed (default false).",
            },
        },
    }


def _on_rollback() -> Schema:
    return {
        "type": "object",
        "description": "After every rollback, automatic or asked for.",
        "additionalProperties": False,
        "properties": {
            "run": _one_or_many(_ref("command"), "Commands to run, in order."),
            "verify": _gate_list("Gates that must pass on the rolled-back tree (no approve)."),
        },
    }


def _defs() -> dict[str, Schema]:
    relative = "^(?![/\\\\~])(?![A-Za-z]:)(?!(.*[/\\\\])?\\.\\.([/\\\\]|$)).+$"
    return {
        "id": {"type": "string", "pattern": _ID_PATTERN},
        "gate-name": {"type": "string", "pattern": _ID_PATTERN, "description": "A named gate."},
        "duration": {
            "description": "Seconds, or 90s, 15m, 1h, 1h30m.",
            "oneOf": [
                {"type": "string", "pattern": _DURATION_PATTERN, "minLength": 1},
                {"type": "number", "exclusiveMinimum": 0},
            ],
        },
        "command": {
            "oneOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ],
        },
        "dotted-name": {
            "type": "string",
            "pattern": "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$",
        },
        "call-template": {
            "type": "string",
            "pattern": "^\\s*[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*\\s*\\(.*\\)\\s*$",
            "description": "A dotted callable with its parameters or arguments in parentheses.",
        },
        "relative-path": {
            "type": "string",
            "pattern": relative,
            "description": "Relative to the repository root; no '..'.",
        },
        "delete-target": {
            "type": "string",
            "pattern": relative,
            "description": "pkg/old.py, a folder, or pkg/mod.py::Class.method.",
        },
        "gate": _gate(),
        "step": _step(),
        "phase": _phase(),
        "settings": _settings(),
        "move-import": _move(),
        "rewrite-call": _rewrite(),
        "on-rollback": _on_rollback(),
    }


def plan_schema() -> dict[str, Any]:
    """The schema as a JSON-able dict; a fresh copy on every call."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "runner migration plan (phases.yaml)",
        "description": "Phases of steps; a gate after each step; a checkpoint commit per "
        "passed step; automatic rollback on a failed gate.",
        "type": "object",
        "additionalProperties": False,
        "required": ["version", "name", "phases"],
        "properties": {
            "version": {"const": FORMAT_VERSION, "description": "The format version."},
            "name": {
                "type": "string",
                "pattern": "^[a-z0-9-]+$",
                "description": "Recorded in every commit.",
            },
            "description": {"type": "string"},
            "settings": _ref("settings"),
            "gates": {
                "type": "object",
                "description": "Named, reusable gates.",
                "propertyNames": {"pattern": _ID_PATTERN},
                "additionalProperties": _ref("gate"),
            },
            "phases": {"type": "array", "items": _ref("phase"), "minItems": 1},
            "on-rollback": _ref("on-rollback"),
        },
        "$defs": _defs(),
    }
