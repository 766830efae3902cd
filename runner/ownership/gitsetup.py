"""Git's own setup staying what it was while plan commands run.

A plan's command, gate or ``on-rollback`` hook is free to run git, and some git commands
change what runner stands on: ``git switch -c side`` (the next checkpoints would land on
``side``), ``git checkout --detach``, a ``git commit`` of its own, ``git config
core.worktree ../elsewhere`` or ``core.bare true`` (a later ``git reset --hard`` would then
write outside the repository). Runner's own git calls are pinned to the git dir and work
tree it opened (:func:`runner.gitcore.pin`), so they stay in place whatever the config says;
this module notices the change so that the step fails instead of passing on moved ground.

What is put back, and why:

- HEAD goes back onto the run's branch (or, detached as in a rehearsal, onto its commit):
  HEAD is the run's, and the rollback that follows must act on the run's branch. A branch
  the command created is left as it is and named, with the command that deletes it: it is
  the user's to keep or drop. A commit the command made on the run's branch is taken back
  by that rollback, and stays reachable under ``refs/runner/rollbacks/``.
- The run's branch goes back where it was if the command deleted it (``git update-ref
  -d``) or moved it anywhere but onto a commit of its own (``git reset --hard HEAD~1``,
  ``git update-ref refs/heads/B OTHER``): runner owns that branch and knows its sha. A
  checkout of an orphan branch (``git checkout --orphan scratch``, HEAD on a branch with no
  commit) is a moved HEAD like any other.
- The repository's setup files (config, ``config.worktree``, ``info/exclude``, hooks...)
  go back byte for byte (:mod:`runner.ownership.setupfiles`): they are the user's, and a
  value a plan command set would leave every later ``git status`` or ``git commit`` of the
  user's doing something else. The message names each entry that changed; a key runner
  depends on that changed in a file it does not rewrite is named with the command that
  puts it back, never claimed as put back.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.errors import GitError
from runner.git import Repository
from runner.ownership.setupfiles import SetupFiles, outside_changes

__all__ = ["GitSetup", "hold_setup"]


@dataclass(frozen=True, slots=True)
class GitSetup:
    """Where HEAD points, and the repository's setup files."""

    branch: str | None  # None: detached
    sha: str | None  # None: HEAD names a branch with no commit
    files: SetupFiles

    @classmethod
    def capture(cls, repo: Repository, *, like: GitSetup | None = None) -> GitSetup:
        """The setup as it is now: one git call for HEAD, and the config is listed again
        only when a setup file changed since ``like``."""
        branch, sha = repo.head_where()
        return cls(branch, sha, SetupFiles.capture(repo, like=like.files if like else None))


def hold_setup(repo: Repository, before: GitSetup, who: str) -> str | None:
    """Check that ``who`` (``the action``, ``gate unit``) left git's setup as ``before``;
    if not, put it back and return the message that fails the step (``None``: unchanged)."""
    now = GitSetup.capture(repo, like=before)
    changes, done, left = _hold_head(repo, before, now)
    if moved := before.files.moved(now.files):
        changes += [before.files.describe(repo, now.files, p) for p in moved]
        failed, aside = before.files.put_back(moved)
        if restored := [p for p in moved if p not in failed]:
            names = ", ".join(before.files.shown(repo, p) for p in restored)
            done += [f"{names} as it was, byte for byte", *aside]
        left += [f"{before.files.shown(repo, p)} ({why})" for p, why in failed.items()]
    if moved or now.files.entries != before.files.entries:
        outside = outside_changes(before.files, repo.config_entries())
        changes += outside
        left += [f"{s.split(' = ')[0]} is left as the command set it" for s in outside]
    if not changes:
        return None
    message = f"{who} changed git's setup: {'; '.join(changes)}. "
    if done:
        message += f"Runner put it back: {'; '.join(done)}. "
    if left:
        message += f"NOT put back: {'; '.join(left)}. "
    return message + "Look with `git reflog -5` and `git config --list --show-origin`"


def _hold_head(repo: Repository, before: GitSetup, now: GitSetup) -> tuple[list[str], ...]:
    """HEAD and the run's branch: (what changed, what was put back, what was not)."""
    changes: list[str] = []
    done: list[str] = []
    left: list[str] = []
    branch, sha = before.branch, before.sha
    if now.branch != branch or (branch is None and now.sha != sha):
        changes.append(f"HEAD moved from {_where(branch, sha)} to {_where(now.branch, now.sha)}")
    if branch is not None and sha is not None:
        at = now.sha if now.branch == branch else repo.branch_sha(branch)
        if at is None:
            changes.append(f"branch {branch} was deleted")
        elif at != sha and repo.is_ancestor(sha, at):
            changes.append(f"branch {branch} moved to {at[:12]} (a commit by the command)")
        elif at != sha:
            changes.append(f"branch {branch} was moved from {sha[:12]} to {at[:12]}")
        if at != sha and (at is None or not repo.is_ancestor(sha, at)):
            try:
                repo.put_branch(branch, sha, at)
                again = f" (`git branch -f {branch} {at}` moves it as the command did)" * bool(at)
                done.append(f"branch {branch} is at {sha[:12]} again{again}")
            except GitError:
                left.append(f"branch {branch} (`git update-ref refs/heads/{branch} {sha}`)")
    if now.branch != branch or (branch is None and now.sha != sha):
        try:
            repo.point_head(branch, sha or "")
            done.append(f"HEAD is back on {_where(branch, sha)}")
        except GitError:
            fix = f"git switch {branch}" if branch else f"git checkout --detach {sha}"
            left.append(f"HEAD (`{fix}`)")
    if now.branch is not None and now.branch != branch:
        if now.sha is None:
            done.append(f"no branch {now.branch} was made (it had no commit)")
        else:
            done.append(
                f"branch {now.branch} is left as it is (look with `git log -3 {now.branch}`; "
                f"`git branch -D {now.branch}` deletes it)"
            )
    return changes, done, left


def _where(branch: str | None, sha: str | None) -> str:
    if branch is None:
        return f"detached {(sha or '')[:12]}"
    return f"branch {branch}" if sha is not None else f"branch {branch}, which has no commit"
