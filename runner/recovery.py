"""Put the repository right after an interrupted run (see :mod:`runner.interruption`).

Inside a step: restore the step's checkpoint, saving the partial diff as a patch. Inside
a rollback: finish the rollback. Inside ``runner rollback FILE...``: put the files back as
they were (before its commit) or finish its hooks and verify gates (after). Between steps:
nothing to do.
"""

from __future__ import annotations

import os
from pathlib import Path

from runner.context import Runtime
from runner.history import T_STEP
from runner.interruption import Interruption, find_interruption
from runner.journal import file_label
from runner.model import RollbackMode
from runner.ownership.commits import ForeignPolicy, binding
from runner.process import kill_orphans
from runner.results import RollbackRecord
from runner.rollback import critical_section, roll_back, run_rollback_hooks, undo_file_rollback

__all__ = ["Interruption", "find_interruption", "recover"]


def recover(rt: Runtime, what: Interruption) -> list[str]:
    """Put the repository right after ``what``; returns notices for the user."""
    repo = rt.repo
    notices = [f"recovering: {what.describe()}"]
    # Binds this journal too: a crash during the recovery is recovered on the same branch.
    rt.journal.write("recovery-started", recovers=what.run_id, pid=os.getpid(), **binding(repo))
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
            # The commits it goes over were checked (or allowed) when it started, and those
            # made since by check_recovery, before this recovery began.
            foreign=ForeignPolicy(include=True),
        )
        notices.append(_saved(record.patch, f"rollback to {what.rollback_target[:12]} finished"))
        return notices
    if what.files:
        return notices + _finish_file_rollback(rt, what)
    if not (what.step and what.checkpoint):
        if what.last_event == "step-committed" and repo.dirty_paths():
            # Killed after the commit, while its gates' leftovers were being saved and removed.
            record = roll_back(rt, target=repo.head(), scope="step", mode=RollbackMode.RESET,
                               label=f"recovered-{what.run_id}-leftovers", hooks=False)  # fmt: skip
            notices.append(_saved(record.patch, "removed the last step's gate leftovers"))
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
    whole = what.whole_patch  # killed during a culprit search (on-failure: isolate)
    if whole and not committed and Path(whole).exists():
        notices.append(f"the step's whole change, from before its culprit search: {whole}")
    return notices


def _finish_file_rollback(rt: Runtime, what: Interruption) -> list[str]:
    """An interrupted ``runner rollback FILE...``: before its commit, the named files go back
    as they were at HEAD (their partial change saved as a patch; other files untouched);
    after it, the hooks and verify gates it did not finish run, and a failed verification
    undoes the commit, as the command itself would have."""
    repo = rt.repo
    head = repo.head()
    expected = what.files_commit or what.files_head
    if head != expected:
        return [
            f"the branch moved since the interrupted file rollback (HEAD {head[:12]}, expected "
            f"{(expected or '?')[:12]}); its files are left as they are"
        ]
    files = list(what.files)
    if what.files_commit is None:
        patch = rt.ws.state.rollbacks / f"{rt.run_id}-{file_label('recovered-files')}.patch"
        with critical_section():
            rt.journal.write("rollback-files-started", files=files, head=head)
            saved = repo.save_paths_patch(head, files, patch)
            present = [p for p in files if repo.path_exists_at(head, p)]
            absent = [p for p in files if p not in present]
            repo.restore_paths(head, present, absent)
            rt.journal.write("rollback-files-restored", head=head)
        if not saved:
            patch.unlink(missing_ok=True)
        restored = f"{len(files)} file(s) back as they were at {head[:12]}"
        return [_saved(str(patch) if saved else None, restored)]
    with critical_section():
        rt.journal.write("rollback-files-started", files=files, head=what.files_head)
        rt.journal.write("rollback-files-committed", sha=head)
    record = run_rollback_hooks(
        rt,
        RollbackRecord(scope="files", mode="commit", target=head, patch=None, files=len(files)),
    )
    if record.verified:
        rt.journal.write("rollback-files-verified", sha=head)
        return [f"file rollback {head[:12]} kept: its hooks and verify gates passed"]
    undo = undo_file_rollback(rt, before=what.files_head or repo.parent(head), commit=head)
    return [_saved(undo.patch, f"file rollback {head[:12]} failed verification and is undone")]


def _is_commit_of(rt: Runtime, sha: str, step: str) -> bool:
    records = rt.repo.plan_commits(rt.plan.name, head=sha)
    return bool(records) and records[-1].sha == sha and records[-1].trailer(T_STEP) == step


def _saved(patch: str | None, what: str) -> str:
    return f"{what}; partial diff saved as {patch}" if patch else f"{what}; nothing to save"
