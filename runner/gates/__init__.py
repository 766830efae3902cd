"""One function per gate kind, each returning a :class:`GateResult`; no git here.

Gates judge the working tree as it is; they never change history. Commands run through
:mod:`runner.process` (timeouts kill the whole process group); ``forbid-imports`` uses the
codemods' AST scanner; ``approve`` asks through an :class:`Approver` the CLI supplies, so the
engine never touches the terminal itself.
"""

from __future__ import annotations

from runner.gates.approve import run_approve
from runner.gates.command import run_command_gate
from runner.gates.common import Approver, GateContext
from runner.gates.forbid import baseline_key, run_forbid_imports
from runner.gates.metric import run_metric
from runner.gates.pytest import run_pytest
from runner.model import ForbidImportsGate, Gate, MetricGate, PytestGate, RunGate
from runner.results import GateResult
from runner.verdicts import as_declared

__all__ = ["Approver", "GateContext", "baseline_key", "run_gate"]


def run_gate(gate: Gate, ctx: GateContext) -> GateResult:
    """Run one gate and say whether it passed, and why (marked when it only reports)."""
    return as_declared(gate, _judge(gate, ctx))


def _judge(gate: Gate, ctx: GateContext) -> GateResult:
    spec = gate.spec
    if isinstance(spec, RunGate):
        return run_command_gate(gate, spec, ctx)
    if isinstance(spec, PytestGate):
        return run_pytest(gate, spec, ctx)
    if isinstance(spec, MetricGate):
        return run_metric(gate, spec, ctx)
    if isinstance(spec, ForbidImportsGate):
        return run_forbid_imports(gate, spec, ctx)
    return run_approve(gate, spec, ctx)
