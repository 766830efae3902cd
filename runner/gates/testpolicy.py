"""A ``pytest`` gate's verdict under ``baseline``, ``retries`` and ``flaky``.

The first run's JUnit report names the failures; ``retries`` re-runs the new ones (a test
already failing in the baseline is not re-run: it cannot change the verdict, and a suite
with many such tests would pay for each of them after every step); the failures left are
judged against the baseline (:func:`runner.gates.baseline.judge`). The summary keeps the
counts of a plain gate and adds ``1 flaky``, ``3 pre-existing failures, 0 new``,
``1 fixed``; the ids go on :attr:`GateResult.tests`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from runner.gates.baseline import (
    PASSED,
    Case,
    Judged,
    TestBaseline,
    failing,
    judge,
    outcomes,
    read_cases,
    test_baseline_key,
)
from runner.gates.common import GateContext
from runner.gates.retry import rerun
from runner.model import Gate, PytestGate
from runner.process import Completed
from runner.results import GateResult, GateStatus
from runner.termtext import printable
from runner.testoutcome import TestOutcome

__all__ = ["apply_policy", "baseline_depends", "judged_by_tests", "policy_args"]

_SECTION = re.compile(r"^_{3,} (?P<head>.+?) _{3,}$")
_SHOWN = 10  # ids listed in a failed gate's output before "and N more"
_TAIL_LINES = 20  # as many as a plain gate's tail


def judged_by_tests(spec: PytestGate) -> bool:
    """Whether the gate's verdict is judged test by test rather than by pytest's exit."""
    return spec.baseline is not None or spec.retries is not None


def policy_args(spec: PytestGate) -> list[str]:
    """What such a gate adds to pytest's arguments (last, so they win over ``addopts`` and
    the gate's own): ``file`` attributes in the report, to rebuild node ids; a run that goes
    on past a file that fails to collect, which is then one failing id like any test (else
    one broken file at the plan's start would interrupt every later run); and no
    ``-x``/``--maxfail``: a run stopped at a pre-existing or flaky failure would leave the
    tests after it unjudged, and the gate would pass on tests that never ran."""
    if not judged_by_tests(spec):
        return []
    return ["-o", "junit_family=xunit1", "--continue-on-collection-errors", "--maxfail=0"]


def apply_policy(
    gate: Gate,
    spec: PytestGate,
    ctx: GateContext,
    run: tuple[Sequence[str], Completed, Path],
    result: GateResult,
) -> GateResult:
    """``result`` judged by its tests; unchanged when pytest's verdict cannot be refined
    (it timed out, crashed, collected nothing, or failed with no failing test named)."""
    argv, done, xml = run
    if not judged_by_tests(spec) or done.timed_out or done.returncode not in (0, 1):
        return result
    cases = read_cases(xml, ctx.root)
    if cases is None or (done.returncode == 1 and not failing(cases)):
        return result
    baseline = ctx.test_baselines.get(test_baseline_key(spec)) if spec.baseline else None
    known = baseline.failing if baseline is not None else frozenset()
    flaky = _retry(gate, spec, ctx, argv, [t for t in failing(cases) if t not in known])
    judged = judge(
        cases,
        flaky=flaky,
        baseline=None if baseline is None else baseline.failing,
        flaky_fails=spec.flaky == "fail",
    )
    return _result(result, spec, judged, baseline, done.output_end())


def _retry(
    gate: Gate, spec: PytestGate, ctx: GateContext, argv: Sequence[str], failed: list[str]
) -> set[str]:
    """The ids among ``failed`` that passed on one of up to ``retries`` re-runs."""
    remaining = [t for t in failed if "::" in t]  # a file that failed to collect: not re-run
    flaky: set[str] = set()
    for attempt in range(1, (spec.retries or 0) + 1):
        if not remaining:
            break
        again: list[Case] | None = rerun(gate, argv, remaining, ctx, attempt)
        if again is None:
            break
        now = outcomes(again)
        passed = {t for t in remaining if now.get(t) == PASSED}
        flaky |= passed
        remaining = [t for t in remaining if t not in passed]
    return flaky


def _result(
    result: GateResult,
    spec: PytestGate,
    judged: Judged,
    baseline: TestBaseline | None,
    output: str,
) -> GateResult:
    counts = dict(result.counts)
    parts = [f"{counts.get('passed', 0)} passed"]
    if judged.flaky:
        parts.append(f"{len(judged.flaky)} flaky")
    if baseline is not None:
        pre = len(judged.preexisting)
        parts.append(f"{pre} pre-existing failure{'s' * (pre != 1)}, {len(judged.new)} new")
    elif judged.new:
        parts.append(f"{len(judged.new)} failed")
    if judged.fixed:
        parts.append(f"{len(judged.fixed)} fixed")
    if counts.get("skipped"):
        parts.append(f"{counts['skipped']} skipped")
    if spec.baseline is not None and baseline is None:
        parts.append("no baseline recorded")
    extra = (
        ("flaky", len(judged.flaky)),
        ("pre-existing", len(judged.preexisting)),
        ("new", len(judged.new)),
        ("fixed", len(judged.fixed)),
    )
    tests = TestOutcome(
        failed=judged.new,
        flaky=judged.flaky,
        preexisting=judged.preexisting,
        fixed=judged.fixed,
        baseline=None if baseline is None else baseline.commit,
    )
    status = GateStatus.FAILED if judged.blocking else GateStatus.PASSED
    tail = _tail(judged, output, spec) if judged.blocking else ""
    return replace(
        result,
        status=status,
        summary=", ".join(parts),
        counts=(*result.counts, *extra),
        output_tail=tail,
        tests=tests,
    )


def _tail(judged: Judged, output: str, spec: PytestGate) -> str:
    """The blocking tests by name first, then the last lines of pytest's output without
    those about tests that do not block (a pre-existing failure is not this step's doing)."""
    lines: list[str] = []
    if judged.new:
        title = "new failures (passing at the plan's start)" if spec.baseline else "failed"
        lines.append(f"{title}:")
        lines += [f"  {t}" for t in judged.new[:_SHOWN]]
        if len(judged.new) > _SHOWN:
            lines.append(f"  and {len(judged.new) - _SHOWN} more")
    if spec.flaky == "fail" and judged.flaky:
        lines.append("flaky (failed, then passed on a re-run; flaky: fail):")
        lines += [f"  {t}" for t in judged.flaky[:_SHOWN]]
    kept = _without(output.splitlines(), judged.preexisting, (*judged.new, *judged.flaky))
    return printable("\n".join([*lines, *kept[-_TAIL_LINES:]]))


def baseline_depends(gate: Gate, ctx: GateContext) -> dict[str, str]:
    """What a replayed verdict of a ``baseline: start`` gate also rests on: the failing ids
    it was judged against (a rehearsal that measured other ones judged another question)."""
    spec = gate.spec
    if not isinstance(spec, PytestGate) or spec.baseline is None:
        return {}
    found = ctx.test_baselines.get(test_baseline_key(spec))
    ids = sorted(found.failing) if found is not None else None
    text = json.dumps(ids)
    return {"baseline": "sha256:" + hashlib.sha256(text.encode()).hexdigest()}


def _without(lines: list[str], quiet: Sequence[str], loud: Sequence[str]) -> list[str]:
    """pytest's output without the failure sections and summary lines of ``quiet`` tests.

    A section starts at a ``____ TestK.test_m[x] ____`` header (``ERROR collecting PATH``
    for a file) and runs to the next header or ``====`` line; a header shared with a test
    that still matters (the same name in two files) is kept.
    """
    heads = {_head(t) for t in quiet} - {_head(t) for t in loud}
    kept: list[str] = []
    skipping = False
    for line in lines:
        if match := _SECTION.match(line):
            skipping = match["head"] in heads
        elif line.startswith("="):
            skipping = False
        if skipping or any(line.startswith((f"FAILED {t}", f"ERROR {t}")) for t in quiet):
            continue
        kept.append(line)
    return kept


def _head(test: str) -> str:
    """The header pytest prints above a test's failure: ``TestK.test_m[x]``."""
    path, _, inner = test.partition("::")
    return inner.replace("::", ".") if inner else f"ERROR collecting {path}"
