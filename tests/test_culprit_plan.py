"""``on-failure: isolate`` and ``isolate:`` in a plan: read right, or refused where wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import PlanError
from runner.model import IsolateSettings, OnFailure
from runner.plan import load_plan
from tests.conftest import make_repo, run_cli

HEAD = "version: 1\nname: demo\nphases:\n  - id: p\n    steps:\n      - id: s\n"


def _load(tmp_path: Path, step: str) -> list[str] | IsolateSettings:
    path = tmp_path / "phases.yaml"
    path.write_text(HEAD + step)
    try:
        plan = load_plan(path, display_path="phases.yaml")
    except PlanError as e:
        return [str(p) for p in e.problems]
    (found,) = plan.steps
    return found.isolate


def test_defaults_and_every_setting(tmp_path: Path) -> None:
    step = "        run: x\n        gate: [{run: y}]\n        on-failure: isolate\n"
    assert _load(tmp_path, step) == IsolateSettings()
    full = step + "        isolate: {group: by-folder, then: continue, max-gate-runs: 12}\n"
    wanted = IsolateSettings(by_folder=True, then_continue=True, max_gate_runs=12)
    assert _load(tmp_path, full) == wanted
    plan = load_plan(tmp_path / "phases.yaml")
    assert plan.steps[0].on_failure is OnFailure.ISOLATE


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (
            "        run: x\n        gate: [{run: y}]\n        isolate: {then: stop}\n",
            "phases.yaml:9:9: 'isolate' only applies with 'on-failure: isolate'",
        ),
        (
            "        gate: [{run: y}]\n        on-failure: isolate\n",
            "phases.yaml:8:21: on-failure: isolate needs an action that changes files",
        ),
        (
            "        run: x\n        on-failure: isolate\n",
            "phases.yaml:8:21: on-failure: isolate needs a 'gate'",
        ),
        (
            "        run: x\n        gate: [y]\n        on-failure: isolate\n"
            "        isolate: {group: by-file}\n",
            "phases.yaml:10:26: 'isolate: group' must be one of by-folder, none, got 'by-file'",
        ),
        (
            "        run: x\n        gate: [{run: y}]\n        on-failure: isolate\n"
            "        isolate: {max-gate-runs: 0}\n",
            "phases.yaml:10:34: 'isolate: max-gate-runs' must be a whole number from 1 to 1000",
        ),
        (
            "        run: x\n        gate: [{run: y}]\n        on-failure: isolate\n"
            "        isolate: {max-gates: 3}\n",
            "phases.yaml:10:19: unknown key 'max-gates' in 'isolate'; did you mean",
        ),
        (
            "        run: x\n        gate: [{run: y}]\n        on-failure: isolate\n"
            "        isolate: by-folder\n",
            "phases.yaml:10:18: 'isolate' must be a mapping",
        ),
    ],
)
def test_a_wrong_isolate_is_one_problem_where_it_is(
    tmp_path: Path, step: str, expected: str
) -> None:
    found = _load(tmp_path, step)
    assert isinstance(found, list)
    assert any(p.startswith(expected) for p in found), found


def test_the_cli_refuses_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    plan = tmp_path / "phases.yaml"
    plan.write_text(HEAD + "        gate: [{run: y}]\n        on-failure: isolate\n")
    done = run_cli("run", str(plan), cwd=repo)
    assert done.returncode == 2
    assert "on-failure: isolate needs an action" in done.stderr
    assert "Traceback" not in done.stderr
