"""What a culprit search did, as plain records: kept on a step's result and in the JSON report.

Apart from :mod:`runner.isolation_run` (which runs the search) so that :mod:`runner.results`
can hold them without importing the engine's parts.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

from runner.journal import file_label

__all__ = [
    "HELD_BACK",
    "Isolation",
    "ProbeRecord",
    "held_back_patch",
    "held_back_patch_name",
]

#: How a held-back file's follow-up reason starts. Its site is the change held back, not a
#: line in the tree: it stays open while the step's live checkpoint holds it back, even for a
#: file the change adds or deletes (absent at the checkpoint, which would read as "done").
HELD_BACK = "held back: "


@dataclass(frozen=True, slots=True)
class ProbeRecord:
    """One probe: a subset of the step's changed files on its checkpoint, and the verdict."""

    number: int
    files: int
    passed: bool
    gate: str  # the gate that failed; "" when every gate passed
    seconds: float
    runs: int = 0  # gate runs of the search so far, this probe's included

    def line(self, bound: int) -> str:
        """``probe 5/30: 30 files, unit failed``: the line the run prints as it goes; where
        probes ran more than one gate each, ``probe 5 (12/30 gate runs): ...``."""
        verdict = "passed" if self.passed else f"{self.gate} failed"
        files = "1 file" if self.files == 1 else f"{self.files} files"
        if self.runs in (0, self.number):  # one gate run per probe so far
            return f"probe {self.number}/{bound}: {files}, {verdict}"
        return f"probe {self.number} ({self.runs}/{bound} gate runs): {files}, {verdict}"


@dataclass(frozen=True, slots=True)
class Isolation:
    """A step's culprit search: how it ended, its probes, and what it held back."""

    outcome: str  # a runner.culprit.SearchOutcome value
    max_gate_runs: int
    probes: tuple[ProbeRecord, ...] = ()
    held_back: tuple[str, ...] = ()  # every held-back path (empty unless the step is partial)
    culprits: tuple[tuple[str, ...], ...] = ()  # the culprit sets found, as paths
    kept: int = 0  # how many changed files the partial checkpoint holds
    patch: str | None = None  # the held-back files' change, applicable on the checkpoint
    learned: str = ""  # one sentence: what the search found
    then: str = "stop"  # what the run does after a partial step: "stop" | "continue"
    seconds: float = 0.0  # the whole search: probes, trees switched, patches saved


def held_back_patch_name(step_key: str) -> str:
    """How a partial step's held-back patch is named, after the run id that saved it."""
    return f"{file_label(f'{step_key}-held-back')}.patch"


def held_back_patch(rollbacks: Path, step_key: str) -> Path | None:
    """The newest held-back patch saved for ``step_key`` (run ids sort by time), if any:
    ``runner status`` names it beside the held-back files."""
    found = sorted(rollbacks.glob(f"*-{glob.escape(held_back_patch_name(step_key))}"))
    return found[-1] if found else None
