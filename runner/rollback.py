"""Take the repository back to a checkpoint: save what is discarded, then reset or revert.

The order is the safety: the journal first (so a crash mid-rollback is finished by the next
run), then the patch of everything between the target and the working tree (committed or
not, new files included), then the discard. Reset mode also points a ref at the old HEAD,
so discarded commits stay reachable. Revert mode adds one revert commit per commit, newest
first, skipping what is already reverted: running it again after a crash finishes the job.
Afterwards the plan's ``on-rollback`` hooks and verify gates run.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from runner.context import Runtime
from runner.errors import GitError, RollbackIncomplete
from runner.gates import run_gate
from runner.history import T_PLAN, T_REVERTS, T_STEP
from runner.journal import file_label
from runner.model import RollbackMode
from runner.ownership.commits import ForeignPolicy, choose_commits
from runner.ownership.gitsetup import GitSetup, hold_setup
from runner.ownership.paths import (
    Discarded,
    discard_changes,
    give_back_flags,
    ignored_paths,
    moved_notice,
)
from runner.process import describe, run_command
from runner.results import GateResult, GateStatus, RollbackRecord

__all__ = ["critical_section", "roll_back", "run_rollback_hooks", "undo_file_rollback"]


@contextmanager
def critical_section() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP while git moves, so a Ctrl-C never lands half-way.

    A signal that arrives meanwhile is delivered when the section ends.
    """
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def roll_back(
    rt: Runtime,
    *,
    target: str,
    scope: str,
    mode: RollbackMode,
    label: str,
    hooks: bool = True,
    staged: bool = False,
    foreign: ForeignPolicy | None = None,
) -> RollbackRecord:
    """Bring the tree (and, in reset mode, the branch) back to ``target``.

    ``staged``: the caller knows the working tree equals the index (a step staged its
    files and nothing changed since), so the patch comes from the index alone.

    ``foreign``: how commits after ``target`` that are not the plan's are treated; by
    default their presence refuses the rollback before anything is journaled or touched
    (:class:`~runner.ownership.commits.ForeignCommits`, exit 2).

    Raises :class:`RollbackIncomplete` (exit 3) when a revert conflicts: the message says
    what state the repository is in and how to recover.
    """
    repo = rt.repo
    with critical_section():
        head = repo.head()
        choose_commits(rt, target, head, foreign)  # the user's commits refuse, before anything
        rt.journal.write(
            "rollback-started", target=target, head=head, scope=scope, mode=mode.value,
            hooks=hooks,
        )  # fmt: skip
        patch_path = _unique(rt.ws.state.rollbacks / f"{rt.run_id}-{file_label(label)}.patch")
        commits = _commits_since(rt, target, head)
        step_start = _step_commits(foreign, head) if mode is RollbackMode.REVERT else None
        if step_start is not None:
            commits = _commits_since(rt, target, step_start)
        reverting = mode is RollbackMode.REVERT and bool(commits)
        # Only the paths the run changed come back; uncommitted changes of a revert-mode
        # rollback go back to HEAD (before what the step committed), and `git revert` takes
        # back the rest.
        restore_to = (step_start or head) if reverting else None
        done = _discard(rt, target, patch_path, staged=staged, restore_to=restore_to)
        files = done.files
        if files == 0:
            patch_path.unlink(missing_ok=True)
        record = RollbackRecord(
            scope=scope,
            mode=mode.value,
            target=target,
            patch=str(patch_path) if files else None,
            files=files,
            copied=done.copied,
            copies_in=str(done.copies_in) if done.copied else None,
        )
        if done.copied:
            rt.observer.notice(_copies_notice(done.copied, done.copies_in))
        if done.moved:
            rt.observer.notice(moved_notice(done))
        if step_start is not None:
            # What the step committed while it ran was never a checkpoint: reset, not revert.
            ref = f"refs/runner/rollbacks/{patch_path.stem}-step"
            repo.update_ref(ref, head)
            repo.move_branch(step_start, head)
            head = step_start
            record = replace(record, backup_ref=ref)
        if reverting:
            record = replace(record, reverted=_revert(rt, target, commits))
        else:
            if commits and not rt.ws.rehearsal:
                ref = f"refs/runner/rollbacks/{patch_path.stem}"
                repo.update_ref(ref, head)
                record = replace(record, backup_ref=ref)
            if head != target:
                repo.move_branch(target, head)
            record = replace(record, discarded=tuple(commits))
        for line in give_back_flags(repo, rt.ws.state, rt.run_id, done):  # after the revert
            rt.observer.notice(line)
        if done.may_leave_behind and (left := repo.dirty_paths()):
            raise RollbackIncomplete(_unreached(left, target))
        rt.journal.write("rollback-done", target=target, patch=record.patch)
    rt.observer.rollback_finished(record)  # told as it happened: before the hooks run
    if hooks:
        record = run_rollback_hooks(rt, record)
    rt.journal.write("rollback-finished", target=target, verified=record.verified)
    return record


def run_rollback_hooks(rt: Runtime, record: RollbackRecord) -> RollbackRecord:
    """``on-rollback``: run the hook commands, then the verify gates, on the rolled-back tree.

    In a rehearsal the hook commands are shown, not run, unless ``--with-hooks`` (they may
    restart real services); the verify gates always run, since they only read the tree.
    """
    plan = rt.plan
    results: list[GateResult] = []
    setup = GitSetup.capture(rt.repo)
    for i, command in enumerate(plan.on_rollback.run, 1):
        name = f"hook-{i}"
        if not rt.with_hooks:
            results.append(
                GateResult(name, "hook", GateStatus.PASSED, 0.0, f"not run: {describe(command)}")
            )
            rt.observer.gate_finished("on-rollback hook", results[-1])
            continue
        done = run_command(
            command,
            cwd=rt.repo.root,
            env=rt.env(),
            timeout=plan.settings.timeout,
            log=rt.log_path("on-rollback", name),
        )
        status = (
            GateStatus.TIMED_OUT
            if done.timed_out
            else (GateStatus.PASSED if done.ok else GateStatus.FAILED)
        )
        summary = describe(command) if done.ok else f"{describe(command)}: exit {done.returncode}"
        results.append(
            GateResult(name, "hook", status, done.seconds, summary, "" if done.ok else done.tail())
        )
        rt.observer.gate_finished("on-rollback hook", results[-1])
    ctx = rt.gate_context("on-rollback")
    verify: list[GateResult] = []
    for gate in plan.on_rollback.verify:
        rt.observer.gate_started("on-rollback", gate)
        result = run_gate(gate, ctx)
        rt.observer.gate_finished("on-rollback", result)
        verify.append(result)
    if moved := hold_setup(rt.repo, setup, "an on-rollback hook or verify gate"):
        verify.append(GateResult("git-setup", "check", GateStatus.FAILED, 0.0, moved, moved))
    return replace(record, hooks=tuple(results), verify=tuple(verify))


def undo_file_rollback(rt: Runtime, *, before: str, commit: str) -> RollbackRecord:
    """Take back the commit of a ``runner rollback FILE...`` whose verification failed.

    The one way both the command and the recovery of an interrupted one do it: the rollback
    path, so whatever the hooks and verify gates left in the tree is saved as a patch before
    it is discarded, and the undone commit stays reachable under ``refs/runner/rollbacks/``.
    """
    undo = roll_back(
        rt, target=before, scope="files", mode=RollbackMode.RESET, label="files-undone",
        hooks=False,
    )  # fmt: skip
    rt.journal.write("rollback-files-undone", sha=commit)
    return undo


def _step_commits(policy: ForeignPolicy | None, head: str) -> str | None:
    """The step's checkpoint when the step itself committed on top of it, else ``None``."""
    if policy is None or policy.step_start is None or policy.step_start == head:
        return None
    return policy.step_start


def _commits_since(rt: Runtime, target: str, head: str) -> list[str]:
    """First-parent commits after ``target`` up to ``head``, newest first."""
    return [] if target == head else rt.repo.rev_list(f"{target}..{head}")


def _revert(rt: Runtime, target: str, commits: list[str]) -> tuple[str, ...]:
    """Revert the plan's own commits among ``commits`` (newest first). Commits that are not
    the plan's (allowed by ``--include-other-commits``) and merges stay as they are."""
    repo = rt.repo
    records = {c.sha: c for c in repo.plan_commits(rt.plan.name)}
    already = {v for c in records.values() for v in c.trailer_values(T_REVERTS)}
    reverts = {c for c, r in records.items() if r.trailer(T_REVERTS)}
    merges = repo.merges(f"{target}..{commits[0]}")
    made: list[str] = []
    for sha in commits:  # newest first
        if sha in already or sha in reverts or sha not in records or sha in merges:
            continue
        step = records[sha].trailer(T_STEP) if sha in records else None
        subject = records[sha].subject if sha in records else repo.subject(sha)
        message = (
            f"{rt.plan.name}: revert {step or sha[:12]}\n\n"
            f'This reverts commit {sha} ("{subject}").\n\n'
            f"{T_PLAN}: {rt.plan.name}\n{T_REVERTS}: {sha}\n"
        )
        try:
            made.append(repo.revert_one(sha, message))
        except GitError as e:
            repo.abort_revert()
            msg = (
                f"rollback could not complete: reverting {sha[:12]} ({subject}) conflicts with "
                f"what came after it ({e}). The branch now has {len(made)} revert commit(s) on "
                f"top of {commits[0][:12]}; the revert in progress was aborted and the tree is "
                f"clean. Resolve by hand (`git revert {sha[:12]}`, fix the conflict, commit), "
                f"or reset to {target[:12]} if the branch is not shared."
            )
            raise RollbackIncomplete(msg) from None
        # A crash point of its own: the next run skips what is reverted and goes on.
        rt.journal.write("revert-committed", sha=made[-1], reverts=sha)
    return tuple(made)


def _discard(
    rt: Runtime, target: str, path: Path, *, staged: bool, restore_to: str | None
) -> Discarded:
    """The patch first, or nothing is discarded: a full disk stops the rollback here."""
    try:
        return discard_changes(
            rt.repo,
            target,
            path,
            ignored=ignored_paths(rt.ws.state),
            staged=staged,
            restore_to=restore_to,
        )
    except OSError as e:
        msg = (
            f"rollback to {target[:12]} could not start: saving the discarded diff as {path} "
            f"failed ({e.strerror}); nothing was discarded, the tree still holds the changes. "
            "Free space, then run `runner run` again to finish the rollback"
        )
        raise RollbackIncomplete(msg) from None


def _copies_notice(copied: tuple[str, ...], where: Path) -> str:
    """A file the rollback overwrote held bytes the run never committed: say where they are."""
    shown = ", ".join(copied[:5]) + (f" and {len(copied) - 5} more" if len(copied) > 5 else "")
    return (
        f"{len(copied)} file(s) held content the run had not committed ({shown}); a copy of "
        f"each was saved under {where}/ before the rollback restored it"
    )


def _unreached(paths: list[str], target: str) -> str:
    """What a reset cannot take back: changes inside submodules or nested repositories."""
    shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    first = paths[0].rstrip("/")
    return (
        f"rollback to {target[:12]} could not complete: changes inside {shown} (a submodule "
        "or nested repository) are beyond a rollback's reach; they are kept, not saved in the "
        f"patch. Look with `git -C {first} status`, discard them (`git -C {first} checkout -- "
        f". && git -C {first} clean -fd`, or `git submodule update --force`), then run "
        "`runner run` again to finish the rollback"
    )


def _unique(path: Path) -> Path:
    n = 1
    while path.exists():
        n += 1
        path = path.with_name(f"{path.stem.rsplit('~', 1)[0]}~{n}.patch")
    return path
