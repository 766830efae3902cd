"""``runner run --dry-run``: the whole plan, for real, in a private repository.

Every test fingerprints the user's repository before and after: branch heads, HEAD, index,
working tree (tracked, untracked and ignored files), stash, tags, config, reflogs, objects and
``.git/runner`` (apart from the rehearsal's own ``rehearsals/<id>/``) must be byte for byte
what they were, whatever the rehearsal did.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import textwrap
from pathlib import Path

import pytest

from tests.conftest import git, make_repo, run_cli, start_cli, wait_for

PLAN = """\
version: 1
name: rehearsed
settings:
  timeout: 30s
gates:
  ok: {{run: "true"}}
phases:
  - id: p
    steps:
      - id: one
        run: "echo one > one.txt && echo $RUNNER_DRY_RUN > dry.txt"
        gate: [ok]
      - id: two
        run: "echo two >> app.py"
        gate: [{gate_two}]
on-rollback:
  run: ["echo hook >> {hook_log}"]
  verify: [ok]
"""


def fingerprint(repo: Path) -> dict[str, str]:
    """Everything a rehearsal promises not to change, as path → content hash."""
    prints: dict[str, str] = {}
    for path in sorted(repo.rglob("*")):
        if path.is_file() and not path.is_symlink():
            rel = path.relative_to(repo).as_posix()
            if rel.startswith(".git/runner/rehearsals/"):
                continue  # the one place a rehearsal writes: its own record folder
            prints[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    prints["<refs>"] = git("for-each-ref", "--format=%(refname) %(objectname)", cwd=repo)
    prints["<worktrees>"] = git("worktree", "list", "--porcelain", cwd=repo)
    return prints


@pytest.fixture
def lived_in(tmp_path: Path) -> Path:
    """A repository with the state a real user has: stash, tag, ignored and untracked files,
    a staged change, and runner state from an earlier real run."""
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n", ".gitignore": "*.log\n"})
    git("tag", "v1", cwd=repo)
    (repo / "app.py").write_text("x = 'stashed'\n")
    git("stash", "-q", cwd=repo)
    (repo / "debug.log").write_text("ignored\n")
    (repo / "notes.txt").write_text("untracked\n")
    (repo / "app.py").write_text("x = 'staged'\n")
    git("add", "app.py", cwd=repo)
    (repo / ".git/runner/runs").mkdir(parents=True)
    (repo / ".git/runner/runs/earlier.jsonl").write_text('{"event": "run-finished"}\n')
    return repo


def write(plan_file: Path, tmp_path: Path, gate_two: str = "ok") -> Path:
    plan_file.write_text(PLAN.format(gate_two=gate_two, hook_log=tmp_path / "hook.log"))
    return plan_file


def test_a_passing_rehearsal_leaves_the_repository_untouched(
    lived_in: Path, plan_file: Path, tmp_path: Path
) -> None:
    plan = write(plan_file, tmp_path)
    before = fingerprint(lived_in)
    report = tmp_path / "r.json"
    junit = tmp_path / "r.xml"

    done = run_cli(
        "run", str(plan), "--dry-run", "--report", str(report), "--junit", str(junit), cwd=lived_in
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert fingerprint(lived_in) == before
    assert "the real run would complete" in done.stdout
    assert "uncommitted change(s); the rehearsal runs on HEAD" in done.stdout
    assert "one.txt" in done.stdout  # the diffstat of step one
    data = json.loads(report.read_text())
    assert data["rehearsal"] is True
    assert [s["status"] for s in data["steps"]] == ["passed", "passed"]
    assert junit.read_text().count("<testcase") == 2


def test_a_failing_rehearsal_says_where_the_real_run_would_stop(
    lived_in: Path, plan_file: Path, tmp_path: Path
) -> None:
    plan = write(plan_file, tmp_path, gate_two='{run: "false"}')
    before = fingerprint(lived_in)

    done = run_cli("run", str(plan), "--dry-run", cwd=lived_in)

    assert done.returncode == 1
    assert fingerprint(lived_in) == before
    assert "the real run would stop at p/two" in done.stdout
    assert "not run: echo hook" in done.stdout  # hooks are shown, not run
    assert not (tmp_path / "hook.log").exists()


def test_with_hooks_runs_the_on_rollback_hooks(
    lived_in: Path, plan_file: Path, tmp_path: Path
) -> None:
    plan = write(plan_file, tmp_path, gate_two='{run: "false"}')

    run_cli("run", str(plan), "--dry-run", "--with-hooks", cwd=lived_in)

    assert (tmp_path / "hook.log").read_text() == "hook\n"


def test_a_timed_out_rehearsal_leaves_the_repository_untouched(
    lived_in: Path, plan_file: Path, tmp_path: Path
) -> None:
    plan = write(plan_file, tmp_path, gate_two='{run: "sleep 100", timeout: 1s}')
    before = fingerprint(lived_in)

    done = run_cli("run", str(plan), "--dry-run", cwd=lived_in)

    assert done.returncode == 1
    assert "timed out" in done.stdout
    assert fingerprint(lived_in) == before


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_rehearsal_leaves_the_repository_untouched(
    lived_in: Path, plan_file: Path, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    started = tmp_path / "started"
    plan = write(plan_file, tmp_path, gate_two=f'{{run: "touch {started} && sleep 100"}}')
    before = fingerprint(lived_in)
    proc = start_cli("run", str(plan), "--dry-run", cwd=lived_in)
    wait_for(started)
    proc.send_signal(sig)
    proc.communicate(timeout=60)

    assert proc.returncode == code
    assert fingerprint(lived_in) == before


def test_keep_leaves_the_worktree_for_inspection(
    lived_in: Path, plan_file: Path, tmp_path: Path
) -> None:
    plan = write(plan_file, tmp_path)

    done = run_cli("run", str(plan), "--dry-run", "--keep", cwd=lived_in)

    assert done.returncode == 0
    line = next(x for x in done.stdout.splitlines() if x.startswith("private repository kept"))
    kept = Path(line.split(": ", 1)[1])
    assert (kept / "dry.txt").read_text() == "1\n"  # RUNNER_DRY_RUN=1 for what the plan runs
    assert git("worktree", "list", "--porcelain", cwd=lived_in).count("worktree ") == 1
    shutil.rmtree(kept.parent)


def test_two_rehearsals_run_at_once_but_not_beside_a_real_run(
    tmp_path: Path, plan_file: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    plan_file.write_text(
        textwrap.dedent("""\
        version: 1
        name: slow
        phases:
          - id: p
            steps:
              - id: s
                run: "echo a > a.txt"
                gate: [{run: "sleep 2"}]
        """)
    )
    procs = [start_cli("run", str(plan_file), "--dry-run", cwd=repo) for _ in range(2)]
    for proc in procs:
        proc.communicate(timeout=60)
    assert [p.returncode for p in procs] == [0, 0]

    real = start_cli("run", str(plan_file), cwd=repo)
    try:
        wait_for(repo / ".git/runner/lock.json")
        refused = run_cli("run", str(plan_file), "--dry-run", cwd=repo)
    finally:
        real.communicate(timeout=60)
    assert refused.returncode == 2
    assert "a real run holds the lock" in refused.stderr


def test_keep_and_with_hooks_need_dry_run(repo: Path, plan_file: Path, tmp_path: Path) -> None:
    write(plan_file, tmp_path)
    done = run_cli("run", str(plan_file), "--keep", cwd=repo)
    assert done.returncode == 2
    assert "go with --dry-run" in done.stderr


def test_the_fingerprint_sees_what_a_real_run_changes(
    lived_in: Path, plan_file: Path, tmp_path: Path
) -> None:
    """The control for every test above: the same plan, run for real, changes the print."""
    plan = write(plan_file, tmp_path)
    git("stash", "-q", "--include-untracked", cwd=lived_in)  # a real run needs a clean tree
    before = fingerprint(lived_in)

    assert run_cli("run", str(plan), cwd=lived_in).returncode == 0

    after = fingerprint(lived_in)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert {"<refs>", ".git/index", "one.txt"} <= changed
    assert any(k.startswith(".git/runner/runs/") for k in changed)
