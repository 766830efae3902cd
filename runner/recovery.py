"""Read what an interrupted run left in the journal, and put the repository right.

A run that died (SIGKILL, power cut) leaves ``journal.jsonl`` without ``run-finished``. Its
last events say where it was: inside a step (restore the step's checkpoint, saving the
partial diff as a patch), inside a rollback (finish the rollback), or between steps
(nothing to do). ``runner status`` shows the same reading without acting on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.context import Runtime
from runner.history import T_STEP
from runner.journal import Event, StateDir, read_events, run_id_of
from runner.model import RollbackMode
from runner.process import kill_orphans
from runner.rollback import roll_back

__all__ = ["Interruption", "find_interruption", "recover"]

_STEP_CLOSED = {"step-finished", "step-committed"}


@dataclass(frozen=True, slots=True)
class Interruption:
    """Where an unfinished run stopped, as its journal tells."""

    run_id: str
    pid: int | None
    last_event: str
    step: str | None  # the step that was running, if any
    checkpoint: str | None  # HEAD when that step started
    rollback_target: str | None  # set when a rollback was under way
    rollback_mode: str | None
    rollback_scope: str | None
    rollback_hooks: bool = True  # whether that rollback runs the on-rollback hooks

    def left_behind(self, operation: str) -> bool:
        """Whether a git operation in progress is this run's own: a revert-mode rollback
        killed inside ``git revert --no-commit`` leaves ``REVERT_HEAD``; recovery ends it."""
        return operation == "a revert" and self.rollback_mode == RollbackMode.REVERT.value

    def describe(self) -> str:
        """One sentence for ``status`` and for the notice before recovery."""
        pid = f" (pid {self.pid})" if self.pid is not None else ""
        where = f"run {self.run_id}{pid} was interrupted after '{self.last_event}'"
        if self.rollback_target:
            return (
                f"{where} while rolling back to {self.rollback_target[:12]}; the next "
                "`runner run` finishes that rollback first"
            )
        if self.step:
            return (
                f"{where} during step {self.step}; the next `runner run` restores its "
                f"checkpoint {(self.checkpoint or '')[:12]}, saving the partial diff as a patch"
            )
        return f"{where} between steps; nothing to restore"


def find_interruption(state: StateDir) -> Interruption | None:
    """The interrupted run recorded in ``state``, or ``None`` if the last run finished."""
    events = read_events(state.journal)
    if not events or events[-1].name == "run-finished":
        return None
    start = next((e for e in events if e.name == "run-started"), None)
    step, checkpoint = _open_step(events)
    target = mode = scope = None
    hooks = True
    for e in events:
        if e.name == "rollback-started":
            target, mode, scope = e.get("target"), e.get("mode"), e.get("scope")
            hooks = e.get("hooks") is not False
        elif e.name == "rollback-finished":
            target = mode = scope = None
    pid = start.get("pid") if start else next((e.get("pid") for e in events if e.get("pid")), None)
    return Interruption(
        run_id=run_id_of(events),
        pid=pid if isinstance(pid, int) else None,
        last_event=events[-1].name,
        step=step,
        checkpoint=checkpoint,
        rollback_target=target,
        rollback_mode=mode,
        rollback_scope=scope,
        rollback_hooks=hooks,
    )


def recover(rt: Runtime, what: Interruption) -> list[str]:
    """Put the repository right after ``what``; returns notices for the user."""
    repo = rt.repo
    notices = [f"recovering: {what.describe()}"]
    if what.pid is not None and (stopped := kill_orphans(what.pid, repo.root)):
        # A SIGKILLed runner cannot stop its commands; left alone they would keep writing
        # into the tree while it is being restored.
        notices.append(f"stopped {stopped} process(es) the interrupted run had started")
    if (op := repo.operation_in_progress()) and what.left_behind(op):
        repo.abort_revert()  # a half-made revert commit; the rollback below makes it anew
    if what.rollback_target:
        record = roll_back(
            rt,
            target=what.rollback_target,
            scope=what.rollback_scope or "step",
            mode=RollbackMode(what.rollback_mode or "reset"),
            label=f"recovered-{what.run_id}",
            hooks=what.rollback_hooks,
        )
        notices.append(_saved(record.patch, f"rollback to {what.rollback_target[:12]} finished"))
        return notices
    if not (what.step and what.checkpoint):
        return notices
    head = repo.head()
    committed = head != what.checkpoint and _is_commit_of(rt, head, what.step)
    if committed:
        target = head  # the step's commit was made; only leftovers may remain
    elif head == what.checkpoint:
        target = what.checkpoint
    else:
        notices.append(
            f"the branch moved since the interrupted run (HEAD {head[:12]}, the step started "
            f"at {what.checkpoint[:12]}); left as it is"
        )
        return notices
    if repo.dirty_paths():
        record = roll_back(
            rt,
            target=target,
            scope="step",
            mode=RollbackMode.RESET,
            label=f"recovered-{what.step}",
            hooks=False,
        )
        notices.append(_saved(record.patch, f"restored checkpoint {target[:12]}"))
    return notices


def _open_step(events: list[Event]) -> tuple[str | None, str | None]:
    step = checkpoint = None
    for e in events:
        if e.name == "step-started":
            step, checkpoint = e.get("step"), e.get("checkpoint")
        elif e.name in _STEP_CLOSED and e.get("step") == step:
            step = checkpoint = None
    return step, checkpoint


def _is_commit_of(rt: Runtime, sha: str, step: str) -> bool:
    records = rt.repo.plan_commits(rt.plan.name, head=sha)
    return bool(records) and records[-1].sha == sha and records[-1].trailer(T_STEP) == step


def _saved(patch: str | None, what: str) -> str:
    return f"{what}; partial diff saved as {patch}" if patch else f"{what}; nothing to save"
