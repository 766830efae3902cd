"""The JSON Schema for editors: valid draft 2020-12 shape, and in step with the loader."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner.model import OnFailure, Rollback, RollbackMode
from runner.plan import GATE_KINDS, KEYS, parse_plan
from runner.schema import plan_schema

EXAMPLE = Path(__file__).parent / "example_phases.yaml"
SCHEMA = plan_schema()


def _resolve(schema: Any) -> Any:
    """A schema with a local ``$ref`` followed (other keywords beside it kept)."""
    if isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return SCHEMA["$defs"][name] | {k: v for k, v in schema.items() if k != "$ref"}
    return schema


def _object_keys(section: str) -> set[str]:
    schema = SCHEMA if section == "plan" else SCHEMA["$defs"][section]
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    return set(schema["properties"])


def test_schema_is_json_and_names_its_dialect() -> None:
    assert json.loads(json.dumps(SCHEMA)) == SCHEMA
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert plan_schema() is not plan_schema()  # callers may change their copy


@pytest.mark.parametrize("section", sorted(KEYS))
def test_schema_accepts_exactly_the_keys_the_loader_accepts(section: str) -> None:
    assert _object_keys(section) == set(KEYS[section])


def test_every_object_in_the_schema_is_closed() -> None:
    for node in _walk(SCHEMA):
        if node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") is False, node


def test_gate_kinds_are_one_of() -> None:
    branches = SCHEMA["$defs"]["gate"]["oneOf"]
    assert [b["required"] for b in branches] == [[k] for k in GATE_KINDS]


def test_step_actions_are_one_of() -> None:
    branches = SCHEMA["$defs"]["step"]["oneOf"]
    required = [b["required"] for b in branches]
    assert required == [["run"], ["move-import"], ["rewrite-call"], ["delete"], ["gate"]]


def test_enums_match_the_model() -> None:
    settings = SCHEMA["$defs"]["settings"]["properties"]
    assert settings["rollback"]["enum"] == [m.value for m in Rollback]
    assert settings["rollback-mode"]["enum"] == [m.value for m in RollbackMode]
    step = SCHEMA["$defs"]["step"]["properties"]
    assert step["on-failure"]["enum"] == [m.value for m in OnFailure]


def test_every_property_has_a_description_or_a_ref() -> None:
    for section in KEYS:
        schema = SCHEMA if section == "plan" else SCHEMA["$defs"][section]
        for key, prop in schema["properties"].items():
            if section == "plan" and key in {"description", "settings", "on-rollback", "phases"}:
                continue
            if section in {"phase", "step"} and key == "steps":
                continue
            assert "description" in prop or "$ref" in prop, (section, key)


# --- a small validator, enough for the keywords the schema uses (jsonschema is no dependency)

SUPPORTED = {
    "$schema", "$id", "$ref", "$defs", "title", "description", "type", "const", "enum",
    "properties", "required", "additionalProperties", "propertyNames", "items", "minItems",
    "minLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "oneOf", "anyOf", "not",
}  # fmt: skip

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}


def _walk(schema: Any) -> Iterator[dict[str, Any]]:
    if isinstance(schema, dict):
        yield schema
        for key, value in schema.items():
            if key in {"properties", "$defs"}:
                for sub in value.values():
                    yield from _walk(sub)
            elif key != "enum":
                yield from _walk(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _walk(item)


def valid(value: Any, schema: Any = SCHEMA) -> bool:
    schema = _resolve(schema)
    if isinstance(schema, bool):
        return schema
    checks: list[bool] = []
    if "type" in schema:
        checks.append(_TYPES[schema["type"]](value))
        if not checks[-1]:
            return False
    if "const" in schema:
        checks.append(value == schema["const"] and type(value) is type(schema["const"]))
    if "enum" in schema:
        checks.append(value in schema["enum"])
    if isinstance(value, str):
        checks.append(len(value) >= schema.get("minLength", 0))
        if "pattern" in schema:
            checks.append(re.search(schema["pattern"], value) is not None)
    if isinstance(value, int | float) and not isinstance(value, bool):
        checks.append(value >= schema.get("minimum", value))
        checks.append(value <= schema.get("maximum", value))
        if "exclusiveMinimum" in schema:
            checks.append(value > schema["exclusiveMinimum"])
    if isinstance(value, list):
        checks.append(len(value) >= schema.get("minItems", 0))
        if "items" in schema:
            checks.extend(valid(item, schema["items"]) for item in value)
    if isinstance(value, dict):
        checks.extend(key in value for key in schema.get("required", ()))
        props = schema.get("properties", {})
        for key, item in value.items():
            if "propertyNames" in schema:
                checks.append(valid(key, schema["propertyNames"]))
            if key in props:
                checks.append(valid(item, props[key]))
            elif "additionalProperties" in schema:
                checks.append(valid(item, schema["additionalProperties"]))
    if "oneOf" in schema:
        checks.append(sum(valid(value, s) for s in schema["oneOf"]) == 1)
    if "anyOf" in schema:
        checks.append(any(valid(value, s) for s in schema["anyOf"]))
    if "not" in schema:
        checks.append(not valid(value, schema["not"]))
    return all(checks)


def test_the_validator_knows_every_keyword_the_schema_uses() -> None:
    used = {key for node in _walk(SCHEMA) for key in node}
    assert used <= SUPPORTED, used - SUPPORTED


def _data(text: str) -> Any:
    return yaml.safe_load(text)


PLANS = [
    EXAMPLE.read_text(encoding="utf-8"),
    "version: 1\nname: x\nphases: [{id: p, steps: [{id: s, run: [python, m.py]}]}]\n",
    "version: 1\nname: x\nphases: [{id: p, steps: [{id: s, gate: {pytest: [-q]}}]}]\n",
    "version: 1\nname: x\nsettings: {timeout: 90, exclude: vendor/**, env: {A: b}}\n"
    "gates: {m: {metric: x, min: 1}, f: {forbid-imports: pkg.old}}\n"
    "phases: [{id: p, steps: [{id: s, delete: a.py::f, gate: [m, f, {run: y, timeout: 1h30m}]}]}]\n"
    "on-rollback: {run: make, verify: m}\n",
    "version: 1\nname: x\nphases: [{id: p, steps: [{id: s, rewrite-call: "
    "{from: 'a.f(x, y=None, *, z)', to: 'b.g(z=z, w=x, y=y)', await: true}}]}]\n",
    "version: 1\nname: x\nphases: [{id: p, steps: [{id: s, move-import: "
    "{from: a.X, to: b.X, strings: exact}}]}]\n",
]


@pytest.mark.parametrize("text", PLANS)
def test_plans_the_loader_accepts_validate(text: str) -> None:
    parse_plan(text)
    assert valid(_data(text))


BASE = "version: 1\nname: x\n"
REFUSED = [
    BASE + "phases: []\n",
    BASE + "phases: [{id: p, steps: [{id: s, run: x, delete: y}]}]\n",
    BASE + "phases: [{id: p, steps: [{id: s, title: nothing}]}]\n",
    BASE + "phases: [{id: p, steps: [{id: s, run: x, gates: [u]}]}]\n",
    BASE + "gates: {u: {run: x, pytest: y}}\nphases: [{id: p, steps: [{id: s, gate: u}]}]\n",
    BASE + "gates: {u: {metric: x}}\nphases: [{id: p, steps: [{id: s, gate: u}]}]\n",
    BASE + "gates: {u: {run: x, max: 1}}\nphases: [{id: p, steps: [{id: s, gate: u}]}]\n",
    BASE + "gates: {u: {forbid-imports: [a], max-ratio: 2}}\n"
    "phases: [{id: p, steps: [{id: s, gate: u}]}]\n",
    BASE + "phases: [{id: p, steps: [{id: s, run: x, timeout: soon}]}]\n",
    BASE + "phases: [{id: p, steps: [{id: s, run: x, on-failure: abort}]}]\n",
    BASE + "phases: [{id: P Q, steps: [{id: s, run: x}]}]\n",
    BASE + "phases: [{id: p, steps: [{id: s, delete: ../x}]}]\n",
    BASE + "phases: [{id: p, steps: [{id: s, delete: /etc}]}]\n",
    BASE + "settings: {rollback: all}\nphases: [{id: p, steps: [{id: s, run: x}]}]\n",
    BASE + "settings: {env: {A: 1}}\nphases: [{id: p, steps: [{id: s, run: x}]}]\n",
    "version: 2\nname: x\nphases: [{id: p, steps: [{id: s, run: x}]}]\n",
    BASE + "phases: [{id: p, steps: [{id: s, move-import: {from: a.X, to: b.X, strings: yes}}]}]\n",
]


@pytest.mark.parametrize("text", REFUSED)
def test_plans_the_loader_refuses_do_not_validate(text: str) -> None:
    assert not valid(_data(text))
