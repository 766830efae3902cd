"""Which steps a run may execute: ``--from`` and ``--only`` against the plan.

Kept apart from the engine so that ``runner plan`` and rehearsals ask the same question the
same way, and an unknown name is refused before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.errors import UsageError
from runner.model import Plan

__all__ = ["RunOptions", "select_steps"]


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run: which steps, whether approvals are given, whether hooks run."""

    from_step: str | None = None
    only: tuple[str, ...] = ()
    assume_yes: bool = False
    with_hooks: bool = True
    command: str = "runner run"
    retry_held_back: bool = False  # re-try partial steps' held-back files (runner.isolation_run)


def select_steps(plan: Plan, options: RunOptions) -> frozenset[str]:
    """The step keys this run may execute (``--from``, ``--only``); unknown ids refuse."""
    keys = [s.key for s in plan.steps]
    chosen = set(keys)
    if options.from_step is not None:
        step = plan.find_step(options.from_step)
        if step is None:
            raise UsageError(_unknown_step(plan, options.from_step, "--from"))
        chosen = set(keys[keys.index(step.key) :])
    if options.only:
        only: set[str] = set()
        for item in options.only:
            phase = plan.find_phase(item)
            step = None if phase else plan.find_step(item)
            if phase is None and step is None:
                raise UsageError(_unknown_step(plan, item, "--only"))
            only |= {s.key for s in phase.steps} if phase else {step.key} if step else set()
        chosen &= only
    return frozenset(chosen)


def _unknown_step(plan: Plan, name: str, flag: str) -> str:
    import difflib  # noqa: PLC0415 - only on this error path

    steps = [s.key for s in plan.steps]
    phases = [p.id for p in plan.phases]
    close = difflib.get_close_matches(name, steps + phases, n=1)
    if close:
        return f"{flag} {name}: no such step or phase in {plan.path}; did you mean '{close[0]}'?"
    more = f" and {len(steps) - 8} more" if len(steps) > 8 else ""
    return (
        f"{flag} {name}: no such step or phase in {plan.path}; steps are: "
        f"{', '.join(steps[:8])}{more}; phases are: {', '.join(phases)}"
    )
