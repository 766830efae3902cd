"""Step → action → gates → checkpoint commit, or rollback; the run as a :class:`RunReport`.

No printing and no typer here (the engine runs as a library, as alembic's ``command`` does
without its config): what happens is told to an :class:`~runner.context.Observer`, what
happened is returned. What stops the run before or outside a step is a ``RunnerError``.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

from runner.autorollback import (
    roll_back_failed_step,
    roll_back_interrupted_step,
    roll_back_phase,
)
from runner.checkpoint import checkpoint_message
from runner.context import Observer, Runtime, Workspace
from runner.errors import ActionNotCarriedOut, GitError, Interrupted
from runner.failedcommit import abandon_step
from runner.gaterun import run_gates
from runner.gates import Approver
from runner.gatetools import require_pytest
from runner.history import (
    PlanHistory,
)
from runner.isolation_run import isolate_step, retry_reason
from runner.journal import Journal, Lock, new_run_id
from runner.lastrun import action_fields, gate_fields
from runner.model import (
    OnFailure,
    Phase,
    Plan,
    RunAction,
    Step,
    action_kind,
)
from runner.ownership.commits import (
    ForeignCommits,
    binding,
)
from runner.ownership.gitsetup import GitSetup, hold_setup
from runner.ownership.paths import RunPaths
from runner.results import (
    GateResult,
    GateStatus,
    RollbackRecord,
    RunReport,
    StepResult,
    StepStatus,
)
from runner.rollback import critical_section
from runner.runstart import prepare_run
from runner.selection import RunOptions, select_steps
from runner.staging import stage_step
from runner.stepaction import carry_out
from runner.treeguard import TreeGuard, discard_leftovers
from runner.verdicts import gate_message, reaction, settled

__all__ = ["RunOptions", "execute_plan", "select_steps"]


def execute_plan(
    plan: Plan,
    ws: Workspace,
    options: RunOptions,
    *,
    observer: Observer,
    approver: Approver,
) -> RunReport:
    """Run ``plan`` in ``ws``: the one entry point of both real runs and rehearsals."""
    selected = select_steps(plan, options)
    lock = Lock(ws.state, command=options.command)
    ws.state.ensure()
    with lock:
        if lock.notice:
            observer.notice(lock.notice)
        rt = Runtime(
            plan=plan,
            ws=ws,
            journal=Journal(ws.state, lock=lock),
            observer=observer,
            approver=approver,
            run_id=new_run_id(),
            assume_yes=options.assume_yes,
            with_hooks=options.with_hooks,
            base_env=dict(os.environ if ws.environ is None else ws.environ),
        )
        return _Run(rt, selected, options).execute()


class _Run:
    """One execution of a plan; holds the little state that changes as steps pass."""

    def __init__(self, rt: Runtime, selected: frozenset[str], options: RunOptions) -> None:
        self.rt = rt
        self.options = options
        self.selected = selected
        self.results: list[StepResult] = []
        self.phase_gates: list[tuple[str, tuple[GateResult, ...]]] = []
        self.notices: list[str] = []
        self.pending_baselines: list[str] = []
        self.pending_tests: list[str] = []  # test baselines' body sections (teststart)
        self.history = PlanHistory()
        self.checkpoint: str | None = None  # HEAD after our own last commit; None: ask git
        self.guard = TreeGuard(rt.repo.root, rt.repo.git_dir, rt.repo)
        self.unsafe = False  # a command moved git's setup or runner's state: roll back
        self.owned = RunPaths(frozenset())  # what the run found at its start: see _preflight

    # --- the run -----------------------------------------------------------------------

    def execute(self) -> RunReport:
        rt = self.rt
        started = time.monotonic()
        try:
            require_pytest(rt, self.selected)  # before anything: a gate that cannot run
            self._preflight()
        except BaseException:
            self.guard.close()
            raise
        start_head = rt.repo.head()
        self.checkpoint = start_head  # the first step's checkpoint: nothing moves HEAD before it
        rt.gate_memory.start = start_head  # affected gates judge what changed since
        rt.ws.gates.begin(rt, start_head)
        rt.journal.write(
            "run-started",
            run_id=rt.run_id,
            plan=rt.plan.name,
            head=start_head,
            pid=os.getpid(),
            rehearsal=rt.ws.rehearsal,
            **binding(rt.repo),
            command=self.options.command,
        )
        stopped_at: str | None = None
        phase_rollback: RollbackRecord | None = None
        try:
            for phase in rt.plan.phases:
                stopped_at, phase_rollback = self._run_phase(phase)
                if stopped_at:
                    break
        except (KeyboardInterrupt, Interrupted):
            rt.journal.write("run-finished", status="interrupted")
            rt.journal.close(archive_as=rt.run_id)
            raise
        except (ForeignCommits, ActionNotCarriedOut):  # refused; nothing is left to recover
            rt.journal.write("run-finished", status="refused")
            rt.journal.close(archive_as=rt.run_id)
            raise
        finally:
            self.guard.close()
        rt.journal.write("run-finished", status="stopped" if stopped_at else "done")
        rt.journal.close(archive_as=rt.run_id)
        return RunReport(
            plan=rt.plan.name,
            repo=str(rt.ws.origin),
            branch=rt.repo.current_branch(),
            rehearsal=rt.ws.rehearsal,
            steps=tuple(self.results),
            phase_gates=tuple(self.phase_gates),
            seconds=time.monotonic() - started,
            start=start_head,
            head=rt.repo.head(),
            stopped_at=stopped_at,
            notices=tuple(self.notices),
            rollback=phase_rollback,
        )

    def _notice(self, text: str) -> None:
        self.notices.append(text)
        self.rt.observer.notice(text)

    def _preflight(self) -> None:
        """Refuse what a run must not start from; finish what a crashed run left."""
        start = prepare_run(self.rt, self._notice)
        self.owned, self.history = start.owned, start.history
        self.pending_baselines, self.pending_tests = start.counts, start.tests

    # --- phases and steps --------------------------------------------------------------

    def _run_phase(self, phase: Phase) -> tuple[str | None, RollbackRecord | None]:
        rt = self.rt
        phase_start = self._phase_start(phase)
        ran_any = False
        total = len(rt.plan.steps)
        for step in phase.steps:
            index = rt.plan.steps.index(step) + 1
            skipped = self._skip(step)
            if skipped is not None:
                self.results.append(skipped)
                rt.observer.step_finished(skipped)
                continue
            rt.observer.step_started(step, index, total)
            result = self._run_step(step, phase_start)
            self.results.append(result)
            rt.observer.step_finished(result)
            ran_any = True
            if result.status in (StepStatus.ROLLED_BACK, StepStatus.STOPPED):
                return step.key, None
            if result.status is StepStatus.PARTIAL and not step.isolate.then_continue:
                return step.key, None
        if phase.gates and (ran_any or self._phase_unconfirmed(phase)):
            return self._phase_gates(phase, phase_start)
        return None, None

    def _skip(self, step: Step) -> StepResult | None:
        done = self.history.done.get(step.key)
        base = StepResult(step.key, step.title, action_kind(step.action), StepStatus.NOT_RUN)
        retry = (
            done
            and step.key in self.selected
            and retry_reason(done, step, self.results, self.options)
        )
        if retry:
            self._notice(retry)  # a partial step runs again for its held-back files
            return None
        if done is not None:
            if done.digest != step.digest:
                self._notice(
                    f"step {step.key} changed since its checkpoint {done.sha[:12]}; it stays as "
                    "committed (roll it back with `runner rollback --phase` to run it anew)"
                )
                return replace(base, status=StepStatus.CHANGED, commit=done.sha)
            return replace(
                base, status=StepStatus.ALREADY_DONE, commit=done.sha, followups=done.followups
            )
        if step.key not in self.selected:
            return replace(base, message="not selected")
        return None

    def _phase_start(self, phase: Phase) -> str:
        keys = {s.key for s in phase.steps}
        first = next((d for k, d in self.history.done.items() if k in keys), None)
        return self.rt.repo.parent(first.sha) if first else self.rt.repo.head()

    def _phase_unconfirmed(self, phase: Phase) -> bool:
        """A finished phase whose gates may not have run: no later step is done yet."""
        later = False
        for p in self.rt.plan.phases:
            if later and any(s.key in self.history.done for s in p.steps):
                return False
            later = later or p is phase
        return all(s.key in self.history.done for s in phase.steps)

    def _run_step(self, step: Step, phase_start: str) -> StepResult:
        rt = self.rt
        repo = rt.repo
        checkpoint = self.checkpoint or repo.head()
        self.checkpoint = None  # until this step commits, HEAD is git's to tell
        setup, self.unsafe = GitSetup.capture(repo), False
        self.guard.step_started()
        started = time.monotonic()
        rt.journal.write("step-started", step=step.key, checkpoint=checkpoint)
        result = StepResult(step.key, step.title, action_kind(step.action), StepStatus.PASSED)
        try:
            result = carry_out(rt, step, result, self.history.protected)
            result = self._kept(result, setup, "the action")
            rt.journal.write(
                "action-done", step=step.key, ok=not result.message, **action_fields(result)
            )
            with critical_section():
                anywhere = step.action is None or isinstance(step.action, RunAction)
                if why := stage_step(rt, step, None if anywhere else result.changed):
                    result = replace(result, message="; ".join(filter(None, [result.message, why])))
                tree = repo.write_tree()  # what the checkpoint holds, whatever gates do
                changed, diffstat = repo.tree_stat(checkpoint, tree)
                if refused := self.owned.check_staged(repo, changed):  # the user's files
                    tree = repo.write_tree()
                    changed, diffstat = repo.tree_stat(checkpoint, tree)
                    result = replace(result, message=result.message or refused)
                if why := self.guard.gitlinks(rt, step, checkpoint, tree):  # taken out of the index
                    tree = repo.write_tree()
                    changed, diffstat = repo.tree_stat(checkpoint, tree)
                    result = replace(result, message="; ".join(filter(None, [result.message, why])))
                result = replace(result, changed=tuple(changed), diffstat=diffstat)
            self.guard.settle(result.changed)
            if not result.message:
                result = self._kept(self._gate(step, result, tree), setup, "a gate")
                if flagged := self.owned.check_flags(repo, "a gate"):  # as after the action
                    why = "; ".join(filter(None, [result.message, flagged]))
                    result = replace(result, message=why)
        except (KeyboardInterrupt, Interrupted):
            if moved := self._moved(setup, "the interrupted step"):
                self._notice(moved)  # HEAD back on the run's branch before the rollback
            self._interrupted(step, checkpoint)
            raise
        result = replace(result, seconds=time.monotonic() - started)
        if not result.message:
            return self._commit(step, result, checkpoint, tree)
        return self._fail(step, result, checkpoint, phase_start, tree)

    def _kept(self, result: StepResult, before: GitSetup, who: str) -> StepResult:
        """Fail the step if ``who`` moved git's setup or damaged the state folder."""
        if (moved := self._moved(before, who)) is None:
            return result
        self.unsafe = True
        return replace(result, message="; ".join(filter(None, [result.message, moved])))

    def _moved(self, before: GitSetup, who: str) -> str | None:
        """What ``who`` changed of the state folder and git's setup, both put back first (so
        the rollback is journaled and runs on the run's branch); ``None``: nothing."""
        rt = self.rt
        found = [m for m in (rt.journal.repair(who), hold_setup(rt.repo, before, who)) if m]
        return "; ".join(found) or None

    def _gate(self, step: Step, result: StepResult, tree: str | None = None) -> StepResult:
        rt = self.rt
        ctx = rt.gate_context(step.key, phase=step.phase_id, step=step.id)
        ctx = replace(ctx, tree=tree, changed=tuple(result.changed))
        gates = run_gates(rt, step, step.gates, ctx, step.key)
        rt.journal.write(
            "gates-done", step=step.key, passed=all(g.passed for g in gates), **gate_fields(gates)
        )
        result = replace(result, gates=gates)
        failed = result.failed_gate
        if failed is not None:
            return replace(result, message=gate_message(failed))
        return result

    def _commit(
        self, step: Step, result: StepResult, checkpoint: str, tree: str, *, failed: bool = False
    ) -> StepResult:
        rt = self.rt
        self.guard.gates_finished(result.gates)  # its stat check runs beside the commit
        counts, tests = self.pending_baselines, self.pending_tests
        message = checkpoint_message(rt.plan, step, result, counts, failed=failed, sections=tests)
        with critical_section():
            rt.journal.write("commit-started", step=step.key)
            try:
                sha = rt.repo.commit(message, parent=checkpoint, tree=tree)
            except GitError as e:
                abandon_step(rt, step.key, checkpoint, e)  # rolled back; raises, exit 2
            self.pending_baselines.clear()
            self.pending_tests.clear()
            rt.journal.write("step-committed", step=step.key, sha=sha)
            if self.guard.gates_may_have_written(result.gates) and rt.repo.dirty_paths():
                self._notice(discard_leftovers(rt, step, sha))
        self.checkpoint = sha
        return replace(result, commit=sha)

    # --- failure -----------------------------------------------------------------------

    def _fail(
        self, step: Step, result: StepResult, checkpoint: str, phase_start: str, tree: str
    ) -> StepResult:
        rt = self.rt
        # What moved git's setup or runner's state cannot be kept or left: always taken back.
        on_failure = OnFailure.ROLLBACK if self.unsafe else reaction(step, result)
        result = settled(result, on_failure)  # an unjudged change says what became of it
        if on_failure is OnFailure.CONTINUE:
            committed = self._commit(step, result, checkpoint, tree, failed=True)
            return replace(committed, status=StepStatus.FAILED)
        if on_failure is OnFailure.ISOLATE and result.failed_gate is not None:
            setup = GitSetup.capture(rt.repo)  # as the step's gates left it: unmoved

            def guard(who: str) -> str | None:  # after each probe, as after any gate
                found = [self._moved(setup, who), self.owned.check_flags(rt.repo, who)]
                return "; ".join(m for m in found if m) or None

            try:  # keep what passes, hold back the files that fail (runner.isolation_run)
                isolated = isolate_step(rt, step, result, checkpoint, tree, guard=guard)
            except (KeyboardInterrupt, Interrupted):
                self._interrupted(step, checkpoint)
                raise
            if isolated.tree is not None:
                committed = self._commit(step, isolated.result, checkpoint, isolated.tree)
                return replace(committed, status=StepStatus.PARTIAL)
            result = isolated.result
        if on_failure is OnFailure.STOP:
            rt.repo.reset_index()  # the tree stays as the step left it, unstaged
            rt.journal.write("step-finished", step=step.key, status="stopped")
            return replace(result, status=StepStatus.STOPPED)
        record = roll_back_failed_step(
            rt,
            step,
            checkpoint=checkpoint,
            phase_start=phase_start,
            plan_start=self._plan_start(),
            staged=self.guard.tree_is_staged(),
        )
        return replace(result, status=StepStatus.ROLLED_BACK, rollback=record)

    def _plan_start(self) -> str:
        first = self.history.first_step_commit
        committed_now = [
            r.commit
            for r in self.results
            if r.commit and r.status in (StepStatus.PASSED, StepStatus.PARTIAL)
        ]
        if first is not None:
            return self.rt.repo.parent(first.sha)
        if committed_now:
            return self.rt.repo.parent(committed_now[0])
        return self.rt.repo.head()

    def _phase_gates(
        self, phase: Phase, phase_start: str
    ) -> tuple[str | None, RollbackRecord | None]:
        rt = self.rt
        label = f"phase {phase.id}"
        ctx = rt.gate_context(label, phase=phase.id)
        setup = GitSetup.capture(rt.repo)
        gates = list(run_gates(rt, phase, phase.gates, ctx, label))
        if moved := self._moved(setup, "a phase gate"):
            gates.append(GateResult("git-setup", "check", GateStatus.FAILED, 0.0, moved, moved))
        self.phase_gates.append((phase.id, tuple(gates)))
        rt.journal.write(
            "phase-gates-done", phase=phase.id, passed=all(g.passed for g in gates),
            **gate_fields(gates),
        )  # fmt: skip
        if all(g.passed for g in gates):
            return None, None
        plan_start = self._plan_start()
        record = roll_back_phase(rt, phase, phase_start=phase_start, plan_start=plan_start)
        return label, record

    def _interrupted(self, step: Step, checkpoint: str) -> None:
        """Ctrl-C or SIGTERM inside a step: take the step back, then let the signal go on."""
        self._notice(roll_back_interrupted_step(self.rt, step, checkpoint))
