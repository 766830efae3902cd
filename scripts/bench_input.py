"""Benchmark rows for inputs that used to cost runner gigabytes, and for the tree watch's backstop.

Kept apart from ``bench.py`` (already long): :func:`measure` takes its ``Bench`` and appends
rows to it. What is measured:

* a gate that prints a lot: runner's peak RSS (``wait4``) with a gate printing 1 MB against
  one printing 500 MB (20 MB with ``--quick``); the output is read from the end of its log,
  so the two should be alike (≤ 1.2x);
* a codemod meeting a large module: one ``move-import`` plan on a repository whose only
  candidate is a file at ``settings.max-file-size`` (512 KB; 64 KB with ``--quick``), which
  is parsed, and one whose candidate is 5 MB, which is left unchanged and named (it took
  60 s and 4.2 GB when it was parsed);
* the tree watch's backstop: ``git diff-files --quiet`` (one ``lstat`` a tracked file),
  which every step with a command gate now runs once, against ``git status``.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

__all__ = ["ROWS_INPUT", "ROWS_INPUT_PER_SIZE", "measure", "measure_size"]

ROWS_INPUT = (
    "gate output: runner peak RSS, 500 MB printed (20 MB with --quick) vs 1 MB printed",
    "codemod: a file at settings.max-file-size, whole process (peak RSS in the note)",
    "codemod: a 5 MB file over settings.max-file-size (left unchanged), whole process",
)
ROWS_INPUT_PER_SIZE = ("tree watch backstop: {n} files, git diff-files --quiet vs git status",)

LIMIT = 512 * 1024


def _loud_plan(mb: int) -> str:
    gate = f"yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c {mb * 1_000_000}; exit 1"
    return (
        "version: 1\nname: bench-loud\nphases:\n  - id: bench\n    steps:\n"
        '      - id: loud\n        run: "echo a > a.txt"\n'
        f'        gate: [{{run: "{gate}"}}]\n'
    )


def _move_plan() -> str:
    return (
        "version: 1\nname: bench-big\nphases:\n  - id: bench\n    steps:\n"
        "      - id: move\n        move-import: {from: pkg.old.Engine, to: pkg.new.Engine}\n"
    )


def _module(size: int) -> str:
    """A module of about ``size`` bytes that uses ``Engine`` throughout."""
    parts = ["from pkg.old import Engine\n\n"]
    total, i = len(parts[0]), 0
    while total < size:
        chunk = f"\ndef f{i}(a, b):\n    x = Engine()\n    return a + b * {i}  # note\n"
        parts.append(chunk)
        total += len(chunk)
        i += 1
    return "".join(parts)


def _repo(bench: Any, name: str, files: dict[str, str]) -> Path:
    repo = bench.work / "copies" / name
    repo.mkdir(parents=True)
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(["git", *args], cwd=repo, env=bench.env, check=True, capture_output=True)
    return repo


def measure(bench: Any, runner: list[str], *, quick: bool) -> None:
    """Append the rows of :data:`ROWS_INPUT` to ``bench.rows`` (``bench.row_types``: the
    script's ``Row`` and ``ratio_row``, which it hands over rather than be imported twice)."""
    row_type, ratio_row = bench.row_types

    large = 20 if quick else 500
    peaks = {}
    for mb in (1, large):
        repo = _repo(bench, f"loud-{mb}", {"app.py": "x = 1\n"})
        plan = bench.write(f"loud-{mb}.yaml", _loud_plan(mb))
        sample = bench.timed([*runner, "run", str(plan)], repo, f"loud-{mb}", codes=(1,))
        peaks[mb] = sample.max_rss_mb
    bench.raw["gate-output-rss"] = peaks
    bench.rows.append(
        ratio_row(
            ROWS_INPUT[0],
            peaks[large],
            peaks[1],
            "1 MB printed",
            limit=1.2,
            unit="MB",
            note=f"{large} MB printed; wait4 ru_maxrss of runner; the failure report's tail is "
            "read from the end of the gate's log (64 KB at most)",
        )
    )
    pkg = {"pkg/__init__.py": "", "pkg/old.py": "class Engine: ...\n"}
    at_limit = (LIMIT // 8 if quick else LIMIT) - 4096  # just under it: parsed
    results = {}
    for name, size, codes in (("at-limit", at_limit, (0,)), ("over-limit", 5 * 2**20, (0,))):
        repo = _repo(bench, f"big-{name}", {**pkg, "big.py": _module(size)})
        plan = bench.write(f"big-{name}.yaml", _move_plan())
        results[name] = bench.timed([*runner, "run", str(plan)], repo, f"big-{name}", codes=codes)
    bench.raw["large-module"] = {k: vars(v) for k, v in results.items()}
    for row, key, note in (
        (ROWS_INPUT[1], "at-limit", f"a {at_limit // 1024} KB module, parsed and rewritten"),
        (ROWS_INPUT[2], "over-limit", "never parsed: one stat, then named in the report"),
    ):
        sample = results[key]
        bench.rows.append(
            row_type(
                row,
                sample.seconds,
                None,
                "",
                "< 10 s, < 500 MB" if key == "at-limit" and not quick else "-",
                _verdict(sample) if key == "at-limit" and not quick else "-",
                "-",
                note=f"{note}; peak RSS {sample.max_rss_mb:.0f} MB",
            )
        )


def _verdict(sample: Any) -> str:
    return "✓" if sample.seconds < 10 and sample.max_rss_mb < 500 else "✗"


def measure_size(bench: Any, n: int) -> None:
    """Append the rows of :data:`ROWS_INPUT_PER_SIZE` for the ``n``-file repository."""
    _, ratio_row = bench.row_types

    repo = bench.copy(n, f"backstop-{n}")
    reps = max(5, bench.reps * 3)

    def timed(*args: str) -> float:
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            subprocess.run(
                ["git", *args], cwd=repo, env=bench.env, capture_output=True, check=False
            )
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    diff_files = timed("diff-files", "--quiet")
    status = timed("-c", "core.untrackedCache=false", "status", "--porcelain")
    bench.raw[f"backstop-{n}"] = {"diff_files": diff_files, "status": status}
    bench.rows.append(
        ratio_row(
            ROWS_INPUT_PER_SIZE[0].format(n=n),
            diff_files,
            status,
            "git status --porcelain",
            limit=None,
            note="once per step whose gates ran a command and the watch saw nothing; it "
            "catches writes the watch cannot see (through a hard link from outside the tree)",
        )
    )
