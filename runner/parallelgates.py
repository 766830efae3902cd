"""A step's gates side by side (``settings.parallel-gates``), told in plan order.

A plan that runs three test suites after every step spends most of its time waiting on
them one after another, while a second core idles. Here each gate runs in a thread of its
own (the thread only waits on the gate's process group), at most ``parallel-gates`` at once:

- **Alone**: a gate marked ``exclusive: true``, an ``approve`` gate (it asks a person on this
  terminal: no live line or other output may run over the question) and a ``forbid-imports``
  gate (it parses in this process and may fork a pool of workers, which must not happen
  beside other threads) run with no other gate of the step: the gates before them finish
  first, the ones after wait. They run in the calling thread, as every gate did before.
- **Plan order**: the observer hears ``gate_started``/``gate_finished`` from the calling
  thread only, in plan order; a later gate that finished first is held until the ones
  before it are told, so the output reads as it would one gate after another. What a gate
  runner says meanwhile (a replay notice) is held with its gate.
- **A failure cancels the others** (unless ``run-all-gates``): their process groups are
  ended as a timeout ends them (:class:`runner.process.Cancel`), their results say
  ``cancelled``; gates not started yet do not run, as after a failure one after another.
- **Ctrl-C and SIGTERM** reach the calling thread (the CLI turns them into exceptions):
  every running gate is cancelled, and the exception goes on only once each gate's process
  group has ended, so the rollback that follows never runs beside a gate.

``run-all-gates`` without ``parallel-gates`` runs the gates one after another, all of them.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from runner.context import Runtime
from runner.gates import GateContext
from runner.model import ApproveGate, ForbidImportsGate, Gate, Phase, Settings, Step
from runner.process import Cancel
from runner.results import GateResult, GateStatus, RollbackRecord, StepResult

__all__ = ["gate_workers", "run_all_gates", "run_side_by_side", "runs_alone"]


def gate_workers(settings: Settings) -> int:
    """How many gates may run at once: the setting, ``auto`` being this machine's cores."""
    if settings.parallel_gates != "auto":
        return max(1, settings.parallel_gates)
    try:
        return max(1, len(os.sched_getaffinity(0)))  # the cores this process may use
    except AttributeError:  # not on macOS
        return max(1, os.cpu_count() or 1)


def run_all_gates(settings: Settings, owner: Step | Phase) -> bool:
    """Whether every gate runs even after one failed: the step's key, else the setting."""
    if isinstance(owner, Step) and owner.run_all_gates is not None:
        return owner.run_all_gates
    return settings.run_all_gates


def runs_alone(gate: Gate) -> bool:
    """Whether ``gate`` runs with no other gate of its step (see the module doc)."""
    return gate.exclusive or isinstance(gate.spec, ApproveGate | ForbidImportsGate)


@dataclass
class _Slot:
    """One gate of the list: its thread, result and what its runner said meanwhile."""

    gate: Gate
    started: bool = False
    told_started: bool = False
    result: GateResult | None = None
    error: BaseException | None = None
    cancel: Cancel | None = None
    thread: threading.Thread | None = None
    notices: list[str] = field(default_factory=list)


class _Held:
    """The observer a gate's thread sees: notices are held for the calling thread."""

    def __init__(self, slot: _Slot, lock: threading.Lock) -> None:
        self._slot, self._lock = slot, lock

    def notice(self, text: str) -> None:
        with self._lock:
            self._slot.notices.append(text)

    def step_started(self, step: Step, index: int, total: int) -> None:
        """Not a gate runner's to say."""

    def gate_started(self, label: str, gate: Gate) -> None:
        """Told by the calling thread, in plan order."""

    def gate_finished(self, label: str, result: GateResult) -> None:
        """Told by the calling thread, in plan order."""

    def step_finished(self, result: StepResult) -> None:
        """Not a gate runner's to say."""

    def rollback_finished(self, record: RollbackRecord) -> None:
        """Not a gate runner's to say."""


class _SideBySide:
    """One call of :func:`run_side_by_side`: the slots, the threads, the telling."""

    def __init__(
        self, rt: Runtime, owner: Step | Phase, gates: Sequence[Gate], ctx: GateContext, label: str
    ) -> None:
        self.rt, self.owner, self.ctx, self.label = rt, owner, ctx, label
        self.slots = [_Slot(g) for g in gates]
        self.lock = threading.Lock()
        self.ended: queue.SimpleQueue[_Slot] = queue.SimpleQueue()
        self.running: list[_Slot] = []
        self.failed: GateResult | None = None
        self.run_all = False
        self.interrupted = False
        self.next_told = 0

    # --- starting -------------------------------------------------------------------------

    def start(self, slot: _Slot) -> None:
        """Run ``slot``'s gate in a thread of its own."""
        slot.cancel = Cancel()
        slot.started = True
        rt = replace(self.rt, observer=_Held(slot, self.lock))
        ctx = replace(self.ctx, cancel=slot.cancel)
        slot.thread = threading.Thread(
            target=self._work, args=(slot, rt, ctx), name=f"gate {slot.gate.name}", daemon=True
        )
        self.running.append(slot)
        slot.thread.start()
        self.tell()

    def _work(self, slot: _Slot, rt: Runtime, ctx: GateContext) -> None:
        try:
            slot.result = rt.ws.gates.run(rt, self.owner, slot.gate, ctx)
        except BaseException as e:  # noqa: BLE001 - handed to the calling thread, raised there
            slot.error = e
        finally:
            self.ended.put(slot)

    def run_here(self, slot: _Slot) -> None:
        """Run ``slot``'s gate in this thread, no other gate running."""
        slot.started = True
        self.tell()
        if self.failed is not None and isinstance(slot.gate.spec, ApproveGate):
            slot.result = self._not_run(slot.gate, "not asked")  # the verdict is already no
        else:
            slot.result = self.rt.ws.gates.run(self.rt, self.owner, slot.gate, self.ctx)
            self._judge(slot.result)
        self.tell()

    # --- ending ---------------------------------------------------------------------------

    def collect_one(self) -> None:
        """Wait for a running gate to end; a failure cancels the others (see module doc)."""
        slot = self.ended.get()  # Ctrl-C and SIGTERM interrupt this wait
        self.running.remove(slot)
        if slot.thread is not None:
            slot.thread.join()
        fired = slot.cancel is not None and slot.cancel.fired
        if slot.cancel is not None:
            slot.cancel.close()
        if slot.error is not None:
            raise slot.error
        assert slot.result is not None
        if fired:
            slot.result = self._not_run(slot.gate, "cancelled", slot.result)
        self._judge(slot.result)
        self.tell()

    def _judge(self, result: GateResult) -> None:
        if result.passed or result.status is GateStatus.CANCELLED or self.failed is not None:
            return
        self.failed = result
        if not self.run_all:
            for other in self.running:
                assert other.cancel is not None
                other.cancel.set()

    def _not_run(self, gate: Gate, what: str, ran: GateResult | None = None) -> GateResult:
        why = "the run stopped" if self.interrupted else "another gate failed"
        if self.failed is not None:
            why = f"gate {self.failed.name} failed"
        summary = f"{what}: {why}"
        if ran is None:
            return GateResult(gate.name, gate.kind, GateStatus.CANCELLED, 0.0, summary)
        return replace(ran, status=GateStatus.CANCELLED, summary=summary, output_tail="")

    def cancel_all(self) -> None:
        """Ctrl-C, SIGTERM or a gate's exception: end every running gate, then return.

        A second signal while the groups end does not cut this short: the rollback that
        follows must not run beside a gate.
        """
        self.interrupted = True
        for slot in self.running:
            if slot.cancel is not None:
                slot.cancel.set()
        while self.running:
            try:
                self.collect_one()
            except BaseException:  # noqa: BLE001, S112 - the first exception is the one raised
                continue

    # --- telling, in plan order -----------------------------------------------------------

    def tell(self) -> None:
        """Tell the observer what it may hear now, in plan order (see the module doc)."""
        observer = self.rt.observer
        while self.next_told < len(self.slots):
            slot = self.slots[self.next_told]
            if not slot.started:
                return
            self._notices(slot)
            if not slot.told_started:
                slot.told_started = True
                observer.gate_started(self.label, slot.gate)
            if slot.result is None or slot in self.running:
                return
            self._notices(slot)
            observer.gate_finished(self.label, slot.result)
            self.next_told += 1

    def _notices(self, slot: _Slot) -> None:
        with self.lock:
            held, slot.notices[:] = list(slot.notices), []
        for text in held:
            self.rt.observer.notice(text)


def run_side_by_side(
    rt: Runtime,
    owner: Step | Phase,
    gates: Sequence[Gate],
    ctx: GateContext,
    label: str,
    *,
    workers: int,
    run_all: bool,
) -> tuple[GateResult, ...]:
    """Run ``gates`` up to ``workers`` at a time; the results, in plan order.

    Without ``run_all``, the first failure cancels the running gates (recorded as
    ``cancelled``) and the rest are not run (not in the results).
    """
    run = _SideBySide(rt, owner, gates, ctx, label)
    run.run_all = run_all
    try:
        for slot in run.slots:
            alone = workers == 1 or runs_alone(slot.gate)
            while run.running and (alone or len(run.running) >= workers):
                run.collect_one()
            if run.failed is not None and not run_all:
                break
            if alone:
                run.run_here(slot)
            else:
                run.start(slot)
        while run.running:
            run.collect_one()
    except BaseException:
        run.cancel_all()
        raise
    run.tell()
    return tuple(s.result for s in run.slots if s.result is not None)
