"""The command line as a user meets it: exit codes, one line per problem, help that teaches."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, git, make_repo, run_cli

FIVE_MISTAKES = """\
version: 1
name: Bad Name
settings:
  rollback: sideways
phases:
  - id: p
    steps:
      - id: s
        run: "true"
        gates: [unit]
      - id: t
        run: "true"
        gate: [nope]
        timeout: soon
"""


def test_a_plan_with_five_mistakes_reports_all_five_and_changes_nothing(
    repo: Path, plan_file: Path
) -> None:
    plan_file.write_text(FIVE_MISTAKES)
    head = git("rev-parse", "HEAD", cwd=repo)

    for command in ("check", "run"):
        done = run_cli(command, str(plan_file), cwd=repo)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 5, done.stderr
        assert all(line.startswith(f"error: {plan_file}:") for line in lines)
        assert "did you mean 'gate'?" in done.stderr
        assert "Traceback" not in done.stderr
    assert git("rev-parse", "HEAD", cwd=repo) == head
    assert not (repo / ".git/runner").exists()


def test_check_plan_and_schema_on_the_projects_own_plan(repo: Path) -> None:
    plan = str(ROOT / "phases.yaml")
    assert "ok (5 phases, 10 steps)" in run_cli("check", plan, cwd=repo).stdout
    shown = run_cli("plan", plan, cwd=repo).stdout
    assert "import-migration/engine-imports" in shown
    assert "on-rollback: run python scripts/refresh_dev_services.py" in shown
    schema = json.loads(run_cli("schema", cwd=repo).stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")


def test_help_teaches_every_command(repo: Path) -> None:
    done = run_cli("--help", cwd=repo)
    assert done.returncode == 0
    for command in ("check", "plan", "run", "status", "rollback", "schema", "demo"):
        assert command in done.stdout
    run_help = run_cli("run", "--help", cwd=repo).stdout
    assert "--dry-run" in run_help
    assert "Rehearse the whole plan" in run_help


def test_a_missing_plan_file_is_one_clear_line(repo: Path) -> None:
    done = run_cli("run", "nowhere.yaml", cwd=repo)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "nowhere.yaml" in done.stderr


def test_packages_of_the_migrated_repository_never_stand_in_for_runners_own(
    tmp_path: Path, plan_file: Path
) -> None:
    broken = 'raise ImportError("the repository\'s own package, mid-migration")\n'
    repo = make_repo(
        tmp_path / "repo",
        dict.fromkeys(("rich/__init__.py", "yaml/__init__.py", "git/__init__.py"), broken),
    )
    plan_file.write_text(
        "version: 1\nname: shadow\nphases:\n  - id: p\n    steps:\n"
        '      - id: s\n        run: "echo a > a.txt"\n'
    )

    for command in (("check", str(plan_file)), ("run", str(plan_file)), ("status", str(plan_file))):
        done = run_cli(*command, cwd=repo)  # `python -m runner` in the repository
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
