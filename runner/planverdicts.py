"""Plan keys of the verdict rules, checked at load: ``report-only`` and ``on-inconclusive``.

``report-only: true`` on a gate of any kind but ``approve``: asking a person a question
whose answer blocks nothing would only hold the run up. ``on-inconclusive: rollback |
stop`` on a step (no ``continue``: a change no gate judged is never committed), and only
where it can act: on a step with at least one gate that blocks. Each mistake is reported
at its key, as every plan problem is (``phases.yaml:12:9: ...``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from yaml.nodes import Node, ScalarNode

from runner.model import Gate, OnInconclusive
from runner.planbase import Fields, Validator, is_str

__all__ = ["on_inconclusive_option", "report_only_option"]


def report_only_option(v: Validator, kind: str, options: Mapping[str, Node]) -> bool:
    """The gate's ``report-only`` value (``False`` when absent or invalid, once reported)."""
    node = options.get("report-only")
    if node is None:
        return False
    value = v.boolean(node, "'report-only'")
    if value and kind == "approve":
        v.problem(
            node,
            "'report-only' does not apply to an approve gate: an answer that blocks nothing "
            "need not be asked; drop 'report-only', or the gate",
        )
        return False
    return bool(value)


def on_inconclusive_option(
    v: Validator, found: Fields, gates: Sequence[Gate] | None
) -> OnInconclusive:
    """The step's ``on-inconclusive`` (default ``rollback``); ``gates``: the step's, if valid."""
    default = OnInconclusive.ROLLBACK
    if "on-inconclusive" not in found:
        return default
    key, node = found["on-inconclusive"]
    if is_str(node) and node.value == "continue":
        v.problem(
            node,
            "'on-inconclusive' cannot be 'continue': a change no gate could judge is never "
            "committed; use rollback or stop",
        )
        return default
    choice = v.choice(node, "'on-inconclusive'", OnInconclusive)
    if choice is not None and gates is not None:
        _check_applies(v, key, gates)
    return choice or default


def _check_applies(v: Validator, key: ScalarNode, gates: Sequence[Gate]) -> None:
    if not gates:
        v.problem(key, "'on-inconclusive' has nothing to act on: this step has no gate")
    elif all(g.report_only for g in gates):
        v.problem(
            key,
            "'on-inconclusive' has nothing to act on: every gate of this step is report-only, "
            "and a report-only gate never stops a step",
        )
