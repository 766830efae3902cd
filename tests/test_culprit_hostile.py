"""``on-failure: isolate`` against hostile gates and the user's files: probes switch the
change's paths and nothing else, and a probe's gate is held to what any gate is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import git, make_repo, run_cli

#: Fails when any ``*.txt`` holds ``BAD``; the last line names the files.
CHECK = """\
import pathlib, sys
bad = [p.name for p in sorted(pathlib.Path('.').glob('*.txt')) if 'BAD' in p.read_text()]
print('bad:', bad or 'none'); sys.exit(1 if bad else 0)
"""
#: A step that changes three files, one of which breaks the gate.
ACTION = "printf 'A\\n' > a.txt; printf 'BAD\\n' > b.txt; printf 'C\\n' > c.txt"


def _setup(tmp_path: Path, gate: str, action: str = ACTION) -> tuple[Path, Path]:
    files = {"a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n", "u.txt": "user\n"}
    repo = make_repo(tmp_path / "repo", {**files, "check.py": CHECK})
    plan = tmp_path / "phases.yaml"
    plan.write_text(
        "version: 1\nname: iso\nphases:\n  - id: p\n    steps:\n      - id: s\n"
        f"        run: {action!r}\n        gate: [{{run: {gate!r}}}]\n"
        "        on-failure: isolate\n"
    )
    return repo, plan


def test_a_probe_gate_that_edits_a_changed_file_leaves_marked_files_alone(
    tmp_path: Path,
) -> None:
    # The gate appends to a.txt, a path the probes switch: the next switch cannot merge and
    # restores the change's paths, never the whole tree (whose reset wrote over u.txt).
    repo, plan = _setup(tmp_path, "echo junk >> a.txt; python check.py")
    git("update-index", "--assume-unchanged", "u.txt", cwd=repo)
    (repo / "u.txt").write_text("my local edit\n")
    done = run_cli("run", str(plan), cwd=repo)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "held back 1 file(s)" in done.stdout and "(b.txt)" in done.stdout
    assert (repo / "u.txt").read_text() == "my local edit\n"
    assert git("ls-files", "-v", "u.txt", cwd=repo) == "h u.txt"
    assert git("diff", "--name-only", "HEAD^", "HEAD", cwd=repo).split() == ["a.txt", "c.txt"]


@pytest.mark.parametrize(
    ("command", "said"),
    [
        ("git checkout -q -b side", "HEAD moved from branch main to branch side"),
        ("git checkout -q --detach", "HEAD moved from branch main to detached"),
        ("git update-index --assume-unchanged a.txt", "marked 1 file(s) assume-unchanged"),
    ],
)
def test_a_probe_gate_that_moves_git_setup_stops_the_search(
    tmp_path: Path, command: str, said: str
) -> None:
    # Passing on the step's checkpoint (probe 1), the gate then moves HEAD or marks a file:
    # the run puts it back and rolls the step back whole, as after the step's own gates.
    repo, plan = _setup(tmp_path, f"python check.py && {command}")
    start = git("rev-parse", "HEAD", cwd=repo)
    done = run_cli("run", str(plan), cwd=repo)
    assert done.returncode == 1, done.stdout + done.stderr
    out = " ".join(done.stdout.split())
    assert "a gate in probe 1 " in out and said in out
    assert "the culprit search stopped there; rolled back whole" in out
    assert git("symbolic-ref", "--short", "HEAD", cwd=repo) == "main"
    assert git("rev-parse", "HEAD", cwd=repo) == start
    assert git("status", "--porcelain", cwd=repo) == ""
    assert [line for line in git("ls-files", "-v", cwd=repo).splitlines() if line[0] != "H"] == []


def test_the_follow_up_of_a_held_back_new_file_stays_open(tmp_path: Path) -> None:
    # The held-back file is one the change adds: absent at the partial checkpoint, which
    # is not its follow-up done (the change is only in the held-back patch).
    action = "printf 'A\\n' > a.txt; printf 'BAD\\n' > new.txt"
    repo, plan = _setup(tmp_path, "python check.py", action)
    done = run_cli("run", str(plan), cwd=repo)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 manual follow-up(s) open" in done.stdout
    assert not (repo / "new.txt").exists()
    status = run_cli("status", str(plan), "--json", cwd=repo)
    assert json.loads(status.stdout)["followups"]["open"] == 1
