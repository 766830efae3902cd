"""Three verdicts: a gate passes, fails, or is *inconclusive*; and gates that only report.

A gate that never judged the change (its command was not found, pytest collected no test or
stopped on a usage error, a metric printed no number) says nothing about the step. Calling
that "failed" sends a person hunting for a bug the step did not make; calling it "passed"
would commit a change nobody checked. So it has a word of its own, everywhere a verdict is
shown, and a reaction of its own (``on-inconclusive: rollback | stop``): never ``continue``,
since a change no gate judged is never committed as a checkpoint.

A ``report-only: true`` gate runs and is recorded like any other, but its verdict never
blocks a step, a phase or a rollback's verification: :attr:`GateResult.passed` is true for
it whatever its status, so every place that asks "did the gate let this through?" agrees.

The rules live here, once; the gate modules, the engine and the reports call in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from runner.model import Gate, OnFailure, Step
from runner.results import GateResult, GateStatus, StepResult

__all__ = [
    "PYTEST_INCONCLUSIVE",
    "as_declared",
    "gate_message",
    "inconclusive",
    "not_run_reason",
    "pytest_inconclusive",
    "reaction",
    "settled",
    "verdict_text",
]

#: Exit codes by which a shell (or :mod:`runner.process`, for an argv command) says the
#: command itself could not be run: nothing was judged.
_NOT_RUN = {126: "command could not be run, exit 126", 127: "command not found, exit 127"}

#: pytest's own exit codes for "the tests did not run to a verdict" (``pytest.ExitCode``).
PYTEST_INCONCLUSIVE = {
    2: "pytest was interrupted",
    3: "pytest internal error",
    4: "pytest usage error",
    5: "no tests collected",
}


def not_run_reason(returncode: int) -> str | None:
    """Why a command's exit code means it never ran (126, 127), else ``None``."""
    return _NOT_RUN.get(returncode)


def pytest_inconclusive(returncode: int, counts: Sequence[tuple[str, int]] | None) -> str | None:
    """Why a pytest run judged nothing, or ``None`` when its exit code and report are a verdict.

    No JUnit report means pytest never reached its tests. Exit 2 is also what pytest
    returns when a test module fails to import ("errors during collection"): the report then
    counts those errors, and a step that broke a test module has failed, not gone unjudged.
    """
    why = PYTEST_INCONCLUSIVE.get(returncode)
    if counts is None:
        return why or f"no JUnit report: pytest did not run (exit {returncode})"
    found = dict(counts)
    if why is not None and returncode != 5 and (found.get("failed") or found.get("errors")):
        return None  # collection errors: a verdict on the change
    return why


def as_declared(gate: Gate, result: GateResult) -> GateResult:
    """``result`` marked report-only when the plan says so (its status stays what it was)."""
    return replace(result, report_only=True) if gate.report_only else result


def gate_message(gate: GateResult) -> str:
    """A step's message for the gate that stopped it: ``gate unit failed``, or
    ``gate unit was inconclusive (no tests collected): the change was never judged``."""
    if gate.inconclusive:
        why = f" ({gate.summary})" if gate.summary else ""
        return f"gate {gate.name} was inconclusive{why}: the change was never judged"
    return f"gate {gate.name} {gate.status.value}"


def verdict_text(gate: GateResult) -> str:
    """A gate's verdict for a failure report: ``failed``, ``timed out``, or
    ``inconclusive (no tests collected): the change was never judged``."""
    if gate.inconclusive:
        why = f" ({gate.summary})" if gate.summary else ""
        return f"inconclusive{why}: the change was never judged"
    return gate.status.value


def reaction(step: Step, result: StepResult) -> OnFailure:
    """What a step that did not pass does: ``on-inconclusive`` when the gate that stopped
    it could not judge, ``on-failure`` otherwise."""
    gate = result.failed_gate
    if gate is not None and gate.inconclusive:
        return OnFailure(step.on_inconclusive.value)
    return step.on_failure


def settled(result: StepResult, done: OnFailure) -> StepResult:
    """An inconclusive step's message ends with what became of the unjudged change."""
    gate = result.failed_gate
    if gate is None or not gate.inconclusive:
        return result
    what = {
        OnFailure.ROLLBACK: "rolled back",
        OnFailure.STOP: "stopped with the tree as the step left it (on-inconclusive: stop)",
    }.get(done)
    return replace(result, message=f"{result.message}; {what}") if what else result


def inconclusive(result: GateResult, why: str) -> GateResult:
    """``result`` as a gate that could not judge, saying why."""
    return replace(result, status=GateStatus.INCONCLUSIVE, summary=why)
