"""The index and the paths a run owns, and the shape of the repository: git for
:mod:`runner.ownership` and :mod:`runner.preflight`.

Part of :class:`runner.git.Repository` (which inherits :class:`IndexOps`), kept apart because
these calls serve one concern: which paths a rollback may touch (flags, ignored and untracked
files, literal restores) and what shape the repository has (shallow, sparse, nested
repositories, identity).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import git as gitpython

from runner.errors import GitError
from runner.gitcore import LITERAL_ENV, PATCH_FLAGS, GitCalls, SavedPatch, files_in, write_durably

__all__ = ["IndexOps"]

#: Paths :meth:`Repository.literal_differences` names on git's command line, at most.
_DIFF_ARGS = 500


class IndexOps(GitCalls):
    """Index, untracked-file and repository-shape queries (see the module docstring)."""

    # --- repository shape (see runner.preflight) ---------------------------------------

    def is_shallow(self) -> bool:
        """Whether this is a shallow clone (``git clone --depth``): history ends early."""
        return self._git("rev-parse", "--is-shallow-repository") == "true"

    def start_tracked_check(self) -> Callable[[], bool]:
        """Start ``git diff-files --quiet`` (does every tracked file still match the index's
        stat data?) and return the function that waits for its answer.

        One ``lstat`` a file, no read, no index write, no untracked scan; started early, it
        runs beside whatever the caller does meanwhile (a commit, which touches neither the
        index nor the working tree).
        """
        proc = self._repo.git.diff_files("--quiet", as_process=True)

        def answer() -> bool:
            try:
                proc.wait()
            except gitpython.GitCommandError:
                return False  # exit 1: a difference (or git could not tell)
            return True

        return answer

    def untracked_repositories(self) -> list[str]:
        """Untracked, not ignored folders that are repositories of their own (``sub/``).

        ``ls-files --others`` does not descend into a folder holding a ``.git``: it lists
        the folder itself, with a trailing slash, and ``git add`` would stage it as a
        gitlink. Folders (of any depth) are listed file by file otherwise.
        """
        out = self._git("ls-files", "--others", "--exclude-standard", "-z")
        return [p.rstrip("/") for p in out.split("\0") if p.endswith("/")]

    def added_gitlinks(self, base: str, tree: str) -> list[str]:
        """Paths that are gitlinks (mode 160000) in ``tree`` and were not so in ``base``."""
        out = self._git("diff-tree", "-r", "--raw", "-z", "--no-renames", base, tree)
        fields = out.split("\0")
        return [
            path
            for meta, path in zip(fields[::2], fields[1::2], strict=False)
            if meta.split(" ")[1:2] == ["160000"]
        ]

    def declared_submodules(self, tree: str) -> set[str]:
        """The paths ``.gitmodules`` in ``tree`` declares (``submodule.X.path``)."""
        if not self.path_exists_at(tree, ".gitmodules"):
            return set()
        try:
            out = self._git(
                "config", "--blob", f"{tree}:.gitmodules", "--get-regexp", r"^submodule\..*\.path$"
            )
        except GitError:
            return set()  # no entry, or not a config file git can read
        return {line.partition(" ")[2] for line in out.splitlines() if line}

    def add_worktree(self, path: Path, sha: str) -> None:
        """A detached worktree of ``sha`` at ``path`` (for rehearsals)."""
        self._git("worktree", "add", "--quiet", "--detach", str(path), sha)

    def sparse_checkout(self) -> bool:
        """Whether ``core.sparseCheckout`` is on (for this worktree or the repository)."""
        try:
            return self._git("config", "--type=bool", "--get", "core.sparseCheckout") == "true"
        except GitError:
            return False  # unset

    def skip_worktree_paths(self) -> list[str]:
        """Tracked paths flagged skip-worktree (``git ls-files -t`` tag ``S``)."""
        out = self._git("ls-files", "-t", "-z", env={"GIT_OPTIONAL_LOCKS": "0"})
        return [e[2:] for e in out.split("\0") if e.startswith("S ")]

    def identity_problem(self) -> str | None:
        """Why git cannot sign a commit with an author and committer here, or ``None``."""
        for who in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
            try:
                self._git("var", who)
            except GitError as e:
                return str(e).rsplit("\n", 1)[-1].removeprefix("fatal: ").strip()
        return None

    # --- the paths a run owns (see runner.ownership.paths) -------------------------------

    def ignored_untracked(self) -> list[str]:
        """Untracked paths the ignore rules cover; a wholly ignored folder comes as ``dir/``
        (one entry, not its files: cheap even beside a large ``venv/``)."""
        out = self._git("ls-files", "-o", "-i", "--exclude-standard", "--directory", "-z")
        return [p for p in out.split("\0") if p]

    def untracked_files(self) -> list[str]:
        """Untracked, not ignored files; a nested repository shows as ``dir/``."""
        out = self._git("ls-files", "-o", "--exclude-standard", "-z")
        return [p for p in out.split("\0") if p]

    def flagged_entries(self) -> list[tuple[str, str, str]]:
        """``(tag, blob, path)`` of index entries marked assume-unchanged (a lowercase tag in
        ``git ls-files -v``) or skip-worktree (``S``): git hides their local edits."""
        out = self._git("ls-files", "-v", "-s", "-z")
        found = []
        for entry in out.split("\0"):
            if entry and (entry[0].islower() or entry[0] == "S"):
                meta, _, path = entry[2:].partition("\t")
                found.append((entry[0], meta.split()[1], path))
        return found

    def index_flags(self) -> dict[str, tuple[str, str, str]]:
        """``path -> (tag, mode, blob)`` of every flagged index entry (see
        :meth:`flagged_entries`); the mode too, so an entry can be written back as it was."""
        out = self._git("ls-files", "-v", "-s", "-z")
        found = {}
        for entry in out.split("\0"):
            if entry and (entry[0].islower() or entry[0] == "S"):
                meta, _, path = entry[2:].partition("\t")
                mode, blob = meta.split()[:2]
                found[path] = (entry[0], mode, blob)
        return found

    def index_entry(self, path: str) -> tuple[str, str, str] | None:
        """``(tag, mode, blob)`` of ``path``'s index entry (any tag), or ``None``."""
        out = self._git("ls-files", "-v", "-s", "-z", "--", path, env=LITERAL_ENV)
        for entry in out.split("\0"):
            meta, _, name = entry[2:].partition("\t")
            if entry and name == path:
                mode, blob = meta.split()[:2]
                return entry[0], mode, blob
        return None

    def set_index_entry(self, path: str, mode: str, blob: str) -> None:
        """Write ``path``'s index entry as ``mode``/``blob``; the file on disk is not read."""
        self._git("update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}")

    def set_flags(self, path: str, *, assume: bool, skip: bool) -> None:
        """Set or clear ``path``'s assume-unchanged and skip-worktree marks (one call each:
        of two such options in one ``git update-index``, the last wins)."""
        for mark in ("--assume-unchanged" if assume else "--no-assume-unchanged",
                     "--skip-worktree" if skip else "--no-skip-worktree"):  # fmt: skip
            self._git("update-index", mark, "--", path, env=LITERAL_ENV)

    def index_changes(self, base: str) -> list[tuple[str, str]]:
        """``(status, path)`` of each index entry that differs from ``base`` (``A``: not in
        ``base``, ``D``: not in the index, ``M``/``T``: changed)."""
        out = self._git("diff", "--cached", "--name-status", "-z", "--no-renames", base)
        parts = out.split("\0")
        return [(parts[i][:1], parts[i + 1]) for i in range(0, len(parts) - 1, 2) if parts[i]]

    def unstaged_paths(self) -> list[str]:
        """Tracked paths whose working-tree file differs from the index."""
        out = self._git("diff", "--name-only", "-z", "--no-renames")
        return [p for p in out.split("\0") if p]

    def stage_new(self, paths: Sequence[str]) -> None:
        """Stage exactly ``paths``, names taken literally (``[ab].py`` is one file)."""
        with self._literal_paths(paths) as spec:
            if spec:
                self._git("add", "-A", *spec, env=LITERAL_ENV)

    def unstage_new(self, paths: Sequence[str]) -> None:
        """Drop ``paths`` from the index; the files on disk stay as they are."""
        with self._literal_paths(paths) as spec:
            if spec:
                self._git("rm", "-q", "-r", "--cached", "--ignore-unmatch", *spec, env=LITERAL_ENV)

    def restore_literal(self, sha: str, present: Sequence[str], absent: Sequence[str]) -> None:
        """``present`` paths as in ``sha``, ``absent`` ones removed, in index and tree; no
        other index entry (nor its flags) is touched.

        The removal comes first and takes exactly the ``absent`` entries, never a folder
        recursively: a step that swapped folder ``conf/`` for a file ``conf`` (or a symlink)
        must get the file out of the way before ``conf/app.ini`` is checked out again, and
        the removal must not take what the checkout just restored.
        """
        with self._literal_paths(absent) as spec:
            if spec:
                self._git("rm", "-q", "-f", "--ignore-unmatch", *spec, env=LITERAL_ENV)
        with self._literal_paths(present) as spec:
            if spec:
                self._git("checkout", "-q", sha, *spec, env=LITERAL_ENV)

    def literal_differences(
        self, sha: str, present: Sequence[str], absent: Sequence[str]
    ) -> list[str]:
        """Which of the paths :meth:`restore_literal` took back the index or the working tree
        holds otherwise than ``sha`` (an ``absent`` one must be in neither): the check after
        a restore, so a rollback never says it is done when it is not."""
        wanted = {*present, *absent}
        if not wanted:
            return []
        # `git diff` takes no pathspec file: a few paths go as arguments; many, and git
        # compares every path (one stat each), of which the restored ones are kept.
        spec = ["--", *sorted(wanted)] if len(wanted) <= _DIFF_ARGS else []
        cached = self._git(
            "diff", "--cached", "--name-only", "-z", "--no-renames", sha, *spec, env=LITERAL_ENV
        )
        # Inside a submodule is beyond a restore: the caller's own check names it.
        tree = self._git(
            "diff", "--name-only", "-z", "--no-renames", "--ignore-submodules=all", sha, *spec,
            env=LITERAL_ENV,
        )  # fmt: skip
        found = {p for p in (cached + "\0" + tree).split("\0") if p in wanted}
        # Still on disk out of the index: git diff does not see it (a folder is fine: a
        # restored path may lie in it).
        found.update(p for p in absent if (self.root / p).is_symlink() or (self.root / p).is_file())
        return sorted(found)

    def move_branch(self, sha: str, old: str) -> None:
        """Point the checked-out branch at ``sha`` (refused if it is no longer at ``old``);
        the index and the tree are the caller's business."""
        self._git("update-ref", "-m", f"runner: rollback to {sha[:12]}", "HEAD", sha, old)

    def save_tree_patch(self, base: str, dest: Path, *, cached: bool) -> SavedPatch:
        """``base`` → the working tree (``cached``: → the index) as a patch at ``dest``; new
        files reach it through the index (stage them first). Nothing is staged here."""
        patch = self._git_bytes("diff", *(["--cached"] if cached else []), *PATCH_FLAGS, base)
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_durably(dest, patch)
        beyond = b"\nSubproject commit " in patch or (self.root / ".gitmodules").exists()
        return SavedPatch(files_in(patch), beyond)

    def blob_bytes(self, blob: str) -> bytes:
        """A blob's content, byte for byte."""
        return self._git_bytes("cat-file", "blob", blob)

    @contextmanager
    def _literal_paths(self, paths: Sequence[str]) -> Iterator[tuple[str, ...]]:
        """``--pathspec-from-file`` arguments for ``paths`` (no argument-length limit), or
        ``()`` when there are none."""
        if not paths:
            yield ()
            return
        with tempfile.NamedTemporaryFile(
            "wb", dir=self.git_dir, prefix="runner-paths-", delete=False
        ) as f:
            f.write(b"\0".join(os.fsencode(p) for p in paths))
        try:
            yield (f"--pathspec-from-file={f.name}", "--pathspec-file-nul")
        finally:
            Path(f.name).unlink(missing_ok=True)
