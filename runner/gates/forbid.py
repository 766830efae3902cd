"""``forbid-imports:`` gates: the codemods' AST scanner counts what must be gone."""

from __future__ import annotations

import time

from runner.gates.common import GateContext
from runner.model import ForbidImportsGate, Gate
from runner.results import GateResult, GateStatus

__all__ = ["baseline_key", "run_forbid_imports"]


def baseline_key(gate: ForbidImportsGate) -> str:
    """How a ``forbid-imports`` gate's starting count is recorded (``Runner-Baseline``)."""
    return ",".join(sorted(gate.names))


def run_forbid_imports(gate: Gate, spec: ForbidImportsGate, ctx: GateContext) -> GateResult:
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
