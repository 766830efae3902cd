"""``approve:`` gates: a person says yes, or ``--yes`` said it for them."""

from __future__ import annotations

import time

from runner.gates.common import GateContext
from runner.model import ApproveGate, Gate
from runner.results import GateResult, GateStatus

__all__ = ["run_approve"]


def run_approve(gate: Gate, spec: ApproveGate, ctx: GateContext) -> GateResult:
    start = time.monotonic()
    if ctx.assume_yes:
        answer: bool | None = True
        summary = "approved by --yes"
    else:
        answer = ctx.approver(spec.question)
        summary = {
            True: "approved",
            False: "declined",
            None: "no terminal to ask; run on a terminal or pass --yes",
        }[answer]
    return GateResult(
        name=gate.name,
        kind=gate.kind,
        status=GateStatus.PASSED if answer else GateStatus.FAILED,
        seconds=time.monotonic() - start,
        summary=summary,
        output_tail="" if answer else f"{spec.question} -> {summary}",
    )
