"""The rollbacks a run makes on its own: after a failed step, a failed phase gate, a signal.

Each picks its target from ``settings.rollback`` (step, phase or plan) and its policy for
commits that are not the plan's (:mod:`runner.ownership.commits`), then calls
:func:`runner.rollback.roll_back`, which saves what it discards and runs the hooks.
"""

from __future__ import annotations

from runner.context import Runtime
from runner.model import Phase, Rollback, RollbackMode, Step
from runner.ownership.commits import ForeignPolicy, automatic_policy, wider_rollback_refusal
from runner.results import RollbackRecord
from runner.rollback import roll_back

__all__ = ["roll_back_failed_step", "roll_back_interrupted_step", "roll_back_phase"]


def roll_back_failed_step(
    rt: Runtime, step: Step, *, checkpoint: str, phase_start: str, plan_start: str, staged: bool
) -> RollbackRecord:
    """Take a failed step back as far as ``settings.rollback`` says.

    Commits of the user's inside a wider range are never taken: then only the step's own
    changes go, and the refusal is raised once they are saved (exit 2, saying why).
    """
    scope = rt.plan.settings.rollback
    target = {Rollback.STEP: checkpoint, Rollback.PHASE: phase_start, Rollback.PLAN: plan_start}
    refusal = wider_rollback_refusal(
        rt, target[scope], checkpoint, scope=scope.value, phase=step.phase_id
    )
    record = roll_back(
        rt,
        target=checkpoint if refusal else target[scope],
        scope="step" if refusal else scope.value,
        mode=rt.plan.settings.rollback_mode,
        label=step.key,
        staged=staged,
        foreign=ForeignPolicy(step_start=checkpoint),
    )
    rt.journal.write("step-finished", step=step.key, status="rolled back")
    if refusal:
        raise refusal.after_step(step.key, record.patch)
    return record


def roll_back_phase(
    rt: Runtime, phase: Phase, *, phase_start: str, plan_start: str
) -> RollbackRecord:
    """A phase gate judges the whole phase: ``step`` and ``phase`` both take the phase back."""
    scope = rt.plan.settings.rollback
    wide = "plan" if scope is Rollback.PLAN else "phase"
    return roll_back(
        rt,
        target=plan_start if scope is Rollback.PLAN else phase_start,
        scope=wide,
        mode=rt.plan.settings.rollback_mode,
        label=f"phase-{phase.id}",
        foreign=automatic_policy(wide, phase.id),
    )


def roll_back_interrupted_step(rt: Runtime, step: Step, checkpoint: str) -> str:
    """Ctrl-C or SIGTERM inside a step: take the step back (no hooks); the line to show."""
    record = roll_back(
        rt,
        target=checkpoint,
        scope="step",
        mode=RollbackMode.RESET,
        label=f"{step.key}-interrupted",
        hooks=False,
        foreign=ForeignPolicy(step_start=checkpoint),
    )
    where = f"; its changes are saved as {record.patch}" if record.patch else ""
    return f"interrupted during {step.key}: rolled back to its checkpoint{where}"
