"""The tests failing where a plan starts: the baselines of ``baseline: start`` pytest gates.

"Failing before the migration" means on the plan's starting commit, so each such gate runs
once, before the first step (the tree is that commit then), and the failing ids go into the
first checkpoint (:mod:`runner.testrecord`). A resumed run, or one after a rollback that
kept the first checkpoint, reads them back from the branch instead of running the suite
again; one after a rollback that took the first checkpoint away reuses the ids this
repository measured for the same commit and gate before (``.git/runner/test-baselines.json``),
and a run that replays a rehearsal (``--replay``) reuses the rehearsal's
(``test-baselines.json`` in its records), so the suite runs on the starting commit once.
A plan that gains a baseline gate after some steps are done measures it on the current
commit and says so: that is the closest runner can get without checking out old trees.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from runner.context import Runtime
from runner.errors import PreconditionError
from runner.gates import run_gate
from runner.gates.baseline import TestBaseline, test_baseline_key
from runner.history import PlanHistory
from runner.journal import write_atomically
from runner.model import Gate, PytestGate
from runner.rehearsals import latest_rehearsal, rehearsals_dir
from runner.replay import Recorder, Replayer, stale
from runner.startcounts import all_gates
from runner.testrecord import baseline_section, read_test_baselines

__all__ = ["CACHE", "measure_start"]

CACHE = "test-baselines.json"
_SHOWN = 5


def measure_start(rt: Runtime, history: PlanHistory) -> list[str]:
    """Fill ``rt.test_baselines``; the body sections the next checkpoint must record."""
    rt.test_baselines.update(read_test_baselines(history.commits))
    wanted: dict[str, Gate] = {}
    for gate in all_gates(rt.plan):
        spec = gate.spec
        if isinstance(spec, PytestGate) and spec.baseline == "start":
            key = test_baseline_key(spec)
            if key not in rt.test_baselines:
                wanted.setdefault(key, gate)
    if not wanted or all(s.key in history.done for s in rt.plan.steps):
        return []
    head = rt.repo.head()
    caches = [(where, _entry(path, head)) for where, path in _caches(rt, head)]
    sections: list[str] = []
    for key, gate in wanted.items():
        where, ids = next(((w, c[key]) for w, c in caches if _is_ids(c.get(key))), ("", None))
        if ids is not None:
            baseline = TestBaseline(head, frozenset(ids))
            rt.observer.notice(f"gate {gate.name}: baseline of {head[:10]} reused{where}")
            if where:  # kept here too, for a later run without --replay
                _write_cache(rt, head, key, baseline)
        else:
            baseline = _measure(rt, gate, head, late=history.first_step_commit is not None)
            _write_cache(rt, head, key, baseline)
        rt.test_baselines[key] = baseline
        sections.append(baseline_section(key, baseline))
    return sections


def _measure(rt: Runtime, gate: Gate, head: str, *, late: bool) -> TestBaseline:
    """Run ``gate`` on the tree as it is (``head``), retries included, for its failing ids."""
    assert isinstance(gate.spec, PytestGate)
    where = (
        "the current commit, not the plan's start (steps are done already)"
        if late
        else ("the starting commit")
    )
    rt.observer.notice(f"gate {gate.name}: measuring its baseline on {where} {head[:10]}")
    spec = replace(gate.spec, baseline=None, retries=gate.spec.retries or 0)
    ctx = rt.gate_context("baseline")
    # no bytecode: the tree must stay the commit the first step starts from
    ctx = replace(ctx, env={**ctx.env, "PYTHONDONTWRITEBYTECODE": "1"})
    result = run_gate(Gate(gate.name, spec, gate.timeout), ctx)
    if result.tests is not None:
        failing = frozenset(result.tests.failed)
    elif result.counts and not any(n for _, n in result.counts):
        failing = frozenset()  # pytest collected no test: none fails
    else:
        msg = (
            f"gate {gate.name} could not be run on {head[:10]} to measure its baseline "
            f"({result.summary or result.status.value}); see {result.log}, fix it or remove "
            "'baseline: start' from the gate"
        )
        raise PreconditionError(msg)
    if dirty := rt.repo.dirty_paths():
        shown = ", ".join(dirty[:5])
        msg = (
            f"measuring the baseline of gate {gate.name} left changes in the tree ({shown}); "
            "make the tests clean up after themselves or ignore those files, then run again"
        )
        raise PreconditionError(msg)
    names = sorted(failing)
    more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    listed = ", ".join(names[:_SHOWN]) + more
    told = f": {listed}" if names else ""
    rt.observer.notice(
        f"gate {gate.name}: {len(names)} test{'s' * (len(names) != 1)} failing on "
        f"{head[:10]}, not held against the plan{told}"
    )
    return TestBaseline(head, failing)


def _caches(rt: Runtime, head: str) -> list[tuple[str, Path]]:
    """Where measurements may be found: this repository's state folder, then, for a run
    that replays (``--replay``), the records of the rehearsal it may replay: same plan,
    same starting commit, young enough. A rehearsal's tree lacks what it did not copy in,
    so its failures are trusted only where its verdicts are."""
    found = [("", rt.ws.state.root / CACHE)]
    if isinstance(rt.ws.gates, Replayer):
        latest = latest_rehearsal(rehearsals_dir(rt.repo.git_dir), rt.plan.name)
        if latest is not None and _replayable(latest[1], rt, head, rt.ws.gates.max_age):
            folder = rehearsals_dir(rt.repo.git_dir) / latest[0]
            found.append((f" from rehearsal {latest[0]}", folder / CACHE))
    return found


def _replayable(summary: dict[str, Any], rt: Runtime, head: str, max_age: float) -> bool:
    age = time.time() - float(summary.get("finished", 0) or 0)
    return age <= max_age and not stale(summary, rt.plan, head)


def _is_ids(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(i, str) for i in value)


def _entry(path: Path, head: str) -> dict[str, Any]:
    data = _read(path).get(head)
    return data if isinstance(data, dict) else {}


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(rt: Runtime, head: str, key: str, baseline: TestBaseline) -> None:
    """Into the state folder; a rehearsal also into its records, for the real run."""
    paths = [rt.ws.state.root / CACHE]
    if isinstance(rt.ws.gates, Recorder):
        paths.append(rt.ws.gates.path.parent / CACHE)
    for path in paths:
        data = _read(path)
        entry = data.get(head)
        data[head] = (entry if isinstance(entry, dict) else {}) | {key: sorted(baseline.failing)}
        text = json.dumps(data, indent=1, sort_keys=True) + "\n"
        write_atomically(path, text.encode())
