"""What a lead engineer sees: a status that remembers, live follow-ups, labelled output, reports.

Each test runs the real CLI on a real repository.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from runner.eta import expected_times
from runner.journal import StateDir
from tests.conftest import git, make_repo, run_cli, start_cli, wait_for

FAILING = """\
version: 1
name: remember
gates:
  unit: {run: "echo first line; echo the reason it failed; exit 3"}
  smoke: {run: "true"}
on-rollback:
  run: ["echo restarting"]
  verify: [smoke]
phases:
  - id: p
    gate: [smoke]
    steps:
      - id: ok
        run: "echo ok > ok.txt"
      - id: engine
        run: "echo changed >> app.py"
        gate: [unit]
"""

FOLLOWUPS = """\
version: 1
name: live
gates:
  bad: {run: "exit 1"}
phases:
  - id: p
    steps:
      - id: mv
        move-import: {from: pkg.old.Engine, to: pkg.new.Engine}
"""

_FILES = {
    "pkg/__init__.py": "",
    "pkg/old.py": "class Engine: ...\n",
    "pkg/new.py": "class Engine: ...\n",
    "app.py": (
        "from pkg.old import Engine\nfrom unittest.mock import patch\n\n\n"
        'def f():\n    return patch("pkg.old.Engine")\n'
    ),
    "other.py": 'import pkg.old\n\nTARGET = "pkg.old.Engine"\n',
}


def _failed_run(tmp_path: Path) -> tuple[Path, Path]:
    repo = make_repo(tmp_path / "repo")
    plan = tmp_path / "phases.yaml"
    plan.write_text(FAILING)
    done = run_cli("run", str(plan), cwd=repo)
    assert done.returncode == 1, done.stdout + done.stderr
    return repo, plan


def test_status_remembers_the_failed_gate_its_output_the_patch_and_the_command(
    tmp_path: Path,
) -> None:
    repo, plan = _failed_run(tmp_path)

    shown = run_cli("status", str(plan), cwd=repo)
    data = json.loads(run_cli("status", str(plan), "--json", cwd=repo).stdout)

    assert shown.returncode == 0, shown.stderr
    assert "stopped at p/engine: gate 'unit' failed" in shown.stdout
    assert "the reason it failed" in shown.stdout
    last = data["last_run"]
    assert (last["status"], last["step"], last["gate"]) == ("stopped", "p/engine", "unit")
    assert "the reason it failed" in last["tail"]
    assert Path(last["log"]).is_file()
    assert Path(last["patch"]).is_file()
    assert last["apply"] == f"git apply {last['patch']}"
    assert f"git apply {last['patch']}" in shown.stdout.replace("\n", "")
    assert last["command"] == f"runner run {plan}"
    assert f"continue, once the cause is fixed: runner run {plan}" in shown.stdout
    # The patch does bring the discarded change back.
    git("apply", last["patch"], cwd=repo)
    assert "changed" in (repo / "app.py").read_text()

    # Fixed and run again: the failure is no longer what status remembers.
    git("checkout", "--", "app.py", cwd=repo)
    plan.write_text(FAILING.replace("exit 3", "exit 0"))
    again = run_cli("run", str(plan), cwd=repo)
    assert again.returncode == 0
    assert "last time" in again.stdout  # each step's time beside the failed run's
    data = json.loads(run_cli("status", str(plan), "--json", cwd=repo).stdout)
    assert data["last_run"]["status"] == "done"
    assert data["last_run"]["gate"] is None and data["interrupted"] is None


def test_status_remembers_an_interrupted_run(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    plan = tmp_path / "phases.yaml"
    plan.write_text(FAILING)

    stopped = run_cli("run", str(plan), env={"RUNNER_FAULT": "int:action-done:2"}, cwd=repo)
    data = json.loads(run_cli("status", str(plan), "--json", cwd=repo).stdout)
    shown = run_cli("status", str(plan), cwd=repo).stdout

    assert stopped.returncode == 130, stopped.stdout + stopped.stderr
    assert data["interrupted"] is not None
    assert "during step p/engine" in data["interrupted"]
    assert (data["last_run"]["status"], data["last_run"]["step"]) == ("interrupted", "p/engine")
    assert Path(data["last_run"]["patch"]).is_file()
    assert "last run" in shown and "interrupted at p/engine" in shown
    assert f"continue, once the cause is fixed: runner run {plan}" in shown


def test_a_failed_run_shows_what_ran_in_order_and_ends_with_what_to_do(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    plan = tmp_path / "phases.yaml"
    plan.write_text(FAILING)

    md = tmp_path / "pr.md"
    out = run_cli("run", str(plan), "--report", str(md), cwd=repo).stdout

    # The Markdown report holds the rollback and its patch, and the failed gate.
    assert "### Rollbacks" in md.read_text()
    assert re.search(r"discarded changes \(1 file\(s\)\): `git apply .*\.patch`", md.read_text())
    assert "| `p/engine` | `unit` | failed |" in md.read_text()
    # Labelled, in the order it happened: the gate, the rollback, the hook, the verify gate.
    order = [
        out.index("✗ gate unit"),
        out.index("↺ rolled back (step"),
        out.index("✓ hook: echo restarting"),
        out.index("✓ verify: smoke"),
    ]
    assert order == sorted(order), out
    # The last lines: the log, the patch, the command that continues.
    last = [line.strip() for line in out.strip().splitlines()[-3:]]
    assert re.match(r"- read why it failed: .*p_engine\.gate-unit\.log$", last[0]), last
    assert re.match(r"- the discarded changes, .*: git apply .*\.patch$", last[1]), last
    assert last[2] == f"- once the cause is fixed, continue: runner run {plan} --report {md}"


def test_phase_gates_are_labelled_and_come_after_the_phases_last_step(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    plan = tmp_path / "phases.yaml"
    plan.write_text(FAILING.replace("exit 3", "exit 0"))

    out = run_cli("run", str(plan), cwd=repo).stdout

    assert "phase gate: smoke" in out
    assert out.index("p/engine") < out.index("phase gate: smoke")


def test_followups_are_a_live_list_rechecked_by_status(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", _FILES)
    plan = tmp_path / "phases.yaml"
    plan.write_text(FOLLOWUPS)
    run = run_cli("run", str(plan), cwd=repo)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 manual follow-up(s) open" in run.stdout

    before = json.loads(run_cli("status", str(plan), "--json", cwd=repo).stdout)["followups"]
    (repo / "app.py").write_text(
        "from pkg.new import Engine\nfrom unittest.mock import patch\n\n\n"
        'def f():\n    return patch("pkg.new.Engine")\n'
    )
    git("commit", "-qam", "fix the patch target by hand", cwd=repo)
    (repo / "other.py").write_text('import pkg.old\n\n\n# moved down\nTARGET = "pkg.old.Engine"\n')
    git("commit", "-qam", "move the other one", cwd=repo)
    after = run_cli("status", str(plan), cwd=repo).stdout
    listed = run_cli("status", str(plan), "--followups", cwd=repo).stdout
    data = json.loads(run_cli("status", str(plan), "--json", cwd=repo).stdout)["followups"]

    assert (before["open"], before["resolved"]) == (2, 0)
    assert "manual follow-ups: 1 open, 1 resolved" in after
    assert "[ ] other.py:5: string target 'pkg.old.Engine'" in listed
    assert "[x] app.py:6:" in listed
    assert (data["open"], data["resolved"]) == (1, 1)
    assert {(i["path"], i["line"], i["open"]) for i in data["items"]} == {
        ("app.py", 6, False),
        ("other.py", 5, True),
    }


def test_a_rolled_back_steps_followups_are_dropped(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", _FILES)
    plan = tmp_path / "phases.yaml"
    plan.write_text(FOLLOWUPS + "        gate: [bad]\n")

    run = run_cli("run", str(plan), cwd=repo)
    data = json.loads(run_cli("status", str(plan), "--json", cwd=repo).stdout)

    assert run.returncode == 1
    assert "manual follow-up" not in run.stdout
    assert data["followups"] == {"open": 0, "resolved": 0, "items": []}


def test_markdown_report_holds_what_the_json_report_holds(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", _FILES)
    plan = tmp_path / "phases.yaml"
    plan.write_text(
        FOLLOWUPS.replace("    steps:", "    gate: [ok]\n    steps:").replace(
            '  bad: {run: "exit 1"}', '  bad: {run: "exit 1"}\n  ok: {run: "true"}'
        )
    )
    md_path, json_path = tmp_path / "out.md", tmp_path / "out.json"

    assert run_cli("run", str(plan), "--report", str(json_path), cwd=repo).returncode == 0
    git("reset", "-q", "--hard", "HEAD~1", cwd=repo)
    assert run_cli("run", str(plan), "--report", str(md_path), cwd=repo).returncode == 0
    data = json.loads(json_path.read_text())
    md = md_path.read_text()

    assert md.startswith(f"## Migration: `{data['plan']}`\n")
    sections = re.findall(r"^### (.+)$", md, flags=re.MULTILINE)
    assert sections[:2] == ["Steps", "Gates"]
    assert sections[2] == "Manual follow-ups (2 open, 0 resolved)"
    rows = re.findall(r"^\| `([^`]+)` \| (passed|rolled back|failed)", md, flags=re.MULTILINE)
    assert [key for key, _ in rows] == [s["key"] for s in data["steps"]]
    gates = re.findall(r"^\| `([^`]+)` \| `([^`]+)` \|", md, flags=re.MULTILINE)
    expected = [(s["key"], g["name"]) for s in data["steps"] for g in s["gates"]]
    expected += [(f"phase {p}", g["name"]) for p, gs in data["phase_gates"] for g in gs]
    assert gates == expected
    tasks = re.findall(r"^- \[ \] `([^`]+)`: ", md, flags=re.MULTILINE)
    assert tasks == [f"{i['path']}:{i['line']}" for i in data["followups"]["items"]]


WATCHED = """\
version: 1
name: watched
gates:
  slow: {run: "sleep 1"}
phases:
  - id: p
    steps:
      - id: one
        run: "echo 1 >> app.py"
        gate: [slow]
      - id: two
        run: "echo 2 >> app.py"
        gate: [slow]
"""


def test_status_watch_follows_a_running_plan_to_its_end(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    plan = tmp_path / "phases.yaml"
    plan.write_text(WATCHED)

    running = start_cli("run", str(plan), "--repo", str(repo), cwd=repo)
    try:
        wait_for(repo / ".git/runner/journal.jsonl")
        watched = run_cli("status", str(plan), "--watch", cwd=repo)
    finally:
        running.communicate(timeout=120)
    idle = run_cli("status", str(plan), "--watch", cwd=repo)

    assert running.returncode == 0
    assert watched.returncode == 0, watched.stdout + watched.stderr
    lines = watched.stdout.splitlines()
    assert "interrupted:" not in watched.stdout  # a running plan is not an interrupted one
    assert lines[-1].endswith("run finished: done"), watched.stdout
    assert any("p/two committed" in line for line in lines)
    assert any("p/two gates passed: slow" in line for line in lines)
    assert idle.returncode == 0 and "no run in progress" in idle.stdout

    expected = expected_times(StateDir(repo / ".git"))
    assert set(expected.steps) == {"p/one", "p/two"}
    assert expected.gate("p/one", "slow") is not None


def test_a_real_run_after_a_rehearsal_shows_the_rehearsals_times(tmp_path: Path) -> None:
    """The rehearsal keeps its journal in its record folder (``rehearsals/ID/runs/``); the
    real run's final table and live line compare each step with it."""
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    plan = tmp_path / "phases.yaml"
    plan.write_text(FAILING.replace("exit 3", "exit 0"))
    assert run_cli("run", str(plan), "--dry-run", cwd=repo).returncode == 0

    expected = expected_times(StateDir(repo / ".git"))
    real = run_cli("run", str(plan), cwd=repo)

    assert ("p/engine", "unit") in expected.gates
    assert "p/engine" in expected.steps
    assert real.returncode == 0, real.stdout + real.stderr
    assert "last time" in real.stdout
