"""HEAD, branches and history: where the run stands and what the plan's commits say.

Part of :class:`runner.git.Repository` (which inherits :class:`RefOps`), kept apart by
concern: reading and moving refs, and reading the plan's commits with their trailers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runner.errors import GitError, PreconditionError
from runner.gitcore import GitCalls

__all__ = ["CommitRecord", "RefOps"]

_RECORD_SEP = "\x1e"
_FIELD_SEP = "\x1f"


@dataclass(frozen=True, slots=True)
class CommitRecord:
    """A commit of a plan, with its trailers parsed (keys may repeat, order kept)."""

    sha: str
    subject: str
    body: str
    trailers: tuple[tuple[str, str], ...]

    def trailer(self, key: str) -> str | None:
        """The first value of trailer ``key``, or ``None``."""
        return next((v for k, v in self.trailers if k == key), None)

    def trailer_values(self, key: str) -> tuple[str, ...]:
        """Every value of trailer ``key``, in order."""
        return tuple(v for k, v in self.trailers if k == key)


class RefOps(GitCalls):
    """HEAD, branches, config entries and history (see the module docstring)."""

    # --- where we stand ----------------------------------------------------------------

    def head(self) -> str:
        """The sha HEAD points at; refuses an unborn branch."""
        try:
            return self._git("rev-parse", "--verify", "-q", "HEAD")
        except GitError:
            msg = "the branch has no commits yet: commit the code the plan migrates first"
            raise PreconditionError(msg) from None

    def current_branch(self) -> str | None:
        """The checked-out branch, or ``None`` on a detached HEAD."""
        try:
            return self._git("symbolic-ref", "-q", "--short", "HEAD")
        except GitError:
            return None

    def branch_exists(self, name: str) -> bool:
        """Whether ``refs/heads/NAME`` exists."""
        return self._git_ok("show-ref", "--verify", "--quiet", f"refs/heads/{name}")

    def branch_sha(self, name: str) -> str | None:
        """The sha of branch ``name``, or ``None``."""
        try:
            return self._git("rev-parse", "--verify", "-q", f"refs/heads/{name}")
        except GitError:
            return None

    def operation_in_progress(self) -> str | None:
        """A merge, rebase, cherry-pick, revert or bisect the user left half-done, if any."""
        markers = {
            "MERGE_HEAD": "a merge",
            "rebase-merge": "a rebase",
            "rebase-apply": "a rebase or git am",
            "CHERRY_PICK_HEAD": "a cherry-pick",
            "REVERT_HEAD": "a revert",
            "BISECT_LOG": "a bisect",
        }
        return next((what for m, what in markers.items() if (self.git_dir / m).exists()), None)

    def dirty_paths(self) -> list[str]:
        """Tracked changes and untracked, not ignored files (``git status --porcelain``)."""
        # GIT_OPTIONAL_LOCKS=0: no opportunistic index refresh, so asking never writes the
        # index (a rehearsal promises the user's index stays byte for byte as it was).
        out = self._git(
            "status",
            "--porcelain",
            "-z",
            "--untracked-files=normal",
            env={"GIT_OPTIONAL_LOCKS": "0"},
        )
        entries = [e for e in out.split("\0") if e]
        return [e[3:] for e in entries if len(e) > 3 and e[2] == " "]

    def parent(self, sha: str) -> str:
        """The first parent of ``sha``."""
        return self._git("rev-parse", "--verify", f"{sha}^")

    def head_state(self) -> tuple[str | None, str]:
        """``(branch, sha)`` of HEAD in one call (branch ``None``: detached)."""
        out = self._git("rev-parse", "HEAD", "--symbolic-full-name", "HEAD")
        sha, _, ref = out.partition("\n")
        return (ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None), sha

    def head_where(self) -> tuple[str | None, str | None]:
        """``(branch, sha)`` of HEAD, never raising: branch ``None`` when detached, sha
        ``None`` when HEAD names a branch with no commit (deleted, or an orphan checkout)."""
        try:
            return self.head_state()
        except GitError:
            pass
        try:
            ref = self._git("symbolic-ref", "-q", "HEAD")
        except GitError:
            return None, None
        return ref.removeprefix("refs/heads/"), None

    def config_entries(self) -> list[tuple[str, str, str, str]]:
        """``(scope, origin, key, value)`` of every config entry git reads, includes too."""
        try:
            out = self._git("config", "--list", "--show-origin", "--show-scope", "-z")
        except GitError:
            return []
        parts = out.split("\0")
        entries = []
        for i in range(0, len(parts) - 2, 3):
            key, _, value = parts[i + 2].partition("\n")
            entries.append((parts[i], parts[i + 1], key, value))
        return entries

    def put_branch(self, name: str, sha: str, old: str | None) -> None:
        """Branch ``name`` at ``sha`` again, only if it is still at ``old`` (``None``: absent)."""
        self._git(
            "update-ref", "-m", "runner: branch put back", f"refs/heads/{name}", sha, old or ""
        )

    def is_ancestor(self, older: str, newer: str) -> bool:
        """Whether ``older`` is ``newer`` or one of its ancestors."""
        return self._git_ok("merge-base", "--is-ancestor", older, newer)

    def point_head(self, branch: str | None, sha: str) -> None:
        """HEAD back on ``branch`` (or detached at ``sha``); tree, index and branches stay."""
        if branch is not None:
            self._git("symbolic-ref", "HEAD", f"refs/heads/{branch}")
        else:
            self._git("update-ref", "--no-deref", "HEAD", sha)

    # --- branches ----------------------------------------------------------------------

    def switch_branch(self, name: str, *, create: bool) -> None:
        """Check out ``name`` (clean tree assumed), creating it from HEAD when asked."""
        if create:
            self._git("switch", "-q", "-c", name)
        else:
            self._git("switch", "-q", name)

    def delete_branch(self, name: str, sha: str) -> None:
        """Delete branch ``name`` if it still points at ``sha`` (else git refuses)."""
        self._git("update-ref", "-d", f"refs/heads/{name}", sha)

    # --- history -----------------------------------------------------------------------

    def plan_commits(self, plan_name: str, head: str = "HEAD") -> list[CommitRecord]:
        """Commits of ``plan_name`` on the first-parent line of ``head``, oldest first.

        ``git log --grep`` does the filtering in C, so a long history costs little.
        """
        fmt = f"%H{_FIELD_SEP}%s{_FIELD_SEP}%B{_FIELD_SEP}%(trailers:only,unfold){_RECORD_SEP}"
        out = self._git(
            "log",
            "--first-parent",
            "--reverse",
            "-E",
            f"--grep=^Runner-Plan: {re.escape(plan_name)}$",
            f"--format={fmt}",
            head,
        )
        return [_parse_record(r) for r in out.split(_RECORD_SEP) if r.strip()]

    def rev_list(self, revision_range: str) -> list[str]:
        """First-parent commits of ``A..B``, newest first."""
        out = self._git("rev-list", "--first-parent", revision_range)
        return out.split()

    def merges(self, revision_range: str) -> set[str]:
        """Merge commits on the first-parent line of ``A..B``."""
        return set(self._git("rev-list", "--first-parent", "--merges", revision_range).split())

    def subject(self, sha: str) -> str:
        """A commit's subject line."""
        return self._git("log", "-1", "--format=%s", sha)

    def blob(self, sha: str, path: str) -> str:
        """The blob id of ``path`` in commit ``sha``."""
        return self._git("rev-parse", f"{sha}:{path}")


def _parse_record(raw: str) -> CommitRecord:
    sha, subject, body, trailers = raw.lstrip("\n").split(_FIELD_SEP, 3)
    pairs = []
    for line in trailers.split("\n"):  # git's lines: a name may hold U+2028 or U+0085
        key, sep, value = line.partition(": ")
        if sep:
            pairs.append((key.strip(), value.strip()))
    return CommitRecord(sha.strip(), subject, body, tuple(pairs))
