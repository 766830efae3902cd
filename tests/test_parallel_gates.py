"""``settings.parallel-gates``: a step's gates side by side, told in plan order.

Real runs of real gate processes. Concurrency is proved without timing: two gates each wait
for the other's marker file, which only works when they run at the same time. A gate that
waits in vain gives up after :data:`PATIENCE` seconds, so a broken build fails, not hangs.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from runner import process
from runner.context import QuietObserver
from runner.engine import RunOptions, execute_plan
from runner.errors import PlanError
from runner.plan import load_plan, parse_plan
from runner.workspace import real_workspace
from tests.conftest import git, make_repo, processes_matching, run_cli, start_cli, wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")

PATIENCE = 20

#: ``gate.py NAME BOX [--wait F]... [--present F]... [--absent F]... [--forever] [--exit N]``:
#: writes BOX/NAME.pid and BOX/NAME.started, waits for each --wait file (gives up, exit 3),
#: checks --present and --absent files now (exit 4), then sleeps for good (--forever) or
#: writes BOX/NAME.done and exits N.
GATE = f"""\
import argparse, os, sys, time
from pathlib import Path
p = argparse.ArgumentParser()
p.add_argument("name"); p.add_argument("box", type=Path)
for flag in ("--wait", "--present", "--absent"):
    p.add_argument(flag, action="append", default=[])
p.add_argument("--forever", action="store_true"); p.add_argument("--exit", type=int, default=0)
a = p.parse_args()
(a.box / f"{{a.name}}.pid").write_text(str(os.getpid()))
(a.box / f"{{a.name}}.started").touch()
for name in a.wait:
    deadline = time.monotonic() + {PATIENCE}
    while not (a.box / name).exists():
        if time.monotonic() > deadline:
            sys.exit(f"{{name}} never appeared")
        time.sleep(0.02)
bad = [n for n in a.present if not (a.box / n).exists()]
bad += [n for n in a.absent if (a.box / n).exists()]
if bad:
    sys.exit(f"unexpected: {{bad}}")
if a.forever:
    time.sleep(120)
(a.box / f"{{a.name}}.done").touch()
sys.exit(a.exit)
"""


@pytest.fixture
def box(tmp_path: Path) -> Path:
    """Where gates leave their marker files (outside the repository)."""
    path = tmp_path / "box"
    path.mkdir()
    (tmp_path / "gate.py").write_text(GATE)
    return path


def gate(box: Path, name: str, args: str = "", **keys: str) -> str:
    """An inline ``run`` gate named ``name`` running :data:`GATE`."""
    command = f"python {box.parent / 'gate.py'} {name} {box} {args}".strip()
    extra = "".join(f", {k}: {v}" for k, v in keys.items())
    return f"{name}: {{run: {json.dumps(command)}{extra}}}"


def plan(tmp_path: Path, gates: list[str], *, settings: str, step: str = "") -> Path:
    """A one-step plan whose step changes ``app.py`` and names ``gates`` (defined above it)."""
    path = tmp_path / "phases.yaml"
    names = ", ".join(g.split(":", 1)[0] for g in gates)
    path.write_text(
        textwrap.dedent(f"""\
        version: 1
        name: parallel
        settings: {{{settings}}}
        gates:
        """)
        + "".join(f"  {g}\n" for g in gates)
        + textwrap.dedent(f"""\
        phases:
          - id: p
            steps:
              - id: s
                run: "echo changed > app.py"
                gate: [{names}]
        """)
        + "".join(f"        {line}\n" for line in step.splitlines())
    )
    return path


def run(repo: Path, plan_path: Path, *args: str) -> tuple[int, str, dict[str, Any]]:
    report = repo.parent / "report.json"
    done = run_cli("run", str(plan_path), "--report", str(report), *args, cwd=repo)
    assert report.exists(), done.stdout + done.stderr
    return done.returncode, done.stdout + done.stderr, json.loads(report.read_text())


def verdicts(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(g["name"], g["status"]) for s in report["steps"] for g in s["gates"]]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_gates_run_at_once_and_are_told_in_plan_order(tmp_path: Path, box: Path) -> None:
    """Each gate waits for another: they end in the order b, c, a, and are told a, b, c."""
    repo = make_repo(tmp_path / "repo")
    gates = [
        gate(box, "a", "--wait c.done"),
        gate(box, "b", "--wait a.started --wait c.started"),
        gate(box, "c", "--wait b.done"),
    ]

    code, out, report = run(repo, plan(tmp_path, gates, settings="parallel-gates: 3"))

    assert code == 0, out
    assert verdicts(report) == [("a", "passed"), ("b", "passed"), ("c", "passed")]
    assert out.index("gate a") < out.index("gate b") < out.index("gate c")
    assert out.count("gate a") == 1
    assert (repo / "app.py").read_text() == "changed\n"


def test_a_command_that_ends_leaves_one_started_after_it_running(tmp_path: Path, box: Path) -> None:
    """Ending what ``first`` left running must not end ``second``, a command of a gate
    beside it (to ``first``'s cleanup, its leader looks like an orphan adopted meanwhile)."""
    script = tmp_path / "gate.py"
    env = dict(os.environ)
    results: dict[str, process.Completed] = {}

    def start(name: str, args: str) -> threading.Thread:
        def work() -> None:
            command = f"{sys.executable} {script} {name} {box} {args}"
            log = tmp_path / f"{name}.log"
            results[name] = process.run_command(command, cwd=tmp_path, env=env, timeout=60, log=log)

        thread = threading.Thread(target=work)
        thread.start()
        return thread

    first = start("first", "--wait second.started")
    wait_for(box / "first.started")
    second = start("second", "--wait go")
    first.join()  # its command and whatever it left running are ended by now
    (box / "go").touch()
    second.join()

    assert results["first"].returncode == 0
    assert results["second"].returncode == 0, (tmp_path / "second.log").read_text()


def test_a_failure_cancels_the_running_gates_and_ends_their_processes(
    tmp_path: Path, box: Path
) -> None:
    """The sleeping gate (and the child it started) are ended; the verdict names the failure."""
    repo = make_repo(tmp_path / "repo")
    script = box.parent / "gate.py"
    slow = f"python {script} kid {box} --forever & python {script} slow {box} --forever"
    gates = [
        f"slow: {{run: {json.dumps(slow)}}}",
        gate(box, "fail", "--wait slow.started --wait kid.started --exit 1"),
        gate(box, "never"),
    ]

    junit = tmp_path / "junit.xml"
    code, out, report = run(
        repo, plan(tmp_path, gates, settings="parallel-gates: 2"), "--junit", str(junit)
    )

    assert code == 1, out
    assert verdicts(report) == [("slow", "cancelled"), ("fail", "failed")]
    assert '<skipped message="cancelled: gate fail failed"' in junit.read_text()
    assert report["steps"][0]["status"] == "rolled back"
    assert report["steps"][0]["message"] == "gate fail failed"
    assert "gate 'fail' failed" in out
    assert not (box / "never.started").exists()
    for name in ("slow", "kid"):
        assert not alive(int((box / f"{name}.pid").read_text())), name
    assert processes_matching(str(box)) == []
    assert (repo / "app.py").read_text() == "import pkg.old\n"


@pytest.mark.parametrize(
    ("settings", "step"),
    [("parallel-gates: 2, run-all-gates: true", ""), ("", "run-all-gates: true")],
    ids=["setting-side-by-side", "step-key-one-after-another"],
)
def test_run_all_gates_runs_every_gate_after_a_failure(
    tmp_path: Path, box: Path, settings: str, step: str
) -> None:
    repo = make_repo(tmp_path / "repo")
    gates = [
        gate(box, "fail", "--exit 1"),
        gate(box, "later", "--wait fail.done"),
        'ask: {approve: "Ship it?"}',
    ]

    code, out, report = run(repo, plan(tmp_path, gates, settings=settings, step=step))

    assert code == 1, out
    assert verdicts(report) == [("fail", "failed"), ("later", "passed"), ("ask", "cancelled")]
    assert report["steps"][0]["gates"][2]["summary"] == "not asked: gate fail failed"
    assert report["steps"][0]["message"] == "gate fail failed"


def test_an_exclusive_gate_runs_alone(tmp_path: Path, box: Path) -> None:
    """``x`` starts once ``a`` and ``b`` (running together) are done; ``c`` once ``x`` is."""
    repo = make_repo(tmp_path / "repo")
    gates = [
        gate(box, "a", "--wait b.started"),
        gate(box, "b", "--wait a.started"),
        gate(box, "x", "--present a.done --present b.done --absent c.started", exclusive="true"),
        gate(box, "c", "--present x.done"),
    ]

    code, out, report = run(repo, plan(tmp_path, gates, settings="parallel-gates: 3"))

    assert code == 0, out
    assert verdicts(report) == [(n, "passed") for n in "abxc"]


def test_nothing_runs_while_a_person_is_asked(tmp_path: Path, box: Path) -> None:
    """An ``approve`` gate runs alone: when the question is asked (the engine in this
    process, a real approver), the gates before it are done and none after it started."""
    repo = make_repo(tmp_path / "repo")
    gates = [
        gate(box, "a", "--wait b.started"),
        gate(box, "b", "--wait a.started"),
        'ask: {approve: "Ship it?"}',
        gate(box, "c"),
        gate(box, "d"),
    ]
    seen: list[tuple[str, list[int], bool, bool]] = []

    def approver(question: str) -> bool:
        done = (box / "a.done").exists() and (box / "b.done").exists()
        seen.append((question, processes_matching(str(box)), done, (box / "c.started").exists()))
        return True

    plan_ = load_plan(plan(tmp_path, gates, settings="parallel-gates: 3"))
    with real_workspace(repo) as ws:
        report = execute_plan(plan_, ws, RunOptions(), observer=QuietObserver(), approver=approver)

    assert seen == [("Ship it?", [], True, False)]
    assert [(g.name, g.status.value) for g in report.steps[0].gates] == [
        (n, "passed") for n in ("a", "b", "ask", "c", "d")
    ]


def test_a_rehearsal_records_gates_run_side_by_side(tmp_path: Path, box: Path) -> None:
    """The rehearsal's evidence holds both gates (recorded from two threads): a run whose
    environment changed since runs them again for that reason alone, and says so."""
    repo = make_repo(tmp_path / "repo")
    gates = [gate(box, "a", "--wait b.started"), gate(box, "b", "--wait a.started")]
    plan_path = plan(tmp_path, gates, settings="parallel-gates: 2")
    rehearsal = run_cli("run", str(plan_path), "--dry-run", cwd=repo)
    assert rehearsal.returncode == 0, rehearsal.stdout + rehearsal.stderr
    report = repo.parent / "report.json"

    done = run_cli(
        "run", str(plan_path), "--replay", "--report", str(report), cwd=repo, env={"CHANGED": "1"}
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "is run, not replayed: its environment ($CHANGED) changed" in done.stdout
    assert "did not run in the rehearsal" not in done.stdout
    assert verdicts(json.loads(report.read_text())) == [("a", "passed"), ("b", "passed")]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_parallel_gates_ends_every_gate_and_rolls_back(
    tmp_path: Path, box: Path, sig: signal.Signals, code: int
) -> None:
    repo = make_repo(tmp_path / "repo")
    gates = [gate(box, "one", "--forever"), gate(box, "two", "--forever")]
    proc = start_cli("run", str(plan(tmp_path, gates, settings="parallel-gates: 2")), cwd=repo)
    try:
        wait_for(box / "one.started")
        wait_for(box / "two.started")
        assert (box / "two.started").exists(), "the gates did not run side by side"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)

        assert proc.returncode == code, err
        assert out.count("cancelled: the run stopped") == 2, out
        for name in ("one", "two"):
            assert not alive(int((box / f"{name}.pid").read_text())), name
        assert processes_matching(str(box)) == []
        assert git("status", "--porcelain", cwd=repo) == ""
        assert (repo / "app.py").read_text() == "import pkg.old\n"
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in processes_matching(str(box)):
            os.kill(pid, signal.SIGKILL)


# --- plan keys -------------------------------------------------------------------------------

BASE = """\
version: 1
name: keys
settings:
  parallel-gates: {workers}
gates:
  ask: {{approve: "ok?"{ask}}}
  scan: {{forbid-imports: [pkg.old]{scan}}}
  unit: {{run: "true"{unit}}}
phases:
  - id: p
    steps:
      - id: s
        run: "true"
        gate: [unit, ask, scan]
{step}"""


def problems(**keys: str) -> list[str]:
    values = {"workers": "auto", "ask": "", "scan": "", "unit": "", "step": ""} | keys
    with pytest.raises(PlanError) as info:
        parse_plan(BASE.format(**values))
    return [str(p) for p in info.value.problems]


def test_the_keys_load_with_their_defaults() -> None:
    plan_ = parse_plan(BASE.format(workers="3", ask="", scan="", unit=", exclusive: true", step=""))
    step = plan_.steps[0]
    assert plan_.settings.parallel_gates == 3
    assert plan_.settings.run_all_gates is False
    assert step.run_all_gates is None
    assert [g.exclusive for g in step.gates] == [True, False, False]
    auto = parse_plan(BASE.format(workers="auto", ask="", scan="", unit="", step=""))
    assert auto.settings.parallel_gates == "auto"
    assert auto.steps[0].digest == step.digest  # how gates are scheduled is not digested


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"workers": "0"}, ":4:19: 'parallel-gates' must be 1 or more"),
        ({"workers": "99999999999"}, ":4:19: 'parallel-gates' must be at most 64 (or auto)"),
        ({"workers": "many"}, ":4:19: 'parallel-gates' must be 'auto' (one gate per core)"),
        ({"workers": "2.5"}, ":4:19: 'parallel-gates' must be 'auto'"),
        ({"unit": ", exclusive: 1"}, ":8:34: 'exclusive' must be true or false"),
        ({"ask": ", exclusive: false"}, ":6:36: an approve gate always runs alone"),
        ({"scan": ", exclusive: false"}, ":7:48: a forbid-imports gate always runs alone"),
        ({"step": "        run-all-gates: all\n"}, ":15:24: 'run-all-gates' must be true or false"),
        ({"step": "        run-all-gate: true\n"}, ":15:9: unknown key 'run-all-gate'"),
    ],
)
def test_bad_values_are_refused_where_they_are(keys: dict[str, str], expected: str) -> None:
    found = problems(**keys)
    assert len(found) == 1, found
    assert expected in found[0], found
