"""Benchmark row for faster gates: the bundled sample plan with affected-only step gates.

Kept apart from ``bench.py`` (already long): :func:`measure` takes its ``Bench`` and appends
one row. The bundled plan (``runner/sample/phases.yaml``) runs twice on fresh copies of the
sample repository: as shipped, and with ``affected: true`` on each named ``pytest`` gate
(plus ``settings.parallel-gates: auto`` where this runner has that setting). The row is the
plans' total time in gates (from each run's journal: elapsed, so gates run side by side count
once; the sum of the gates' own times is kept beside it); its verdict also
requires the same step and gate verdicts and the same final tree (``HEAD^{tree}``), since a
faster plan that judges differently is no faster plan. Target: a cut of at least 40 %.

Alone, without the rest of the benchmark::

    python scripts/bench_gates.py
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ROWS_GATES", "affected_plan", "measure"]

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "runner" / "sample"
ROWS_GATES = ("sample plan: total gate time, affected-only step gates vs today's plan",)
LIMIT = 0.6  # at least a 40 % cut


def affected_plan(dest: Path) -> tuple[Path, str]:
    """The bundled plan with ``affected: true`` on its pytest gates; and what was changed."""
    data = yaml.safe_load((SAMPLE / "phases.yaml").read_text(encoding="utf-8"))
    for gate in data["gates"].values():
        if "pytest" in gate:
            gate["affected"] = True
    what = "affected: true"
    try:
        from runner.plan import KEYS  # noqa: PLC0415 - the runner under test, when importable

        if "parallel-gates" in KEYS["settings"]:
            data["settings"]["parallel-gates"] = "auto"
            what += " + parallel-gates: auto"
    except ImportError:
        pass
    dest.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return dest, what


def _sample_repo(dest: Path, env: dict[str, str]) -> Path:
    shutil.copytree(SAMPLE / "netra", dest, ignore=shutil.ignore_patterns("__pycache__"))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(["git", *args], cwd=dest, env=env, check=True)
    return dest


def _run_plan(
    runner: list[str], plan: Path, repo: Path, env: dict[str, str], log: Path
) -> dict[str, Any]:
    report = repo.parent / f"{repo.name}.json"
    start = time.perf_counter()
    with log.open("wb") as out:
        done = subprocess.run(
            [*runner, "run", str(plan), "--yes", "--report", str(report)],
            cwd=repo,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    data = json.loads(report.read_text())
    gates = [g for s in data["steps"] for g in s["gates"]]
    gates += [g for _, phase in data["phase_gates"] for g in phase]
    tree = subprocess.run(
        ["git", "rev-parse", "HEAD^{tree}"],
        check=False,
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    verdicts = [(s["key"], s["status"], [g["status"] for g in s["gates"]]) for s in data["steps"]]
    return {
        "exit": done.returncode,
        "wall": time.perf_counter() - start,
        "gates": gate_wall(repo),
        "gate_sum": sum(g["seconds"] for g in gates),
        "verdicts": verdicts,
        "tree": tree.stdout.strip(),
    }


def gate_wall(repo: Path) -> float:
    """Seconds the run spent in gates, from its journal: each step's ``action-done`` to its
    ``gates-done``, and each phase's last event to its ``phase-gates-done``.

    Elapsed time, not the sum of the gates' own times: gates that run side by side
    (``settings.parallel-gates``) take their longest, not their total.
    """
    [journal] = (repo / ".git" / "runner" / "runs").glob("*.jsonl")
    events = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
    total = 0.0
    for before, event in itertools.pairwise(events):
        if event["event"] in {"gates-done", "phase-gates-done"}:
            total += event["time"] - before["time"]
    return total


def compare(
    runner: list[str], work: Path, env: dict[str, str], logs: Path, *, reps: int = 3
) -> dict[str, Any]:
    """Both plans on fresh copies of the sample, ``reps`` times each, interleaved (today's,
    then the fast one, and again) so that a machine's changing load falls on both alike; the
    median gate time of each, their verdicts and trees (which must agree on every run)."""
    env = env | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"}
    plan, what = affected_plan(work / "affected-phases.yaml")
    todays: list[dict[str, Any]] = []
    fasts: list[dict[str, Any]] = []
    for n in range(reps):
        repo = _sample_repo(work / f"today-{n}", env)
        todays.append(_run_plan(runner, SAMPLE / "phases.yaml", repo, env, logs / "today.log"))
        repo = _sample_repo(work / f"affected-{n}", env)
        fasts.append(_run_plan(runner, plan, repo, env, logs / "fast.log"))
    today, fast = _median(todays), _median(fasts)
    same = all(
        t["verdicts"] == todays[0]["verdicts"] == f["verdicts"]
        and t["tree"] == todays[0]["tree"] == f["tree"]
        for t, f in zip(todays, fasts, strict=True)
    )
    ratios = [f["gates"] / t["gates"] for t, f in zip(todays, fasts, strict=True)]
    return {"today": today, "affected": fast, "what": what, "same": same, "ratios": ratios}


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run whose gate time is the median (its other numbers come with it)."""
    ordered = sorted(runs, key=lambda r: r["gates"])
    return ordered[len(ordered) // 2]


def measure(bench: Any, runner: list[str], *, quick: bool) -> None:
    """Append the row to ``bench.rows`` (skipped with ``--quick``: two whole plan runs)."""
    row_type, ratio_row = bench.row_types
    name = ROWS_GATES[0]
    if quick:
        bench.rows.append(row_type(name, None, None, "-", "-", "-", "skipped", note="--quick"))
        return
    bench.say("the sample plan with affected-only step gates")
    work = bench.work / "gates"
    work.mkdir(parents=True, exist_ok=True)
    result = compare(runner, work, dict(bench.env), bench.logs, reps=min(bench.reps, 3))
    bench.raw["sample-affected"] = result
    row = ratio_row(
        name,
        result["affected"]["gates"],
        result["today"]["gates"],
        "today's plan",
        limit=LIMIT,
        note=result["what"]
        + f"; median of {len(result['ratios'])} interleaved runs"
        + ("" if result["same"] else "; VERDICTS OR TREE DIFFER"),
    )
    if not result["same"]:
        row.verdict = "✗"
    bench.rows.append(row)


def main() -> int:
    """Run the comparison alone and print its numbers."""
    with tempfile.TemporaryDirectory(prefix="bench-gates-") as tmp:
        work = Path(tmp)
        env = dict(os.environ) | {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
        env |= {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@runner.invalid"}
        env |= {"GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@runner.invalid"}
        result = compare([sys.executable, "-m", "runner"], work, env, work)
    today, fast = result["today"], result["affected"]
    ratio = fast["gates"] / today["gates"]
    for label, r in (("today's plan", today), (result["what"], fast)):
        print(
            f"{label}: time in gates {r['gates']:.2f} s (sum of gate times {r['gate_sum']:.2f} s;"
            f" whole run {r['wall']:.2f} s)"
        )
    print(f"ratio {ratio:.2f}x (cut {1 - ratio:.0%}; target <= {LIMIT}x)")
    print("each pair's ratio: " + ", ".join(f"{r:.2f}x" for r in result["ratios"]))
    print(f"same verdicts and final tree: {'yes' if result['same'] else 'NO'}")
    return 0 if result["same"] and ratio <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
