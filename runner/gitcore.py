"""How runner calls git: one pinned GitPython handle, errors turned into ``GitError``.

Every git call a :class:`~runner.git.Repository` makes goes through :class:`GitCalls`, which
names the git dir and the work tree in the environment (see :func:`pin`), so that nothing a
plan command does to git's setup can send runner's own calls elsewhere. Together with
:mod:`runner.git` and :mod:`runner.gitindex` (the parts of one class, split by concern), the
only place GitPython is imported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git as gitpython

from runner.errors import GitError

__all__ = [
    "LITERAL_ENV",
    "PATCH_FLAGS",
    "GitCalls",
    "SavedPatch",
    "files_in",
    "pinned_repo",
    "write_durably",
]

#: For git calls that take only paths: every argument is the path itself, never a pattern
#: (``routes/[ab].py`` names that one file, not ``routes/a.py`` and ``routes/b.py``) and
#: never pathspec magic (a file named ``:(top)x``). Calls that need ``settings.exclude``'s
#: ``:(exclude,glob)`` magic (``grep_files``) take no user path and keep the magic.
LITERAL_ENV = {"GIT_LITERAL_PATHSPECS": "1"}

#: A patch that ``git apply`` takes back whatever the user's diff settings (external diff
#: tools, textconv filters, custom prefixes).
PATCH_FLAGS = (
    "--binary",
    "--full-index",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)


@dataclass(frozen=True, slots=True)
class SavedPatch:
    """What :meth:`Repository.save_patch` wrote: how many files, and whether a reset
    might leave something behind that the caller must check for."""

    files: int
    may_leave_behind: bool


class GitCalls:
    """A working tree and its git directory, and the one way runner calls git on them."""

    def __init__(self, repo: gitpython.Repo) -> None:
        self._repo = repo
        self.root = Path(str(repo.working_tree_dir)).resolve()
        self.git_dir = Path(repo.git_dir).resolve()
        self.common_dir = Path(repo.common_dir).resolve()
        pin(repo, self.git_dir, self.root)

    def close(self) -> None:
        """Stop GitPython's helper processes."""
        self._repo.close()

    # --- plumbing ----------------------------------------------------------------------

    def _git(self, *args: str, **kwargs: Any) -> str:  # noqa: ANN401 - GitPython's options
        return str(self._call(*args, **kwargs))

    def _git_bytes(self, *args: str, env: dict[str, str] | None = None) -> bytes:
        """Raw stdout, trailing newline kept: patches must apply byte for byte."""
        out = self._call(*args, stdout_as_string=False, strip_newline_in_stdout=False, env=env)
        if not isinstance(out, bytes):
            msg = f"git {args[0]} returned {type(out).__name__}, not bytes"
            raise TypeError(msg)
        return out

    def _call(self, *args: str, **kwargs: Any) -> object:  # noqa: ANN401 - GitPython's options
        try:
            out: object = getattr(self._repo.git, args[0].replace("-", "_"))(*args[1:], **kwargs)
        except gitpython.GitCommandError as e:
            stderr = (e.stderr or "").strip().removeprefix("stderr:").strip(" '\n")
            msg = f"git {args[0]} failed: {stderr or e}"
            raise GitError(msg) from None
        return out

    def path_exists_at(self, sha: str, path: str) -> bool:
        """Whether ``path`` is a file in commit ``sha``."""
        return self._git_ok("cat-file", "-e", f"{sha}:{path}")

    def _git_ok(self, *args: str) -> bool:
        try:
            self._git(*args)
        except GitError:
            return False
        return True


def pin(repo: gitpython.Repo, git_dir: Path, root: Path) -> None:
    """Every git call of ``repo`` names its git dir and work tree in the environment.

    ``GIT_DIR``/``GIT_WORK_TREE`` win over ``core.worktree`` and ``core.bare``: a plan command
    that sets them (or a gate, or a hook) cannot send runner's own ``git add``/``reset``
    outside the repository it opened. :mod:`runner.ownership.gitsetup` then notices the
    change and fails the step.
    """
    repo.git.update_environment(GIT_DIR=str(git_dir), GIT_WORK_TREE=str(root))


@contextmanager
def pinned_repo(root: Path) -> Iterator[gitpython.Repo]:
    """``gitpython.Repo(root)`` whose calls are pinned as :class:`Repository`'s are."""
    with gitpython.Repo(root) as repo:
        pin(repo, Path(repo.git_dir).resolve(), root.resolve())
        yield repo


def files_in(patch: bytes) -> int:
    """Files in a patch: one "diff --git" header each. Content lines start with " ", "+",
    "-" or a backslash and binary hunks are base85, so no other line starts that way."""
    return patch.count(b"\ndiff --git ") + patch.startswith(b"diff --git ")


def write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
