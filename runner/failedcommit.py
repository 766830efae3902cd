"""A step whose gates passed but whose checkpoint could not be committed.

The preflight makes sure git can commit at all (:mod:`runner.preflight`), but a commit can
still fail later: a gate that removes the identity from the repository's config, a disk
that fills, an object store that turned read-only, a ref lock someone holds. The step is
then neither done nor failed by its gates; leaving its changes staged under an
"interrupted" journal would make the next run's recovery, not the user, decide about it.
So the step is rolled back here and now, its diff saved as a patch, the journal closed as
a finished run, and the run stops with exit 2 and what went wrong.
"""

from __future__ import annotations

from typing import NoReturn

from runner.context import Runtime
from runner.errors import GitError, RollbackIncomplete
from runner.model import RollbackMode
from runner.rollback import roll_back

__all__ = ["abandon_step", "git_reason"]


def abandon_step(rt: Runtime, step: str, checkpoint: str, error: GitError) -> NoReturn:
    """Roll ``step`` back to ``checkpoint`` after its commit failed with ``error``; always
    raises a :class:`GitError` (exit 2) that says why and where the step's diff is saved.

    When HEAD is no longer ``checkpoint`` something else moved the branch while the step
    ran: that commit is not the plan's to discard, so ``error`` (which says so) is raised
    as it is and the step's changes stay staged for the next run to sort out.
    """
    repo = rt.repo
    if repo.head() != checkpoint:
        raise error
    try:
        record = roll_back(
            rt,
            target=checkpoint,
            scope="step",
            mode=RollbackMode.RESET,
            label=f"{step}-not-committed",
            hooks=False,
        )
    except GitError as again:
        msg = (
            f"step {step} passed its gates but its checkpoint could not be committed "
            f"({git_reason(error)}), and rolling it back failed too ({git_reason(again)}). "
            "Fix that, then run `runner run` again: it finishes the rollback"
        )
        raise RollbackIncomplete(msg) from None
    rt.journal.write("step-finished", step=step, status="commit failed")
    rt.journal.write("run-finished", status="commit failed")
    rt.journal.close(archive_as=rt.run_id)
    saved = f"; its changes are saved as {record.patch}" if record.patch else ""
    msg = (
        f"step {step} passed its gates but its checkpoint could not be committed "
        f"({git_reason(error)}). "
        f"The step is rolled back to {checkpoint[:12]}{saved}. Fix what stopped the commit, "
        "then run `runner run` again"
    )
    raise GitError(msg) from None


def git_reason(error: GitError) -> str:
    """git's own reason, without the advice around it: its first ``fatal:`` or ``error:``
    line (``unable to auto-detect email address``, ``cannot lock ref ...``), else its last."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in lines:
        for prefix in ("fatal: ", "error: "):
            if prefix in line:
                return line.split(prefix, 1)[1]
    return lines[-1] if lines else "git failed"
