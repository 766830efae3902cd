"""Three verdicts (passed, failed, inconclusive) and report-only gates, as a user meets them.

Real repositories, the real CLI, real pytest and shell subprocesses: a gate that could not
judge says so in every place a verdict is shown, and a report-only gate never blocks.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from runner.errors import PlanError
from runner.gates import GateContext, run_gate
from runner.model import Gate, MetricGate, PytestGate, RunGate
from runner.plan import parse_plan
from runner.process import run_command
from runner.report_md import render_markdown
from tests.conftest import git, make_repo, run_cli


def write_plan(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def head(repo: Path) -> str:
    return git("rev-parse", "HEAD", cwd=repo)


@pytest.fixture
def tested_repo(tmp_path: Path) -> Path:
    """A repository with one passing test, so only the selection decides what is collected."""
    return make_repo(tmp_path / "repo", {"test_app.py": "def test_app() -> None:\n    pass\n"})


NOTHING_MATCHES = """\
version: 1
name: verdicts
phases:
  - id: p
    steps:
      - id: s
        run: "echo changed > changed.txt"
        gate: [{{pytest: "-q -k nothing-matches"}}]
        {reaction}
      - id: later
        run: "echo later > later.txt"
"""


def test_a_pytest_gate_that_collects_nothing_is_inconclusive_everywhere(
    tested_repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    # on-failure says stop, but a gate that could not judge follows on-inconclusive:
    # its default rolls the unjudged change back.
    write_plan(plan_file, NOTHING_MATCHES.format(reaction="on-failure: stop"))
    start = head(tested_repo)
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"

    done = run_cli(
        "run", str(plan_file), "--report", str(report), "--junit", str(junit), cwd=tested_repo
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert "inconclusive  no tests collected" in done.stdout  # the live gate line
    never = "gate pytest was inconclusive (no tests collected): the change was never judged"
    assert f"{never}; rolled back" in done.stdout
    assert "pytest inconclusive" in done.stdout  # the summary table
    assert head(tested_repo) == start
    assert git("status", "--porcelain", cwd=tested_repo) == ""
    assert not (tested_repo / "later.txt").exists()
    data = json.loads(report.read_text())
    step = data["steps"][0]
    assert step["status"] == "rolled back"
    assert step["message"] == f"{never}; rolled back"
    assert step["gates"][0]["status"] == "inconclusive"
    assert step["gates"][0]["summary"] == "no tests collected"
    xml = junit.read_text()
    assert 'failures="0" errors="1"' in xml
    assert '<error message="inconclusive: no tests collected"' in xml
    assert "<failure" not in xml
    markdown = render_markdown(data)
    assert "| `p/s` | `pytest` | inconclusive |" in markdown
    assert "no tests collected: never judged" in markdown
    status = run_cli("status", str(plan_file), cwd=tested_repo)
    assert "gate 'pytest' inconclusive (no tests collected): never judged" in status.stdout
    last = json.loads(run_cli("status", str(plan_file), "--json", cwd=tested_repo).stdout)
    assert last["last_run"]["gate_status"] == "inconclusive"
    assert last["last_run"]["gate_summary"] == "no tests collected"


def test_on_inconclusive_stop_leaves_the_tree_as_the_step_left_it(
    tested_repo: Path, plan_file: Path
) -> None:
    write_plan(plan_file, NOTHING_MATCHES.format(reaction="on-inconclusive: stop"))
    start = head(tested_repo)

    done = run_cli("run", str(plan_file), cwd=tested_repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert head(tested_repo) == start
    assert git("status", "--porcelain", cwd=tested_repo) == "?? changed.txt"
    assert not (tested_repo / "later.txt").exists()
    assert "stopped as the plan says (on-inconclusive: stop)" in done.stdout
    assert "the change was never judged; stopped" in done.stdout


def test_a_command_that_is_not_found_is_inconclusive_and_cannot_verify_a_rollback(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    write_plan(
        plan_file,
        """\
        version: 1
        name: missing
        phases:
          - id: p
            steps:
              - id: s
                run: "echo changed > changed.txt"
                gate: [{run: "no-such-tool-xyz --check"}]
        on-rollback:
          verify: [{run: [no-such-tool-xyz, --verify]}]
        """,
    )
    report = tmp_path / "r.json"

    done = run_cli("run", str(plan_file), "--report", str(report), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "command not found, exit 127" in done.stdout
    assert "the rolled-back tree could not be verified" in done.stdout
    step = json.loads(report.read_text())["steps"][0]
    assert step["gates"][0]["status"] == "inconclusive"
    verify = step["rollback"]["verify"][0]
    assert (verify["status"], verify["summary"]) == ("inconclusive", "command not found, exit 127")
    assert git("status", "--porcelain", cwd=repo) == ""


def test_an_action_whose_program_is_missing_fails_instead_of_raising(tmp_path: Path) -> None:
    log = tmp_path / "action.log"

    done = run_command(
        ("no-such-tool-xyz", "--go"), cwd=tmp_path, env=dict(os.environ), timeout=10, log=log
    )

    assert done.returncode == 127
    assert "cannot run no-such-tool-xyz --go: No such file or directory" in log.read_text()


def test_report_only_gates_are_recorded_and_never_block(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    write_plan(
        plan_file,
        """\
        version: 1
        name: reporting
        gates:
          bench: {metric: "echo fast", max: 10, report-only: true}
        phases:
          - id: p
            gate: [{run: "exit 3", report-only: true}]
            steps:
              - id: reported
                run: "echo one > one.txt"
                gate:
                  - {run: "echo broken; exit 1", report-only: true}
                  - {run: [no-such-tool-xyz], report-only: true}
                  - bench
                  - {run: "true"}
              - id: blocked
                run: "echo two > two.txt"
                gate: [{metric: "echo no figure today", max: 10}]
        """,
    )
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"

    done = run_cli("run", str(plan_file), "--report", str(report), "--junit", str(junit), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "(report-only: failed, never blocks)" in done.stdout
    body = git("log", "-1", "--format=%B", cwd=repo)
    assert "Runner-Step: p/reported" in body
    assert "Runner-Gate: run failed in" in body
    assert "(exit code 1) [report-only]" in body
    assert "(command not found, exit 127) [report-only]" in body
    assert "Runner-Gate: bench inconclusive in" in body
    assert "(printed no number) [report-only]" in body
    assert (repo / "one.txt").exists()
    assert not (repo / "two.txt").exists()
    data = json.loads(report.read_text())
    reported, blocked = data["steps"]
    assert reported["status"] == "passed"
    assert [g["report_only"] for g in reported["gates"]] == [True, True, True, False]
    assert blocked["status"] == "rolled back"
    assert "gate metric was inconclusive (printed no number)" in blocked["message"]
    xml = junit.read_text()
    assert 'failures="0" errors="1"' in xml  # only the blocking metric
    assert '<property name="verdict" value="failed" />' in xml


def test_report_only_phase_gate_never_rolls_the_phase_back(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    write_plan(
        plan_file,
        """\
        version: 1
        name: phase-report
        phases:
          - id: p
            gate: [{run: "exit 3", report-only: true}]
            steps:
              - id: s
                run: "echo one > one.txt"
        """,
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "run failed" in done.stdout and "(report-only)" in done.stdout
    assert (repo / "one.txt").exists()
    assert git("status", "--porcelain", cwd=repo) == ""


def test_an_inconclusive_phase_gate_takes_the_phase_back_as_never_judged(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    write_plan(
        plan_file,
        """\
        version: 1
        name: phase-unjudged
        phases:
          - id: p
            gate: [{metric: "echo no figure", max: 1}]
            steps:
              - id: s
                run: "echo one > one.txt"
        """,
    )
    start, junit = head(repo), tmp_path / "j.xml"

    done = run_cli("run", str(plan_file), "--junit", str(junit), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert head(repo) == start
    assert not (repo / "one.txt").exists()
    assert (
        "phase p: gate 'metric' inconclusive (printed no number): the change was never judged"
        in done.stdout
    )
    assert 'classname="phase p" name="metric"' in junit.read_text()
    assert '<error message="inconclusive: printed no number"' in junit.read_text()


def test_an_inconclusive_rehearsal_gate_is_never_replayed_as_a_pass(
    repo: Path, plan_file: Path
) -> None:
    write_plan(
        plan_file,
        """\
        version: 1
        name: replayed
        phases:
          - id: p
            steps:
              - id: s
                run: "echo one > one.txt"
                gate:
                  - {run: "true"}
                  - {run: [no-such-tool-xyz], report-only: true}
        """,
    )
    assert run_cli("run", str(plan_file), "--dry-run", cwd=repo).returncode == 0

    done = run_cli("run", str(plan_file), "--replay", cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "it was inconclusive in the rehearsal" in done.stdout
    body = git("log", "-1", "--format=%B", cwd=repo)
    assert "Runner-Gate: run passed in rehearsal" in body
    assert "Runner-Gate: run-2 inconclusive in" in body


# --- each gate kind's verdict, at the gate ------------------------------------------------


def _context(root: Path) -> GateContext:
    return GateContext(
        root=root,
        env=dict(os.environ),
        default_timeout=60,
        log_dir=root.parent / "logs",
        tmp_dir=root.parent / "tmp",
        approver=lambda _question: None,
        assume_yes=False,
        exclude=(),
        source_roots=(".",),
        baseline=lambda _gate: None,
        label="p/s",
    )


@pytest.mark.parametrize(
    ("spec", "status", "summary"),
    [
        (PytestGate(("-q", "test_ok.py")), "passed", "1 passed"),
        (PytestGate(("-q", "test_fails.py")), "failed", "0 passed, 1 failed"),
        # exit 2 with a module that does not import: the change broke it, a verdict
        (PytestGate(("-q", "test_broken.py")), "failed", "0 passed, 1 errors"),
        (PytestGate(("-q", "-k", "nothing", "test_ok.py")), "inconclusive", "no tests"),
        (PytestGate(("-q", "no_such_dir/")), "inconclusive", "pytest usage error"),
        (PytestGate(("-q", "--no-such-option")), "inconclusive", "pytest usage error"),
        (RunGate("exit 127"), "inconclusive", "command not found, exit 127"),
        (RunGate(("no-such-tool-xyz",)), "inconclusive", "command not found, exit 127"),
        (MetricGate("echo no number", max=1), "inconclusive", "printed no number"),
        (MetricGate("echo 5", max=1), "failed", "value 5 > max 1"),
        (MetricGate("no-such-tool-xyz", max=1), "inconclusive", "command not found"),
    ],
    ids=lambda v: v if v in ("passed", "failed", "inconclusive") else None,
)
def test_each_gate_says_whether_it_could_judge(
    tmp_path: Path, spec: PytestGate | RunGate | MetricGate, status: str, summary: str
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "test_ok.py").write_text("def test_ok() -> None:\n    pass\n")
    (root / "test_fails.py").write_text("def test_fails() -> None:\n    assert False\n")
    (root / "test_broken.py").write_text("import no_such_module_xyz\n")

    result = run_gate(Gate("g", spec), _context(root))

    assert result.status.value == status, (result.summary, result.output_tail)
    assert result.summary.startswith(summary)
    assert result.passed is (status == "passed")
    assert run_gate(Gate("g", spec, report_only=True), _context(root)).passed


# --- the plan keys -------------------------------------------------------------------------


BAD_KEYS = """\
version: 1
name: bad
gates:
  ask: {approve: "Ship it?", report-only: true}
  noisy: {run: "true", report-only: "yes"}
phases:
  - id: p
    steps:
      - id: a
        run: "true"
        gate: [{run: "true"}]
        on-inconclusive: continue
      - id: b
        run: "true"
        on-inconclusive: stop
      - id: c
        run: "true"
        gate: [{run: "true", report-only: true}]
        on-inconclusive: stop
      - id: d
        run: "true"
        gate: [{run: "true"}]
        on-inconclusive: hold
"""


def test_verdict_keys_are_checked_where_they_are_written() -> None:
    with pytest.raises(PlanError) as info:
        parse_plan(BAD_KEYS)

    found = [str(p) for p in info.value.problems]
    assert found == [
        "phases.yaml:4:43: 'report-only' does not apply to an approve gate: an answer that "
        "blocks nothing need not be asked; drop 'report-only', or the gate",
        "phases.yaml:5:37: 'report-only' must be true or false, got 'yes'",
        "phases.yaml:12:26: 'on-inconclusive' cannot be 'continue': a change no gate could "
        "judge is never committed; use rollback or stop",
        "phases.yaml:15:9: 'on-inconclusive' has nothing to act on: this step has no gate",
        "phases.yaml:19:9: 'on-inconclusive' has nothing to act on: every gate of this step is "
        "report-only, and a report-only gate never stops a step",
        "phases.yaml:23:26: 'on-inconclusive' must be one of rollback, stop, got 'hold'",
    ]


def test_a_bad_verdict_key_is_refused_by_the_cli_with_exit_2(repo: Path, plan_file: Path) -> None:
    plan_file.write_text(BAD_KEYS)

    done = run_cli("check", str(plan_file), cwd=repo)

    assert done.returncode == 2
    assert ":4:43: 'report-only' does not apply to an approve gate" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_report_only_and_on_inconclusive_are_loaded_and_keep_old_digests() -> None:
    plain = parse_plan(NOTHING_MATCHES.format(reaction=""))
    stop = parse_plan(NOTHING_MATCHES.format(reaction="on-inconclusive: stop"))
    reported = parse_plan(
        NOTHING_MATCHES.format(reaction="").replace(
            '{pytest: "-q -k nothing-matches"}',
            '{pytest: "-q -k nothing-matches", report-only: true}',
        )
    )

    assert stop.steps[0].on_inconclusive.value == "stop"
    assert reported.steps[0].gates[0].report_only
    # A step's digest says what it does: the reaction is not part of it (as on-failure is
    # not), report-only is, and a gate without it digests as it did before the key existed.
    assert stop.steps[0].digest == plain.steps[0].digest
    assert reported.steps[0].digest != plain.steps[0].digest
    assert plain.steps[0].digest == (  # as recorded by runner before either key existed
        "sha256:014bd6e7ff26fc2a11c80941178954e725ea7dd567698b1380dc0b28bf3305b2"
    )
