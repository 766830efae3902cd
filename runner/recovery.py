"""Put the repository right after an interrupted run (see :mod:`runner.interruption`).

Inside a step: restore the step's checkpoint, saving the partial diff as a patch. Inside
a rollback: finish the rollback. Between steps: nothing to do.
"""

from __future__ import annotations

from runner.context import Runtime
from runner.history import T_STEP
from runner.interruption import Interruption, find_interruption
from runner.model import RollbackMode
from runner.process import kill_orphans
from runner.rollback import roll_back

__all__ = ["Interruption", "find_interruption", "recover"]


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


def _is_commit_of(rt: Runtime, sha: str, step: str) -> bool:
    records = rt.repo.plan_commits(rt.plan.name, head=sha)
    return bool(records) and records[-1].sha == sha and records[-1].trailer(T_STEP) == step


def _saved(patch: str | None, what: str) -> str:
    return f"{what}; partial diff saved as {patch}" if patch else f"{what}; nothing to save"
