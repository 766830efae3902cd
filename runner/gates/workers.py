"""``workers: auto | N`` on a ``pytest`` gate: pytest-xdist's ``-n``, when it is there.

Whether xdist is installed is asked of the very python the gate runs, once per run and
interpreter (the answer kept in the run's :class:`~runner.gates.memory.GateMemory`); when it
is missing the gate runs on one core, and the first gate of the run to find that out says so
in its summary (saying it after every step would bury the verdicts).
"""

from __future__ import annotations

from runner.gates.common import GateContext
from runner.model import PytestGate
from runner.process import run_command

__all__ = ["xdist_args"]


def xdist_args(spec: PytestGate, python: str, ctx: GateContext) -> tuple[list[str], str]:
    """``-n WORKERS`` when xdist can run them, and a note when it cannot (said once)."""
    if spec.workers is None:
        return [], ""
    told = ctx.memory.has_xdist(python) is not None
    if not told:
        done = run_command(
            (python, "-c", "import xdist"),
            cwd=ctx.root,
            env=ctx.env,
            timeout=60,
            log=ctx.tmp_dir / "xdist-check.log",
        )
        ctx.memory.found_xdist(python, importable=done.ok)
    if ctx.memory.has_xdist(python):
        return ["-n", spec.workers], ""
    if told:
        return [], ""
    return [], f"pytest-xdist is not installed for {python}: ran on one core, without -n; "
