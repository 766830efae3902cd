"""A gate's output is read from the end of its log, a bounded amount: runner's memory stays
flat whatever a gate prints. Real gates, the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from runner.process import TAIL_BYTES, read_tail
from tests.conftest import ROOT

#: Run the CLI under a parent that reports the peak RSS of its descendants (KiB on Linux).
_PEAK = """\
import resource, subprocess, sys
done = subprocess.run([sys.executable, "-m", "runner", *sys.argv[1:]], capture_output=True,
                      text=True, stdin=subprocess.DEVNULL, check=False)
sys.stderr.write(done.stdout + done.stderr)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def test_read_tail_reads_a_bounded_window_from_the_end(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    line = b"0123456789" * 9 + b"\n"
    log.write_bytes(line * 20_000 + b"the end\n")  # ~1.8 MB

    tail = read_tail(log)

    assert len(tail.encode()) <= TAIL_BYTES
    assert tail.endswith("the end\n")
    assert tail.startswith("0123456789")  # whole lines: the cut one is dropped
    assert read_tail(tmp_path / "missing.log") == ""


def test_a_gate_printing_200_mb_leaves_runner_small(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    plan_file.write_text(
        textwrap.dedent(
            """\
            version: 1
            name: loud
            phases:
              - id: p
                steps:
                  - id: s
                    run: "echo a > a.txt"
                    gate: [{run: "yes 0123456789abcdefghij | head -c 200000000; echo; echo the last line; exit 1"}]
            """  # noqa: E501 - a plan line as a user writes it
        )
    )
    script = tmp_path / "peak.py"
    script.write_text(_PEAK)

    done = subprocess.run(
        [sys.executable, str(script), "run", str(plan_file)],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )

    code, peak_kib = (int(x) for x in done.stdout.split())
    assert code == 1, done.stderr
    assert "the last line" in done.stderr  # the failure report shows the end of the output
    assert peak_kib < 150 * 1024, f"runner peaked at {peak_kib // 1024} MB"
