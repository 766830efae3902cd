"""Before a run's first step: refuse what it must not start from, finish what a crash left.

In order: repository shapes runner cannot work on (sparse, shallow, no identity), a git
operation or an index lock in the way, a detached or unborn HEAD, recovery of an interrupted
run (on its own branch only), uncommitted changes, the switch to the plan's branch (undone if
anything after it fails), the snapshot of what is the user's (ignored files, flagged index
entries), and the counts the plan's gates measure against its start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from runner.context import Runtime
from runner.errors import PreconditionError
from runner.history import PlanHistory, read_history
from runner.ownership.commits import check_recovery
from runner.ownership.paths import RunPaths, start_run
from runner.ownership.preflightundo import undone_on_failure
from runner.preflight import check_repository_shape
from runner.recovery import find_interruption, recover
from runner.startcounts import count_start
from runner.teststart import measure_start

__all__ = ["RunStart", "prepare_run"]


@dataclass(frozen=True, slots=True)
class RunStart:
    """What a run knows once it may start."""

    owned: RunPaths  # what the run found at its start, and is the user's
    history: PlanHistory  # the plan's checkpoints on the branch
    counts: list[str]  # ``forbid-imports`` start counts the first checkpoint must record
    tests: list[str]  # test baselines' body sections the first checkpoint must record


def prepare_run(rt: Runtime, notice: Callable[[str], None]) -> RunStart:
    """Check, recover and snapshot; raise :class:`PreconditionError` (exit 2) to refuse."""
    repo = rt.repo
    check_repository_shape(repo, rt.ws.origin)  # sparse, shallow, no identity: refused
    interruption = find_interruption(rt.ws.state)
    what = repo.operation_in_progress()
    if what and not (interruption and interruption.left_behind(what)):
        msg = f"{what} is in progress in {repo.root}; finish or abort it first"
        raise PreconditionError(msg)
    if (lock := repo.git_dir / "index.lock").exists():  # else the first `git add` fails
        msg = (f"{lock} exists: another git command is running here, or one was killed; "
               "if none is running, remove the file and run again")  # fmt: skip
        raise PreconditionError(msg)
    branch = repo.current_branch()
    repo.head()  # refuses an unborn branch
    check_recovery(rt, interruption)  # the run's own branch, no commits of the user's since
    if branch is None:  # a rehearsal starts on the branch the real run would use
        msg = "HEAD is detached; check out the branch the migration should land on"
        raise PreconditionError(msg)
    if interruption is not None:
        rt.ws.state.journal.replace(rt.ws.state.runs / f"{interruption.run_id}.jsonl")
        rt.journal.open()  # recovery journals its own rollback
        for line in recover(rt, interruption):
            notice(line)
    if dirty := repo.dirty_paths():
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        msg = f"the working tree has uncommitted changes ({shown}); commit or stash them first"
        raise PreconditionError(msg)
    wanted = rt.plan.settings.branch
    with undone_on_failure(rt, branch, wanted, fresh=interruption is None):
        if wanted and branch != wanted:
            repo.switch_branch(wanted, create=not repo.branch_exists(wanted))
            notice(f"on branch {wanted}")
        if interruption is None:
            rt.journal.open()  # only now: a refused run leaves no journal behind
        # ignored files, flagged index entries
        recovers = interruption.run_id if interruption is not None else None
        owned = start_run(repo, rt.ws.state, rt.journal, rt.run_id, recovers=recovers)
    for line in owned.notices():
        notice(line)
    history = read_history(repo.plan_commits(rt.plan.name))
    counts = count_start(rt, history)
    tests = measure_start(rt, history)
    for key in history.done:
        if rt.plan.find_step(key) is None:
            notice(f"the branch records step {key}, which the plan no longer has")
    return RunStart(owned, history, counts, tests)
