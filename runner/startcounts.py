"""The counts a plan's gates measure against its start: ``forbid-imports`` ``max-ratio``.

A ratio means "of what there was when the plan first started", so the count is taken once,
before the first step, and recorded in the first checkpoint (``Runner-Baseline``); a resumed
or rolled-back run reads it back from history instead of counting a tree already migrated.
"""

from __future__ import annotations

from collections.abc import Iterator

from runner.context import Runtime
from runner.gates import baseline_key
from runner.history import PlanHistory
from runner.model import ForbidImportsGate, Gate, Plan

__all__ = ["all_gates", "count_start"]


def count_start(rt: Runtime, history: PlanHistory) -> list[str]:
    """Fill ``rt.baselines``; the ``key=count`` lines the first checkpoint must record."""
    rt.baselines.update(history.baselines)
    missing = [
        g.spec
        for g in all_gates(rt.plan)
        if isinstance(g.spec, ForbidImportsGate)
        and g.spec.max_ratio is not None
        and baseline_key(g.spec) not in rt.baselines
    ]
    if not missing:
        return []
    from runner.codemods import find_import_sites  # noqa: PLC0415 - keeps --help fast

    pending: list[str] = []
    for spec in missing:
        key = baseline_key(spec)
        if key in rt.baselines:  # two gates over the same names count once
            continue
        sites = find_import_sites(
            rt.repo.root,
            spec.names,
            exclude=rt.plan.settings.exclude,
            source_roots=rt.plan.settings.source_roots,
        )
        rt.baselines[key] = len(sites)
        pending.append(f"{key}={len(sites)}")
    return pending


def all_gates(plan: Plan) -> Iterator[Gate]:
    """Every gate of the plan: phase gates, step gates, and the ``on-rollback`` verify gates."""
    for phase in plan.phases:
        yield from phase.gates
        for step in phase.steps:
            yield from step.gates
    yield from plan.on_rollback.verify
