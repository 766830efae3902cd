"""``pytest:`` gates: pytest in the project's environment, counted from its JUnit XML."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from runner.gates.common import GateContext, execute, from_completed
from runner.journal import file_label
from runner.model import Gate, PytestGate
from runner.results import GateResult
from runner.verdicts import inconclusive, pytest_inconclusive

__all__ = ["run_pytest"]


def run_pytest(gate: Gate, spec: PytestGate, ctx: GateContext) -> GateResult:
    """``python -m pytest ARGS --junitxml=...``: counts come from the XML, not the text.

    ``python`` is the one on the plan's PATH, as for a ``run: python -m pytest`` gate, so
    the tests run in the project's environment, not in the one runner was installed in.
    """
    xml = ctx.tmp_dir / f"{file_label(ctx.label)}.{file_label(gate.name)}.junit.xml"
    xml.unlink(missing_ok=True)
    python = shutil.which("python", path=ctx.env.get("PATH")) or "python3"
    argv = [python, "-m", "pytest", *spec.args, f"--junitxml={xml}", "-p", "no:cacheprovider"]
    done = execute(gate, argv, ctx)
    counts = _junit_counts(xml)
    if not done.timed_out and (why := pytest_inconclusive(done.returncode, counts)):
        result = inconclusive(from_completed(gate, done, ctx=ctx, passed=False), why)
        return replace(result, counts=counts or ())  # exit 2-5, or no report: nothing judged
    if counts is None:
        return from_completed(gate, done, ctx=ctx, summary="no JUnit report: pytest did not run")
    summary = ", ".join(f"{n} {k}" for k, n in counts if n or k == "passed")
    return replace(from_completed(gate, done, ctx=ctx, summary=summary), counts=counts)


def _junit_counts(xml: Path) -> tuple[tuple[str, int], ...] | None:
    try:
        root = ET.parse(xml).getroot()  # noqa: S314 - pytest wrote this file a moment ago
    except (OSError, ET.ParseError):
        return None
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for key in totals:
            totals[key] += int(suite.get(key, "0") or 0)
    passed = totals["tests"] - totals["failures"] - totals["errors"] - totals["skipped"]
    return (
        ("passed", passed),
        ("failed", totals["failures"]),
        ("errors", totals["errors"]),
        ("skipped", totals["skipped"]),
    )
