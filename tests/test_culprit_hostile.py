"""``on-failure: isolate`` against hostile gates and the user's files: probes switch the
change's paths and nothing else, and a probe's gate is held to what any gate is."""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path

import pytest

from tests.conftest import git, make_repo, run_cli, start_cli, wait_for

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


def test_ctrl_c_in_a_probe_whose_gate_wrote_a_changed_file_saves_the_steps_change(
    tmp_path: Path,
) -> None:
    # The gate of the first subset probe overwrites a.txt (a path of the change), then hangs:
    # the patch the interrupted step names holds the step's a.txt, not the gate's.
    hang = (
        "import pathlib, sys, time\n"
        "if 'BAD' not in pathlib.Path('b.txt').read_text() and 'A' in open('a.txt').read():\n"
        "    pathlib.Path('a.txt').write_text('gate junk\\n')\n"
        f"    pathlib.Path({str(tmp_path / 'hung')!r}).touch()\n"
        "    time.sleep(60)\n"
    )
    (tmp_path / "hang.py").write_text(hang)
    repo, plan = _setup(tmp_path, f"python {tmp_path / 'hang.py'} && python check.py")
    proc = start_cli("run", str(plan), cwd=repo)
    wait_for(tmp_path / "hung")
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, out + err
    named = re.search(r"saved as (\S+-interrupted\.patch)", " ".join(out.split()))
    assert named is not None, out
    saved = Path(named[1]).read_text()
    assert "+A" in saved and "+BAD" in saved and "+C" in saved
    assert "junk" not in saved
    assert git("status", "--porcelain", cwd=repo) == ""


def test_a_search_that_keeps_nothing_saves_the_steps_change_not_the_gates(
    tmp_path: Path,
) -> None:
    # The gate overwrites a.txt, a path of the change; the bound stops the search after a
    # probe that held a.txt's change: the rollback's patch is the step's, whole.
    repo, plan = _setup(tmp_path, "printf 'junk\\n' > a.txt; python check.py")
    plan.write_text(plan.read_text() + "        isolate: {max-gate-runs: 2}\n")
    done = run_cli("run", str(plan), cwd=repo)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "stopped at its bound of 2 gate runs" in " ".join(done.stdout.split())
    patches = list((repo / ".git/runner/rollbacks").glob("*.patch"))
    saved = "".join(p.read_text() for p in patches if "leftovers" not in p.name)
    assert "+A" in saved and "+BAD" in saved and "+C" in saved
    assert "junk" not in saved


def test_held_back_names_with_unicode_line_breaks_read_back_whole(tmp_path: Path) -> None:
    # U+2028 and U+0085 are no line break to git, but are to str.splitlines: the trailers
    # and the follow-ups read back from the commit must keep such names whole.
    names = ["p\u0085q.txt", "x\u2028y.txt"]
    repo, plan = _setup(tmp_path, "python check.py", "python mk.py")
    script = "".join(f"open({n!r}, 'w').write('BAD')\n" for n in names)
    (repo / "mk.py").write_text("open('a.txt', 'w').write('A')\n" + script)
    git("add", "mk.py", cwd=repo)
    git("commit", "-qm", "mk", cwd=repo)
    done = run_cli("run", str(plan), cwd=repo)
    assert done.returncode == 1, done.stdout + done.stderr
    status = json.loads(run_cli("status", str(plan), "--json", cwd=repo).stdout)
    assert status["steps"][0]["held_back"] == names
    assert [f["path"] for f in status["followups"]["items"]] == names


def test_a_file_the_step_untracks_stays_on_disk_as_the_step_left_it(tmp_path: Path) -> None:
    # The step stops tracking .env and keeps it (git rm --cached, a .gitignore line): the
    # probes switch trees with and without it, which deleted it from disk for good.
    action = (
        "git rm -q --cached .env && echo .env >> .gitignore && echo 'KEY=mine' > .env && "
        "printf 'BAD\\n' > b.txt"
    )
    repo, plan = _setup(tmp_path, "python check.py", action)
    (repo / ".env").write_text("KEY=old\n")
    git("add", ".env", cwd=repo)
    git("commit", "-qm", "env", cwd=repo)
    done = run_cli("run", str(plan), cwd=repo)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "held back 1 file(s)" in done.stdout and "(b.txt)" in done.stdout
    assert (repo / ".env").read_text() == "KEY=mine\n"
    assert git("status", "--porcelain", "--ignored", cwd=repo) == "!! .env"
    assert git("ls-files", ".env", cwd=repo) == ""
    assert not list((repo / ".git/runner/rollbacks").glob("*untracked*"))


def test_a_gate_that_cannot_judge_a_probe_blames_no_file(tmp_path: Path) -> None:
    # The gate's script comes with the step: on the checkpoint it is not found (exit 127,
    # inconclusive), which is no failure to search by, nor "the gates fail without the change".
    action = (
        "printf '#!/bin/sh\\nexec python check.py\\n' > tool.sh && chmod +x tool.sh && "
        "printf 'BAD\\n' > b.txt"
    )
    repo, plan = _setup(tmp_path, "./tool.sh", action)
    start = git("rev-parse", "HEAD", cwd=repo)
    done = run_cli("run", str(plan), cwd=repo)
    assert done.returncode == 1, done.stdout + done.stderr
    out = " ".join(done.stdout.split())
    assert "could not judge probe 1" in out and "command not found" in out
    assert "fail without any of the step's changes" not in out
    assert git("rev-parse", "HEAD", cwd=repo) == start
    assert git("status", "--porcelain", cwd=repo) == ""
