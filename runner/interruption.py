"""Read where an interrupted run stopped, from its journal alone.

A run that died (SIGKILL, power cut) leaves ``journal.jsonl`` without ``run-finished``. Its
last events say where it was: inside a step, inside a rollback, or between steps.
``runner status`` shows this reading; :mod:`runner.recovery` acts on it. Kept apart so
that ``status`` never loads the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.journal import Event, StateDir, read_events, run_id_of
from runner.model import RollbackMode

__all__ = ["Interruption", "find_interruption"]

_STEP_CLOSED = {"step-finished", "step-committed"}
#: ``runner rollback FILE...`` (and recovery finishing one): these events close it.
_FILES_CLOSED = {"rollback-files-undone", "rollback-files-restored", "rollback-files-verified"}


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
    files: tuple[str, ...] = ()  # a `runner rollback FILE...` under way: its files,
    files_head: str | None = None  # HEAD before it,
    files_commit: str | None = None  # and its commit once made
    branch: str | None = None  # the branch the run was bound to (None: an older journal)
    worktree: str | None = None  # and its worktree
    rollback_head: str | None = None  # HEAD when the rollback under way started
    whole_patch: str | None = None  # on-failure: isolate: the step's whole change, saved

    def left_behind(self, operation: str) -> bool:
        """Whether a git operation in progress is this run's own: a revert-mode rollback
        killed inside ``git revert --no-commit`` leaves ``REVERT_HEAD``; recovery ends it."""
        return operation == "a revert" and self.rollback_mode == RollbackMode.REVERT.value

    def describe(self) -> str:
        """One sentence for ``status`` and for the notice before recovery."""
        pid = f" (pid {self.pid})" if self.pid is not None else ""
        on = f" on branch {self.branch}" if self.branch else ""
        where = f"run {self.run_id}{pid}{on} was interrupted after '{self.last_event}'"
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
        if self.files:
            shown = ", ".join(self.files[:3]) + (" ..." if len(self.files) > 3 else "")
            if self.files_commit:
                return (
                    f"{where} after its file rollback commit {self.files_commit[:12]} "
                    f"({shown}); the next `runner run` runs the on-rollback hooks and verify "
                    "gates it did not finish (and undoes the commit if verification fails)"
                )
            return (
                f"{where} while taking back {len(self.files)} file(s) ({shown}); the next "
                f"`runner run` puts them back as they were at {(self.files_head or '')[:12]}, "
                "saving the partial change as a patch"
            )
        return f"{where} between steps; nothing to restore"


def find_interruption(state: StateDir) -> Interruption | None:
    """The interrupted run recorded in ``state``, or ``None`` if the last run finished."""
    events = read_events(state.journal)
    if not events or events[-1].name == "run-finished":
        return None
    start = next((e for e in events if e.name == "run-started"), None)
    step, checkpoint = _open_step(events)
    target = mode = scope = rollback_head = None
    hooks = True
    for e in events:
        if e.name == "rollback-started":
            target, mode, scope = e.get("target"), e.get("mode"), e.get("scope")
            hooks = e.get("hooks") is not False
            rollback_head = e.get("head")
        elif e.name == "rollback-finished":
            target = mode = scope = rollback_head = None
    pid = start.get("pid") if start else next((e.get("pid") for e in events if e.get("pid")), None)
    files, files_head, files_commit = _open_file_rollback(events)
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
        files=files,
        files_head=files_head,
        files_commit=files_commit,
        branch=_bound(events, "branch"),
        worktree=_bound(events, "worktree"),
        rollback_head=rollback_head,
        whole_patch=_whole_patch(events, step),
    )


def _bound(events: list[Event], key: str) -> str | None:
    """What the journal's binding event (``run-started``, or ``recovery-started`` for the
    journal of a recovery) recorded, or ``None`` for a journal written before it did."""
    value = next((e.get(key) for e in events if key in e.fields), None)
    return str(value) if value else None


def _whole_patch(events: list[Event], step: str | None) -> str | None:
    """The patch a culprit search of the open step saved before its first probe."""
    found = [
        e.get("patch") for e in events if e.name == "isolate-started" and e.get("step") == step
    ]
    return str(found[-1]) if step and found and found[-1] else None


def _open_step(events: list[Event]) -> tuple[str | None, str | None]:
    step = checkpoint = None
    for e in events:
        if e.name == "step-started":
            step, checkpoint = e.get("step"), e.get("checkpoint")
        elif e.name in _STEP_CLOSED and e.get("step") == step:
            step = checkpoint = None
    return step, checkpoint


def _open_file_rollback(events: list[Event]) -> tuple[tuple[str, ...], str | None, str | None]:
    files: tuple[str, ...] = ()
    head = commit = None
    for e in events:
        if e.name == "rollback-files-started":
            raw = e.get("files")
            files = tuple(str(f) for f in raw) if isinstance(raw, list) else ()
            head, commit = e.get("head"), None
        elif e.name == "rollback-files-committed":
            commit = e.get("sha")
        elif e.name in _FILES_CLOSED:
            files, head, commit = (), None, None
    return files, head, commit
