"""A run refused at its start leaves the repository as it found it.

The preflight switches to ``settings.branch`` (creating it) and opens the journal before it
takes the run's snapshot of ignored files and flagged index entries. Anything that fails in
between (a name git lists that the snapshot cannot write, a full disk) must not leave the
user on another branch with an empty journal: the branch they were on comes back, a branch
made for nothing goes, and the journal of a run that never started is removed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from runner.errors import GitError

if TYPE_CHECKING:
    from runner.context import Runtime

__all__ = ["undone_on_failure"]


@contextmanager
def undone_on_failure(
    rt: Runtime, branch: str, wanted: str | None, *, fresh: bool
) -> Iterator[None]:
    """Run the block; if it raises, switch back to ``branch``, delete ``wanted`` when the
    block created it (still at the commit it started from), and remove the journal when
    the block opened it (``fresh``: no recovery wrote to it)."""
    repo = rt.repo
    start = repo.head()
    existed = wanted is None or repo.branch_exists(wanted)
    try:
        yield
    except BaseException:
        with contextlib.suppress(GitError, OSError):
            if fresh:
                rt.journal.close(archive_as=None)
                rt.ws.state.journal.unlink(missing_ok=True)
            if repo.current_branch() != branch:
                repo.switch_branch(branch, create=False)
            if not existed and wanted is not None:
                repo.delete_branch(wanted, start)
        raise
