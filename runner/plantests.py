"""Plan validation of the test-suite options of ``pytest`` gates: ``baseline``, ``retries``,
``flaky``.

They only make sense where runner knows test ids (a ``pytest`` gate's JUnit XML), so on any
other kind they are a located error rather than silently ignored: a user who writes
``retries: 2`` on a ``run`` gate expects re-runs that would never happen.
"""

from __future__ import annotations

from dataclasses import replace

from yaml.nodes import MappingNode, Node

from runner.model import GateSpec, PytestGate
from runner.planbase import Validator, describe, is_str, suggest

__all__ = ["BASELINES", "FLAKY", "TEST_OPTIONS", "pytest_options"]

TEST_OPTIONS = ("baseline", "retries", "flaky")
#: More re-runs than this judge nothing more: a test that fails ten re-runs is failing.
MAX_RETRIES = 10
BASELINES = ("start",)
FLAKY = ("pass", "fail")


def pytest_options(
    v: Validator, node: MappingNode, kind: str, spec: GateSpec | None
) -> GateSpec | None:
    """``spec`` with the options of ``node`` applied; problems go to ``v``'s collector."""
    found = {k.value: (k, value) for k, value in node.value if k.value in TEST_OPTIONS}
    if not found:
        return spec
    if kind != "pytest":
        for key, _ in found.values():
            v.problem(
                key,
                f"'{key.value}' does not apply to a {kind} gate, only to pytest gates "
                "(runner needs the test ids pytest reports)",
            )
        return spec
    baseline = None
    if "baseline" in found:
        baseline = _choice(v, found["baseline"][1], "'baseline'", BASELINES)
    retries = _retries(v, found["retries"][1]) if "retries" in found else None
    flaky = _choice(v, found["flaky"][1], "'flaky'", FLAKY) if "flaky" in found else None
    if "flaky" in found and "retries" not in found:
        v.problem(
            found["flaky"][0],
            "'flaky' has no effect without 'retries': a test is flaky when it fails, then "
            "passes on a re-run; add 'retries: 1' or more",
        )
    if not isinstance(spec, PytestGate):
        return spec
    return replace(spec, baseline=baseline, retries=retries, flaky=flaky)


def _choice(v: Validator, node: Node, label: str, allowed: tuple[str, ...]) -> str | None:
    value = str(node.value) if is_str(node) else None
    if value in allowed:
        return value
    shown = f"'{value}'" if value is not None else describe(node)
    hint = suggest(value, allowed) if value is not None else ""
    v.problem(node, f"{label} must be one of {', '.join(allowed)}, got {shown}{hint}")
    return None


def _retries(v: Validator, node: Node) -> int | None:
    value = v.number(node, "'retries'", integer=True)
    if value is None:
        return None
    if value < 0:
        v.problem(node, f"'retries' must be 0 or more, got {int(value)}")
        return None
    if value > MAX_RETRIES:  # a test failing that often is failing: no run should loop on it
        v.problem(node, f"'retries' must be at most {MAX_RETRIES}, got {node.value}")
        return None
    return int(value)
