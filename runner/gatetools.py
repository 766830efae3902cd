"""Before any step runs: every ``pytest`` gate's ``python`` can import pytest.

A ``pytest`` gate runs ``python -m pytest`` with the ``python`` first on the plan's PATH
(the project's environment). When that interpreter has no pytest, the gate can only fail,
and finding out after a codemod has rewritten a hundred files means a rollback for nothing.
So the run asks each such interpreter once, up front, and refuses (exit 2) with the fix.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator

from runner.context import Runtime
from runner.errors import PreconditionError
from runner.model import Gate, PytestGate
from runner.process import run_command

__all__ = ["require_pytest"]


def require_pytest(rt: Runtime, steps: Iterable[str]) -> None:
    """Refuse the run when a ``pytest`` gate it would run has no pytest to run with."""
    gates = list(_pytest_gates(rt, frozenset(steps)))
    if not gates:
        return
    env = rt.env()
    python = shutil.which("python", path=env.get("PATH")) or "python3"
    done = run_command(
        (python, "-c", "import pytest"),
        cwd=rt.repo.root,
        env=env,
        timeout=60,
        log=rt.ws.state.tmp / "pytest-check.log",
    )
    if done.ok:
        return
    names = ", ".join(sorted({f"'{g.name}'" for g in gates}))
    msg = (
        f"the pytest gate(s) {names} run `{python} -m pytest`, but that python cannot import "
        f"pytest; nothing has run. Install it in your project's environment "
        f"(`{python} -m pip install pytest`), or put the environment that has it first on "
        "PATH (activate it), then run again"
    )
    raise PreconditionError(msg)


def _pytest_gates(rt: Runtime, steps: frozenset[str]) -> Iterator[Gate]:
    plan = rt.plan
    for phase in plan.phases:
        chosen = [s for s in phase.steps if s.key in steps]
        for step in chosen:
            yield from (g for g in step.gates if isinstance(g.spec, PytestGate))
        if chosen:
            yield from (g for g in phase.gates if isinstance(g.spec, PytestGate))
    yield from (g for g in plan.on_rollback.verify if isinstance(g.spec, PytestGate))
