"""From an action to a :class:`CodemodResult`: candidates, parallel parsing, then writing.

The engine-facing functions in :mod:`runner.codemods` delegate here. Candidates come from
``git grep`` (never missing a site: a file can only refer to ``pkg.old.Engine`` by containing
``Engine``, or to module ``pkg.old`` by containing ``old``); files the plan must not touch
(``exclude`` globs, paths taken back by a partial rollback) are never read. Every candidate is
parsed before any file is written, and only the parent process writes.

``git grep`` runs in a thread while the codemod's module (and with it LibCST, ~150 ms) is
imported: the one waits on a subprocess, the other on the interpreter, so neither waits for
the other. LibCST is thereby loaded before the process pool forks its workers, which inherit
it instead of importing it again each.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TypeVar

from runner.codemods import CodemodResult, SkippedFile
from runner.codemods._parallel import (
    FileOutcome,
    WorkerLost,
    guarded,
    is_protected,
    map_files,
)
from runner.codemods._resolve import (
    FileModule,
    file_module,
    module_exists,
    split_dotted,
    symbol_module,
)
from runner.codemods._write import write_all
from runner.model import MoveImport, RewriteCall

__all__ = ["run_move_import", "run_rewrite_call"]

_S = TypeVar("_S")


def _grep(
    pool: ThreadPoolExecutor, root: Path, tokens: Sequence[str], exclude: Sequence[str]
) -> Future[list[str]]:
    """``git grep`` for the candidates, started in ``pool`` (see the module doc)."""
    from runner.git import grep_files  # noqa: PLC0415 - GitPython loads only when a codemod runs

    return pool.submit(grep_files, root, tokens, exclude=exclude)


def _run(
    root: Path,
    found: list[str],
    worker: Callable[[tuple[str, str, FileModule | None, _S]], FileOutcome],
    spec: _S,
    *,
    protected: Collection[str],
    source_roots: Sequence[str],
    jobs: int | None,
    max_file_size: int | None,
) -> CodemodResult:
    paths = [p for p in found if not is_protected(p, protected)]
    too_large = _too_large(root, paths, max_file_size)
    paths = [p for p in paths if p not in too_large]
    tasks = [(str(root), p, file_module(p, source_roots), spec) for p in paths]
    try:
        outcomes = map_files(partial(guarded, worker), tasks, jobs)
    except WorkerLost as e:
        return CodemodResult(errors=(str(e),))
    # A file is written only where a site was rewritten: LibCST may normalise untouched
    # spacing (``except E :``), and a file the codemod did not change must stay byte-identical.
    written = [
        (o.path, o.new_source)
        for o in outcomes
        if o.new_source is not None and o.sites and o.skipped is None
    ]
    write_all(root, written)  # all or nothing: a failed write puts the others back
    skipped = [SkippedFile(o.path, o.skipped) for o in outcomes if o.skipped is not None]
    return CodemodResult(
        changed=tuple(sorted(path for path, _ in written)),
        sites=sum(o.sites for o in outcomes),
        followups=tuple(f for o in outcomes for f in o.followups),
        skipped=tuple(sorted([*skipped, *too_large.values()], key=lambda f: f.path)),
    )


def _too_large(root: Path, paths: Sequence[str], limit: int | None) -> dict[str, SkippedFile]:
    """Candidates over ``limit`` bytes, each with the message that says so.

    LibCST took ~60 s and 4.2 GB for one 5 MB module: such a file (generated code, data
    in a ``.py``) is left unchanged and named rather than parsed. One ``stat`` a candidate.
    """
    out: dict[str, SkippedFile] = {}
    if limit is None:
        return out
    for path in paths:
        try:
            size = (root / path).stat().st_size
        except OSError:
            continue  # the worker says why it cannot be read
        if size > limit:
            why = (
                f"{_mb(size)}, over settings.max-file-size ({_mb(limit)}); left unchanged: "
                "rewrite it by hand, or raise the limit"
            )
            out[path] = SkippedFile(path, why)
    return out


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def _is_symbol(root: Path, source_roots: Sequence[str], dotted: str) -> bool:
    """Whether ``dotted`` names a symbol inside a module rather than a module."""
    if module_exists(root, source_roots, dotted):
        return False
    parent, last = split_dotted(dotted)
    if parent and module_exists(root, source_roots, parent):
        return True
    return last[:1].isupper()


def run_move_import(
    action: MoveImport,
    root: Path,
    *,
    exclude: Sequence[str],
    protected: Collection[str],
    source_roots: Sequence[str],
    jobs: int | None,
    max_file_size: int | None = None,
) -> CodemodResult:
    """``move-import`` over the repository at ``root``."""
    moves = action.moves
    tokens = sorted({split_dotted(m.from_)[1] for m in moves})
    with ThreadPoolExecutor(1) as threads:
        found = _grep(threads, root, tokens, exclude)
        from runner.codemods.move_import import MoveSpec, move_file  # noqa: PLC0415 - LibCST

        spec = MoveSpec(
            froms=tuple(m.from_ for m in moves),
            tos=tuple(m.to for m in moves),
            aliases=tuple(m.as_ for m in moves),
            strings=tuple(m.strings == "exact" for m in moves),
            symbol_parents=tuple(
                split_dotted(m.from_)[0] for m in moves if _is_symbol(root, source_roots, m.from_)
            ),
        )
        paths = found.result()
    return _run(
        root,
        paths,
        move_file,
        spec,
        protected=protected,
        source_roots=source_roots,
        jobs=jobs,
        max_file_size=max_file_size,
    )


def run_rewrite_call(
    action: RewriteCall,
    root: Path,
    *,
    exclude: Sequence[str],
    protected: Collection[str],
    source_roots: Sequence[str],
    jobs: int | None,
    max_file_size: int | None = None,
) -> CodemodResult:
    """``rewrite-call`` over the repository at ``root``."""
    tokens = sorted({split_dotted(r.from_)[1] for r in action.rewrites})
    with ThreadPoolExecutor(1) as threads:
        found = _grep(threads, root, tokens, exclude)
        from runner.codemods.rewrite_call import (  # noqa: PLC0415 - LibCST
            CallSpec,
            RewriteSpec,
            rewrite_file,
        )

        spec = RewriteSpec(
            tuple(
                CallSpec(
                    r.from_, r.to, r.await_, symbol_module(root, source_roots, r.to), r.template
                )
                for r in action.rewrites
            )
        )
        paths = found.result()
    return _run(
        root,
        paths,
        rewrite_file,
        spec,
        protected=protected,
        source_roots=source_roots,
        jobs=jobs,
        max_file_size=max_file_size,
    )
