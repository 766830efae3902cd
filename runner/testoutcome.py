"""Which tests a ``pytest`` gate's verdict rests on, by pytest node id.

A record of its own (no imports from the rest of runner) so that :mod:`runner.results` can
carry it on a :class:`~runner.results.GateResult` and the JSON report shows it as is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["TestOutcome", "outcome_from_json", "outcome_json"]


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """The named tests behind a ``pytest`` gate's counts.

    ``failed``: failing now and blocking the gate (with a baseline: the new failures only);
    ``flaky``: failed, then passed on a re-run (``retries``); ``preexisting``: failing now and
    already failing in the baseline (not blocking); ``fixed``: failing in the baseline,
    passing now; ``baseline``: the commit the baseline was measured on (``None``: no baseline).
    """

    __test__ = False  # not a pytest test class, whatever its name

    failed: tuple[str, ...] = ()
    flaky: tuple[str, ...] = ()
    preexisting: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    baseline: str | None = None


def outcome_json(outcome: TestOutcome | None) -> dict[str, Any] | None:
    """As a rehearsal's evidence records it (``None``: a gate judged by its exit alone)."""
    return None if outcome is None else asdict(outcome)


def outcome_from_json(data: object) -> TestOutcome | None:
    """Back from :func:`outcome_json`; ``None`` for anything that is not such a record."""
    if not isinstance(data, dict):
        return None
    lists = {}
    for name in ("failed", "flaky", "preexisting", "fixed"):
        value = data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
            return None
        lists[name] = tuple(value)
    baseline = data.get("baseline")
    return TestOutcome(**lists, baseline=baseline if isinstance(baseline, str) else None)
