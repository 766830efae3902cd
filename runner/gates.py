"""One function per gate kind, each returning a :class:`GateResult`; no git here.

Gates judge the working tree as it is; they never change history. Commands run through
:mod:`runner.process` (timeouts kill the whole process group); ``forbid-imports`` uses the
codemods' AST scanner; ``approve`` asks through an :class:`Approver` the CLI supplies, so the
engine never touches the terminal itself.
"""

from __future__ import annotations

import re
import shutil
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from runner.journal import file_label
from runner.model import (
    ApproveGate,
    ForbidImportsGate,
    Gate,
    MetricGate,
    PytestGate,
    RunGate,
)
from runner.process import Completed, run_command
from runner.results import GateResult, GateStatus

__all__ = ["Approver", "GateContext", "baseline_key", "run_gate"]

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


class Approver(Protocol):
    """Asks a person; ``None`` means nobody can be asked (no terminal)."""

    def __call__(self, question: str) -> bool | None: ...


@dataclass(frozen=True, slots=True)
class GateContext:
    """Where and how gates run: the tree, environment, limits, and the ways to ask."""

    root: Path
    env: Mapping[str, str]
    default_timeout: float | None
    log_dir: Path
    tmp_dir: Path
    approver: Approver
    assume_yes: bool
    exclude: tuple[str, ...]
    source_roots: tuple[str, ...]
    baseline: Callable[[ForbidImportsGate], int | None]
    label: str  # prefix for log files: the step key or "phase-<id>"


def baseline_key(gate: ForbidImportsGate) -> str:
    """How a ``forbid-imports`` gate's starting count is recorded (``Runner-Baseline``)."""
    return ",".join(sorted(gate.names))


def run_gate(gate: Gate, ctx: GateContext) -> GateResult:
    """Run one gate and say whether it passed, and why."""
    spec = gate.spec
    if isinstance(spec, RunGate):
        return _run(gate, spec, ctx)
    if isinstance(spec, PytestGate):
        return _pytest(gate, spec, ctx)
    if isinstance(spec, MetricGate):
        return _metric(gate, spec, ctx)
    if isinstance(spec, ForbidImportsGate):
        return _forbid_imports(gate, spec, ctx)
    return _approve(gate, spec, ctx)


def _execute(gate: Gate, command: str | Sequence[str], ctx: GateContext) -> Completed:
    cmd = command if isinstance(command, str) else tuple(command)
    log = _log_path(gate, ctx)
    timeout = gate.timeout if gate.timeout is not None else ctx.default_timeout
    return run_command(cmd, cwd=ctx.root, env=ctx.env, timeout=timeout, log=log)


def _from_completed(
    gate: Gate, done: Completed, *, ctx: GateContext, summary: str = "", passed: bool | None = None
) -> GateResult:
    ok = done.ok if passed is None else passed and not done.timed_out
    status = (
        GateStatus.TIMED_OUT if done.timed_out else GateStatus.PASSED if ok else GateStatus.FAILED
    )
    if done.timed_out:
        summary = "timed out; process group killed"
    elif not ok and not summary:
        summary = f"exit code {done.returncode}"
    return GateResult(
        name=gate.name,
        kind=gate.kind,
        status=status,
        seconds=done.seconds,
        summary=summary,
        output_tail="" if ok else done.tail(),
        log=str(_log_path(gate, ctx)),
    )


def _log_path(gate: Gate, ctx: GateContext) -> Path:
    return ctx.log_dir / f"{file_label(ctx.label)}.gate-{file_label(gate.name)}.log"


def _run(gate: Gate, spec: RunGate, ctx: GateContext) -> GateResult:
    return _from_completed(gate, _execute(gate, spec.command, ctx), ctx=ctx)


def _pytest(gate: Gate, spec: PytestGate, ctx: GateContext) -> GateResult:
    """``python -m pytest ARGS --junitxml=...``: counts come from the XML, not the text.

    ``python`` is the one on the plan's PATH, as for a ``run: python -m pytest`` gate, so
    the tests run in the project's environment, not in the one runner was installed in.
    """
    xml = ctx.tmp_dir / f"{file_label(ctx.label)}.{file_label(gate.name)}.junit.xml"
    xml.unlink(missing_ok=True)
    python = shutil.which("python", path=ctx.env.get("PATH")) or "python3"
    argv = [python, "-m", "pytest", *spec.args, f"--junitxml={xml}", "-p", "no:cacheprovider"]
    done = _execute(gate, argv, ctx)
    counts = _junit_counts(xml)
    if counts is None:
        result = _from_completed(gate, done, ctx=ctx, summary="no JUnit report: pytest did not run")
        return result if done.timed_out else _failed(result)
    summary = ", ".join(f"{n} {k}" for k, n in counts if n or k == "passed")
    if done.returncode == 5:
        summary = "no tests collected"
    return replace(_from_completed(gate, done, ctx=ctx, summary=summary), counts=counts)


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


def _metric(gate: Gate, spec: MetricGate, ctx: GateContext) -> GateResult:
    done = _execute(gate, spec.command, ctx)
    numbers = _NUMBER.findall(done.output_end())  # the last number: the end is enough
    if done.timed_out or not done.ok:
        return _from_completed(gate, done, ctx=ctx)
    if not numbers:
        return _failed(_from_completed(gate, done, ctx=ctx, summary="printed no number"))
    value = float(numbers[-1])
    problems = []
    if spec.max is not None and value > spec.max:
        problems.append(f"> max {spec.max:g}")
    if spec.min is not None and value < spec.min:
        problems.append(f"< min {spec.min:g}")
    bounds = []
    if spec.max is not None:
        bounds.append(f"max {spec.max:g}")
    if spec.min is not None:
        bounds.append(f"min {spec.min:g}")
    verdict = " ".join(problems) if problems else "within " + ", ".join(bounds)
    summary = f"value {value:g} {verdict}"
    result = _from_completed(gate, done, ctx=ctx, summary=summary, passed=not problems)
    return replace(result, value=value)


def _forbid_imports(gate: Gate, spec: ForbidImportsGate, ctx: GateContext) -> GateResult:
    from runner.codemods import find_import_sites  # noqa: PLC0415 - keeps --help fast

    start = time.monotonic()
    sites = find_import_sites(
        ctx.root, spec.names, exclude=ctx.exclude, source_roots=ctx.source_roots
    )
    count = len(sites)
    limits: list[str] = []
    failed = False
    if spec.max is not None:
        limits.append(f"max {spec.max}")
        failed |= count > spec.max
    if spec.max_ratio is not None:
        baseline = ctx.baseline(spec)
        if baseline is None:
            baseline = count
        allowed = int(spec.max_ratio * baseline)
        limits.append(f"max-ratio {spec.max_ratio:g} of {baseline} = {allowed}")
        failed |= count > allowed
    summary = f"{count} site{'s' * (count != 1)} ({', '.join(limits)})"
    listed = tuple(str(s) for s in sites)
    return GateResult(
        name=gate.name,
        kind=gate.kind,
        status=GateStatus.FAILED if failed else GateStatus.PASSED,
        seconds=time.monotonic() - start,
        summary=summary,
        output_tail="\n".join(listed[:20]) if failed else "",
        counts=(("sites", count),),
        sites=listed if failed else (),
    )


def _approve(gate: Gate, spec: ApproveGate, ctx: GateContext) -> GateResult:
    start = time.monotonic()
    if ctx.assume_yes:
        answer: bool | None = True
        summary = "approved by --yes"
    else:
        answer = ctx.approver(spec.question)
        summary = {
            True: "approved",
            False: "declined",
            None: "no terminal to ask; run on a terminal or pass --yes",
        }[answer]
    return GateResult(
        name=gate.name,
        kind=gate.kind,
        status=GateStatus.PASSED if answer else GateStatus.FAILED,
        seconds=time.monotonic() - start,
        summary=summary,
        output_tail="" if answer else f"{spec.question} -> {summary}",
    )


def _failed(result: GateResult) -> GateResult:
    return replace(result, status=GateStatus.FAILED)
