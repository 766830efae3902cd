"""``run:`` gates: a command's exit code is the verdict."""

from __future__ import annotations

from runner.gates.common import GateContext, execute, from_completed
from runner.model import Gate, RunGate
from runner.results import GateResult

__all__ = ["run_command_gate"]


def run_command_gate(gate: Gate, spec: RunGate, ctx: GateContext) -> GateResult:
    """Pass when the command exits 0 within its timeout."""
    return from_completed(gate, execute(gate, spec.command, ctx), ctx=ctx)
