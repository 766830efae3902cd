"""Run a step's or a phase's gates in plan order, telling the observer as each one ends.

The engine asks for a verdict on a list of gates; how they run (one after another today,
concurrently with ``settings.parallel-gates``) is decided here, not in the engine.
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.context import Runtime
from runner.gates import GateContext
from runner.model import Gate, Phase, Step
from runner.results import GateResult

__all__ = ["run_gates"]


def run_gates(
    rt: Runtime, owner: Step | Phase, gates: Sequence[Gate], ctx: GateContext, label: str
) -> tuple[GateResult, ...]:
    """Run ``gates`` for ``owner`` until one does not pass; the results so far, in order.

    Gates run cheapest first by convention, so the ones after a failure would not change
    the verdict and are not run.
    """
    results: list[GateResult] = []
    for gate in gates:
        rt.observer.gate_started(label, gate)
        outcome = rt.ws.gates.run(rt, owner, gate, ctx)
        rt.observer.gate_finished(label, outcome)
        results.append(outcome)
        if not outcome.passed:
            break
    return tuple(results)
