"""Which commits a rollback may undo, and which branch a run's state is bound to.

A run owns its branch and the plan's own commits on it (checkpoints, the plan's revert
commits, ``runner rollback FILE...`` commits: all carry ``Runner-Plan: NAME``). Everything
else is the user's: a hand fix committed after a step, a merge of ``main``, commits made
on another branch, or on the same branch after a crash. Resetting over them drops them
from the branch (reachable only under ``refs/runner/rollbacks/``); reverting them undoes a
colleague's work once the branch is merged back. So a rollback whose range holds such
commits names them and refuses (exit 2) unless the user said ``--include-other-commits``,
and in revert mode only the plan's own commits are ever reverted, never a merge.

A run's journal records the branch and the worktree it ran on (``run-started``, and
``recovery-started`` for the journal of a recovery); recovery acts only on that branch, and
with HEAD elsewhere it refuses and names the command that goes back. Each worktree keeps its
own state folder (see :func:`runner.workspace.real_workspace`), so a run in one linked
worktree is never recovered from another.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from runner.errors import PreconditionError

if TYPE_CHECKING:
    from runner.context import Runtime
    from runner.git import Repository
    from runner.interruption import Interruption

__all__ = [
    "INCLUDE_FLAG",
    "CommitChoice",
    "ForeignCommits",
    "ForeignPolicy",
    "automatic_policy",
    "binding",
    "branch_note",
    "check_recovery",
    "choose_commits",
    "proceed_command",
    "require_plan_branch",
    "wider_rollback_refusal",
]

#: The command-line flag that lets a rollback go over commits that are not the plan's.
INCLUDE_FLAG = "--include-other-commits"

_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Foreign:
    """A commit after the rollback target that is not one of the plan's."""

    sha: str
    subject: str
    merge: bool

    def __str__(self) -> str:
        return f"{self.sha[:12]} {self.subject}" + (" (a merge)" if self.merge else "")


@dataclass(frozen=True, slots=True)
class CommitChoice:
    """The first-parent commits between a rollback target and HEAD, split by owner."""

    all: tuple[str, ...]  # newest first
    own: tuple[str, ...]  # the plan's own, newest first; never a merge
    foreign: tuple[Foreign, ...]  # newest first


@dataclass(frozen=True, slots=True)
class ForeignPolicy:
    """How a rollback treats commits that are not the plan's.

    ``include``: the user passed ``--include-other-commits``. ``proceed``: the command a
    refusal names (the caller knows it: ``runner rollback --phase ID`` or ``--all``).
    """

    include: bool = False
    proceed: str = f"runner rollback --all {INCLUDE_FLAG}"
    #: The checkpoint of the step being rolled back: commits made on top of it while the
    #: step ran (its command or a gate committed) are the step's own work, never a
    #: checkpoint, and go back with it (kept reachable under ``refs/runner/rollbacks/``).
    step_start: str | None = None


class ForeignCommits(PreconditionError):
    """A rollback would undo commits that are not the plan's (exit 2)."""

    def __init__(self, message: str, commits: tuple[Foreign, ...]) -> None:
        super().__init__(message)
        self.commits = commits

    def after_step(self, step: str, patch: str | None) -> ForeignCommits:
        """The refusal as told once the failed step's own changes are taken back."""
        saved = f" (saved as {patch})" if patch else ""
        told = f"step {step} failed and its own changes were rolled back{saved}; {self}"
        return ForeignCommits(told, self.commits)


def choose_commits(
    rt: Runtime, target: str, head: str, policy: ForeignPolicy | None = None
) -> CommitChoice:
    """The commits a rollback from ``head`` to ``target`` would undo, split by owner.

    Refuses (:class:`ForeignCommits`) when some are not the plan's, unless
    ``policy.include``; called before the rollback journals or touches anything.
    """
    policy = policy or ForeignPolicy()
    choice = _split(rt.repo, rt.plan.name, target, head)
    if choice.foreign and policy.step_start is not None and policy.step_start != head:
        during = set(rt.repo.rev_list(f"{policy.step_start}..{head}"))
        choice = replace(choice, foreign=tuple(f for f in choice.foreign if f.sha not in during))
    if choice.foreign and not policy.include:
        raise ForeignCommits(_refusal(rt, choice.foreign, target, policy.proceed), choice.foreign)
    return choice


def wider_rollback_refusal(
    rt: Runtime, target: str, checkpoint: str, *, scope: str, phase: str
) -> ForeignCommits | None:
    """For an automatic ``rollback: phase|plan``: the refusal to raise once the failed step's
    own changes are taken back, when the wider range holds commits that are not the plan's."""
    if target == checkpoint:
        return None
    foreign = _split(rt.repo, rt.plan.name, target, checkpoint).foreign
    if not foreign:
        return None
    message = _refusal(rt, foreign, target, proceed_command(scope, phase), automatic=scope)
    return ForeignCommits(message, foreign)


def automatic_policy(scope: str, phase: str) -> ForeignPolicy:
    """An automatic rollback's policy: refuse commits of the user's, naming the command."""
    return ForeignPolicy(proceed=proceed_command(scope, phase))


def proceed_command(scope: str, phase: str) -> str:
    """The ``runner rollback`` that takes back what ``rollback: SCOPE`` would have."""
    return f"runner rollback {'--all' if scope == 'plan' else f'--phase {phase}'} {INCLUDE_FLAG}"


def check_recovery(rt: Runtime, what: Interruption | None) -> None:
    """Before anything of an interrupted run is recovered (or its journal archived): refuse
    (exit 2, nothing changed) when HEAD is not on the run's own branch, or when commits that
    are not the plan's were made on it since an interrupted rollback started."""
    if what is None:
        return
    if note := branch_note(what, rt.repo.current_branch()):
        raise PreconditionError(note)
    _commits_since_interruption(rt, what)


def _commits_since_interruption(rt: Runtime, what: Interruption) -> None:
    """The user committed on the branch after the crash: finishing the rollback would undo
    those commits. The ones present when it started were checked (or allowed) then."""
    target, started_at = what.rollback_target, what.rollback_head
    if target is None or started_at is None:
        return
    head = rt.repo.head()
    known = set(rt.repo.rev_list(f"{target}..{started_at}")) if target != started_at else set()
    foreign = tuple(
        f for f in _split(rt.repo, rt.plan.name, target, head).foreign if f.sha not in known
    )
    if not foreign:
        return
    branch = rt.repo.current_branch() or "HEAD"
    msg = (
        f"run {what.run_id} was interrupted while rolling back to {target[:12]}; since then "
        f"{_listed(foreign)} that are not the plan's were made on {branch}, and finishing "
        "the rollback would undo them. Keep them on a branch of their own "
        f"(`git branch my-work`), put {branch} back where the rollback started "
        f"(`git reset --keep {started_at[:12]}`), then `runner run` finishes the rollback; "
        "bring them back afterwards with `git cherry-pick`"
    )
    raise ForeignCommits(msg, foreign)


# --- the branch a run's state is bound to ----------------------------------------------


def binding(repo: Repository) -> dict[str, str | None]:
    """The journal fields that bind a run's state to its branch and worktree."""
    return {"branch": repo.current_branch(), "worktree": str(repo.root)}


def branch_note(what: Interruption, current: str | None) -> str | None:
    """Why an interrupted run cannot be recovered from here, or ``None`` when it can."""
    if what.branch is None or what.branch == current:
        return None
    here = f"HEAD is on {current}" if current else "HEAD is detached"
    return (
        f"run {what.run_id} was interrupted on branch {what.branch}, and {here}; recovery "
        f"acts only on the run's own branch. Go back with `git switch {what.branch}`, then "
        "`runner run` recovers it"
    )


def require_plan_branch(rt: Runtime) -> None:
    """``runner rollback`` acts on the plan's branch only: never on a detached HEAD, and
    never on another branch than ``settings.branch`` when the plan names one."""
    current = rt.repo.current_branch()
    wanted = rt.plan.settings.branch
    if current is None:
        where = f"`git switch {wanted}`" if wanted else "`git switch BRANCH`"
        msg = f"HEAD is detached; check out the branch the plan ran on ({where}) first"
        raise PreconditionError(msg)
    if wanted and current != wanted:
        msg = (
            f"plan {rt.plan.name} runs on branch {wanted}, and HEAD is on {current}; a "
            f"rollback acts only on the plan's branch. Go back with `git switch {wanted}`"
        )
        raise PreconditionError(msg)


# --- helpers ---------------------------------------------------------------------------


def _split(repo: Repository, plan_name: str, target: str, head: str) -> CommitChoice:
    if target == head:
        return CommitChoice((), (), ())
    commits = repo.rev_list(f"{target}..{head}")
    if not commits:
        return CommitChoice((), (), ())
    plans = {c.sha for c in repo.plan_commits(plan_name, head=f"{target}..{head}")}
    merges = repo.merges(f"{target}..{head}")
    own = tuple(c for c in commits if c in plans and c not in merges)
    foreign = tuple(Foreign(c, repo.subject(c), c in merges) for c in commits if c not in own)
    return CommitChoice(tuple(commits), own, foreign)


def _listed(foreign: tuple[Foreign, ...]) -> str:
    shown = "; ".join(str(f) for f in foreign[:_SHOWN])
    more = f" and {len(foreign) - _SHOWN} more" if len(foreign) > _SHOWN else ""
    return f"{len(foreign)} commit(s) ({shown}{more})"


def _refusal(
    rt: Runtime,
    foreign: tuple[Foreign, ...],
    target: str,
    proceed: str,
    *,
    automatic: str | None = None,
) -> str:
    branch = rt.repo.current_branch() or "HEAD"
    revert = rt.plan.settings.rollback_mode.value == "revert"
    what = (
        "they stay on the branch and only the plan's own commits are reverted around them; "
        "a merge is never reverted"
        if revert
        else "the branch is reset past them too, which keeps them reachable only under "
        "refs/runner/rollbacks/"
    )
    head = f"`rollback: {automatic}` would also undo" if automatic else "this rollback would undo"
    return (
        f"{head} {_listed(foreign)} on {branch} after {target[:12]} that are not the plan's "
        f"checkpoints; nothing was rolled back past them. With `{proceed}` the rollback goes "
        f"ahead anyway: {what}. Or move them off {branch} first"
    )
