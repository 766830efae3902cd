"""Benchmark row for gates side by side: the bundled sample plan's gate time, with
``settings.parallel-gates: auto`` and without.

Kept apart from ``bench.py`` (already long): :func:`measure` takes its ``Bench`` and appends
a row to it. Each side runs the plan for real (``--yes`` answers its ``approve`` gate) on a
fresh copy of the sample repository, alternating which side goes first. The gate time is
wall time, read from the run's journal: for each step from ``action-done`` to
``gates-done``, for each phase from the event before ``phase-gates-done`` to it (the sum of
the gates' own durations would hide what running them side by side saves). Both sides must
end with the same verdicts, gate by gate, and the same final tree, or the row says they did
not. Also runnable alone: ``python scripts/bench_parallel.py [--reps N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["ROW", "gate_wall_seconds", "measure"]

ROOT = Path(__file__).resolve().parent.parent
ROW = "sample plan: gate time (wall) with parallel-gates: auto vs one gate at a time"
SIDES = ("one at a time", "parallel-gates: auto")


def gate_wall_seconds(journal: Path) -> float:
    """The wall time a run spent in step and phase gates, from its journal."""
    events = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
    total, before, previous = 0.0, None, None
    for event in events:
        if event["event"] == "gates-done" and before is not None:
            total += event["time"] - before
        if event["event"] == "phase-gates-done" and previous is not None:
            total += event["time"] - previous
        if event["event"] == "action-done":
            before = event["time"]
        previous = event["time"]
    return total


def _parallel_plan(plan: Path, dest: Path) -> Path:
    text = plan.read_text()
    assert "\nsettings:\n" in text, "the sample plan has no settings section"
    dest.write_text(text.replace("\nsettings:\n", "\nsettings:\n  parallel-gates: auto\n", 1))
    return dest


def _run(runner: Sequence[str], plan: Path, repo: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run the plan on ``repo``: the gate wall time, each gate's verdict, the final tree."""
    report = repo.parent / f"{repo.name}.json"
    cmd = [*runner, "run", str(plan), "--yes", "--report", str(report)]
    done = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        msg = f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr}"
        raise RuntimeError(msg)
    data = json.loads(report.read_text())
    verdicts = [(s["key"], g["name"], g["status"]) for s in data["steps"] for g in s["gates"]]
    verdicts += [(p, g["name"], g["status"]) for p, gates in data["phase_gates"] for g in gates]
    (journal,) = (repo / ".git" / "runner" / "runs").glob("*.jsonl")
    head = ["git", "rev-parse", "HEAD^{tree}"]
    tree = subprocess.run(head, cwd=repo, env=env, capture_output=True, text=True, check=True)
    return {"gates": gate_wall_seconds(journal), "verdicts": verdicts, "tree": tree.stdout}


def compare(runner: Sequence[str], work: Path, env: dict[str, str], reps: int) -> dict[str, Any]:
    """Both sides ``reps`` times each; the raw numbers and whether the outcomes matched."""
    sample = ROOT / "runner" / "sample"
    base = work / "sample-gates"
    shutil.copytree(sample / "netra", base, ignore=shutil.ignore_patterns("__pycache__"))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(["git", *args], cwd=base, env=env, check=True)
    env = env | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"}
    plans = {SIDES[0]: sample / "phases.yaml"}
    plans[SIDES[1]] = _parallel_plan(sample / "phases.yaml", work / "phases-parallel.yaml")
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
    for rep in range(reps):
        for side in SIDES if rep % 2 == 0 else SIDES[::-1]:
            repo = work / "copies" / f"gates-{rep}-{SIDES.index(side)}"
            shutil.rmtree(repo, ignore_errors=True)
            shutil.copytree(base, repo, symlinks=True)
            runs[side].append(_run(runner, plans[side], repo, env))
            shutil.rmtree(repo, ignore_errors=True)
    outcomes = {s: {(json.dumps(r["verdicts"]), r["tree"]) for r in runs[s]} for s in SIDES}
    same = len(outcomes[SIDES[0]] | outcomes[SIDES[1]]) == 1
    seconds = {side: [r["gates"] for r in runs[side]] for side in SIDES}
    return {"seconds": seconds, "same_verdicts_and_tree": same, "cores": os.cpu_count()}


def measure(bench: Any, runner: Sequence[str]) -> None:
    """Append :data:`ROW` to ``bench.rows`` (skipped with ``--quick``: ~2 min on 2 cores)."""
    row, ratio_row = bench.row_types
    if bench.quick:
        bench.rows.append(row(ROW, None, None, "-", "-", "-", "skipped", note="--quick"))
        return
    raw = compare(runner, bench.work, bench.env, reps=min(bench.reps, 2))
    bench.raw["sample-parallel-gates"] = raw
    parallel = statistics.median(raw["seconds"][SIDES[1]])
    serial = statistics.median(raw["seconds"][SIDES[0]])
    same = "same verdicts and final tree" if raw["same_verdicts_and_tree"] else "OUTCOMES DIFFER"
    note = f"{raw['cores']} cores; {same}"
    bench.rows.append(ratio_row(ROW, parallel, serial, SIDES[0], limit=None, note=note))


def main(argv: Sequence[str] | None = None) -> int:
    """Measure alone and print the numbers as JSON."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=2)
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="runner-bench-gates-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "RUNNER_"))}
    config = work / "gitconfig"
    config.write_text("[gc]\n\tauto = 0\n")
    env |= {"GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1"}
    env |= {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@runner.invalid"}
    env |= {"GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@runner.invalid"}
    env["PYTHONPATH"] = str(ROOT)
    try:
        raw = compare([sys.executable, "-m", "runner"], work, env, args.reps)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    serial = statistics.median(raw["seconds"][SIDES[0]])
    parallel = statistics.median(raw["seconds"][SIDES[1]])
    print(json.dumps(raw | {"ratio": parallel / serial}, indent=1))
    return 0 if raw["same_verdicts_and_tree"] else 1


if __name__ == "__main__":
    sys.exit(main())
