"""``runner rollback``: take back single files, one phase, or the whole plan, on request.

The seed's "Partial Rollback (Specific Files)" done safely: the files come back as they were
before a step, in one commit whose trailers name them, so codemod steps leave them alone
from then on (on resume and on a fresh clone alike). The ``on-rollback`` hooks and verify
gates run afterwards; a failed verification undoes the rollback commit.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.markup import escape

from runner.context import Runtime, Workspace
from runner.errors import GitError, PreconditionError, RollbackIncomplete, UsageError
from runner.failedcommit import git_reason
from runner.history import T_PLAN, T_ROLLBACK_FILE, T_ROLLBACK_TO, T_STEP, PlanHistory, read_history
from runner.journal import Journal, Lock, file_label, new_run_id
from runner.model import Plan
from runner.ownership.commits import INCLUDE_FLAG, ForeignPolicy, binding, require_plan_branch
from runner.ownership.ignored import snapshot_ignored
from runner.ownership.paths import copies_notice, keep_user_copies, set_aside
from runner.pathquote import quote_path
from runner.preflight import check_repository_shape
from runner.report import LiveObserver, render_rollback
from runner.results import RollbackRecord
from runner.rollback import critical_section, roll_back, run_rollback_hooks, undo_file_rollback
from runner.testrecord import read_test_baselines
from runner.workspace import real_workspace

__all__ = ["RollbackRequest", "rollback_command"]


@dataclass(frozen=True, slots=True)
class RollbackRequest:
    """``runner rollback`` as typed."""

    plan: Path
    repo: Path
    files: tuple[str, ...] = ()
    all_steps: bool = False
    phase: str | None = None
    to: str | None = None
    cwd: Path | None = None
    include_other: bool = False  # --include-other-commits


def rollback_command(request: RollbackRequest, console: Console) -> int:
    """Carry out ``runner rollback``; returns 0, or 1 when verification failed."""
    from runner.plan import load_plan  # noqa: PLC0415

    plan = load_plan(request.plan)
    with real_workspace(request.repo) as ws:
        check_repository_shape(ws.repo)
        ws.state.ensure()
        with Lock(ws.state, command="runner rollback") as lock:
            if lock.notice:
                console.print(f"[yellow]note:[/] {escape(lock.notice)}")
            rt = _runtime(plan, ws, console)
            require_plan_branch(rt)
            rt.journal.open()
            rt.journal.write(
                "run-started",
                run_id=rt.run_id,
                plan=plan.name,
                head=ws.repo.head(),
                pid=os.getpid(),
                rehearsal=False,
                **binding(ws.repo),
            )
            try:
                snapshot_ignored(ws.repo, ws.state, rt.journal, rt.run_id)  # for a recovery
                record = _files(rt, request) if request.files else _range(rt, request)
            finally:
                rt.journal.write("run-finished", status="rollback")
                rt.journal.close(archive_as=rt.run_id)
    render_rollback(record, console)
    return 0 if record.verified else 1


def _runtime(plan: Plan, ws: Workspace, console: Console) -> Runtime:
    rt = Runtime(
        plan=plan,
        ws=ws,
        journal=Journal(ws.state),
        observer=LiveObserver(console),
        approver=lambda _q: None,
        run_id=new_run_id(),
    )
    rt.test_baselines.update(read_test_baselines(_history(rt).commits))  # for verify gates
    return rt


def _history(rt: Runtime) -> PlanHistory:
    return read_history(rt.repo.plan_commits(rt.plan.name))


def _range(rt: Runtime, request: RollbackRequest) -> RollbackRecord:
    """``--all`` or ``--phase ID``: back to before the plan, or before the phase."""
    repo = rt.repo
    _require_clean(rt)
    history = _history(rt)
    live = list(history.live_step_commits)
    if request.phase is not None:
        phase = rt.plan.find_phase(request.phase)
        if phase is None:
            ids = ", ".join(p.id for p in rt.plan.phases)
            raise UsageError(f"--phase {request.phase}: no such phase (phases: {ids})")
        keys = [s.key for s in phase.steps]
        mine = [c for c in live if c.trailer(T_STEP) in keys]
        if not mine:
            raise UsageError(
                f"phase {phase.id} has no step done on this branch: nothing to take back"
            )
        later = [str(c.trailer(T_STEP)) for c in live[live.index(mine[0]) :] if c not in mine]
        if later:
            raise UsageError(
                f"steps of later phases are done on top of phase {phase.id} "
                f"({', '.join(later)}); take those back first, or use --all"
            )
        target, scope = repo.parent(mine[0].sha), "phase"
    else:
        first = history.first_step_commit
        if first is None:
            raise UsageError("no step of this plan is done on this branch: nothing to take back")
        target, scope = repo.parent(first.sha), "plan"
    which = f"--phase {request.phase}" if request.phase is not None else "--all"
    return roll_back(
        rt,
        target=target,
        scope=scope,
        mode=rt.plan.settings.rollback_mode,
        label=f"rollback-{request.phase or 'all'}",
        foreign=ForeignPolicy(
            include=request.include_other, proceed=f"runner rollback {which} {INCLUDE_FLAG}"
        ),
    )


def _files(rt: Runtime, request: RollbackRequest) -> RollbackRecord:
    repo = rt.repo
    history = _history(rt)
    paths = [_inside(repo.root, f, request.cwd or Path.cwd()) for f in request.files]
    target, label = _target(rt, history, request.to)
    head = repo.head()
    touched = _touched_by_plan(rt, history)
    dirty = set(repo.dirty_paths())
    if repo.staged_paths():
        raise PreconditionError("the index has staged changes; commit or unstage them first")
    present: list[str] = []
    absent: list[str] = []
    for path in paths:
        if path in dirty:
            raise PreconditionError(f"{path} has uncommitted changes; commit or discard them first")
        if path not in touched:
            if not (repo.path_exists_at(head, path) or (repo.root / path).exists()):
                msg = f"{path}: no such file (not at HEAD, not in the tree, and no step changed it)"
                raise UsageError(msg)
            raise UsageError(f"{path}: no step of plan {rt.plan.name} changed it")
        exists_then = repo.path_exists_at(target, path)
        (present if exists_then else absent).append(path)
        same = exists_then == repo.path_exists_at(head, path) and (
            not exists_then or repo.blob(target, path) == repo.blob(head, path)
        )
        if same:
            raise UsageError(f"{path} is already as it was {label}")
    # Quoted as git quotes them: a newline in a name must not end the trailer block.
    files_trailers = "\n".join(f"{T_ROLLBACK_FILE}: {quote_path(p)}" for p in paths)
    message = (
        f"{rt.plan.name}: roll back {len(paths)} file(s) to {label}\n\n"
        + "\n".join(
            f"  {quote_path(p)}" + (" (created by the plan: removed)" if p in absent else "")
            for p in paths
        )
        + "\n\nCodemod steps of the plan leave these files alone from now on.\n\n"
        f"{T_PLAN}: {rt.plan.name}\n{files_trailers}\n"
        f"{T_ROLLBACK_TO}: {request.to or 'plan-start'}\n"
    )
    copies_in = rt.ws.state.rollbacks / f"{rt.run_id}-{file_label('files')}-files"
    with critical_section():
        rt.journal.write("rollback-files-started", files=paths, head=head)
        aside = set_aside(repo, paths, copies_in)
        # A file the plan un-tracked that the user filled since: kept before it is restored.
        copied = keep_user_copies(repo, target, present, absent, copies_in)
        copied = tuple(dict.fromkeys((*aside.copied, *copied)))
        if copied:
            rt.observer.notice(copies_notice(copied, copies_in))
        repo.restore_paths(target, present, absent)
        if wrong := repo.literal_differences(target, present, absent):
            _put_back(rt, head, paths, None, wrong)
        try:
            sha = repo.commit(message)
        except GitError as e:
            _put_back(rt, head, paths, e)
        finally:
            aside.keep_flags(repo)  # flagged hidden edits: copied aside, flags kept
        rt.journal.write("rollback-files-committed", sha=sha)
    record = run_rollback_hooks(
        rt,
        RollbackRecord(
            scope="files", mode="commit", target=target, patch=None, files=len(paths),
            copied=copied, copies_in=str(copies_in) if copied else None,
        ),
    )  # fmt: skip
    if not record.verified:
        undo = undo_file_rollback(rt, before=head, commit=sha)
        record = replace(record, patch=undo.patch, backup_ref=undo.backup_ref)
    else:
        rt.journal.write("rollback-files-verified", sha=sha)
    return record


def _put_back(
    rt: Runtime, head: str, paths: list[str], error: GitError | None, wrong: Sequence[str] = ()
) -> NoReturn:
    """The rollback commit failed (or the restore left ``wrong`` paths otherwise than the
    target): the named files go back as they are at ``head`` (they had no uncommitted
    change, so nothing is lost) and the command stops with the reason."""
    present = [p for p in paths if rt.repo.path_exists_at(head, p)]
    rt.repo.restore_paths(head, present, [p for p in paths if p not in present])
    rt.journal.write("rollback-files-restored", head=head)
    if error is None:
        msg = (
            f"the files could not be restored ({', '.join(wrong[:5])} not as in the target "
            f"after the restore); nothing was committed and the files are as they were at "
            f"{head[:12]}. Look with `git status` for what is in the way, then run the "
            "command again"
        )
        raise RollbackIncomplete(msg)
    msg = (
        f"the rollback commit could not be made ({git_reason(error)}); the "
        f"files are as they were at {head[:12]}. Fix what stopped the commit, then run "
        "the command again"
    )
    raise GitError(msg) from None


def _target(rt: Runtime, history: PlanHistory, to: str | None) -> tuple[str, str]:
    if to is None:
        first = history.first_step_commit
        if first is None:
            raise UsageError("no step of this plan is done on this branch: nothing to take back")
        return rt.repo.parent(first.sha), "before the plan's first step"
    step = rt.plan.find_step(to)
    if step is None:
        raise UsageError(f"--to {to}: no such step in {rt.plan.path}")
    done = history.done.get(step.key)
    if done is None:
        raise UsageError(f"--to {step.key}: that step is not done on this branch")
    return rt.repo.parent(done.sha), f"before {step.key}"


def _touched_by_plan(rt: Runtime, history: PlanHistory) -> set[str]:
    touched: set[str] = set()
    for done in history.done.values():
        touched.update(rt.repo.changed_files(rt.repo.parent(done.sha), done.sha))
    return touched


def _inside(root: Path, name: str, cwd: Path) -> str:
    """``name`` as a repository-relative path; refuses anything that leaves the repository."""
    if os.path.isabs(name):  # noqa: PTH117 - the string as typed, before any resolution
        raise UsageError(f"{name}: absolute paths are refused; name files inside the repository")
    joined = Path(os.path.normpath(cwd / name))
    root = root.resolve()
    try:
        relative = joined.relative_to(root)
    except ValueError:
        raise UsageError(f"{name}: outside the repository {root}") from None
    if not relative.parts:
        raise UsageError(f"{name}: names the repository itself, not a file")
    # The folders on the way, not the file itself: a symlink the plan made at a path inside
    # the repository is a file of it (restored as a link, never written through).
    parent = joined.parent
    if parent.resolve() != root / relative.parent and not _resolves_inside(parent, root):
        raise UsageError(f"{name}: reaches outside the repository through a symlink")
    return relative.as_posix()


def _resolves_inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def _require_clean(rt: Runtime) -> None:
    if dirty := rt.repo.dirty_paths():
        raise PreconditionError(
            f"the working tree has uncommitted changes ({', '.join(dirty[:5])}); "
            "commit or stash them first"
        )
