"""The keys that say how gates run side by side, checked at load.

``settings.parallel-gates: auto | N`` (how many of a step's gates run at once),
``settings.run-all-gates`` and a step's ``run-all-gates`` (every gate runs even after one
failed), and a gate's ``exclusive: true`` (it never runs beside another). What they do is
:mod:`runner.parallelgates`; here each is read from its node, and a wrong value is reported
at that node (``phases.yaml:7:19: ...``), like every other key of the plan.
"""

from __future__ import annotations

from typing import Literal

from yaml.nodes import Node

from runner.planbase import YAML_TAG, Fields, Validator, describe, is_str, scalar_value
from runner.yamlnodes import RefusedNode

__all__ = ["exclusive", "gate_settings", "step_run_all"]

_WORKERS_SHAPE = "'auto' (one gate per core) or how many gates run at once, 1 or more"


#: A step lists a handful of gates; more threads than this only hide a typo.
MAX_PARALLEL = 64


def gate_settings(v: Validator, found: Fields) -> tuple[int | Literal["auto"], bool]:
    """``settings.parallel-gates`` and ``settings.run-all-gates`` (defaults: 1, false)."""
    workers: int | Literal["auto"] = 1
    if "parallel-gates" in found:
        workers = _workers(v, found["parallel-gates"][1]) or workers
    run_all = False
    if "run-all-gates" in found:
        run_all = bool(v.boolean(found["run-all-gates"][1], "'run-all-gates'"))
    return workers, run_all


def _workers(v: Validator, node: Node) -> int | Literal["auto"] | None:
    if isinstance(node, RefusedNode):
        return None
    if is_str(node) and node.value == "auto":
        return "auto"
    value = scalar_value(node) if node.tag == YAML_TAG + "int" else None
    if not isinstance(value, int) or isinstance(value, bool):
        v.problem(node, f"'parallel-gates' must be {_WORKERS_SHAPE}, got {describe(node)}")
        return None
    if value < 1:
        v.problem(
            node, f"'parallel-gates' must be 1 or more (1: one gate after another), got {value}"
        )
        return None
    if value > MAX_PARALLEL:  # each gate is a thread and a process group of its own
        v.problem(node, f"'parallel-gates' must be at most {MAX_PARALLEL} (or auto), got {value}")
        return None
    return value


def step_run_all(v: Validator, found: Fields) -> bool | None:
    """A step's ``run-all-gates`` (``None``: the setting decides)."""
    if "run-all-gates" not in found:
        return None
    return v.boolean(found["run-all-gates"][1], "'run-all-gates'")


#: Gate kinds that always run alone, and why (see :func:`runner.parallelgates.runs_alone`).
_ALWAYS_ALONE = {
    "approve": "it asks a person on the terminal",
    "forbid-imports": "it parses in runner's own process",
}


def exclusive(v: Validator, options: dict[str, Node], kind: str) -> bool:
    """A gate's ``exclusive``; ``false`` is refused where the kind always runs alone."""
    if "exclusive" not in options:
        return False
    value = v.boolean(options["exclusive"], "'exclusive'")
    if value is False and kind in _ALWAYS_ALONE:
        v.problem(
            options["exclusive"],
            f"a{'n' * (kind == 'approve')} {kind} gate always runs alone "
            f"({_ALWAYS_ALONE[kind]}); remove 'exclusive: false'",
        )
    return bool(value)
