"""Small texts shared by every view of a plan: durations as people write them, step captions.

``timeout: 5m`` is stored as 300 seconds; shown back it reads ``5m``, not ``300.0s``. A step
without a title is captioned by what it does (``move-import pkg.old.Engine → pkg.new.Engine``)
rather than by its id a second time.
"""

from __future__ import annotations

from runner.model import Delete, MoveImport, RewriteCall, RunAction, Step

__all__ = ["format_duration", "step_caption"]


def format_duration(seconds: float) -> str:
    """``90s``, ``5m``, ``1h30m``, ``2.5s``: the plan's own notation, whole units first."""
    if seconds < 60 or seconds % 60:
        return f"{seconds:g}s"
    hours, minutes = divmod(int(seconds) // 60, 60)
    if not hours:
        return f"{minutes}m"
    return f"{hours}h{minutes}m" if minutes else f"{hours}h"


def step_caption(step: Step) -> str:
    """The step's title, or, when it has none, what it does."""
    if step.title and step.title != step.id:
        return step.title
    action = step.action
    if isinstance(action, MoveImport):
        return "; ".join(f"move-import {m.from_} → {m.to}" for m in action.moves)
    if isinstance(action, RewriteCall):
        return "; ".join(f"rewrite-call {r.from_} → {r.to}" for r in action.rewrites)
    if isinstance(action, Delete):
        return "delete " + ", ".join(action.targets)
    if isinstance(action, RunAction):
        from runner.process import describe  # noqa: PLC0415 - the shell quoting, only here

        return f"run {describe(action.command)}"
    return "gates only"
