"""Carry out a step's action: a ``run:`` command, or a codemod; what it changed and why not.

A command's failure is the step's failure (exit code or timeout, with the output's end); a
codemod that cannot be carried out at all raises :class:`ActionNotCarriedOut` with the
step's location, and nothing it would have written is left behind.
"""

from __future__ import annotations

from dataclasses import replace

from runner.codemods import CodemodResult
from runner.context import Runtime
from runner.errors import ActionNotCarriedOut
from runner.model import Action, RunAction, Step
from runner.process import run_command
from runner.results import StepResult

__all__ = ["carry_out"]


def carry_out(rt: Runtime, step: Step, result: StepResult, protected: frozenset[str]) -> StepResult:
    """Run ``step``'s action; ``result`` gains what changed, or a message saying why not.

    ``protected`` are the paths earlier steps deleted on purpose, which a codemod must not
    bring back.
    """
    action = step.action
    if action is None:
        return result
    if isinstance(action, RunAction):
        timeout = step.timeout if step.timeout is not None else rt.plan.settings.timeout
        done = run_command(
            action.command,
            cwd=rt.repo.root,
            env=rt.env(step.phase_id, step.id),
            timeout=timeout,
            log=rt.log_path(step.key, "action"),
        )
        if done.ok:
            return result
        why = "timed out" if done.timed_out else f"exited {done.returncode}"
        return replace(result, message=f"action {why}", output_tail=done.tail())
    try:
        outcome = _codemod(rt, action, protected)
    except ActionNotCarriedOut as e:  # nothing is left written: say which step, where
        where = f"{rt.plan.path}:{step.line}: step {step.key}"
        raise ActionNotCarriedOut(f"{where}: {e}") from None
    result = replace(
        result,
        changed=outcome.changed,
        sites=outcome.sites,
        followups=outcome.followups,
        skipped=outcome.skipped,
    )
    if outcome.errors:
        return replace(result, message="action failed: " + "; ".join(outcome.errors))
    return result


def _codemod(rt: Runtime, action: Action, protected: frozenset[str]) -> CodemodResult:
    from runner.codemods import apply_codemod  # noqa: PLC0415 - LibCST loads only here

    settings = rt.plan.settings
    assert not isinstance(action, RunAction)
    return apply_codemod(
        action,
        rt.repo.root,
        exclude=settings.exclude,
        protected=protected,
        source_roots=settings.source_roots,
        max_file_size=settings.max_file_size,
    )
