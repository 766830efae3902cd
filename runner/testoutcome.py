"""Which tests a ``pytest`` gate's verdict rests on, by pytest node id.

A record of its own (no imports from the rest of runner) so that :mod:`runner.results` can
carry it on a :class:`~runner.results.GateResult` and the JSON report shows it as is.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TestOutcome"]


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
