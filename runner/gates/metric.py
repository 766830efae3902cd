"""``metric:`` gates: the last number a command prints, held to ``min``/``max``."""

from __future__ import annotations

import re
from dataclasses import replace

from runner.gates.common import GateContext, execute, from_completed
from runner.model import Gate, MetricGate
from runner.results import GateResult
from runner.verdicts import inconclusive

__all__ = ["run_metric"]

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def run_metric(gate: Gate, spec: MetricGate, ctx: GateContext) -> GateResult:
    done = execute(gate, spec.command, ctx)
    numbers = _NUMBER.findall(done.output_end())  # the last number: the end is enough
    if done.timed_out or not done.ok:
        return from_completed(gate, done, ctx=ctx)
    if not numbers:
        return inconclusive(from_completed(gate, done, ctx=ctx, passed=False), "printed no number")
    value = float(numbers[-1])
    problems = []
    if spec.max is not None and value > spec.max:
        problems.append(f"> max {spec.max:g}")
    if spec.min is not None and value < spec.min:
        problems.append(f"< min {spec.min:g}")
    bounds = []
    if spec.max is not None:
        bounds.append(f"max {spec.max:g}")
    if spec.min is not None:
        bounds.append(f"min {spec.min:g}")
    verdict = " ".join(problems) if problems else "within " + ", ".join(bounds)
    summary = f"value {value:g} {verdict}"
    result = from_completed(gate, done, ctx=ctx, summary=summary, passed=not problems)
    return replace(result, value=value)
