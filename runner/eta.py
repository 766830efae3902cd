"""How long things took last time: the expected time of each gate and step, from journals.

Every run journals its gates' times (``gates-done``) and its steps' start and end; the
newest runs (and rehearsals, where their journals are kept) say how long the same gate of
the same step should take now. The live line shows the time left against that; the final
table shows each step's time beside the last one. Reading stops after a few journals, so a
long history costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from runner.journal import Event, StateDir, read_events

if TYPE_CHECKING:
    from runner.results import RunReport

__all__ = ["Expected", "expected_times"]

#: Journals read, newest first.
_LOOK_BACK = 6


@dataclass(frozen=True, slots=True)
class Expected:
    """Seconds the newest earlier run took, per ``(label, gate)`` and per step key."""

    gates: dict[tuple[str, str], float] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_report(cls, report: RunReport) -> Expected:
        """A run's own times as the expectation of the next (the demo's rehearsal → run)."""
        gates = {(s.key, g.name): g.seconds for s in report.steps for g in s.gates}
        gates |= {(f"phase {p}", g.name): g.seconds for p, gs in report.phase_gates for g in gs}
        steps = {s.key: s.seconds for s in report.steps if s.seconds}
        return cls(gates=gates, steps=steps)

    def gate(self, label: str, name: str) -> float | None:
        """The expected seconds of gate ``name`` of ``label`` (a step key or ``phase ID``)."""
        return self.gates.get((label, name))


def expected_times(state: StateDir) -> Expected:
    """What the newest journals under ``state`` recorded; the newest value wins."""
    expected = Expected()
    for path in _journals(state):
        _fold(read_events(path), expected)
    return expected


def _fold(events: list[Event], into: Expected) -> None:
    started: dict[str, float] = {}
    for e in events:
        step = e.get("step")
        if e.name == "step-started" and isinstance(step, str):
            started[step] = e.time
        elif e.name in ("step-committed", "step-finished") and step in started:
            into.steps.setdefault(str(step), e.time - started.pop(str(step)))
        elif e.name in ("gates-done", "phase-gates-done"):
            label = str(step) if e.name == "gates-done" else f"phase {e.get('phase')}"
            times = e.get("times")
            if isinstance(times, dict):
                for name, seconds in times.items():
                    if isinstance(seconds, int | float):
                        into.gates.setdefault((label, str(name)), float(seconds))


def _age_key(path: Path) -> str:
    return path.stem if path.parent.name == "runs" else path.parent.name


def _journals(state: StateDir) -> Iterator[Path]:
    try:
        runs = [p for p in state.runs.iterdir() if p.suffix == ".jsonl"]
    except OSError:
        runs = []
    # A rehearsal's own state folder is its record folder: its finished journal is archived
    # in ``rehearsals/ID/runs/`` as a real run's is in ``runs/``.
    rehearsals = list((state.root / "rehearsals").glob("*/runs/*.jsonl"))
    # Run ids (and rehearsal folders) begin with their start time: names sort by age.
    ordered = sorted(runs + rehearsals, key=_age_key, reverse=True)
    yield from ordered[:_LOOK_BACK]
