"""``affected: true`` and ``workers:`` on pytest gates, through real runs of real plans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from runner.plan import parse_plan
from tests.conftest import git, make_repo, run_cli
from tests.test_plan import only_problem, plan_text

#: ``pkg.service`` uses ``pkg.core``; only ``test_service`` uses ``pkg.service``.
REPO = {
    "pkg/__init__.py": "",
    "pkg/core.py": "FACTOR = 2\n\n\ndef rate():\n    return FACTOR\n",
    "pkg/service.py": "from pkg.core import rate\n\n\ndef price(n):\n    return n * rate()\n",
    "pkg/unrelated.py": "X = 1\n",
    "pkg/plugins.py": (
        "import importlib\n\n\ndef load(name):\n    return importlib.import_module(name)\n"
    ),
    "tests/conftest.py": "",
    "tests/data.txt": "fixture data\n",
    "tests/test_service.py": (
        "from pkg.service import price\n\n\ndef test_price():\n    assert price(3) == 6\n"
    ),
    "tests/test_plain.py": "def test_plain():\n    assert True\n",
}


def _append(path: str, text: str) -> str:
    return f"python -c \"open('{path}', 'a').write('{text}')\""


def _plan(path: Path, gate: str, steps: str, extra: str = "") -> Path:
    path.write_text(
        "version: 1\nname: affected\n"
        f"gates:\n  unit: {gate}\n"
        "phases:\n  - id: main\n    gate: [unit]\n    steps:\n"
        + textwrap.indent(textwrap.dedent(steps), "      ")
        + extra
    )
    return path


def _run(repo: Path, plan: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Any]:
    report = tmp_path / "report.json"
    done = run_cli("run", str(plan), "--yes", "--report", str(report), cwd=repo)
    assert report.exists(), done.stdout + done.stderr
    return done, json.loads(report.read_text())


def _summaries(data: Any) -> dict[str, str]:
    return {s["key"].split("/")[-1]: s["gates"][0]["summary"] for s in data["steps"] if s["gates"]}


def test_a_step_breaking_a_test_through_an_indirect_import_fails_its_affected_gate(
    tmp_path: Path, plan_file: Path
) -> None:
    repo = make_repo(tmp_path / "repo", REPO)
    plan = _plan(
        plan_file,
        "{pytest: tests -q, affected: true}",
        f"""\
        - id: unrelated
          run: {_append("pkg/unrelated.py", "Y = 2")}
          gate: [unit]
        - id: break-core
          run: {_append("pkg/core.py", "FACTOR = 3")}
          gate: [unit]
        """,
        "on-rollback:\n  verify: [unit]\n",
    )
    done, data = _run(repo, plan, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    summaries = _summaries(data)
    # its first run: what the step changed; then: what changed since it last passed
    assert summaries["unrelated"] == (
        "no affected tests: 0 of 2 test files (affected by 1 changed module)"
    )
    # core → service → test_service: only that file ran, and it failed
    assert summaries["break-core"] == (
        "1 of 2 test files (affected by 1 changed module since its last pass): 0 passed, 1 failed"
    )
    assert [s["status"] for s in data["steps"]] == ["passed", "rolled back"]
    assert (repo / "pkg/core.py").read_text() == REPO["pkg/core.py"]
    assert "on-rollback gate always runs all its tests" in done.stdout


def test_affected_gates_run_everything_when_they_cannot_be_sure(
    tmp_path: Path, plan_file: Path
) -> None:
    repo = make_repo(tmp_path / "repo", REPO)
    plan = _plan(
        plan_file,
        "{pytest: tests -q, affected: true, workers: 2}",
        f"""\
        - id: start
          gate: [unit]
        - id: conftest
          run: {_append("tests/conftest.py", "# note")}
          gate: [unit]
        - id: data
          run: {_append("tests/data.txt", "more")}
          gate: [unit]
        - id: dynamic
          run: {_append("pkg/plugins.py", "# note")}
          gate: [unit]
        - id: check
          gate: [unit]
        """,
    )
    done, data = _run(repo, plan, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    summaries = _summaries(data)
    xdist = subprocess.run([sys.executable, "-c", "import xdist"], check=False).returncode == 0
    note = f"pytest-xdist is not installed for {sys.executable}: ran on one core, without -n; "
    if not xdist:  # said once, by the first gate that found out
        assert summaries["start"].startswith(note)
        summaries["start"] = summaries["start"].removeprefix(note)
        assert note not in json.dumps(data["steps"][1:])
    check = summaries.pop("check")
    assert check.startswith("no affected tests: nothing changed since the gate passed on tree ")
    assert summaries == {
        "start": "full selection (its first run in this run, after a step that changed "
        "nothing): 2 passed",
        "conftest": "full selection (tests/conftest.py changed): 2 passed",
        "data": "full selection (tests/data.txt changed, not Python, under a test or source "
        "root): 2 passed",
        "dynamic": "full selection (changed pkg/plugins.py imports dynamically (line 5)): 2 passed",
    }
    phase = data["phase_gates"][0][1][0]["summary"]
    assert phase == "full selection (a phase gate always runs all its tests): 2 passed"
    assert git("status", "--porcelain", cwd=repo) == ""


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ("{pytest: tests, affected: 3}", "5:36: 'affected' must be true or false, got '3'"),
        ("{pytest: tests, workers: 0}", "5:35: 'workers' must be auto or a whole number"),
        ("{pytest: tests, workers: many}", "5:35: 'workers' must be auto or a whole number"),
        ("{pytest: tests -n 2, workers: 2}", "5:40: 'workers' and a -n in the pytest arguments"),
        ("{pytest: tests -n2, workers: 2}", "5:39: 'workers' and a -n in the pytest arguments"),
        ("{pytest: tests -nauto, workers: 2}", "5:42: 'workers' and a -n in the pytest arguments"),
        ("{run: make test, affected: true}", "5:27: 'affected' does not apply to a run gate"),
    ],
)
def test_bad_pytest_gate_options_are_plan_errors(gate: str, message: str) -> None:
    text = plan_text(gates=f"other: {gate}\n")
    assert message in only_problem(text)


def test_good_pytest_gate_options_load() -> None:
    plan = parse_plan(plan_text(gates="other: {pytest: tests, affected: true, workers: auto}\n"))
    assert plan is not None


def test_an_affected_gate_sees_every_change_since_it_last_passed(
    tmp_path: Path, plan_file: Path
) -> None:
    """A step without the gate breaks a test; the gate's next run, after an unrelated change,
    still runs that test and fails, as the full gate would: same verdict, fewer tests."""
    repo = make_repo(tmp_path / "repo", REPO)
    plan = _plan(
        plan_file,
        "{pytest: tests -q, affected: true}",
        f"""\
        - id: first
          run: {_append("pkg/unrelated.py", "Y = 2")}
          gate: [unit]
        - id: ungated
          run: {_append("pkg/core.py", "FACTOR = 3")}
        - id: unrelated-again
          run: {_append("pkg/extra.py", "Z = 3")}
          gate: [unit]
        """,
    )
    done, data = _run(repo, plan, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert _summaries(data)["unrelated-again"] == (
        "1 of 2 test files (affected by 2 changed modules since its last pass): 0 passed, 1 failed"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["tests"], {"kept": 1, "seen": 3}),
        # pytest asks about a named file's siblings too; they are not "left out"
        (["tests/test_a.py", "tests/test_b.py"], {"kept": 1, "seen": 2}),
    ],
)
def test_the_plugin_counts_the_test_files_pytest_would_collect(
    tmp_path: Path, args: list[str], expected: dict[str, int]
) -> None:
    files = {f"tests/test_{n}.py": "def test_it():\n    assert True\n" for n in "abc"}
    repo = make_repo(tmp_path / "repo", files)
    plugin, report = tmp_path / "plugin", tmp_path / "report"
    report.mkdir()
    plugin.mkdir()
    source = Path(__file__).parents[1] / "runner" / "gates" / "affected_plugin.py"
    (plugin / "runner_affected_plugin.py").write_bytes(source.read_bytes())
    known = [str(repo / f) for f in files]
    selection = {"files": [str(repo / "tests/test_a.py")], "dirs": [], "report": str(report)}
    selection["known"] = known
    (plugin / "selection.json").write_text(json.dumps(selection))
    env = {**os.environ, "PYTHONPATH": str(plugin)}
    env["RUNNER_AFFECTED"] = str(plugin / "selection.json")
    load = ["-p", "runner_affected_plugin", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *load, "-q", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "1 passed" in done.stdout, done.stdout + done.stderr
    [written] = report.iterdir()
    assert json.loads(written.read_text()) == expected


def test_pytest_finding_no_affected_test_is_a_pass_not_inconclusive(
    tmp_path: Path, plan_file: Path
) -> None:
    """An -o override hides python_files from runner, so pytest runs and the plugin keeps
    nothing: pytest's "no tests collected" (exit 5) is then the pass it means, said so."""
    repo = make_repo(tmp_path / "repo", REPO)
    plan = _plan(
        plan_file,
        "{pytest: [tests, -q, -o, python_files=test_*.py], affected: true}",
        f"""\
        - id: unrelated
          run: {_append("pkg/unrelated.py", "Y = 2")}
          gate: [unit]
        """,
    )
    done, data = _run(repo, plan, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _summaries(data)["unrelated"] == (
        "no affected tests: 0 of 2 test files (affected by 1 changed module)"
    )
    assert data["steps"][0]["gates"][0]["status"] == "passed"


#: A fixture plugin that imports ``pkg.core``; the test using it imports nothing of ``pkg``.
PLUGIN_REPO = {
    "pkg/__init__.py": "",
    "pkg/core.py": "FACTOR = 2\n",
    "helpers/__init__.py": "",
    "helpers/fixtures.py": (
        "import pytest\nfrom pkg.core import FACTOR\n\n\n"
        "@pytest.fixture\ndef factor():\n    return FACTOR\n"
    ),
    "tests/test_factor.py": "def test_factor(factor):\n    assert factor == 2\n",
    "tests/test_plain.py": "def test_plain():\n    assert True\n",
}
#: How pytest is told to load that plugin, with no import statement a graph could follow.
PLUGIN_LOADS = {
    "pytest-plugins": {"conftest.py": "pytest_plugins = ['helpers.fixtures']\n"},
    "addopts": {"pytest.ini": "[pytest]\naddopts = -p helpers.fixtures\n"},
    "env": {},  # settings.env: PYTEST_PLUGINS
    "pyproject-list": {
        "pyproject.toml": '[tool.pytest.ini_options]\naddopts = ["-p", "helpers.fixtures"]\n'
    },
}


@pytest.mark.parametrize("how", sorted(PLUGIN_LOADS))
def test_a_change_reaching_a_pytest_plugin_is_judged(
    tmp_path: Path, plan_file: Path, how: str
) -> None:
    repo = make_repo(tmp_path / "repo", {**PLUGIN_REPO, **PLUGIN_LOADS[how]})
    plan = _plan(
        plan_file,
        "{pytest: tests -q, affected: true}",
        f"""\
        - id: break-core
          run: {_append("pkg/core.py", "FACTOR = 3")}
          gate: [unit]
        """,
    )
    if how == "env":
        text = plan.read_text().replace(
            "gates:", "settings:\n  env: {PYTEST_PLUGINS: helpers.fixtures}\ngates:", 1
        )
        plan.write_text(text)
    done, data = _run(repo, plan, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in _summaries(data)["break-core"]
    assert (repo / "pkg/core.py").read_text() == PLUGIN_REPO["pkg/core.py"]


def test_a_first_affected_gate_judges_what_earlier_steps_without_it_changed(
    tmp_path: Path, plan_file: Path
) -> None:
    repo = make_repo(tmp_path / "repo", REPO)
    plan = _plan(
        plan_file,
        "{pytest: tests -q, affected: true}",
        f"""\
        - id: break-core
          run: {_append("pkg/core.py", "FACTOR = 3")}
        - id: unrelated
          run: {_append("pkg/unrelated.py", "Y = 2")}
          gate: [unit]
        """,
    )
    done, data = _run(repo, plan, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert _summaries(data)["unrelated"] == (
        "1 of 2 test files (affected by 2 changed modules since the run started): "
        "0 passed, 1 failed"
    )
    assert [s["status"] for s in data["steps"]] == ["passed", "rolled back"]


def test_a_test_file_git_ignores_is_not_skipped_unseen(tmp_path: Path, plan_file: Path) -> None:
    repo = make_repo(tmp_path / "repo", {**REPO, ".gitignore": "tests/generated/\n"})
    (repo / "tests/generated").mkdir()
    (repo / "tests/generated/test_gen.py").write_text(
        "from pkg.core import FACTOR\n\n\ndef test_gen():\n    assert FACTOR == 2\n"
    )
    plan = _plan(
        plan_file,
        "{pytest: tests -q, affected: true}",
        f"""\
        - id: break-core
          run: {_append("pkg/core.py", "FACTOR = 3")}
          gate: [unit]
        """,
    )
    done, data = _run(repo, plan, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    # test_service (through pkg.service) and the ignored test_gen ran; test_plain did not
    assert _summaries(data)["break-core"] == (
        "2 of 3 test files (affected by 1 changed module): 0 passed, 2 failed"
    )


def test_a_file_named_in_the_arguments_is_a_test_file_whatever_its_name(
    tmp_path: Path, plan_file: Path
) -> None:
    checks = "from pkg.core import rate\n\n\ndef test_rate():\n    assert rate() == 2\n"
    files = {"pkg/__init__.py": "", "pkg/core.py": REPO["pkg/core.py"], "tests/checks.py": checks}
    repo = make_repo(tmp_path / "repo", files)
    plan = _plan(
        plan_file,
        "{pytest: tests/checks.py -q, affected: true}",
        f"""\
        - id: break-core
          run: {_append("pkg/core.py", "FACTOR = 3")}
          gate: [unit]
        """,
    )
    done, data = _run(repo, plan, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert _summaries(data)["break-core"] == (
        "1 of 1 test files (affected by 1 changed module): 0 passed, 1 failed"
    )
