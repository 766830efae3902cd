"""Run reports as a person and a CI system like them: live lines, a table, JSON, JUnit XML.

Rendering only: every decision was made by the engine and is in the :class:`RunReport`.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from runner.display import step_caption
from runner.eta import Expected
from runner.model import ApproveGate, Gate, Step
from runner.progress import GateProgress
from runner.report_tests import junit_test_properties, named_tests
from runner.results import (
    GateResult,
    GateStatus,
    RollbackRecord,
    RunReport,
    StepResult,
    StepStatus,
    first_failure,
)
from runner.verdicts import verdict_text

if TYPE_CHECKING:
    from runner.followups import LiveFollowUp

__all__ = [
    "LiveObserver",
    "gate_label",
    "render_next",
    "render_rollback",
    "render_summary",
    "report_json",
    "sites_text",
    "write_json",
    "write_junit",
]

_STYLE = {
    StepStatus.PASSED: ("✓", "green"),
    StepStatus.ALREADY_DONE: ("·", "dim"),
    StepStatus.CHANGED: ("!", "yellow"),
    StepStatus.FAILED: ("✗", "red"),
    StepStatus.ROLLED_BACK: ("↺", "red"),
    StepStatus.STOPPED: ("■", "red"),
    StepStatus.NOT_RUN: ("-", "dim"),
    StepStatus.PARTIAL: ("◐", "yellow"),
}
_GATE_STYLE = {
    GateStatus.PASSED: ("✓", "green"),
    GateStatus.FAILED: ("✗", "red"),
    GateStatus.TIMED_OUT: ("⏱", "red"),
    GateStatus.INCONCLUSIVE: ("?", "yellow"),
    GateStatus.CANCELLED: ("-", "dim"),
}
#: What a mark becomes where the terminal cannot show it (``PYTHONIOENCODING=ascii``, a
#: latin-1 locale): the run goes on and says the same thing in plain characters.
_ASCII = {"◐": "~", "✓": "ok", "✗": "x", "↺": "<-", "■": "#", "·": ".", "⏱": "T"}


def _shown(console: Console, mark: str) -> str:
    """``mark`` if the console's encoding can write it, else its ASCII stand-in."""
    try:
        mark.encode(console.encoding)
    except (UnicodeEncodeError, LookupError):
        return _ASCII.get(mark, "?")
    return mark


class LiveObserver:
    """One line per step as it runs, one per gate, indented; notices in yellow."""

    def __init__(self, console: Console, *, expected: Expected | None = None) -> None:
        self.console = console
        self.expected = expected or Expected()
        self._live = GateProgress(console)

    def notice(self, text: str) -> None:
        """A notice line."""
        self._live.stop()  # an interrupted gate never reported its end
        self.console.print(f"[yellow]note:[/] {escape(text)}")

    def step_started(self, step: Step, index: int, total: int) -> None:
        """``[2/9] phase/step  title``."""
        caption = escape(step_caption(step))
        self.console.print(f"[bold][{index}/{total}][/] {escape(step.key)}  [dim]{caption}[/]")

    def gate_started(self, label: str, gate: Gate) -> None:
        """On a terminal, a live line: elapsed time, and the time left against last time."""
        if isinstance(gate.spec, ApproveGate):
            return  # the gate asks a question on this terminal: no live line over it
        expected = self.expected.gate(label, gate.name)
        self._live.start(f"    {gate_label(label)} {escape(gate.name)}", expected)

    def gate_finished(self, label: str, result: GateResult) -> None:
        """``    ✓ gate unit  8.4s  212 passed``, labelled by what the gate judged.

        ``label`` says whose gate it is: a step's (``gate``), a phase's (``phase gate:``),
        the on-rollback hook commands (``hook:``) and verify gates (``verify:``), which run
        after the rollback line, so the output reads in the order things happened.
        """
        self._live.stop()
        mark, color = _GATE_STYLE[result.status]
        mark = _shown(self.console, mark)
        kind = gate_label(label)
        if result.kind == "hook":
            line = f"    [{color}]{mark}[/] {kind} {escape(result.summary)}  {result.seconds:.1f}s"
            self.console.print(line)
            return
        line = f"    [{color}]{mark}[/] {kind} {escape(result.name)}  {result.seconds:.1f}s"
        if result.inconclusive:
            line += f"  [{color}]inconclusive[/]"
        if result.summary:
            line += f"  [dim]{escape(result.summary)}[/]"
        if result.report_only:
            line += f"  [dim](report-only: {result.status.value}, never blocks)[/]"
        if result.replayed:
            line += f"  [cyan]passed in rehearsal {escape(result.replayed)}[/]"
        self.console.print(line)
        for named in named_tests(result):  # flaky, new, fixed tests by name
            self.console.print(f"        [dim]{escape(named)}[/]")

    def step_finished(self, result: StepResult) -> None:
        """``  ✓ passed 3.4s  46 sites in 40 files  abc1234``; skipped steps in grey."""
        self._live.stop()  # an interrupted gate never reported its end
        mark, color = _STYLE[result.status]
        mark = _shown(self.console, mark)
        if result.status in (StepStatus.ALREADY_DONE, StepStatus.NOT_RUN, StepStatus.CHANGED):
            why = result.message or result.status.value
            self.console.print(f"[{color}]{mark} {escape(result.key)}  {escape(why)}[/]")
            return
        parts = [f"[{color}]{mark} {result.status.value}[/]", f"{result.seconds:.1f}s"]
        parts.append(f"{len(result.changed)} file(s)")
        if result.sites:
            parts.append(sites_text(result.action, result.sites))
        if result.followups:
            parts.append(f"[yellow]{len(result.followups)} follow-up(s)[/]")
        if result.commit:
            parts.append(f"[dim]{result.commit[:10]}[/]")
        if result.message:
            parts.append(f"[red]{escape(result.message)}[/]")
        self.console.print("  " + "  ".join(parts))

    def rollback_finished(self, record: RollbackRecord) -> None:
        """Where the tree went back to; the on-rollback hooks and verify gates follow."""
        mark = _shown(self.console, "↺")
        self._live.stop()  # an interrupted gate never reported its end
        self.console.print(
            f"  [red]{mark} rolled back ({record.scope}, {record.mode})[/] to {record.target[:10]}"
        )


def gate_label(label: str) -> str:
    """What kind of gate a gate line shows, from whose gate it is (see ``gate_finished``)."""
    if label == "on-rollback":
        return "verify:"
    if label == "on-rollback hook":
        return "hook:"
    if label.startswith("phase "):
        return "phase gate:"
    return "gate"


def sites_text(action: str, count: int) -> str:
    """``46 site(s) rewritten``; a ``delete`` step deletes what it counts."""
    if action == "delete":
        return f"{count} target(s) deleted"
    return f"{count} site(s) rewritten"


def render_summary(
    report: RunReport,
    console: Console,
    *,
    followups: Sequence[LiveFollowUp] | None = None,
    expected: Expected | None = None,
) -> None:
    """The final table, then what went wrong and what to do next.

    ``followups``: the plan's follow-ups re-checked against the tree after the run (see
    :mod:`runner.followups`); without them, those of the steps that committed are shown.
    ``expected``: the earlier run's times (:mod:`runner.eta`), shown beside this run's.
    """
    title = "Rehearsal" if report.rehearsal else "Run"
    table = Table(title=f"{title} of {report.plan}: {report.seconds:.1f}s", title_justify="left")
    known = expected.steps if expected else {}
    before = {s.key: known[s.key] for s in report.steps if s.key in known}
    columns = ("step", "status", "time", *(("last time",) if before else ()), "gates")
    for column in (*columns, "files", "sites", "commit"):
        table.add_column(
            column, justify="left" if column in ("step", "status", "gates", "commit") else "right"
        )
    for step in report.steps:
        mark, color = _STYLE[step.status]
        mark = _shown(console, mark)
        passed = sum(1 for g in step.gates if g.status is GateStatus.PASSED)
        failed = step.failed_gate
        gates = (
            f"{failed.name} {failed.status.value}"
            if failed
            else (f"{passed} passed" if step.gates else "")
        )
        gates += "".join(
            f", {g.name} {g.status.value} (report-only)"
            for g in step.gates
            if g.report_only and g.status is not GateStatus.PASSED
        )
        was = before.get(step.key)
        table.add_row(
            escape(step.key),
            f"[{color}]{mark} {step.status.value}[/]",
            f"{step.seconds:.1f}s" if step.seconds else "",
            *((f"{was:.1f}s" if was is not None else "",) if before else ()),
            escape(gates),
            str(len(step.changed)) if step.changed else "",
            str(step.sites) if step.sites else "",
            step.commit[:10] if step.commit else "",
        )
    console.print(table)
    for phase, results in report.phase_gates:
        text = ", ".join(
            f"{g.name} {g.status.value} {g.seconds:.1f}s{' (report-only)' * g.report_only}"
            for g in results
        )
        console.print(f"phase {escape(phase)} gates: {escape(text)}")
    _render_followups(report, followups, console)
    if report.rehearsal:
        _render_rehearsal(report, console)
    skipped = [f for s in report.steps for f in s.skipped]
    if skipped:
        console.print(f"\n[yellow]{len(skipped)} file(s) left untouched:[/]")
        for item in skipped:
            console.print(f"  {escape(str(item))}")
    _render_failure(report, console)


def _render_followups(
    report: RunReport, live: Sequence[LiveFollowUp] | None, console: Console
) -> None:
    """Open follow-ups with FILE:LINE; a rolled-back step's are gone with its change."""
    if live is None:
        kept = [(s.key, str(f)) for s in report.steps if s.commit for f in s.followups]
        resolved = 0
    else:
        kept = [(f.step, str(f)) for f in live if f.open]
        resolved = len(live) - len(kept)
    if not kept and not resolved:
        return
    more = f" ({resolved} resolved)" if resolved else ""
    console.print(f"\n[yellow]{len(kept)} manual follow-up(s) open[/]{more}:")
    for key, text in kept:
        console.print(f"  {escape(text)}  [dim]({escape(key)})[/]")


def render_next(report: RunReport, command: str, console: Console) -> None:
    """After a failed run, the last lines: the log, the patch, the command that continues."""
    if not report.failed:
        return
    failed = next((s for s in report.steps if s.status in _ENDED), None)
    gate = failed.failed_gate if failed else None
    rollback = failed.rollback if failed else report.rollback
    if failed is None:
        gate = first_failure(g for _, gs in report.phase_gates for g in gs)
    console.print("\n[bold]what to do next:[/]")
    if gate is not None and gate.log:
        why = "it could not judge" if gate.inconclusive else "it failed"
        console.print(f"  - read why {why}: {escape(gate.log)}")
    if rollback is not None and rollback.patch:
        patch = escape(rollback.patch)
        console.print(f"  - the discarded changes, if you want them back: git apply {patch}")
    for partial in (s for s in report.steps if s.isolation and s.isolation.patch):
        patch = escape(str(partial.isolation.patch if partial.isolation else ""))
        console.print(f"  - {escape(partial.key)} held back files; their change: git apply {patch}")
    if failed is not None and failed.status is StepStatus.STOPPED:
        console.print(
            "  - the step's changes are in the working tree, uncommitted: fix them, or set "
            "them aside with `git stash -u`"
        )
    verb = "rehearse again" if report.rehearsal else "continue"
    console.print(f"  - once the cause is fixed, {verb}: {escape(command)}")


_ENDED = (StepStatus.ROLLED_BACK, StepStatus.STOPPED, StepStatus.FAILED)


def _render_rehearsal(report: RunReport, console: Console) -> None:
    """What a lead engineer needs before the real day: each step's diffstat (the verdict is
    the rehearsal's last line, :mod:`runner.rehearsal`)."""
    for step in report.steps:
        if step.diffstat:
            console.print(f"\n[bold]{escape(step.key)}[/] would change:")
            console.print(escape(step.diffstat))


def _render_failure(report: RunReport, console: Console) -> None:
    failed = next(
        (
            s
            for s in report.steps
            if s.status in (StepStatus.ROLLED_BACK, StepStatus.STOPPED, StepStatus.FAILED)
        ),
        None,
    )
    bad_phase = next(
        ((p, g) for p, gates in report.phase_gates if (g := first_failure(gates))), None
    )
    if failed is None and bad_phase is None:
        if report.steps and not report.stopped_at and not report.rehearsal:
            console.print(f"\n[green]done[/]: HEAD {report.head[:10]}")
        return
    if failed is not None:
        gate = failed.failed_gate
        what = f"gate '{gate.name}' {verdict_text(gate)}" if gate else failed.message
        console.print(f"\n[red bold]{escape(failed.key)}: {escape(what)}[/]")
        tail = gate.output_tail if gate else failed.output_tail
        log = gate.log if gate else None
        rollback = failed.rollback
    else:
        assert bad_phase is not None
        phase, gate = bad_phase
        console.print(
            f"\n[red bold]phase {escape(phase)}: gate '{escape(gate.name)}' "
            f"{escape(verdict_text(gate))}[/]"
        )
        tail, log, rollback = gate.output_tail, gate.log, report.rollback
    if tail:
        console.print(_indented(tail))
    if log:
        console.print(f"  full output: {escape(log)}")
    if failed is not None and failed.status is StepStatus.STOPPED:
        key = "on-inconclusive" if gate is not None and gate.inconclusive else "on-failure"
        console.print(
            f"  stopped as the plan says ({key}: stop): the tree is left as the step"
            " left it, uncommitted"
        )
    if rollback is not None:
        render_rollback(rollback, console)


def render_rollback(record: RollbackRecord, console: Console) -> None:
    """Where the tree went back to, what was saved, and how the on-rollback hooks went."""
    if record.scope == "files":
        what = f"{record.files} file(s) restored as of {record.target[:10]}"
        console.print(f"[green]{what}[/]" if record.verified else f"[red]{what}, then undone[/]")
    else:
        console.print(f"  rolled back ({record.scope}, by {record.mode}) to {record.target[:10]}")
    if record.patch:
        count = "" if record.scope == "files" else f" ({record.files} file(s))"
        console.print(f"  discarded diff{count} saved: {escape(record.patch)}")
        console.print(f"    re-apply with: git apply {escape(record.patch)}")
    if record.reverted:
        console.print(f"  revert commits: {', '.join(c[:10] for c in record.reverted)}")
    if record.backup_ref:
        console.print(f"  the discarded commits stay reachable as {record.backup_ref}")
    for result in (*record.hooks, *record.verify):
        mark, color = _GATE_STYLE[result.status]
        mark = _shown(console, mark)
        console.print(
            f"  [{color}]{mark}[/] on-rollback {escape(result.name)}: {escape(result.summary)}"
        )
        if not result.passed and result.output_tail:
            console.print(_indented(result.output_tail))
    if not record.verified:
        undone = ": the rollback commit was undone" if record.scope == "files" else ""
        unjudged = any(r.inconclusive and not r.passed for r in record.verify)
        what = "could not be verified" if unjudged else "did not pass on-rollback verification"
        console.print(f"  [red]the rolled-back tree {what}{undone}[/]")


def _indented(text: str) -> str:
    return "[dim]" + escape("\n".join("  | " + line for line in text.splitlines())) + "[/]"


def report_json(
    report: RunReport, *, followups: Sequence[LiveFollowUp] | None = None
) -> dict[str, Any]:
    """Every step and gate with times, counts, commits; stable keys for CI systems.

    ``followups`` adds the live list (``{"open", "resolved", "items"}``) after the run.
    """
    data = asdict(report)
    data["exit_code"] = report.exit_code
    data["failed"] = report.failed
    if followups is not None:
        still = sum(1 for f in followups if f.open)
        data["followups"] = {
            "open": still,
            "resolved": len(followups) - still,
            "items": [f.to_json() for f in followups],
        }
    return _jsonable(data)  # type: ignore[no-any-return]


def write_json(
    report: RunReport, path: Path, *, followups: Sequence[LiveFollowUp] | None = None
) -> None:
    """``--report FILE.json``."""
    data = report_json(report, followups=followups)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def write_junit(report: RunReport, path: Path) -> None:
    """``--junit FILE.xml``: each gate a test case, each step a class.

    A gate that could not judge is an ``<error>``, one that judged against the change a
    ``<failure>``. A report-only gate never blocks, here either: its verdict is in the
    case's properties and output, so a CI system reading the file does not fail on it.
    """
    cases = [(s.key, g) for s in report.steps for g in s.gates]
    cases += [(f"phase {p}", g) for p, gates in report.phase_gates for g in gates]
    errors = sum(1 for _, g in cases if not g.passed and g.inconclusive)
    cancelled = sum(1 for _, g in cases if g.status is GateStatus.CANCELLED)
    failures = sum(1 for _, g in cases if not g.passed) - errors - cancelled
    suite = ET.Element(
        "testsuite",
        name=f"runner:{report.plan}",
        tests=str(len(cases)),
        failures=str(failures),
        errors=str(errors),
        skipped=str(cancelled),
        time=f"{report.seconds:.3f}",
    )
    for classname, gate in cases:
        case = ET.SubElement(
            suite, "testcase", classname=classname, name=gate.name, time=f"{gate.seconds:.3f}"
        )
        if gate.report_only:
            _report_only_case(case, gate)
        elif gate.status is GateStatus.CANCELLED:  # no verdict of its own: not a failure
            ET.SubElement(case, "skipped", message=gate.summary)
        elif not gate.passed:
            tag = "error" if gate.inconclusive else "failure"
            failure = ET.SubElement(case, tag, message=f"{gate.status.value}: {gate.summary}")
            failure.text = gate.output_tail
        junit_test_properties(case, gate)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _report_only_case(case: ET.Element, gate: GateResult) -> None:
    """A report-only gate's verdict, recorded without failing the case."""
    props = ET.SubElement(case, "properties")
    ET.SubElement(props, "property", name="report-only", value="true")
    ET.SubElement(props, "property", name="verdict", value=gate.status.value)
    out = ET.SubElement(case, "system-out")
    out.text = "\n".join(filter(None, [f"{gate.status.value}: {gate.summary}", gate.output_tail]))


def _jsonable(value: Any) -> Any:  # noqa: ANN401 - walks asdict() output
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "value") and not isinstance(value, str | int | float | bool):
        return value.value
    return value
