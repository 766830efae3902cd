"""Git's own setup staying what it was while plan commands run.

A plan's command, gate or ``on-rollback`` hook is free to run git, and some git commands
change what runner stands on: ``git switch -c side`` (the next checkpoints would land on
``side``), ``git checkout --detach``, a ``git commit`` of its own, ``git config
core.worktree ../elsewhere`` or ``core.bare true`` (a later ``git reset --hard`` would then
write outside the repository). Runner's own git calls are pinned to the git dir and work
tree it opened (:func:`runner.git._pin`), so they stay in place whatever the config says;
this module notices the change so that the step fails instead of passing on moved ground.

What is put back, and why:

- HEAD goes back onto the run's branch (or, detached as in a rehearsal, onto its commit):
  HEAD is the run's, and the rollback that follows must act on the run's branch. A branch
  the command created is left as it is and named, with the command that deletes it: it is
  the user's to keep or drop. A commit the command made on the run's branch is taken back
  by that rollback, and stays reachable under ``refs/runner/rollbacks/``.
- ``core.worktree`` and ``core.bare`` go back to what they were when the check began: the
  repository's config is the user's, and a value a plan command set would leave every
  later ``git status`` of the user's looking at another folder. The message says what the
  value was set to, so a user who wanted it can set it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runner.git import Repository

__all__ = ["GitSetup", "hold_setup"]

_KEYS = ("core.worktree", "core.bare")


@dataclass(frozen=True, slots=True)
class GitSetup:
    """Where HEAD points and the config that says where the work tree is."""

    branch: str | None  # None: detached
    sha: str
    config: tuple[tuple[str, str | None], ...]  # (key, value or None when unset)
    stamp: tuple[int, int] | None  # the config file's inode and mtime: git rewrites it anew

    @classmethod
    def capture(cls, repo: Repository, *, like: GitSetup | None = None) -> GitSetup:
        """The setup as it is now: two git calls, or one when the config file is the one
        ``like`` read (git writes config through a lock file renamed into place, so any
        change makes a new inode)."""
        branch, sha = repo.head_state()
        stamp = _stamp(repo.common_dir / "config")
        if like is not None and stamp is not None and stamp == like.stamp:
            return cls(branch, sha, like.config, stamp)
        config = repo.setup_config()
        return cls(branch, sha, tuple((k, config.get(k)) for k in _KEYS), stamp)

    def changes_since(self, now: GitSetup) -> list[str]:
        """What differs in ``now`` from this setup, one phrase each (empty: nothing)."""
        changes: list[str] = []
        if now.branch != self.branch:
            changes.append(f"HEAD moved from {_where(self.branch, self.sha)} to "
                           f"{_where(now.branch, now.sha)}")  # fmt: skip
        elif now.sha != self.sha:
            changes.append(f"{_where(now.branch, self.sha)} moved to {now.sha[:12]} "
                           "(a commit, reset or checkout by the command)")  # fmt: skip
        for (key, was), (_, value) in zip(self.config, now.config, strict=True):
            if value != was:
                changes.append(f"{key} was set to {_shown(value)} (it was {_shown(was)})")
        return changes

    def restore(self, repo: Repository, now: GitSetup) -> list[str]:
        """Put HEAD and the config back as they were; returns what was done, for the user.

        The branch's own sha is left to the rollback that follows (it saves what it
        discards); the tree and the index are not touched here.
        """
        done: list[str] = []
        if now.branch != self.branch or (self.branch is None and now.sha != self.sha):
            repo.point_head(self.branch, self.sha)
            done.append(f"HEAD is back on {_where(self.branch, self.sha)}")
        if now.branch is not None and now.branch != self.branch:
            done.append(
                f"branch {now.branch} is left as it is (look with `git log -3 {now.branch}`; "
                f"`git branch -D {now.branch}` deletes it)"
            )
        for (key, was), (_, value) in zip(self.config, now.config, strict=True):
            if value != was:
                repo.set_config(key, was)
                undo = f"`git config {key} {value}`" if value is not None else "nothing"
                done.append(f"{key} is {_shown(was)} again (to set it as the command did: {undo})")
        return done


def hold_setup(repo: Repository, before: GitSetup, who: str) -> str | None:
    """Check that ``who`` (``the action``, ``gate unit``) left git's setup as ``before``;
    if not, put it back and return the message that fails the step (``None``: unchanged)."""
    now = GitSetup.capture(repo, like=before)
    changes = before.changes_since(now)
    if not changes:
        return None
    done = before.restore(repo, now)
    return (
        f"{who} changed git's setup: {'; '.join(changes)}. Runner put it back: "
        f"{'; '.join(done) or 'nothing else to do'}. Look with `git reflog -5` and "
        "`git config --list --show-origin`"
    )


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def _where(branch: str | None, sha: str) -> str:
    return f"branch {branch}" if branch is not None else f"detached {sha[:12]}"


def _shown(value: str | None) -> str:
    return "unset" if value is None else repr(value)
