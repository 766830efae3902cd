"""Small things a new user meets: version, durations, captions, narrow terminals, hints."""

from __future__ import annotations

import sys
from pathlib import Path

from runner import __version__
from tests.conftest import git, make_repo, run_cli

LONG_IDS = """\
version: 1
name: small
settings: {timeout: 5m}
phases:
  - id: constructor-migration
    steps:
      - id: legacy-constructors-everywhere
        move-import: {from: pkg.old.Engine, to: pkg.new.Engine}
        timeout: 1h30m
      - id: gone
        delete: [pkg/old.py]
"""

_FILES = {
    "pkg/__init__.py": "",
    "pkg/old.py": "class Engine: ...\n",
    "pkg/new.py": "class Engine: ...\n",
    "app.py": "from pkg.old import Engine\n",
}


def test_version_durations_and_untitled_steps(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", _FILES)
    plan = tmp_path / "phases.yaml"
    plan.write_text(LONG_IDS)

    version = run_cli("--version", cwd=repo)
    shown = run_cli("plan", str(plan), cwd=repo).stdout

    assert version.returncode == 0 and version.stdout.strip() == f"runner {__version__}"
    assert "timeout 5m" in shown and "300.0s" not in shown
    assert "timeout 1h30m" in shown
    # An untitled step is captioned by what it does, not by its id a second time.
    assert "move-import pkg.old.Engine → pkg.new.Engine" in shown
    assert "legacy-constructors-everywhere  move-import" in shown
    assert "legacy-constructors-everywhere  legacy-constructors-everywhere" not in shown


def test_narrow_status_delete_counts_and_unknown_names(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", _FILES)
    plan = tmp_path / "phases.yaml"
    plan.write_text(LONG_IDS)

    run = run_cli("run", str(plan), cwd=repo)
    narrow = run_cli("status", str(plan), cwd=repo, env={"COLUMNS": "60"}).stdout
    only = run_cli("run", str(plan), "--only", "nope", cwd=repo)
    missing = run_cli("rollback", "--plan", str(plan), "pkg/nope.py", cwd=repo)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 target(s) deleted" in run.stdout
    gone_line = next(line for line in run.stdout.splitlines() if "target(s) deleted" in line)
    assert "site(s) rewritten" not in gone_line
    # Step ids whole, one line per step: the gates column gives way, never the ids.
    rows = [line for line in narrow.splitlines() if "constructor-migration/" in line]
    assert [line.split()[0] for line in rows] == [
        "constructor-migration/legacy-constructors-everywhere",
        "constructor-migration/gone",
    ], narrow
    assert only.returncode == 2
    steps_part, _, phases_part = only.stderr.partition("; phases are: ")
    assert "constructor-migration/gone" in steps_part
    assert "steps are: " in steps_part and ", constructor-migration," not in steps_part + ","
    assert phases_part.strip() == "constructor-migration"
    assert missing.returncode == 2
    assert "pkg/nope.py: no such file" in missing.stderr


def test_yaml_hints_name_the_indentation_and_the_colon(tmp_path: Path) -> None:
    indented = tmp_path / "indented.yaml"
    indented.write_text(
        'version: 1\nname: y\nphases:\n  - id: p\n    steps:\n      - id: s\n         run: "true"\n'
    )
    colon = tmp_path / "colon.yaml"
    colon.write_text(
        'version: 1\nname: y\non-rollback:\n  run: [echo "hook: restart"]\n'
        'phases:\n  - id: p\n    steps:\n      - id: s\n        run: "true"\n'
    )

    first = run_cli("check", str(indented), cwd=tmp_path).stderr
    second = run_cli("check", str(colon), cwd=tmp_path).stderr

    assert f"{indented}:7:13:" in first
    assert "indented by 9 spaces, the key on line 6 by 8" in first
    assert f"{colon}:4:9:" in second
    assert "got a mapping: the ': ' in echo \"hook: restart\" made it one" in second
    assert "quote the whole text: 'echo \"hook: restart\"'" in second


def test_a_pytest_gate_without_pytest_refuses_before_the_codemod_runs(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", _FILES)
    plan = tmp_path / "phases.yaml"
    plan.write_text(
        LONG_IDS.replace("        timeout: 1h30m\n", "        gate: [{pytest: tests}]\n")
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python"
    fake.write_text(f'#!/bin/sh\nexec {sys.executable} -S "$@"\n')  # no site-packages
    fake.chmod(0o755)
    head = git("rev-parse", "HEAD", cwd=repo)

    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    done = run_cli("run", str(plan), cwd=repo, env=env)

    assert done.returncode == 2, done.stdout + done.stderr
    assert "cannot import pytest; nothing has run" in done.stderr
    assert "Traceback" not in done.stderr
    assert git("rev-parse", "HEAD", cwd=repo) == head
    assert (repo / "app.py").read_text() == "from pkg.old import Engine\n"
    assert git("status", "--porcelain", cwd=repo) == ""
