"""``runner run --replay``: the real run reuses what a rehearsal proved on the same tree.

Gates append a line to a counter file outside the repository, so a test sees which gates
ran in which run; trailers and notices show what was replayed and why something was not.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from runner.plan import load_plan
from runner.rehearsals import latest_rehearsal, write_summary
from tests.conftest import git, make_repo, run_cli

PLAN = """\
version: 1
name: rp
settings:
  env: {{MODE: fast}}
{settings}phases:
  - id: p
    gate: [{{run: "echo phase >> {counter}"}}]
    steps:
      - id: one
        run: "{action}"
        gate:
          - {{run: "echo one >> {counter} && test -n \\"$FLAVOUR\\""}}
          - {{run: "echo one-b >> {counter}"}}
          - {{metric: "echo metric >> {counter}; echo 5", max: 10}}
      - id: two
        run: "echo two > two.txt"
        gate: [{{run: "echo two >> {counter}"}}]
"""


@pytest.fixture
def counter(tmp_path: Path) -> Path:
    return tmp_path / "counter"


def write_plan(
    plan_file: Path, counter: Path, *, action: str = "echo one > one.txt", settings: str = ""
) -> Path:
    plan_file.write_text(PLAN.format(counter=counter, action=action, settings=settings))
    return plan_file


def ran(counter: Path) -> list[str]:
    lines = counter.read_text().splitlines() if counter.exists() else []
    counter.unlink(missing_ok=True)
    return lines


def rehearse(plan: Path, repo: Path, **env: str) -> str:
    done = run_cli("run", str(plan), "--dry-run", cwd=repo, env={"FLAVOUR": "a", **env})
    assert done.returncode == 0, done.stdout + done.stderr
    found = latest_rehearsal(repo / ".git/runner/rehearsals", load_plan(plan).name)
    assert found is not None
    return found[0]


def test_a_replaying_run_records_the_rehearsals_passes_and_lands_the_same_trees(
    tmp_path: Path, plan_file: Path, counter: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    twin = tmp_path / "twin"
    git("clone", "-q", str(repo), str(twin), cwd=tmp_path)
    plan = write_plan(plan_file, counter)
    rid = rehearse(plan, repo)
    assert ran(counter) == ["one", "one-b", "metric", "two", "phase"]

    done = run_cli("run", str(plan), "--replay", cwd=repo, env={"FLAVOUR": "a"})

    assert done.returncode == 0, done.stdout + done.stderr
    assert ran(counter) == ["metric"]  # metric (and approve) gates always run
    log = git("log", "--format=%B", cwd=repo)
    assert log.count(f"passed in rehearsal {rid}") == 3
    plain = run_cli("run", str(plan), cwd=twin, env={"FLAVOUR": "a"})
    assert plain.returncode == 0
    for rev in ("HEAD^{tree}", "HEAD~1^{tree}"):
        assert git("rev-parse", rev, cwd=repo) == git("rev-parse", rev, cwd=twin)


def test_a_changed_environment_runs_the_gate_and_says_why(
    tmp_path: Path, plan_file: Path, counter: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    plan = write_plan(plan_file, counter)
    rehearse(plan, repo)
    ran(counter)

    done = run_cli("run", str(plan), "--replay", cwd=repo, env={"FLAVOUR": "b"})

    assert done.returncode == 0, done.stdout + done.stderr
    # any script may read any variable: every gate of the step runs again, not only the
    # one naming $FLAVOUR
    assert ran(counter) == ["one", "one-b", "metric", "two", "phase"]
    assert "p/one: gate run is run, not replayed: its environment ($FLAVOUR) changed" in (
        done.stdout
    )


def test_a_different_tree_after_the_action_runs_the_gates(
    tmp_path: Path, plan_file: Path, counter: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    plan = write_plan(plan_file, counter, action="date +%s%N > one.txt")
    rehearse(plan, repo)
    ran(counter)

    done = run_cli("run", str(plan), "--replay", cwd=repo, env={"FLAVOUR": "a"})

    assert done.returncode == 0, done.stdout + done.stderr
    assert ran(counter) == ["one", "one-b", "metric", "two", "phase"]
    assert "the tree after the action differs from the rehearsal's" in done.stdout


def test_an_old_rehearsal_is_not_replayed(tmp_path: Path, plan_file: Path, counter: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    plan = write_plan(plan_file, counter)
    rid = rehearse(plan, repo)
    ran(counter)
    summary = repo / ".git/runner/rehearsals" / rid / "rehearsal.json"
    data = json.loads(summary.read_text())
    summary.write_text(json.dumps(data | {"finished": time.time() - 3 * 3600}))

    done = run_cli("run", str(plan), "--replay", cwd=repo, env={"FLAVOUR": "a"})

    assert done.returncode == 0
    assert len(ran(counter)) == 5
    assert f"the last rehearsal ({rid}) is 3h old, older than 2h" in done.stdout


def test_settings_replay_turns_it_on_for_every_run(
    tmp_path: Path, plan_file: Path, counter: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    plan = write_plan(plan_file, counter, settings="  replay: 2h\n")
    rehearse(plan, repo)
    ran(counter)

    done = run_cli("run", str(plan), cwd=repo, env={"FLAVOUR": "a"})

    assert done.returncode == 0
    assert ran(counter) == ["metric"]


def test_a_plain_run_says_when_the_last_rehearsal_is_stale(
    tmp_path: Path, plan_file: Path, counter: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    plan = write_plan(plan_file, counter)
    rid = rehearse(plan, repo)
    (repo / "later.txt").write_text("a commit after the rehearsal\n")
    git("add", "later.txt", cwd=repo)
    git("commit", "-qm", "later", cwd=repo)

    moved = run_cli("run", str(plan), "--only", "p/one", cwd=repo, env={"FLAVOUR": "a"})
    assert f"the last rehearsal ({rid}) is stale: it started from" in moved.stdout

    rid = rehearse(write_plan(plan_file, counter, action="echo uno > one.txt"), repo)
    changed = run_cli("run", str(write_plan(plan_file, counter)), cwd=repo, env={"FLAVOUR": "a"})
    assert f"the last rehearsal ({rid}) is stale: the plan changed since" in changed.stdout


def test_replay_and_dry_run_do_not_go_together(repo: Path, plan_file: Path, counter: Path) -> None:
    done = run_cli("run", str(write_plan(plan_file, counter)), "--dry-run", "--replay", cwd=repo)
    assert done.returncode == 2
    assert "--replay goes with a real run" in done.stderr


def test_settings_included_files_and_unnamed_variables_are_gate_dependencies(
    tmp_path: Path, plan_file: Path
) -> None:
    """One rehearsal, then replaying runs from the same start, each with one thing changed
    that the gates read without naming it: each runs the gates, fails as it should, and says
    which dependency changed; the plain run calls the rehearsal stale for settings."""
    site = ".venv/lib/python3.11/site-packages"
    repo = make_repo(
        tmp_path / "repo",
        {
            "app.py": "x = 1\n",
            ".gitignore": ".env\n.venv\n",
            "check.sh": 'test "$MODE" = good && test "$FLAG" != bad\n',
            "legacy/uses.py": "import pkg_old\n",
        },
    )
    (repo / ".env").write_text("DB=ok\n")
    (repo / site).mkdir(parents=True)
    (repo / ".venv/pyvenv.cfg").write_text("home = /usr/bin\n")
    (repo / site / "dep.py").write_text("OK = True\n")
    plan = """\
version: 1
name: deps
settings: {env: {MODE: good}, exclude: ["legacy/**"]}
phases:
  - id: p
    steps:
      - id: s
        run: "echo x = 2 > app.py"
        gate:
          - {run: "grep -q DB=ok .env"}
          - {run: "sh check.sh"}
          - {run: "PYTHONPATH=SITE python3 -c 'import dep; assert dep.OK'"}
          - {forbid-imports: [pkg_old], max: 0}
""".replace("SITE", site)
    plan_file.write_text(plan)
    assert run_cli("run", str(plan_file), "--dry-run", cwd=repo).returncode == 0

    def replay(**env: str) -> str:
        done = run_cli("run", str(plan_file), "--replay", cwd=repo, env=env)
        assert done.returncode == 1, done.stdout + done.stderr  # the gate fails when run
        return done.stdout

    assert "its environment ($FLAG) changed" in replay(FLAG="bad")
    (repo / ".env").write_text("DB=broken\n")
    assert "its include .env changed" in replay()
    (repo / ".env").write_text("DB=ok\n")
    plan_file.write_text(plan.replace("MODE: good", "MODE: bad").replace('"legacy/**"', ""))
    plain = run_cli("run", str(plan_file), cwd=repo)
    assert "is stale: its settings.env, settings.exclude changed since" in plain.stdout
    assert "its environment ($MODE), settings.env, settings.exclude changed" in replay()
    plan_file.write_text(plan)
    (repo / site / "dep.py").write_text("OK = False\n")
    assert "its include .venv changed" in replay()


def test_the_latest_rehearsal_is_the_last_started_even_within_one_second(tmp_path: Path) -> None:
    """Ids sort by the second; within one, their random part must not decide."""
    folder = tmp_path / "rehearsals"
    for rid, started in (("20261203-101500-ffffff", 100.0), ("20261203-101500-000000", 200.0)):
        (folder / rid).mkdir(parents=True)
        write_summary(folder / rid, {"plan": "p", "started": started})
    found = latest_rehearsal(folder, "p")
    assert found is not None
    assert found[0] == "20261203-101500-000000"
