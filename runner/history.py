"""The plan's state, rebuilt from git alone: commit trailers are the truth.

Like alembic's version row, updated inside each migration's transaction, the record of a
step lives in the very commit that holds its change. A fresh clone, another machine or a run
after a crash reads the same state from the branch: which steps are done (and with which
definition digest), which were reverted, which files a person took back, and the
``forbid-imports`` counts recorded when the plan first started.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from runner.codemods import FollowUp
from runner.git import CommitRecord
from runner.pathquote import quote_path, unquote_path

__all__ = [
    "T_BASELINE",
    "T_DIGEST",
    "T_GATE",
    "T_HELD_BACK",
    "T_PLAN",
    "T_RESULT",
    "T_REVERTS",
    "T_ROLLBACK_FILE",
    "T_ROLLBACK_TO",
    "T_STEP",
    "DoneStep",
    "PlanHistory",
    "followups_block",
    "read_history",
]

T_PLAN = "Runner-Plan"
T_STEP = "Runner-Step"
T_DIGEST = "Runner-Step-Digest"
T_GATE = "Runner-Gate"
T_RESULT = "Runner-Result"  # "failed (on-failure: continue)" when a failed step went on
T_BASELINE = "Runner-Baseline"  # "pkg.old,pkg.old.Engine=128"
T_HELD_BACK = "Runner-Held-Back"  # a path a partial step left out (on-failure: isolate)
T_REVERTS = "Runner-Reverts"  # the sha a revert commit undoes
T_ROLLBACK_FILE = "Runner-Rollback-File"  # a file a partial rollback took back
T_ROLLBACK_TO = "Runner-Rollback-To"  # before which step it took them back

_FOLLOWUPS_HEADER = "Manual follow-ups:"
# A quoted path (see runner.pathquote) first: it may hold anything, ":12: " included.
_FOLLOWUP_LINE = re.compile(r'^  (?P<path>"(?:[^"\\]|\\.)*"|\S.*?):(?P<line>\d+): (?P<reason>.+)$')


@dataclass(frozen=True, slots=True)
class DoneStep:
    """A step whose checkpoint commit is on the branch and not reverted."""

    key: str
    sha: str
    digest: str
    failed: bool  # committed by ``on-failure: continue`` after a failed gate
    gates: tuple[str, ...]
    followups: tuple[FollowUp, ...]
    held_back: tuple[str, ...] = ()  # a partial step's files left out (on-failure: isolate)


@dataclass(frozen=True, slots=True)
class PlanHistory:
    """Everything the branch says about one plan."""

    done: Mapping[str, DoneStep] = field(default_factory=dict)
    protected: frozenset[str] = frozenset()
    baselines: Mapping[str, int] = field(default_factory=dict)
    commits: tuple[CommitRecord, ...] = ()
    reverted: frozenset[str] = frozenset()
    partial_rollbacks: tuple[CommitRecord, ...] = ()

    @property
    def live_step_commits(self) -> tuple[CommitRecord, ...]:
        """The commits of the steps that are done (not reverted), oldest first."""
        live = {d.sha for d in self.done.values()}
        return tuple(c for c in self.commits if c.sha in live)

    @property
    def first_step_commit(self) -> CommitRecord | None:
        """The oldest live step commit: its parent is where the plan started."""
        return next(iter(self.live_step_commits), None)


def read_history(commits: Iterable[CommitRecord]) -> PlanHistory:
    """Fold the plan's commits, oldest first, into its current state."""
    ordered = tuple(commits)
    done: dict[str, DoneStep] = {}
    reverted: set[str] = set()
    protected: set[str] = set()
    baselines: dict[str, int] = {}
    partial: list[CommitRecord] = []
    for commit in ordered:
        for value in commit.trailer_values(T_BASELINE):
            key, _, count = value.rpartition("=")
            if key and count.isdigit():
                baselines.setdefault(key, int(count))
        if undone := commit.trailer(T_REVERTS):
            reverted.add(undone)
            done = {k: d for k, d in done.items() if d.sha != undone}
            continue
        if files := commit.trailer_values(T_ROLLBACK_FILE):
            protected.update(unquote_path(f) for f in files)
            partial.append(commit)
            continue
        if step := commit.trailer(T_STEP):
            done[step] = DoneStep(
                key=step,
                sha=commit.sha,
                digest=commit.trailer(T_DIGEST) or "",
                failed=(commit.trailer(T_RESULT) or "").startswith("failed"),
                gates=commit.trailer_values(T_GATE),
                followups=_parse_followups(commit.body),
                held_back=tuple(unquote_path(p) for p in commit.trailer_values(T_HELD_BACK)),
            )
    return PlanHistory(
        done=done,
        protected=frozenset(protected),
        baselines=baselines,
        commits=ordered,
        reverted=frozenset(reverted),
        partial_rollbacks=tuple(partial),
    )


def followups_block(followups: Iterable[FollowUp]) -> str:
    """The commit-body section listing manual follow-ups (parsed back by ``status``).

    Paths are quoted as git quotes them, and always when they hold a ``:`` (which the
    ``path:line:`` form would split at), so every path reads back as it was written.
    """
    lines = [
        f"  {quote_path(f.path, always=':' in f.path)}:{f.line}: {f.reason}" for f in followups
    ]
    return "\n".join([_FOLLOWUPS_HEADER, *lines]) if lines else ""


def _parse_followups(body: str) -> tuple[FollowUp, ...]:
    found: list[FollowUp] = []
    inside = False
    for line in body.split("\n"):  # git's lines (splitlines also splits at U+2028)
        if line == _FOLLOWUPS_HEADER:
            inside = True
            continue
        match = _FOLLOWUP_LINE.match(line) if inside else None
        if match is None:
            inside = False
            continue
        path = unquote_path(match["path"])
        found.append(FollowUp(path, int(match["line"]), match["reason"]))
    return tuple(found)
