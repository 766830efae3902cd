"""Parse candidate files on every core, and write results only from the parent process.

LibCST parses ~100-120 files/s per core, so a large candidate set goes to a process pool in
chunks; a small one stays in-process, where starting workers would cost more than it saves.
Workers never write: they return a :class:`FileOutcome` (new bytes, follow-ups, or why the
file was skipped), so the parent decides what reaches the disk.

Workers never outlive the runner: the kernel SIGKILLs them when it dies
(:func:`runner.contain.die_with_parent`), and they never hold its lock (a forked child closes
the lock's descriptor first: :func:`runner.contain.keep_from_children`). A worker that dies
(the OOM killer, a stray ``kill``) breaks the pool: :class:`WorkerLost` says so, and the
codemod fails with nothing written.
"""

from __future__ import annotations

import contextlib
import gc
import math
import multiprocessing
import os
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from runner import contain
from runner.codemods import FollowUp
from runner.errors import RunnerError

__all__ = [
    "POOL_THRESHOLD",
    "FileOutcome",
    "WorkerLost",
    "guarded",
    "is_protected",
    "map_files",
    "read_source",
]

#: Below this many candidates the pool's start-up (~50 ms a worker) costs more than parsing
#: in-process.
POOL_THRESHOLD = 32

#: Chunks per worker: a chunk is one round trip to a worker, and whichever worker draws the last
#: one finishes alone, so chunks are kept small (a few files, ~10-30 ms of parsing each).
CHUNKS_PER_WORKER = 16

_T = TypeVar("_T")
_R = TypeVar("_R")


class WorkerLost(RunnerError):
    """A pool worker died before returning its files; nothing was written."""


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What a worker found in one candidate file; ``new_source`` is ``None`` when unchanged."""

    path: str
    new_source: bytes | None = None
    sites: int = 0
    followups: tuple[FollowUp, ...] = ()
    skipped: str | None = None


def map_files(
    func: Callable[[_T], _R],
    tasks: Sequence[_T],
    jobs: int | None,
    *,
    threshold: int = POOL_THRESHOLD,
) -> list[_R]:
    """``[func(t) for t in tasks]``, across ``jobs`` processes (``None``: all cores) when large.

    Workers are forked on Linux: whatever ``func``'s module imported, LibCST included, is
    inherited rather than imported again in each worker. Raises :class:`WorkerLost` when a
    worker dies.
    """
    workers = min(jobs or os.cpu_count() or 1, len(tasks))
    with _fewer_collections():  # forked workers inherit the setting
        if workers <= 1 or len(tasks) <= threshold:
            return [func(t) for t in tasks]
        chunksize = max(1, math.ceil(len(tasks) / (workers * CHUNKS_PER_WORKER)))
        forked = sys.platform.startswith("linux")
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("fork") if forked else None,
            initializer=contain.die_with_parent,
            initargs=(os.getpid() if forked else None,),
        )
        try:
            results = list(pool.map(func, tasks, chunksize=chunksize))
        except BrokenProcessPool:
            pool.shutdown(wait=False)
            msg = (
                "a codemod worker process died before it finished (killed, or out of memory); "
                "nothing was written"
            )
            raise WorkerLost(msg) from None
        except BaseException:
            # Ctrl-C, SIGTERM, SIGHUP: workers ignore them (the runner rolls back), so drop
            # the queued chunks rather than wait for every file to be parsed.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        return results


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect cyclic garbage 100 times less often while parsing.

    LibCST allocates millions of small nodes, and each 700 allocations start a collection
    that scans them all again: ~60 ms of a 1.2 s codemod on 10,000 files. Collections still
    happen (memory stays bounded), just rarely; the old thresholds come back afterwards.
    """
    old = gc.get_threshold()
    gc.set_threshold(old[0] * 100, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def guarded(func: Callable[[_T], FileOutcome], task: _T) -> FileOutcome:
    """``func(task)``, or a skipped file when the codemod fails on it.

    One file that trips a codemod bug (or LibCST) must not stop a migration of thousands:
    that file is left byte-identical and reported with the error, the others go on.
    """
    try:
        return func(task)
    except Exception as e:  # noqa: BLE001 - reported as a skipped file, never swallowed
        path = task[1] if isinstance(task, tuple) and len(task) > 1 else "?"
        why = f"the codemod failed on this file ({type(e).__name__}: {e}); left unchanged"
        return FileOutcome(path=str(path), skipped=why)


def read_source(root: Path, path: str) -> bytes | str:
    """The file's bytes, or why it cannot be read (the message of the ``OSError``)."""
    try:
        return (root / path).read_bytes()
    except OSError as e:
        return f"cannot read: {e.strerror or e}"


def is_protected(path: str, protected: Collection[str]) -> bool:
    """Whether a partial rollback took ``path`` (or a folder holding it) back from the plan."""
    if path in protected:
        return True
    return any(path.startswith(p.rstrip("/") + "/") for p in protected if p)
