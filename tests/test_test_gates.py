"""``pytest`` gates that fit real suites: ``baseline: start``, ``retries``, ``flaky``.

Real repositories, real pytest subprocesses, the real CLI; a counter file outside the
repository makes a test fail once, then pass.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from runner.gates.baseline import TestBaseline, failing, read_cases
from runner.git import CommitRecord
from runner.testrecord import baseline_section, read_test_baselines
from tests.conftest import git, make_repo, run_cli

# Two tests fail before any step; a step may fix one or break a third.
SUITE = """\
from pathlib import Path

HERE = Path(__file__).parent


def test_ok():
    pass


def test_pre1():
    assert (HERE / "fixed_pre1").exists()


def test_pre2():
    assert 0, "broken before the migration"


def test_third():
    assert not (HERE / "break_third").exists(), "broken by a step"
"""
# Counts pytest sessions in a file outside the repository: how often the suite ran.
CONFTEST = """\
import os


def pytest_sessionstart(session):
    with open(os.environ["SESSIONS"], "a") as f:
        f.write("session\\n")
"""
BASELINE_PLAN = """\
version: 1
name: baseline
gates:
  unit:
    pytest: -q -x tests  # -x would stop at a pre-existing failure: runner runs them all
    baseline: start
phases:
  - id: p
    steps:
      - id: note
        run: echo note > note.txt
        gate: unit
      - id: fix
        run: touch tests/fixed_pre1
        gate: unit
      - id: breaks
        run: touch tests/break_third
        gate: unit
"""


def _body(repo: Path, rev: str) -> str:
    return git("log", "-1", "--format=%B", rev, cwd=repo)


def _gate(report: Path, step: str) -> dict[str, object]:
    data = json.loads(report.read_text())
    found = next(s for s in data["steps"] if s["key"] == step)
    gate: dict[str, object] = found["gates"][0]
    return gate


def _junit_properties(junit: Path, step: str) -> list[tuple[str, str]]:
    root = ET.parse(junit).getroot()
    case = next(c for c in root.iter("testcase") if c.get("classname") == step)
    return [(p.get("name", ""), p.get("value", "")) for p in case.iter("property")]


def test_baseline_failures_are_pre_existing_and_a_new_one_rolls_the_step_back(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "repo", {"tests/test_a.py": SUITE, "tests/conftest.py": CONFTEST})
    start = git("rev-parse", "HEAD", cwd=repo)
    plan = tmp_path / "phases.yaml"
    plan.write_text(BASELINE_PLAN)
    sessions = tmp_path / "sessions"
    env = {"SESSIONS": str(sessions)}
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"

    done = run_cli("run", str(plan), "--report", str(report), "--junit", str(junit),
                   cwd=repo, env=env)  # fmt: skip

    assert done.returncode == 1, done.stdout + done.stderr
    # the baseline ran once on the starting commit, then one run per step
    assert sessions.read_text().count("session") == 4
    note, fix = git("log", "--format=%H", "-2", cwd=repo).split()[::-1]
    assert git("rev-parse", f"{note}^", cwd=repo) == start
    first = _body(repo, note)
    assert "Runner-Gate: unit passed in" in first
    assert "(2 passed, 2 pre-existing failures, 0 new)" in first
    assert "Runner test baseline pytest-" in first
    assert f" at {start}, 2 failing:" in first
    assert '  "tests/test_a.py::test_pre1"\n  "tests/test_a.py::test_pre2"' in first
    assert "(3 passed, 1 pre-existing failure, 0 new, 1 fixed)" in _body(repo, fix)
    assert "unit fixed: tests/test_a.py::test_pre1" in _body(repo, fix)
    assert "Runner test baseline" not in _body(repo, fix)  # recorded once, in the first
    # the rolled-back step is blamed on the one test it broke, not on the known ones
    failure = done.stdout[done.stdout.index("p/breaks: gate 'unit' failed") :]
    assert "tests/test_a.py::test_third" in failure
    assert "test_pre2" not in failure
    assert not (repo / "tests/break_third").exists()
    gate = _gate(report, "p/breaks")
    assert gate["status"] == "failed"
    assert gate["summary"] == "2 passed, 1 pre-existing failure, 1 new, 1 fixed"
    assert gate["tests"] == {
        "failed": ["tests/test_a.py::test_third"],
        "flaky": [],
        "preexisting": ["tests/test_a.py::test_pre2"],
        "fixed": ["tests/test_a.py::test_pre1"],
        "baseline": start,
    }
    assert ("new failure", "tests/test_a.py::test_third") in _junit_properties(junit, "p/breaks")
    assert ("fixed", "tests/test_a.py::test_pre1") in _junit_properties(junit, "p/breaks")

    # resumed: the baseline is read back from the first checkpoint, not measured again on
    # a tree where test_pre1 passes (which would blame it on no step, or forget it)
    again = run_cli("run", str(plan), "--report", str(report), cwd=repo, env=env)

    assert again.returncode == 1
    assert "measuring its baseline" not in again.stdout
    assert sessions.read_text().count("session") == 5
    assert _gate(report, "p/breaks")["tests"] == gate["tests"]


def test_a_plan_whose_only_failures_are_pre_existing_passes(tmp_path: Path) -> None:
    """A file that fails to collect is one pre-existing failure, and does not stop the
    other files' tests from being judged."""
    files = {"tests/test_a.py": SUITE, "tests/conftest.py": CONFTEST}
    repo = make_repo(tmp_path / "repo", files | {"tests/test_gone.py": "import gone_module\n"})
    plan = tmp_path / "phases.yaml"
    plan.write_text(BASELINE_PLAN.split("      - id: fix", maxsplit=1)[0])
    sessions = tmp_path / "sessions"

    done = run_cli("run", str(plan), cwd=repo, env={"SESSIONS": str(sessions)})

    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed, 3 pre-existing failures, 0 new" in done.stdout
    assert "3 tests failing on" in done.stdout
    assert "tests/test_gone.py" in done.stdout

    # the first checkpoint rolled back by hand: the measurement of this commit is reused
    git("reset", "-q", "--hard", "HEAD^", cwd=repo)
    again = run_cli("run", str(plan), cwd=repo, env={"SESSIONS": str(sessions)})

    assert again.returncode == 0, again.stdout + again.stderr
    assert "baseline of" in again.stdout and "reused" in again.stdout
    assert sessions.read_text().count("session") == 3
    listed = '  "tests/test_a.py::test_pre1"\n  "tests/test_a.py::test_pre2"\n'
    listed += '  "tests/test_gone.py"'
    assert f"3 failing:\n{listed}\n" in _body(repo, "HEAD")


# Fails the first time each test runs, then passes: the count lives outside the tree.
FLAKY = """\
import os
from pathlib import Path

import pytest


def _first_time(name):
    counter = Path(os.environ["FLAKY_COUNTER"]) / name
    seen = counter.exists()
    counter.touch()
    return not seen


def test_steady():
    pass


class TestK:
    @pytest.mark.parametrize("x", ["a b", "c/d"])
    def test_sometimes(self, x):
        assert x != "a b" or not _first_time("sometimes"), "flaked"
"""
FLAKY_ID = "tests/sub.d/test_f.py::TestK::test_sometimes[a b]"


@pytest.mark.parametrize(
    ("options", "passes"),
    [("retries: 1", True), ("", False), ("retries: 2\n            flaky: fail", False)],
    ids=["retries", "no-retries", "flaky-fail"],
)
def test_a_test_that_fails_once_then_passes_is_flaky(
    tmp_path: Path, options: str, passes: bool
) -> None:
    repo = make_repo(tmp_path / "repo", {"tests/sub.d/test_f.py": FLAKY})
    counter = tmp_path / "counter"
    counter.mkdir()
    plan = tmp_path / "phases.yaml"
    plan.write_text(
        textwrap.dedent("""\
        version: 1
        name: flaky
        phases:
          - id: p
            steps:
              - id: s
                run: echo x > x.txt
                gate:
                  - pytest: -q --maxfail=1 tests
                    {options}
        """).format(options=options)
    )
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"

    done = run_cli("run", str(plan), "--report", str(report), "--junit", str(junit),
                   cwd=repo, env={"FLAKY_COUNTER": str(counter)})  # fmt: skip

    gate = _gate(report, "p/s")
    if passes:
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Runner-Gate: pytest passed in" in _body(repo, "HEAD")
        assert "(2 passed, 1 flaky)" in _body(repo, "HEAD")
        assert f"pytest flaky: {FLAKY_ID}" in _body(repo, "HEAD")
        assert f"flaky: {FLAKY_ID}" in done.stdout
        assert ("flaky", FLAKY_ID) in _junit_properties(junit, "p/s")
        assert gate["tests"] == {
            "failed": [], "flaky": [FLAKY_ID], "preexisting": [], "fixed": [], "baseline": None,
        }  # fmt: skip
        assert ["flaky", 1] in gate["counts"]  # type: ignore[operator]
        # only the failed test ran again: [c/d] and test_steady passed the first time
        (listed,) = (repo / ".git/runner/tmp/pytest-rerun").glob("*.retry-1.ids")
        assert listed.read_text() == f"{FLAKY_ID}\n"
        return
    assert done.returncode == 1, done.stdout + done.stderr
    assert "rolled back" in done.stdout
    assert not (repo / "x.txt").exists()
    if options:  # flaky: fail: the re-run passed, and that is the complaint
        assert gate["summary"] == "2 passed, 1 flaky"
        assert "flaky (failed, then passed on a re-run; flaky: fail)" in done.stdout
        assert len(list((repo / ".git/runner/tmp/pytest-rerun").glob("*.retry-2.ids"))) == 0


def test_node_ids_from_junit_are_the_ones_pytest_collects(tmp_path: Path) -> None:
    """Classes, parameters with spaces and ``::``, dotted folders, inherited tests and a
    file that fails to collect: each id is the one ``pytest --collect-only`` prints."""
    files = {
        "tests/sub.d/test_c.py": "def test_z():\n    assert 0\n",
        "tests/base_mod.py": "class Base:\n    def test_inh(self):\n        assert 0\n",
        "tests/test_child.py": "from base_mod import Base\n\n\nclass TestChild(Base):\n    pass\n",
        "tests/test_broken.py": "import no_such_module_here\n",
        "tests/test_p.py": textwrap.dedent("""\
            import pytest


            class TestK:
                class TestInner:
                    def test_deep(self):
                        assert 0

                @pytest.mark.parametrize("x", ["a b", "c::d", "e.f/g", 'q"uote', "é"])
                def test_p(self, x):
                    assert 0


            def test_ok():
                pass
            """),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    xml = tmp_path / "out.xml"
    base = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests"]
    base += ["--continue-on-collection-errors"]
    subprocess.run([*base, f"--junitxml={xml}", "-o", "junit_family=xunit1"],
                   cwd=tmp_path, capture_output=True, check=False)  # fmt: skip
    listed = subprocess.run([*base, "--collect-only", "-q"],
                            cwd=tmp_path, capture_output=True, text=True, check=False)  # fmt: skip
    collected = {line for line in listed.stdout.splitlines() if "::" in line}

    cases = read_cases(xml, tmp_path)

    assert cases is not None
    ids = {c.id for c in cases}
    assert ids == collected | {"tests/test_broken.py"}
    assert "tests/test_child.py::TestChild::test_inh" in ids
    assert "tests/test_p.py::TestK::TestInner::test_deep" in ids
    assert "tests/test_p.py::TestK::test_p[c::d]" in ids
    assert set(failing(cases)) == ids - {"tests/test_p.py::test_ok"}


def test_a_baseline_record_reads_back_exactly_and_a_cut_one_is_not_trusted() -> None:
    odd = frozenset({'t.py::test_q[q"uote]', "t.py::test_b[back\\slash]", "t.py::t[é]"})
    section = baseline_section("pytest-0123456789ab", TestBaseline("a" * 40, odd))
    body = f"run: 1 file(s) changed\n\n{section}\n\nRunner-Plan: x\n"
    commit = CommitRecord("b" * 40, "subject", body, ())

    assert read_test_baselines([commit]) == {"pytest-0123456789ab": TestBaseline("a" * 40, odd)}
    cut = CommitRecord("c" * 40, "subject", "\n".join(section.splitlines()[:-1]), ())
    assert read_test_baselines([cut]) == {}


PLAN_ERRORS = """\
version: 1
name: errors
phases:
  - id: p
    steps:
      - id: s
        run: echo hi
        gate:
          - run: echo ok
            retries: 2
          - pytest: -q
            retries: -1
          - pytest: -q
            baseline: begin
          - pytest: -q
            flaky: fail
          - pytest: -q
            retries: 1
            flaky: sometimes
          - pytest: -q
            retries: 99999999999999999999
"""


def test_test_options_are_checked_where_they_are_written(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    plan = tmp_path / "phases.yaml"
    plan.write_text(PLAN_ERRORS)

    done = run_cli("check", str(plan), cwd=repo)

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f"error: {plan}:10:13: 'retries' does not apply to a run gate, only to pytest gates "
        "(runner needs the test ids pytest reports)",
        f"error: {plan}:12:22: 'retries' must be 0 or more, got -1",
        f"error: {plan}:14:23: 'baseline' must be one of start, got 'begin'",
        f"error: {plan}:16:13: 'flaky' has no effect without 'retries': a test is flaky when "
        "it fails, then passes on a re-run; add 'retries: 1' or more",
        f"error: {plan}:19:20: 'flaky' must be one of pass, fail, got 'sometimes'",
        f"error: {plan}:21:22: 'retries' must be at most 10, got 99999999999999999999",
    ], done.stderr


def test_a_replaying_run_reuses_the_rehearsals_baseline_and_verdict(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"tests/test_a.py": SUITE, "tests/conftest.py": CONFTEST})
    plan = tmp_path / "phases.yaml"
    plan.write_text(BASELINE_PLAN.split("      - id: fix", maxsplit=1)[0])
    sessions = tmp_path / "sessions"
    env = {"SESSIONS": str(sessions)}

    rehearsed = run_cli("run", str(plan), "--dry-run", cwd=repo, env=env)
    assert rehearsed.returncode == 0, rehearsed.stdout + rehearsed.stderr
    assert sessions.read_text().count("session") == 2  # the baseline, the step's gate

    done = run_cli("run", str(plan), "--replay", cwd=repo, env=env)

    assert done.returncode == 0, done.stdout + done.stderr
    assert sessions.read_text().count("session") == 2  # nothing ran again
    assert "reused from rehearsal" in done.stdout
    assert "passed in rehearsal" in done.stdout
    body = _body(repo, "HEAD")
    assert "(2 passed, 2 pre-existing failures, 0 new)" in body
    assert "unit pre-existing: tests/test_a.py::test_pre1, tests/test_a.py::test_pre2" in body
    assert '  "tests/test_a.py::test_pre1"\n  "tests/test_a.py::test_pre2"' in body


def test_retries_added_after_a_flaky_rollback_leave_done_steps_done(tmp_path: Path) -> None:
    """The natural fix for a step rolled back by a flaky test is ``retries: 1``: the steps
    already committed under that gate stay done, not "changed since their checkpoint"."""
    flaky = """\
import os
from pathlib import Path


def test_second_and_third_runs_fail():
    counter = Path(os.environ["FLAKY_COUNTER"])
    n = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(n + 1))
    assert n not in (1, 2), "flaked"
"""
    repo = make_repo(tmp_path / "repo", {"tests/test_f.py": flaky})
    plan = tmp_path / "phases.yaml"
    text = textwrap.dedent("""\
        version: 1
        name: later
        gates:
          unit:
            pytest: -q tests
        phases:
          - id: p
            steps:
              - {id: a, run: echo a > a.txt, gate: unit}
              - {id: b, run: echo b > b.txt, gate: unit}
        """)
    plan.write_text(text)
    env = {"FLAKY_COUNTER": str(tmp_path / "counter")}

    first = run_cli("run", str(plan), cwd=repo, env=env)
    assert first.returncode == 1, first.stdout + first.stderr
    assert (repo / "a.txt").exists()
    assert not (repo / "b.txt").exists()

    plan.write_text(text.replace("pytest: -q tests", "pytest: -q tests\n    retries: 1"))
    again = run_cli("run", str(plan), cwd=repo, env=env)

    assert again.returncode == 0, again.stdout + again.stderr
    assert "changed since its checkpoint" not in again.stdout
    assert "(0 passed, 1 flaky)" in _body(repo, "HEAD")
    assert (repo / "b.txt").exists()
