"""A rehearsal's private repository: the user's objects, borrowed; nothing of theirs written.

A ``git worktree`` shares refs, tags, config, hooks, the stash and the worktree list with the
user's repository, so a step that tags or configures leaks into it, and removing the worktree
meant ``git worktree prune`` (which unregisters the user's own worktrees on unmounted disks).
Instead, a rehearsal runs in a fresh repository in a temporary folder that borrows the
user's object store through ``objects/info/alternates`` and gets a copy of the user's refs
written straight into its ``packed-refs``: creating it costs one ``git init``, one
``for-each-ref`` and one checkout, and it writes nothing to the user's repository. The user's
``.git/config`` is included read-only (``[include] path``), so gates see the user's settings
while a step's ``git config`` lands in the private file.

It starts where ``runner run`` would start: its HEAD is the user's, and the journal of an
interrupted run is copied in, so the engine's own preflight switches to ``settings.branch``
(creating it from HEAD when missing), refuses a detached HEAD, recovers the interrupted run
and skips done steps there exactly as it would in the user's repository.
Submodules are checked out from the user's submodule object stores; the ignored files the
gates need (``settings.rehearsal-include``) are copied, with reflinks where the filesystem
has them, never linked, through top-level symlinks and with links into the user's tree
pointed at the copy (:mod:`runner.includes`), so nothing the rehearsal writes reaches the
user's copies. The user's ``info/exclude`` and ``info/attributes``, the local content of
files flagged skip-worktree or assume-unchanged, and the identity git finds in the user's
repository are carried over, so the copy ignores, checks out, reads and commits as the
real run would.

The one place it writes in the user's repository is its record folder,
``.git/runner/rehearsals/<id>/`` (logs, patches, report, evidence for ``--replay``). The
temporary folder is removed on every way out (an exception, a failed hook, Ctrl-C); one left
by a SIGKILLed rehearsal is removed by the next, once its processes are stopped.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.context import Workspace
from runner.errors import LockHeld, PreconditionError
from runner.git import Repository, open_repository
from runner.includes import copy_includes, fingerprint, list_includes
from runner.journal import Lock, StateDir, new_run_id
from runner.model import Plan, Settings
from runner.ownership.ignored import copy_snapshot
from runner.process import build_env, kill_orphans, run_command
from runner.rehearsals import SUMMARY, read_summary, rehearsals_dir, write_summary

__all__ = ["DEFAULT_INCLUDE", "Rehearsal", "RehearsalState", "private_workspace"]

#: Ignored files and folders a rehearsal copies when the plan does not say: the project's
#: virtual environments (gates run ``python -m pytest`` from them), its ``.env`` settings
#: and its JavaScript dependencies. Build outputs and caches are left out: a gate that needs
#: them should make them, in the rehearsal as in the real run.
DEFAULT_INCLUDE = Settings().rehearsal_include

_NO_HOOKS = ("-c", "core.hooksPath=/dev/null")
#: The user's root is swapped only where it ends a path component: ``/src/app`` in
#: ``/src/app/.venv`` or ``/src/app:/bin``, never in ``/src/application``.
_PATH_END = rb"(?![\w.-])"


class RehearsalState(StateDir):
    """A rehearsal's runner state: its record folder in the user's ``.git/runner``."""

    def __init__(self, root: Path) -> None:
        self.root = root


@dataclass(frozen=True, slots=True)
class Rehearsal:
    """Where a rehearsal runs, where it keeps its records, and where the user stands."""

    id: str
    records: Path
    folder: Path
    root: Path
    origin_head: str
    origin_branch: str | None
    branch: str | None
    start: str
    created_branch: bool
    notes: tuple[str, ...]
    #: The fingerprints of the user's rehearsal-include files the copies were made from.
    included: dict[str, str]


@contextlib.contextmanager
def private_workspace(
    path: Path, plan: Plan | None, *, keep: bool = False
) -> Iterator[tuple[Workspace, Rehearsal]]:
    """The rehearsal's workspace; its temporary folder is gone when this exits (unless
    ``keep``), whatever happened inside."""
    with open_repository(path) as origin:
        _refuse_beside_a_real_run(origin)
        records = rehearsals_dir(origin.git_dir) / new_run_id()
        _sweep_abandoned(records.parent, origin.root.name)
        records.mkdir(parents=True)
        folder = Path(tempfile.mkdtemp(prefix="runner-rehearsal-"))
        try:
            write_summary(records, {"pid": os.getpid(), "folder": str(folder)}, finished=False)
            rehearsal = _build(origin, plan, records, folder)
            with open_repository(rehearsal.root) as repo:
                ws = Workspace(
                    repo, RehearsalState(records), rehearsal=True, origin=origin.root,
                    environ=_retargeted_env(os.environ, origin.root, rehearsal.root),
                )  # fmt: skip
                yield ws, rehearsal
        finally:
            if not keep:
                shutil.rmtree(folder, ignore_errors=True)


def _refuse_beside_a_real_run(origin: Repository) -> None:
    for git_dir in {origin.git_dir, origin.common_dir}:
        if Lock(StateDir(git_dir), command="").is_held_elsewhere():
            msg = "a real run holds the lock on this repository; rehearse when it has finished"
            raise LockHeld(msg)


def _sweep_abandoned(rehearsals: Path, name: str) -> None:
    """Tidy up after rehearsals that died (SIGKILL) before cleaning up: first stop the
    processes their gates and steps left running (they carry the dead rehearsal's
    ``RUNNER_PID`` and its private ``RUNNER_REPO``, as a real run's orphans do), which would
    otherwise write into the folder again, then remove their temporary folder."""
    for summary in rehearsals.glob(f"*/{SUMMARY}"):
        data = read_summary(summary.parent)
        folder, pid = data.get("folder"), data.get("pid")
        if not folder or "verdict" in data or "swept" in data:
            continue
        if not isinstance(pid, int) or _alive(pid):
            continue
        if Path(folder).name.startswith("runner-rehearsal-"):
            for root in {Path(folder) / name, Path(folder).resolve() / name}:  # /tmp a link
                kill_orphans(pid, root)
            shutil.rmtree(folder, ignore_errors=True)
        write_summary(summary.parent, {"swept": True}, finished=False)


def _build(origin: Repository, plan: Plan | None, records: Path, folder: Path) -> Rehearsal:
    head = origin.head()
    user_branch = origin.current_branch()
    wanted = plan.settings.branch if plan else None
    branch = wanted or user_branch
    existing = origin.branch_sha(wanted) if wanted else None
    if wanted and existing and wanted != user_branch:
        _refuse_branch_elsewhere(origin, wanted, records / "setup.log")
    start = existing or head
    root = folder / origin.root.name
    log = records / "setup.log"
    fmt = _git(origin.root, log, "rev-parse", "--show-object-format").strip() or "sha1"
    _git(folder, log, "init", "-q", "--template=", f"--object-format={fmt}", str(root))
    git_dir = root / ".git"
    (git_dir / "objects/info/alternates").write_text(f"{origin.common_dir / 'objects'}\n")
    if (shallow := origin.common_dir / "shallow").is_file():  # history ends where theirs does
        shutil.copyfile(shallow, git_dir / "shallow")
    refs = _git(origin.root, log, "for-each-ref", "--format=%(objectname) %(refname)")
    lines = {ln.split(" ", 1)[1]: ln for ln in refs.splitlines() if " " in ln}
    (git_dir / "packed-refs").write_text("".join(f"{lines[k]}\n" for k in sorted(lines)))
    # HEAD as the user's: the engine's preflight then switches to (or creates) the plan's
    # branch, or refuses a detached HEAD, exactly as it would in the user's repository.
    (git_dir / "HEAD").write_text(
        f"ref: refs/heads/{user_branch}\n" if user_branch else f"{head}\n"
    )
    _configure(git_dir, origin, log)
    _copy_info(origin, git_dir)
    _git(root, log, *_NO_HOOKS, "reset", "-q", "--hard")
    _carry_local_edits(origin, root, log)
    notes = _check_out_submodules(origin, root, log)
    globs = plan.settings.rehearsal_include if plan else DEFAULT_INCLUDE
    paths = list_includes(origin.root, globs, records / "includes.log")
    included = fingerprint(origin.root, paths)  # the user's, as the real run will see them
    notes += copy_includes(origin.root, root, paths, log)
    _copy_interruption(origin, records)
    return Rehearsal(
        id=records.name,
        records=records,
        folder=folder,
        root=root,
        origin_head=head,
        origin_branch=user_branch,
        branch=branch,
        start=start,
        created_branch=bool(wanted) and existing is None,
        notes=tuple(notes),
        included=included,
    )


def _configure(git_dir: Path, origin: Repository, log: Path) -> None:
    """Read the user's config, write only the private one: the include comes first, so the
    private repository's own settings (``git init``'s, its object format) win.

    The identity is the one git finds in the user's repository: one configured through
    ``includeIf "gitdir:..."`` in the global config matches the user's path, not the
    temporary folder's, so it is read there (``git var``) and written as the private
    repository's ``author.*``/``committer.*``; variables such as ``GIT_AUTHOR_NAME`` still
    override it, as they do in the real run. Without an identity there, none is written
    and the engine's preflight refuses as the real run's would.
    """
    config = git_dir / "config"
    include = f"[include]\n\tpath = {origin.common_dir / 'config'}\n"
    never_gc = "[gc]\n\tauto = 0\n"  # a borrowed object store is never repacked from here
    config.write_text(include + config.read_text() + never_gc + _identity(origin, log))


def _identity(origin: Repository, log: Path) -> str:
    lines = []
    for who in ("author", "committer"):
        try:
            ident = _git(origin.root, log, "var", f"GIT_{who.upper()}_IDENT").strip()
        except PreconditionError:
            return ""
        found = re.fullmatch(r"(.*) <(.*)> \d+ [+-]\d{4}", ident)
        if found is None:
            return ""
        name, email = (_quoted(v) for v in found.groups())
        lines.append(f"[{who}]\n\tname = {name}\n\temail = {email}\n")
    return "".join(lines)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _copy_info(origin: Repository, git_dir: Path) -> None:
    """The user's ``info/exclude`` and ``info/attributes``: what counts as ignored (and so
    as a dirty tree, or an include to copy) and how files check out, as in their repository."""
    for name in ("exclude", "attributes"):
        source = origin.common_dir / "info" / name
        if source.is_file():
            (git_dir / "info").mkdir(exist_ok=True)
            shutil.copyfile(source, git_dir / "info" / name)


def _carry_local_edits(origin: Repository, root: Path, log: Path) -> None:
    """Tracked files the user flagged skip-worktree or assume-unchanged keep their local
    content in the real run (runner never stages them), so the gates read that content:
    the copy gets the same content and the same flags."""
    listed = _git(origin.root, log, "ls-files", "-v", "-z", env={"GIT_OPTIONAL_LOCKS": "0"})
    flags: dict[str, list[str]] = {"--skip-worktree": [], "--assume-unchanged": []}
    for entry in listed.split("\0"):
        tag, rel = entry[:1], entry[2:]
        if tag in {"S", "s"}:
            flags["--skip-worktree"].append(rel)
        if tag.islower():
            flags["--assume-unchanged"].append(rel)
    for flag, paths in flags.items():
        for rel in paths:
            source, target = origin.root / rel, root / rel
            if source.is_symlink() or source.is_file():
                target.unlink(missing_ok=True)
                shutil.copy2(source, target, follow_symlinks=False)
            elif not source.exists():
                target.unlink(missing_ok=True)
        if paths:
            _git(root, log, "update-index", flag, "--", *paths)


def _refuse_branch_elsewhere(origin: Repository, branch: str, log: Path) -> None:
    """The real run's ``git switch`` refuses a branch checked out in another worktree."""
    listed = _git(origin.root, log, "worktree", "list", "--porcelain")
    path = ""
    for field in listed.splitlines():
        if field.startswith("worktree "):
            path = field.removeprefix("worktree ")
        elif field == f"branch refs/heads/{branch}" and Path(path) != origin.root:
            msg = (
                f"git switch failed: fatal: '{branch}' is already checked out at '{path}': "
                f"the real run would refuse too; switch that worktree to another branch, or "
                f"set settings.branch to another name"
            )
            raise PreconditionError(msg)


def _copy_interruption(origin: Repository, records: Path) -> None:
    """An interrupted run's journal, copied: the engine's preflight recovers it in the
    rehearsal as the real run would recover it here, and the user's journal is left as is."""
    journal = StateDir(origin.git_dir).journal  # each worktree has its own run state
    if journal.exists():
        shutil.copyfile(journal, records / "journal.jsonl")
        copy_snapshot(StateDir(origin.git_dir), records)  # the files ignored at its start


def _check_out_submodules(origin: Repository, root: Path, log: Path) -> list[str]:
    """Each submodule the tree records, from the user's own copy of it when there is one."""
    staged = _git(root, log, "ls-files", "-s", "-z")
    links = [e for e in staged.split("\0") if e.startswith("160000 ")]
    if not links:
        return []
    names = _submodule_names(root, log)
    notes = []
    for entry in links:
        meta, rel = entry.split("\t", 1)
        sha = meta.split()[1]
        source = _submodule_store(origin, names.get(rel, rel), rel)
        if source is None:
            notes.append(f"submodule {rel} is not checked out in your repository: empty here too")
            continue
        target = root / rel
        _git(root, log, "init", "-q", "--template=", str(target))
        (target / ".git/objects/info/alternates").write_text(f"{source / 'objects'}\n")
        (target / ".git/HEAD").write_text(f"{sha}\n")
        try:
            _git(target, log, *_NO_HOOKS, "reset", "-q", "--hard")
        except PreconditionError:
            notes.append(f"submodule {rel}: commit {sha[:10]} is not in your copy of it")
    return notes


def _submodule_names(root: Path, log: Path) -> dict[str, str]:
    if not (root / ".gitmodules").is_file():
        return {}
    try:
        out = _git(
            root, log, "config", "-f", ".gitmodules", "--get-regexp", r"^submodule\..*\.path$"
        )
    except PreconditionError:
        return {}
    names = {}
    for line in out.splitlines():
        key, _, rel = line.partition(" ")
        names[rel] = key.removeprefix("submodule.").removesuffix(".path")
    return names


def _submodule_store(origin: Repository, name: str, rel: str) -> Path | None:
    """The git directory holding a submodule's objects in the user's repository."""
    for candidate in (origin.common_dir / "modules" / name, origin.root / rel / ".git"):
        if (candidate / "objects").is_dir():
            return candidate
        if candidate.is_file():  # a gitfile: "gitdir: ../.git/modules/name"
            text = candidate.read_text().strip().removeprefix("gitdir:").strip()
            resolved = (candidate.parent / text).resolve()
            common = resolved / "commondir"
            if common.is_file():
                resolved = (resolved / common.read_text().strip()).resolve()
            if (resolved / "objects").is_dir():
                return resolved
    return None


def _retargeted_env(environ: Mapping[str, str], origin: Path, root: Path) -> dict[str, str]:
    """The environment, with paths into the user's tree (an activated ``.venv/bin`` on
    ``PATH``, ``VIRTUAL_ENV``) pointing into the rehearsal's instead."""
    pattern = re.compile(re.escape(str(origin)) + _PATH_END.decode())
    return {k: pattern.sub(lambda _: str(root), v) for k, v in environ.items()}


# --- small helpers -----------------------------------------------------------------------


def _git(cwd: Path, log: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    done = run_command(
        ("git", *args),
        cwd=cwd,
        env=build_env(os.environ, {"GIT_TERMINAL_PROMPT": "0", **(env or {})}),
        timeout=None,
        log=log,
    )
    if not done.ok:
        msg = f"preparing the rehearsal: git {args[0]} failed: {done.tail(5).strip()}"
        raise PreconditionError(msg)
    return done.log.read_bytes().decode("utf-8", errors="replace")  # git's own, small output


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
