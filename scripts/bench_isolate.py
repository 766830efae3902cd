"""The culprit search's row of ``scripts/bench.py``: what runner adds to each probe.

A 64-file ``move-import`` step in the largest synthetic repository, 2 of whose files break the
step's gate (they use an attribute only the old class has), with ``on-failure: isolate``. The
search's wall time (from the JSON report: probes, tree switches, journal and patches) is set
against its gate runs times one gate run measured bare on the same tree: the difference,
divided by the probes, is runner's own cost per probe.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

__all__ = ["ROW", "measure"]

ROW = "culprit search: 64-file step, 2 culprits, {n} files, search vs gate runs x one gate run"

FILES = 64
BAD = (7, 42)
_OLD = "class Engine:\n    legacy = 1\n\n    def run(self):\n        return 1\n"
_NEW = "class Engine:\n    def run(self):\n        return 1\n"
_USE = "from isobench.old import Engine\n\n\ndef f():\n    return Engine().{call}\n"
_CHECK = """\
import importlib, sys
bad = []
for i in range(64):
    try:
        importlib.import_module(f"isobench.mods.m{i:02d}").f()
    except Exception as e:
        bad.append(f"m{i:02d}: {type(e).__name__}: {e}")
print("\\n".join(bad) or "ok")
sys.exit(1 if bad else 0)
"""
_PLAN = """\
version: 1
name: bench-isolate
phases:
  - id: p
    steps:
      - id: move
        move-import: {from: isobench.old.Engine, to: isobench.new.Engine}
        gate: [{run: python isobench_check.py}]
        on-failure: isolate
"""


def _add_files(repo: Path, env: dict[str, str]) -> None:
    files = {
        "isobench/__init__.py": "",
        "isobench/old.py": _OLD,
        "isobench/new.py": _NEW,
        "isobench/mods/__init__.py": "",
        "isobench_check.py": _CHECK,
    }
    for i in range(FILES):
        call = "legacy" if i in BAD else "run()"
        files[f"isobench/mods/m{i:02d}.py"] = _USE.format(call=call)
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    for args in (("add", "-A"), ("commit", "-qm", "isolate bench files")):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def _one_gate_run(repo: Path, env: dict[str, str], reps: int = 5) -> float:
    """The gate alone, run bare on the starting tree: the median of ``reps`` runs."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        # As runner runs it: through the shell, `python` found on PATH.
        subprocess.run(["sh", "-c", "python isobench_check.py"], cwd=repo, env=env,
                       capture_output=True, check=False)  # fmt: skip
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def measure(bench: Any, n: int, runner: list[str]) -> None:
    """Append :data:`ROW` for the ``n``-file repository to ``bench.rows``."""
    _, ratio_row = bench.row_types
    repo = bench.copy(n, "isolate")
    _add_files(repo, bench.env)
    plan = bench.write("isolate.yaml", _PLAN)
    report = bench.work / "inputs" / "isolate-report.json"
    run = bench.timed([*runner, "run", str(plan), "--report", str(report)], repo,
                      f"isolate-{n}", codes=(1,))  # fmt: skip
    (step,) = json.loads(report.read_text())["steps"]
    iso = step["isolation"]
    probes = len(iso["probes"])
    gate = _one_gate_run(repo, bench.env)
    search = float(iso["seconds"])
    gated = sum(float(p["seconds"]) for p in iso["probes"])  # the gates, inside the search
    overhead = (search - gated) / probes if probes else 0.0
    held = ", ".join(iso["held_back"])
    bench.raw[f"isolate-{n}"] = {"search": search, "probes": probes, "gate": gate,
                                 "gated": gated, "whole": run.seconds,
                                 "held_back": iso["held_back"]}  # fmt: skip
    note = (
        f"{probes} gate runs (bound 30), held back {held}; one gate run {gate * 1000:.0f} ms "
        f"bare, {gated / max(probes, 1) * 1000:.0f} ms inside the search; runner's own cost "
        f"(subset tree, tree switch, journal, patches) {overhead * 1000:.0f} ms per probe; "
        f"whole run {run.seconds:.1f} s"
    )
    label = f"{probes} x one gate run"
    bench.rows.append(
        ratio_row(ROW.format(n=n), search, probes * gate, label, limit=None, note=note)
    )
