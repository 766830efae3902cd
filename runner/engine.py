"""Step → action → gates → checkpoint commit, or rollback; the run as a :class:`RunReport`.

No printing and no typer here (the engine runs as a library, as alembic's ``command`` does
without its config): what happens is told to an :class:`~runner.context.Observer`, what
happened is returned. What stops the run before or outside a step is a ``RunnerError``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from runner.codemods import CodemodResult
from runner.context import Observer, Runtime, Workspace
from runner.errors import Interrupted, PreconditionError, UsageError
from runner.gates import Approver, baseline_key, run_gate
from runner.git import quiet_folders
from runner.history import (
    T_BASELINE,
    T_DIGEST,
    T_GATE,
    T_PLAN,
    T_RESULT,
    T_STEP,
    PlanHistory,
    followups_block,
    read_history,
)
from runner.journal import Journal, Lock, new_run_id
from runner.model import (
    Action,
    ForbidImportsGate,
    Gate,
    OnFailure,
    Phase,
    Plan,
    Rollback,
    RollbackMode,
    RunAction,
    Step,
    action_kind,
)
from runner.process import run_command
from runner.recovery import find_interruption, recover
from runner.results import GateResult, RollbackRecord, RunReport, StepResult, StepStatus
from runner.rollback import critical_section, roll_back
from runner.watch import TreeWatch, WatchStarter

__all__ = ["RunOptions", "execute_plan", "select_steps"]


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run: which steps, whether approvals are given, whether hooks run."""

    from_step: str | None = None
    only: tuple[str, ...] = ()
    assume_yes: bool = False
    with_hooks: bool = True
    command: str = "runner run"


def select_steps(plan: Plan, options: RunOptions) -> frozenset[str]:
    """The step keys this run may execute (``--from``, ``--only``); unknown ids refuse."""
    keys = [s.key for s in plan.steps]
    chosen = set(keys)
    if options.from_step is not None:
        step = plan.find_step(options.from_step)
        if step is None:
            raise UsageError(_unknown_step(plan, options.from_step, "--from"))
        chosen = set(keys[keys.index(step.key) :])
    if options.only:
        only: set[str] = set()
        for item in options.only:
            phase = plan.find_phase(item)
            step = None if phase else plan.find_step(item)
            if phase is None and step is None:
                raise UsageError(_unknown_step(plan, item, "--only"))
            only |= {s.key for s in phase.steps} if phase else {step.key} if step else set()
        chosen &= only
    return frozenset(chosen)


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
            journal=Journal(ws.state),
            observer=observer,
            approver=approver,
            run_id=new_run_id(),
            assume_yes=options.assume_yes,
            with_hooks=options.with_hooks,
        )
        return _Run(rt, selected).execute()


#: Gate kinds that run a command, which may leave files in the tree.
_COMMAND_GATES = frozenset({"run", "pytest", "metric"})


class _Run:
    """One execution of a plan; holds the little state that changes as steps pass."""

    def __init__(self, rt: Runtime, selected: frozenset[str]) -> None:
        self.rt = rt
        self.selected = selected
        self.results: list[StepResult] = []
        self.phase_gates: list[tuple[str, tuple[GateResult, ...]]] = []
        self.notices: list[str] = []
        self.pending_baselines: list[str] = []
        self.history = PlanHistory()
        self.checkpoint: str | None = None  # HEAD after our own last commit; None: ask git
        self.watch: TreeWatch | None = None
        self.watch_starter: WatchStarter | None = None
        # The index file as the watch was settled after this step's files were staged;
        # None: not settled this step (no watch, or not yet).
        self.index_stamp: tuple[int, int, int] | None = None

    # --- the run -----------------------------------------------------------------------

    def execute(self) -> RunReport:
        rt = self.rt
        started = time.monotonic()
        # The watch walks the tree on a thread while the preflight waits on git.
        root = rt.repo.root
        self.watch_starter = WatchStarter(root, lambda: quiet_folders(root))
        try:
            self._preflight()
        except BaseException:
            self._close_watch()
            raise
        start_head = rt.repo.head()
        self.checkpoint = start_head  # the first step's checkpoint: nothing moves HEAD before it
        rt.journal.write(
            "run-started",
            run_id=rt.run_id,
            plan=rt.plan.name,
            head=start_head,
            pid=os.getpid(),
            rehearsal=rt.ws.rehearsal,
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
        finally:
            self._close_watch()
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
        rt, repo = self.rt, self.rt.repo
        interruption = find_interruption(rt.ws.state)
        what = repo.operation_in_progress()
        if what and not (interruption and interruption.left_behind(what)):
            msg = f"{what} is in progress in {repo.root}; finish or abort it first"
            raise PreconditionError(msg)
        if (lock := repo.git_dir / "index.lock").exists():  # else the first `git add` fails
            msg = (f"{lock} exists: another git command is running here, or one was killed; "
                   "if none is running, remove the file and run again")  # fmt: skip
            raise PreconditionError(msg)
        branch = repo.current_branch()
        repo.head()  # refuses an unborn branch
        if branch is None and not rt.ws.rehearsal:
            msg = "HEAD is detached; check out the branch the migration should land on"
            raise PreconditionError(msg)
        if interruption is not None:
            rt.ws.state.journal.replace(rt.ws.state.runs / f"{interruption.run_id}.jsonl")
            rt.journal.open()  # recovery journals its own rollback
            for line in recover(rt, interruption):
                self._notice(line)
        if dirty := repo.dirty_paths():
            shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
            msg = f"the working tree has uncommitted changes ({shown}); commit or stash them first"
            raise PreconditionError(msg)
        wanted = rt.plan.settings.branch
        if wanted and not rt.ws.rehearsal and branch != wanted:
            repo.switch_branch(wanted, create=not repo.branch_exists(wanted))
            self._notice(f"on branch {wanted}")
        if interruption is None:
            rt.journal.open()  # only now: a refused run leaves no journal behind
        self.history = read_history(repo.plan_commits(rt.plan.name))
        self._load_baselines()
        for key in self.history.done:
            if rt.plan.find_step(key) is None:
                self._notice(f"the branch records step {key}, which the plan no longer has")

    def _load_baselines(self) -> None:
        """``max-ratio`` needs the count from when the plan first started; count it once."""
        rt = self.rt
        rt.baselines.update(self.history.baselines)
        gates = [g for g in _all_gates(rt.plan) if isinstance(g.spec, ForbidImportsGate)]
        ratio = [
            g.spec
            for g in gates
            if isinstance(g.spec, ForbidImportsGate) and g.spec.max_ratio is not None
        ]
        missing = [s for s in ratio if baseline_key(s) not in rt.baselines]
        if not missing:
            return
        from runner.codemods import find_import_sites  # noqa: PLC0415 - keeps --help fast

        for spec in missing:
            key = baseline_key(spec)
            sites = find_import_sites(
                rt.repo.root,
                spec.names,
                exclude=rt.plan.settings.exclude,
                source_roots=rt.plan.settings.source_roots,
            )
            rt.baselines[key] = len(sites)
            self.pending_baselines.append(f"{key}={len(sites)}")

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
        if phase.gates and (ran_any or self._phase_unconfirmed(phase)):
            return self._phase_gates(phase, phase_start)
        return None, None

    def _skip(self, step: Step) -> StepResult | None:
        done = self.history.done.get(step.key)
        base = StepResult(step.key, step.title, action_kind(step.action), StepStatus.NOT_RUN)
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
        self.index_stamp = None
        started = time.monotonic()
        rt.journal.write("step-started", step=step.key, checkpoint=checkpoint)
        result = StepResult(step.key, step.title, action_kind(step.action), StepStatus.PASSED)
        try:
            result = self._act(step, result)
            rt.journal.write("action-done", step=step.key, ok=not result.message)
            with critical_section():
                if step.action is None or isinstance(step.action, RunAction):
                    repo.stage_all()  # a command may have written anywhere
                else:
                    repo.stage_paths(result.changed)  # a codemod wrote these and nothing else
                tree = repo.write_tree()  # what the checkpoint holds, whatever gates do
                changed, diffstat = repo.tree_stat(checkpoint, tree)
                result = replace(result, changed=tuple(changed), diffstat=diffstat)
            self._settle(result.changed)
            if not result.message:
                result = self._gate(step, result)
        except (KeyboardInterrupt, Interrupted):
            self._interrupted(step, checkpoint)
            raise
        result = replace(result, seconds=time.monotonic() - started)
        if not result.message:
            return self._commit(step, result, checkpoint, tree)
        return self._fail(step, result, checkpoint, phase_start, tree)

    def _act(self, step: Step, result: StepResult) -> StepResult:
        action = step.action
        if action is None:
            return result
        if isinstance(action, RunAction):
            rt = self.rt
            timeout = step.timeout if step.timeout is not None else rt.plan.settings.timeout
            done = run_command(
                action.command,
                cwd=rt.repo.root,
                env=rt.env(step.phase_id, step.id),
                timeout=timeout,
                log=rt.log_path(step.key, "action"),
            )
            if done.ok:
                return result
            why = "timed out" if done.timed_out else f"exited {done.returncode}"
            return replace(result, message=f"action {why}", output_tail=done.tail())
        outcome = self._codemod(action)
        result = replace(
            result,
            changed=outcome.changed,
            sites=outcome.sites,
            followups=outcome.followups,
            skipped=outcome.skipped,
        )
        if outcome.errors:
            return replace(result, message="action failed: " + "; ".join(outcome.errors))
        return result

    def _codemod(self, action: Action) -> CodemodResult:
        from runner.codemods import apply_codemod  # noqa: PLC0415 - LibCST loads only here

        settings = self.rt.plan.settings
        assert not isinstance(action, RunAction)
        return apply_codemod(
            action,
            self.rt.repo.root,
            exclude=settings.exclude,
            protected=self.history.protected,
            source_roots=settings.source_roots,
        )

    def _gate(self, step: Step, result: StepResult) -> StepResult:
        rt = self.rt
        ctx = rt.gate_context(step.key, phase=step.phase_id, step=step.id)
        gates: list[GateResult] = []
        for gate in step.gates:
            rt.observer.gate_started(step.key, gate)
            outcome = run_gate(gate, ctx)
            rt.observer.gate_finished(step.key, outcome)
            gates.append(outcome)
            if not outcome.passed:
                break  # gates run cheapest first by convention; the rest would not change it
        rt.journal.write("gates-done", step=step.key, passed=all(g.passed for g in gates))
        result = replace(result, gates=tuple(gates))
        failed = result.failed_gate
        if failed is not None:
            return replace(result, message=f"gate {failed.name} {failed.status.value}")
        return result

    def _commit(
        self, step: Step, result: StepResult, checkpoint: str, tree: str, *, failed: bool = False
    ) -> StepResult:
        rt = self.rt
        message = self._message(step, result, failed=failed)
        with critical_section():
            rt.journal.write("commit-started", step=step.key)
            sha = rt.repo.commit(message, parent=checkpoint, tree=tree)
            self.pending_baselines.clear()
            rt.journal.write("step-committed", step=step.key, sha=sha)
            if self._gates_may_have_written(result.gates) and rt.repo.dirty_paths():
                self._discard_leftovers(step, sha)
        self.checkpoint = sha
        return replace(result, commit=sha)

    def _watch(self) -> TreeWatch | None:
        """The tree watch, once its walk is done (``None``: the tree cannot be watched)."""
        if self.watch_starter is not None:
            self.watch = self.watch_starter.get()
            self.watch_starter = None
        return self.watch

    def _settle(self, changed: tuple[str, ...]) -> None:
        """The working tree equals the index now: from here on, any change is news."""
        if watch := self._watch():
            if any(path.rpartition("/")[2] == ".gitignore" for path in changed):
                watch.watch_everything()  # ignored folders the watch skips may be so no more
            watch.settle()
            self.index_stamp = _stamp(self.rt.repo.git_dir / "index")

    def _close_watch(self) -> None:
        if watch := self._watch():
            watch.close()
        self.watch = None

    def _tree_is_staged(self) -> bool:
        """Whether the working tree and the index are still as staged after the action:
        the watch was settled then and has seen no change since, and no gate rewrote the
        index (``git add``, or only a ``git status`` refreshing it): nothing to scan for."""
        return (
            self.index_stamp is not None
            and self.watch is not None
            and self.watch.quiet()
            and _stamp(self.rt.repo.git_dir / "index") == self.index_stamp
        )

    def _gates_may_have_written(self, gates: tuple[GateResult, ...]) -> bool:
        """Whether the leftover scan is needed: a gate ran a command, and the tree watch
        (if any) saw something change while the gates ran."""
        return _may_write(gates) and not self._tree_is_staged()

    def _discard_leftovers(self, step: Step, sha: str) -> None:
        """Gates that wrote files (reports, caches not ignored): save them, then clean up.

        The commit holds what the action did; what the gates left behind is neither the
        migration nor the user's, so it is saved as a patch and removed.
        """
        rt = self.rt
        patch = rt.ws.state.rollbacks / f"{rt.run_id}-{step.phase_id}-{step.id}-leftovers.patch"
        files = rt.repo.save_patch(sha, patch).files
        rt.repo.reset_hard(sha)
        self._notice(
            f"{step.key}: gates left {files} changed file(s); saved as {patch} and removed"
        )

    def _message(self, step: Step, result: StepResult, *, failed: bool) -> str:
        plan = self.rt.plan
        body = [f"{action_kind(step.action)}: {len(result.changed)} file(s) changed"]
        if result.sites:
            body[0] += f", {result.sites} site(s) rewritten"
        if block := followups_block(result.followups):
            body.append(block)
        trailers = [
            f"{T_PLAN}: {plan.name}",
            f"{T_STEP}: {step.key}",
            f"{T_DIGEST}: {step.digest}",
            *(f"{T_BASELINE}: {b}" for b in self.pending_baselines),
            *(f"{T_GATE}: {g.trailer()}" for g in result.gates),
        ]
        if failed:
            trailers.append(f"{T_RESULT}: failed (on-failure: continue)")
        subject = f"{plan.name}: {step.key}: {step.title}"
        return "\n\n".join([subject, *body, "\n".join(trailers)]) + "\n"

    # --- failure -----------------------------------------------------------------------

    def _fail(
        self, step: Step, result: StepResult, checkpoint: str, phase_start: str, tree: str
    ) -> StepResult:
        rt = self.rt
        if step.on_failure is OnFailure.CONTINUE:
            committed = self._commit(step, result, checkpoint, tree, failed=True)
            return replace(committed, status=StepStatus.FAILED)
        if step.on_failure is OnFailure.STOP:
            rt.repo.reset_index()  # the tree stays as the step left it, unstaged
            rt.journal.write("step-finished", step=step.key, status="stopped")
            return replace(result, status=StepStatus.STOPPED)
        scope = rt.plan.settings.rollback
        target = {
            Rollback.STEP: checkpoint,
            Rollback.PHASE: phase_start,
            Rollback.PLAN: self._plan_start(),
        }[scope]
        record = roll_back(
            rt,
            target=target,
            scope=scope.value,
            mode=rt.plan.settings.rollback_mode,
            label=step.key,
            staged=self._tree_is_staged(),
        )
        rt.journal.write("step-finished", step=step.key, status="rolled back")
        return replace(result, status=StepStatus.ROLLED_BACK, rollback=record)

    def _plan_start(self) -> str:
        first = self.history.first_step_commit
        committed_now = [
            r.commit for r in self.results if r.commit and r.status is StepStatus.PASSED
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
        gates: list[GateResult] = []
        for gate in phase.gates:
            rt.observer.gate_started(label, gate)
            outcome = run_gate(gate, ctx)
            rt.observer.gate_finished(label, outcome)
            gates.append(outcome)
            if not outcome.passed:
                break
        self.phase_gates.append((phase.id, tuple(gates)))
        rt.journal.write("phase-gates-done", phase=phase.id, passed=all(g.passed for g in gates))
        if all(g.passed for g in gates):
            return None, None
        # A phase gate judges the whole phase: ``step`` and ``phase`` both take the phase back.
        scope = rt.plan.settings.rollback
        target = self._plan_start() if scope is Rollback.PLAN else phase_start
        record = roll_back(
            rt,
            target=target,
            scope="plan" if scope is Rollback.PLAN else "phase",
            mode=rt.plan.settings.rollback_mode,
            label=f"phase-{phase.id}",
        )
        return label, record

    def _interrupted(self, step: Step, checkpoint: str) -> None:
        """Ctrl-C or SIGTERM inside a step: take the step back, then let the signal go on."""
        rt = self.rt
        record = roll_back(
            rt,
            target=checkpoint,
            scope="step",
            mode=RollbackMode.RESET,
            label=f"{step.key}-interrupted",
            hooks=False,
        )
        where = f"; its changes are saved as {record.patch}" if record.patch else ""
        self._notice(f"interrupted during {step.key}: rolled back to its checkpoint{where}")


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """Inode, size and mtime of ``path``: git replaces the index file whenever it writes."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _may_write(gates: tuple[GateResult, ...]) -> bool:
    """Whether any gate ran a command (which may leave files); a full status scan costs
    ~20 ms on 10,000 files, so steps whose gates only read the tree skip it."""
    return any(g.kind in _COMMAND_GATES for g in gates)


def _all_gates(plan: Plan) -> Iterator[Gate]:
    for phase in plan.phases:
        yield from phase.gates
        for step in phase.steps:
            yield from step.gates
    yield from plan.on_rollback.verify


def _unknown_step(plan: Plan, name: str, flag: str) -> str:
    import difflib  # noqa: PLC0415 - only on this error path

    candidates = [s.key for s in plan.steps] + [p.id for p in plan.phases]
    close = difflib.get_close_matches(name, candidates, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; steps are: {', '.join(candidates[:8])}"
    return f"{flag} {name}: no such step or phase in {plan.path}{hint}"
