"""``on-failure: isolate`` end to end: real repositories, real gates, the CLI as users run it."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import git, make_repo, run_cli, start_cli, wait_for

OLD = "class Engine:\n    legacy = 1\n\n    def run(self):\n        return 1\n"
NEW = "class Engine:\n    def run(self):\n        return 1\n"
GOOD = "from pkg.old import Engine\n\n\ndef f():\n    return Engine().run()\n"
BAD = "from pkg.old import Engine\n\n\ndef f():\n    return Engine().legacy\n"
#: The gate: import every module and call it; the last line names what broke.
CHECK = """\
import importlib, pathlib, sys
bad = []
for path in sorted(pathlib.Path("mods").glob("m*.py")):
    try:
        importlib.import_module("mods." + path.stem).f()
    except Exception as e:
        bad.append(f"{path}: {type(e).__name__}: {e}")
print("\\n".join(bad) or "ok")
sys.exit(1 if bad else 0)
"""
STEP = """\
      - id: move
        move-import: {from: pkg.old.Engine, to: pkg.new.Engine}
        gate: [{run: python check.py}]
        on-failure: isolate
"""
FIX = """\
      - id: fix
        run: python fix.py
        gate: [{run: python check.py}]
"""
FIXER = """\
import pathlib
for path in pathlib.Path("mods").glob("*.py"):
    text = path.read_text()
    path.write_text(text.replace("Engine().legacy", "Engine().run()"))
"""


def _plan(path: Path, steps: str) -> Path:
    path.write_text(f"version: 1\nname: iso\nphases:\n  - id: p\n    steps:\n{steps}")
    return path


def _repo(tmp_path: Path, bad: tuple[int, ...], *, n: int = 64) -> Path:
    files = {"pkg/__init__.py": "", "pkg/old.py": OLD, "pkg/new.py": NEW, "check.py": CHECK}
    files |= {"fix.py": FIXER, "mods/__init__.py": ""}
    files |= {f"mods/m{i:02d}.py": BAD if i in bad else GOOD for i in range(n)}
    return make_repo(tmp_path / "repo", files)


def _trailers(repo: Path, key: str) -> list[str]:
    out = git("log", "-1", "--format=%(trailers:key=" + key + ",valueonly)", cwd=repo)
    return [line for line in out.splitlines() if line]


def test_a_move_import_holds_back_the_two_files_that_break_the_gate(tmp_path: Path) -> None:
    repo = _repo(tmp_path, (7, 42))
    plan = _plan(tmp_path / "phases.yaml", STEP)
    start = git("rev-parse", "HEAD", cwd=repo)
    report = tmp_path / "report.json"
    done = run_cli("run", str(plan), "--report", str(report), cwd=repo)
    assert done.returncode == 1, done.stdout + done.stderr
    assert _trailers(repo, "Runner-Result") == ["partial"]
    assert _trailers(repo, "Runner-Held-Back") == ["mods/m07.py", "mods/m42.py"]
    assert git("rev-parse", "HEAD^", cwd=repo) == start
    changed = git("diff", "--name-only", "HEAD^", "HEAD", cwd=repo).splitlines()
    assert len(changed) == 62 and "mods/m07.py" not in changed
    assert git("status", "--porcelain", cwd=repo) == ""
    assert "from pkg.old import Engine" in (repo / "mods/m07.py").read_text()
    assert "from pkg.new import Engine" in (repo / "mods/m08.py").read_text()
    data = json.loads(report.read_text())
    (step,) = data["steps"]
    iso = step["isolation"]
    assert step["status"] == "partial"
    assert iso["held_back"] == ["mods/m07.py", "mods/m42.py"]
    assert 0 < len(iso["probes"]) <= 26
    assert iso["probes"][0]["files"] == 0  # the checkpoint itself, first
    assert "probe 1/30: 0 files, passed" in done.stdout
    assert any("m07" in f["path"] for f in step["followups"])
    assert "legacy" in step["followups"][0]["reason"]
    # The held-back files' change applies on the partial checkpoint and is the migration.
    patch = Path(iso["patch"])
    applied = subprocess.run(["git", "apply", "--check", str(patch)], cwd=repo, check=False)
    assert applied.returncode == 0
    assert "pkg.new" in patch.read_text()
    status = run_cli("status", str(plan), cwd=repo)
    assert "mods/m07.py" in status.stdout and "partial" in status.stdout
    assert "every step is done (1 partial, with files held back" in status.stdout
    assert f"their change: git apply {patch}" in " ".join(status.stdout.split())
    as_json = json.loads(run_cli("status", str(plan), "--json", cwd=repo).stdout)
    assert as_json["steps"][0]["held_back_patch"] == str(patch)
    # The plan fixed: a step ahead of it fixes the two files; the partial step runs again.
    _plan(tmp_path / "phases.yaml", FIX + STEP)
    again = run_cli("run", str(plan), cwd=repo)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "running it again" in again.stdout
    assert _trailers(repo, "Runner-Held-Back") == []
    left = subprocess.run(["git", "grep", "-l", "pkg.old", "--", "mods"], cwd=repo, check=False)
    assert left.returncode == 1  # nothing found: every module migrated


def test_a_pair_that_fails_only_together_is_held_back_as_a_pair(tmp_path: Path) -> None:
    repo = _repo(tmp_path, (), n=16)
    # The gate fails when both m03 and m11 import the new class: a pair, neither alone.
    (repo / "pair.py").write_text(
        "import pathlib, sys\n"
        "new = [p.name for p in pathlib.Path('mods').glob('*.py') if 'pkg.new' in p.read_text()]\n"
        "both = {'m03.py', 'm11.py'} <= set(new)\n"
        "print('m03 and m11 clash' if both else 'ok')\nsys.exit(1 if both else 0)\n"
    )
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "pair gate", cwd=repo)
    step = STEP.replace("python check.py", "python pair.py")
    plan = _plan(
        tmp_path / "phases.yaml",
        step.replace(
            "on-failure: isolate", "on-failure: isolate\n        isolate: {then: continue}"
        ),
    )
    # A rehearsal isolates too: it already names the files the real run will hold back.
    start = git("rev-parse", "HEAD", cwd=repo)
    rehearsed = run_cli("run", str(plan), "--dry-run", cwd=repo)
    assert rehearsed.returncode == 0, rehearsed.stdout + rehearsed.stderr
    assert "mods/m03.py:1: held back: gate run fails" in rehearsed.stdout
    assert "holding back 2 file(s)" in rehearsed.stdout
    assert git("rev-parse", "HEAD", cwd=repo) == start
    done = run_cli("run", str(plan), cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _trailers(repo, "Runner-Held-Back") == ["mods/m03.py", "mods/m11.py"]
    changed = git("diff", "--name-only", "HEAD^", "HEAD", cwd=repo).splitlines()
    assert len(changed) == 14
    assert "fails with its change together" in done.stdout
    # A partial checkpoint is a checkpoint: `runner rollback --phase` takes it back.
    back = run_cli("rollback", "--plan", str(plan), "--phase", "p", cwd=repo)
    assert back.returncode == 0, back.stdout + back.stderr
    assert git("log", "-1", "--format=%s", cwd=repo) == "pair gate"
    assert "from pkg.old import Engine" in (repo / "mods/m05.py").read_text()


def test_the_bound_rolls_back_whole_and_says_what_was_learned(tmp_path: Path) -> None:
    repo = _repo(tmp_path, (1, 6), n=8)
    step = STEP.replace(
        "on-failure: isolate", "on-failure: isolate\n        isolate: {max-gate-runs: 3}"
    )
    plan = _plan(tmp_path / "phases.yaml", step)
    start = git("rev-parse", "HEAD", cwd=repo)
    done = run_cli("run", str(plan), cwd=repo)
    assert done.returncode == 1, done.stdout + done.stderr
    assert git("rev-parse", "HEAD", cwd=repo) == start
    assert git("status", "--porcelain", cwd=repo) == ""
    assert "probe 3/3" in done.stdout and "probe 4/" not in done.stdout
    assert "stopped at its bound of 3 gate runs" in done.stdout
    # The whole change is saved by the rollback, as for any failed step: nothing lost.
    (patch,) = (repo / ".git/runner/rollbacks").glob("*.patch")
    assert patch.read_text().count("+from pkg.new import Engine") == 8


def test_the_bound_counts_every_gate_a_probe_runs(tmp_path: Path) -> None:
    repo = _repo(tmp_path, (1, 6), n=8)
    runs = tmp_path / "runs"
    step = STEP.replace(
        "gate: [{run: python check.py}]",
        f"gate: [{{run: echo a >> {runs} && python check.py}}, {{run: echo b >> {runs}}}]",
    ).replace("on-failure: isolate", "on-failure: isolate\n        isolate: {max-gate-runs: 4}")
    plan = _plan(tmp_path / "phases.yaml", step)
    done = run_cli("run", str(plan), cwd=repo)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "stopped at its bound of 4 gate runs" in done.stdout
    # The step's own run of the first gate, then at most 4 gate runs in all its probes.
    assert len(runs.read_text().split()) - 1 <= 4
    assert "probe 2 (3/4 gate runs)" in done.stdout or "probe 2/4" in done.stdout


def test_ctrl_c_during_a_probe_puts_the_whole_change_in_the_rollback_patch(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "repo", {"README.md": "base\n"})
    count = tmp_path / "runs"
    # The gate fails when bad.txt is in the tree; its third run (a probe) hangs until Ctrl-C.
    gate = (
        f"echo x >> {count}; if [ $(wc -l < {count}) -eq 3 ]; then touch {tmp_path}/hung; "
        "sleep 60; fi; test ! -e bad.txt"
    )
    steps = (
        "      - id: split\n"
        '        run: "echo a > a.txt && echo b > b.txt && echo bad > bad.txt"\n'
        f"        gate: [{{run: {json.dumps(gate)}}}]\n"
        "        on-failure: isolate\n"
    )
    plan = _plan(tmp_path / "phases.yaml", steps)
    start = git("rev-parse", "HEAD", cwd=repo)
    proc = start_cli("run", str(plan), cwd=repo)
    wait_for(tmp_path / "hung")
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, out + err
    assert git("rev-parse", "HEAD", cwd=repo) == start
    assert git("status", "--porcelain", cwd=repo) == ""
    saved = "".join(p.read_text() for p in (repo / ".git/runner/rollbacks").glob("*.patch"))
    for name in ("a.txt", "b.txt", "bad.txt"):  # the whole change, not the probe's subset
        assert f"+++ b/{name}" in saved
