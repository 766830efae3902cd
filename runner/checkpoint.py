"""The message of a step's checkpoint commit: subject, summary, follow-ups, trailers.

The trailers are the plan's state (see :mod:`runner.history`, which reads them back), so
they are written in one place, next to nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.history import (
    T_BASELINE,
    T_DIGEST,
    T_GATE,
    T_PLAN,
    T_RESULT,
    T_STEP,
    followups_block,
)
from runner.isolation_run import partial_trailers
from runner.model import Plan, Step, action_kind
from runner.results import StepResult
from runner.testrecord import tests_section

__all__ = ["checkpoint_message"]


def checkpoint_message(
    plan: Plan,
    step: Step,
    result: StepResult,
    baselines: Sequence[str],
    *,
    failed: bool,
    sections: Sequence[str] = (),
) -> str:
    """The commit message of ``step``'s checkpoint; ``failed``: committed by
    ``on-failure: continue`` after a failed gate; ``sections``: body sections to record
    (test baselines, :mod:`runner.testrecord`)."""
    body = [f"{action_kind(step.action)}: {len(result.changed)} file(s) changed"]
    if result.sites:
        body[0] += f", {result.sites} site(s) rewritten"
    if block := followups_block(result.followups):
        body.append(block)
    if block := tests_section(result.gates):
        body.append(block)
    body += sections
    trailers = [
        f"{T_PLAN}: {plan.name}",
        f"{T_STEP}: {step.key}",
        f"{T_DIGEST}: {step.digest}",
        *(f"{T_BASELINE}: {b}" for b in baselines),
        *(f"{T_GATE}: {g.trailer()}" for g in result.gates),
    ]
    trailers += partial_trailers(result)
    if failed:
        trailers.append(f"{T_RESULT}: failed (on-failure: continue)")
    subject = f"{plan.name}: {step.key}: {step.title}"
    return "\n\n".join([subject, *body, "\n".join(trailers)]) + "\n"
