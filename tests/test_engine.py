"""The core contract, as a user meets it: real repositories, the real CLI, real gates."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import git, processes_matching, run_cli, start_cli, wait_for

THREE_STEPS = """\
version: 1
name: demo-plan
settings:
  timeout: 30s
{settings}
gates:
  ok: {{run: "true"}}
  has-fix: {{run: "test -f fix.txt"}}
phases:
  - id: work
    steps:
      - id: first
        title: First change
        run: "echo one > one.txt && echo 'x = 2' > app.py"
        gate: [ok]
      - id: second
        title: Second change
        run: "echo two > two.txt && echo '# more' >> app.py"
        gate: [has-fix]
      - id: third
        run: "echo three > three.txt"
        gate: [ok]
on-rollback:
  run: ["echo restarted >> {hook_log}"]
  verify: [ok]
"""


def write_plan(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def three_step_plan(plan_file: Path, tmp_path: Path, settings: str = "") -> Path:
    hook_log = tmp_path / "hook.log"
    return write_plan(plan_file, THREE_STEPS.format(settings=settings, hook_log=hook_log))


def head(repo: Path) -> str:
    return git("rev-parse", "HEAD", cwd=repo)


def trailers(repo: Path, rev: str = "HEAD") -> str:
    return git("log", "-1", "--format=%(trailers)", rev, cwd=repo)


def test_failed_gate_rolls_back_the_step_and_saves_its_diff(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    plan = three_step_plan(plan_file, tmp_path)
    report = tmp_path / "report.json"
    done = run_cli("run", str(plan), "--report", str(report), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    subjects = git("log", "--format=%s", cwd=repo).splitlines()
    assert subjects == ["demo-plan: work/first: First change", "base"]
    assert git("status", "--porcelain", cwd=repo) == ""
    assert not (repo / "two.txt").exists()
    assert "has-fix" in done.stdout
    # The discarded diff is a patch that git apply brings back.
    patches = list((repo / ".git/runner/rollbacks").glob("*.patch"))
    assert len(patches) == 1
    git("apply", str(patches[0]), cwd=repo)
    assert (repo / "two.txt").read_text() == "two\n"
    assert (repo / "app.py").read_text() == "x = 2\n# more\n"
    # on-rollback hooks ran; the report names the gate.
    assert (tmp_path / "hook.log").read_text() == "restarted\n"
    data = json.loads(report.read_text())
    second = data["steps"][1]
    assert second["status"] == "rolled back"
    assert second["gates"][0]["name"] == "has-fix"
    assert second["rollback"]["patch"] == str(patches[0])
    assert data["exit_code"] == 1


@pytest.mark.parametrize("gate", ["echo g > gate.txt; false", "echo g >> app.py; false"])
def test_a_failed_gate_that_wrote_files_has_them_in_the_patch_too(
    repo: Path, plan_file: Path, gate: str
) -> None:
    write_plan(
        plan_file,
        f"""\
        version: 1
        name: writer
        phases:
          - id: p
            steps:
              - id: s
                run: "echo a > a.txt && echo 'x = 1' >> app.py"
                gate: [{{run: "{gate}"}}]
        """,
    )
    start = head(repo)
    before = (repo / "app.py").read_text()

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert head(repo) == start
    assert git("status", "--porcelain", cwd=repo) == ""
    assert (repo / "app.py").read_text() == before
    patch = next((repo / ".git" / "runner" / "rollbacks").glob("*.patch"))
    git("apply", str(patch), cwd=repo)
    assert (repo / "a.txt").read_text() == "a\n"
    expected = before + "x = 1\n" + ("g\n" if "app.py" in gate else "")
    assert (repo / "app.py").read_text() == expected
    assert (repo / "gate.txt").exists() == ("gate.txt" in gate)


def test_checkpoint_commits_carry_the_contract_trailers(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    plan = three_step_plan(plan_file, tmp_path)
    (repo / "fix.txt").write_text("fixed\n")
    git("add", "fix.txt", cwd=repo)
    git("commit", "-qm", "fix", cwd=repo)

    done = run_cli("run", str(plan), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert len(git("log", "--format=%H", cwd=repo).splitlines()) == 5
    found = trailers(repo)
    assert "Runner-Plan: demo-plan" in found
    assert "Runner-Step: work/third" in found
    assert "Runner-Step-Digest: sha256:" in found
    assert "Runner-Gate: ok passed in" in found


def test_plan_rollback_by_revert_keeps_history_and_restores_the_start(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    plan = three_step_plan(plan_file, tmp_path, "  rollback: plan\n  rollback-mode: revert")
    start_tree = git("rev-parse", "HEAD^{tree}", cwd=repo)

    done = run_cli("run", str(plan), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    subjects = git("log", "--format=%s", cwd=repo).splitlines()
    assert subjects[0] == "demo-plan: revert work/first"
    assert "demo-plan: work/first: First change" in subjects
    assert git("rev-parse", "HEAD^{tree}", cwd=repo) == start_tree
    assert git("status", "--porcelain", cwd=repo) == ""
    reverted = git("log", "-1", "--format=%(trailers:key=Runner-Reverts,valueonly)", cwd=repo)
    assert reverted.strip() == git("rev-parse", "HEAD~1", cwd=repo)


def test_rollback_by_reset_keeps_discarded_commits_reachable(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    plan = three_step_plan(plan_file, tmp_path, "  rollback: phase")
    start = head(repo)

    done = run_cli("run", str(plan), cwd=repo)

    assert done.returncode == 1
    assert head(repo) == start
    refs = git("for-each-ref", "--format=%(refname)", "refs/runner/rollbacks", cwd=repo)
    assert len(refs.splitlines()) == 1
    assert git("log", "-1", "--format=%s", refs, cwd=repo) == "demo-plan: work/first: First change"


def test_resume_after_a_fix_skips_passed_steps(repo: Path, plan_file: Path, tmp_path: Path) -> None:
    plan = three_step_plan(plan_file, tmp_path)
    assert run_cli("run", str(plan), cwd=repo).returncode == 1
    first = head(repo)
    (repo / "fix.txt").write_text("fixed\n")
    git("add", "fix.txt", cwd=repo)
    git("commit", "-qm", "fix the cause", cwd=repo)

    done = run_cli("run", str(plan), "--report", str(tmp_path / "r.json"), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    statuses = [s["status"] for s in json.loads((tmp_path / "r.json").read_text())["steps"]]
    assert statuses == ["already done", "passed", "passed"]
    assert git("rev-list", "--count", f"{first}..HEAD", cwd=repo) == "3"
    status = run_cli("status", str(plan), "--json", cwd=repo)
    state = json.loads(status.stdout)
    assert [s["status"] for s in state["steps"]] == ["done", "done", "done"]
    assert state["steps"][0]["commit"] == first


def test_status_reads_the_same_state_from_a_fresh_clone(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    plan = three_step_plan(plan_file, tmp_path)
    run_cli("run", str(plan), cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)

    state = json.loads(run_cli("status", str(plan), "--json", cwd=clone).stdout)

    assert [s["status"] for s in state["steps"]] == ["done", "pending", "pending"]
    assert state["next"] == "work/second"


def test_a_changed_step_is_reported_not_silently_skipped(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    plan = three_step_plan(plan_file, tmp_path)
    run_cli("run", str(plan), cwd=repo)
    plan.write_text(plan.read_text().replace("echo one > one.txt", "echo uno > one.txt"))

    done = run_cli("run", str(plan), cwd=repo)

    assert "work/first changed since its checkpoint" in done.stdout
    state = json.loads(run_cli("status", str(plan), "--json", cwd=repo).stdout)
    assert state["steps"][0]["status"] == "changed since checkpoint"


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("dirty", "uncommitted changes (app.py)"),
        ("untracked", "uncommitted changes (new.py)"),
        ("detached", "HEAD is detached"),
        ("merge", "a merge is in progress"),
    ],
)
def test_refused_preconditions_exit_2_and_change_nothing(
    repo: Path, plan_file: Path, tmp_path: Path, setup: str, expected: str
) -> None:
    plan = three_step_plan(plan_file, tmp_path)
    if setup == "dirty":
        (repo / "app.py").write_text("edited\n")
    elif setup == "untracked":
        (repo / "new.py").write_text("x\n")
    elif setup == "detached":
        git("checkout", "-q", "--detach", cwd=repo)
    else:
        (repo / ".git/MERGE_HEAD").write_text(head(repo) + "\n")
    before = git("status", "--porcelain", cwd=repo), head(repo)

    done = run_cli("run", str(plan), cwd=repo)

    assert done.returncode == 2
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert (git("status", "--porcelain", cwd=repo), head(repo)) == before


def test_not_a_repository_and_unborn_branch_are_refused(tmp_path: Path, plan_file: Path) -> None:
    plan = three_step_plan(plan_file, tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_cli("run", str(plan), "--repo", str(empty), cwd=tmp_path)
    assert done.returncode == 2
    assert "not a git repository" in done.stderr
    git("init", "-q", "-b", "main", cwd=empty)
    done = run_cli("run", str(plan), "--repo", str(empty), cwd=tmp_path)
    assert done.returncode == 2
    assert "no commits yet" in done.stderr


def test_a_second_run_while_one_holds_the_lock_exits_2_naming_the_holder(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    write_plan(
        plan_file,
        """\
        version: 1
        name: slow
        phases:
          - id: p
            steps:
              - id: s
                gate: [{run: "sleep 4"}]
        """,
    )
    first = start_cli("run", str(plan_file), cwd=repo)
    try:
        wait_for(repo / ".git/runner/lock.json")
        second = run_cli("run", str(plan_file), cwd=repo)
    finally:
        first.communicate(timeout=30)
    assert second.returncode == 2
    assert f"pid {first.pid}" in second.stderr
    assert first.returncode == 0


def test_a_timed_out_gate_leaves_no_process_behind(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    marker = f"runner-test-{os.getpid()}-{time.monotonic_ns()}"
    write_plan(
        plan_file,
        f"""\
        version: 1
        name: hang
        phases:
          - id: p
            steps:
              - id: s
                run: "echo changed > app.py"
                gate:
                  - run: "sh -c 'sleep 1000; echo {marker}' & sleep 1000"
                    timeout: 1s
        """,
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "timed out" in done.stdout
    assert (repo / "app.py").read_text() == "import pkg.old\n"
    assert processes_matching(marker) == []


def test_ctrl_c_during_a_step_rolls_it_back_and_exits_130(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    marker = f"runner-int-{os.getpid()}-{time.monotonic_ns()}"
    write_plan(
        plan_file,
        f"""\
        version: 1
        name: interrupt
        phases:
          - id: p
            steps:
              - id: s
                run: "echo half > app.py && echo new > new.txt && sh -c 'sleep 1000; echo {marker}'"
                gate: [{{run: "true"}}]
        """,
    )
    proc = start_cli("run", str(plan_file), cwd=repo)
    wait_for(repo / "new.txt")
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)

    assert proc.returncode == 130, err
    assert git("status", "--porcelain", cwd=repo) == ""
    assert (repo / "app.py").read_text() == "import pkg.old\n"
    patches = list((repo / ".git/runner/rollbacks").glob("*.patch"))
    assert len(patches) == 1
    assert "new.txt" in patches[0].read_text()
    assert processes_matching(marker) == []


def test_on_failure_stop_leaves_the_tree_and_continue_goes_on(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    write_plan(
        plan_file,
        """\
        version: 1
        name: modes
        phases:
          - id: p
            steps:
              - id: keep-going
                run: "echo a > a.txt"
                gate: [{run: "false"}]
                on-failure: continue
              - id: halt
                run: "echo b > b.txt"
                gate: [{run: "false"}]
                on-failure: stop
              - id: never
                run: "echo c > c.txt"
        """,
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 1
    assert trailers(repo).count("Runner-Result: failed (on-failure: continue)") == 1
    assert (repo / "a.txt").exists()
    assert git("status", "--porcelain", cwd=repo) == "?? b.txt"
    assert not (repo / "c.txt").exists()
    # A stopped run is finished: the next run sees a dirty tree, not an interruption.
    again = run_cli("run", str(plan_file), cwd=repo)
    assert again.returncode == 2
    assert "uncommitted changes (b.txt)" in again.stderr


def test_untracked_files_of_the_step_go_ignored_files_stay(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    (repo / ".gitignore").write_text("*.cache\n")
    git("add", ".gitignore", cwd=repo)
    git("commit", "-qm", "ignore caches", cwd=repo)
    (repo / "user.cache").write_text("precious\n")
    write_plan(
        plan_file,
        """\
        version: 1
        name: clean
        phases:
          - id: p
            steps:
              - id: s
                run: "echo made > made.txt && echo gen > gen.cache && echo changed > user.cache"
                gate: [{run: "false"}]
        """,
    )

    assert run_cli("run", str(plan_file), cwd=repo).returncode == 1

    assert not (repo / "made.txt").exists()
    assert (repo / "user.cache").read_text() == "changed\n"  # ignored: never touched
    assert (repo / "gen.cache").exists()


def test_phase_gate_failure_rolls_back_the_phase(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    write_plan(
        plan_file,
        """\
        version: 1
        name: phased
        phases:
          - id: p
            gate: [{run: "test -f never.txt"}]
            steps:
              - id: a
                run: "echo a > a.txt"
              - id: b
                run: "echo b > b.txt"
        """,
    )
    start = head(repo)

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 1
    assert head(repo) == start
    assert "phase p" in done.stdout


def test_approve_gate_fails_without_a_terminal_unless_yes(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    write_plan(
        plan_file,
        """\
        version: 1
        name: approval
        phases:
          - id: p
            steps:
              - id: s
                run: "echo a > a.txt"
                gate: [{approve: "Did staging validate?"}]
        """,
    )
    refused = run_cli("run", str(plan_file), cwd=repo)
    assert refused.returncode == 1
    assert "no terminal to ask" in refused.stdout

    approved = run_cli("run", str(plan_file), "--yes", cwd=repo)
    assert approved.returncode == 0, approved.stdout
    assert "approved by --yes" in trailers(repo)


def test_pytest_gate_counts_come_from_junit_and_metric_reads_the_last_number(
    repo: Path, plan_file: Path
) -> None:
    (repo / "test_things.py").write_text(
        textwrap.dedent("""\
        import pytest
        def test_a() -> None: pass
        def test_b() -> None: pass
        @pytest.mark.skip
        def test_c() -> None: pass
        """)
    )
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "tests", cwd=repo)
    write_plan(
        plan_file,
        """\
        version: 1
        name: counting
        phases:
          - id: p
            steps:
              - id: s
                gate:
                  - pytest: "-q test_things.py"
                  - metric: "echo latency 640 ms; echo 650"
                    max: 700
        """,
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    found = trailers(repo)
    assert "(2 passed, 1 skipped)" in found
    assert "value 650 within max 700" in found
    assert git("status", "--porcelain", "--ignored", cwd=repo) == ""


def test_from_and_only_select_steps_and_unknown_ones_are_refused(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    plan = three_step_plan(plan_file, tmp_path)
    report = tmp_path / "r.json"

    done = run_cli("run", str(plan), "--only", "work/third", "--report", str(report), cwd=repo)

    assert done.returncode == 0, done.stdout
    statuses = [s["status"] for s in json.loads(report.read_text())["steps"]]
    assert statuses == ["not run", "not run", "passed"]
    bad = run_cli("run", str(plan), "--from", "work/secnd", cwd=repo)
    assert bad.returncode == 2
    assert "did you mean 'work/second'" in bad.stderr


def test_junit_has_one_case_per_gate(repo: Path, plan_file: Path, tmp_path: Path) -> None:
    plan = three_step_plan(plan_file, tmp_path)
    junit = tmp_path / "gates.xml"

    run_cli("run", str(plan), "--junit", str(junit), cwd=repo)

    text = junit.read_text()
    assert text.count("<testcase") == 2
    assert 'failures="1"' in text
    assert 'classname="work/second" name="has-fix"' in text


def test_gate_leftovers_are_saved_and_removed(repo: Path, plan_file: Path) -> None:
    write_plan(
        plan_file,
        """\
        version: 1
        name: leftovers
        phases:
          - id: p
            steps:
              - id: s
                run: "echo a > a.txt"
                gate: [{run: "echo report > coverage.txt"}]
        """,
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 0
    assert git("show", "--name-only", "--format=", "HEAD", cwd=repo) == "a.txt"
    assert git("status", "--porcelain", cwd=repo) == ""
    assert "gates left 1 changed file(s)" in done.stdout


@pytest.mark.parametrize(
    ("action", "gate", "left"),
    [
        # A folder the action created and git cannot see (empty): watched from then on.
        ("mkdir -p out && echo a > a.txt", "echo r > out/report.txt", "out/report.txt"),
        # A folder the gate creates, several levels deep.
        ("echo a > a.txt", "mkdir -p x/y && echo r > x/y/r.txt", "x/y/r.txt"),
        # A tracked file the gate changes.
        ("echo a > a.txt", "echo more >> app.py", "app.py"),
        # A file the gate only makes executable.
        ("echo a > a.txt", "chmod +x app.py", "app.py"),
        # A folder the action moved, then the gate writes inside it.
        ("mkdir -p d/e && mv d f && echo a > a.txt", "echo r > f/e/r.txt", "f/e/r.txt"),
    ],
)
def test_gate_leftovers_are_found_wherever_they_land(
    repo: Path, plan_file: Path, action: str, gate: str, left: str
) -> None:
    write_plan(
        plan_file,
        f"""\
        version: 1
        name: leftovers
        phases:
          - id: p
            steps:
              - id: first
                run: "echo 0 > zero.txt"
                gate: [{{run: "true"}}]
              - id: s
                run: "{action}"
                gate: [{{run: "{gate}"}}]
        """,
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert git("status", "--porcelain", cwd=repo) == ""
    assert "gates left 1 changed file(s)" in done.stdout
    patch = next((repo / ".git" / "runner" / "rollbacks").glob("*-leftovers.patch"))
    assert left in patch.read_text()
    assert left not in git("show", "--name-only", "--format=", "HEAD", cwd=repo).split()


@pytest.mark.parametrize(
    ("gate", "left"), [("echo x > build/out.txt", False), ("echo y >> vendor/keep.txt", True)]
)
def test_ignored_folders_are_leftovers_only_for_their_tracked_files(
    repo: Path, plan_file: Path, gate: str, left: bool
) -> None:
    (repo / ".gitignore").write_text("build/\nvendor/\n")
    for name in ("build/old.txt", "vendor/keep.txt"):
        (repo / name).parent.mkdir(exist_ok=True)
        (repo / name).write_text("x\n")
    git("add", ".gitignore", cwd=repo)
    git("add", "-f", "vendor/keep.txt", cwd=repo)
    git("commit", "-qm", "ignore build output", cwd=repo)
    write_plan(
        plan_file,
        f"""\
        version: 1
        name: ignoring
        phases:
          - id: p
            steps:
              - id: s
                run: "echo a > a.txt"
                gate: [{{run: "{gate}"}}]
        """,
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert ("gates left 1 changed file(s)" in done.stdout) == left
    assert git("status", "--porcelain", cwd=repo) == ""
    assert (repo / "vendor" / "keep.txt").read_text() == "x\n"


def test_a_step_that_unignores_a_folder_fails_and_leaves_its_files(
    repo: Path, plan_file: Path
) -> None:
    """Files ignored when the run started are the user's: a step that un-ignores them (and
    so would commit them) fails, and its rollback leaves them on disk as they were."""
    (repo / ".gitignore").write_text("build/\n")
    (repo / "build").mkdir()
    (repo / "build" / "old.txt").write_text("x\n")
    git("add", ".gitignore", cwd=repo)
    git("commit", "-qm", "ignore build output", cwd=repo)
    write_plan(
        plan_file,
        """\
        version: 1
        name: unignoring
        phases:
          - id: p
            steps:
              - id: s
                run: "echo '# nothing ignored' > .gitignore"
                gate: [{run: "echo report > build/report.txt"}]
        """,
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "ignored when the run started (build/old.txt)" in done.stdout
    assert (repo / "build" / "old.txt").read_text() == "x\n"
    assert (repo / ".gitignore").read_text() == "build/\n"
    assert git("status", "--porcelain", cwd=repo) == ""


def test_a_gate_that_only_stages_changes_no_checkpoint(repo: Path, plan_file: Path) -> None:
    (repo / ".gitignore").write_text("*.log\n")
    git("add", ".gitignore", cwd=repo)
    git("commit", "-qm", "ignore logs", cwd=repo)
    write_plan(
        plan_file,
        """\
        version: 1
        name: stager
        phases:
          - id: p
            steps:
              - id: s
                run: "echo a > a.txt && echo log > out.log"
                gate: [{run: "git add -f out.log"}]
              - id: t
                run: "echo b > b.txt"
        """,
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert git("status", "--porcelain", cwd=repo) == ""
    assert "out.log" not in git("log", "--name-only", "--format=", cwd=repo).split()


def test_a_gate_that_moves_head_fails_the_step_and_the_next_run_goes_on(
    repo: Path, plan_file: Path
) -> None:
    plan = """\
        version: 1
        name: mover
        phases:
          - id: p
            steps:
              - id: s
                run: "echo a > a.txt"
                gate: [{run: "GATE"}]
        """
    write_plan(plan_file, plan.replace("GATE", "git commit -q --allow-empty -m stray"))
    start = head(repo)

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "a gate changed git's setup: branch main moved to" in done.stdout
    assert "Traceback" not in done.stderr
    assert head(repo) == start  # the step, and the gate's commit with it, rolled back
    kept = git("for-each-ref", "--format=%(objectname)", "refs/runner/rollbacks/", cwd=repo)
    assert git("log", "-1", "--format=%s", kept, cwd=repo) == "stray"  # still reachable

    write_plan(plan_file, plan.replace("GATE", "true"))
    again = run_cli("run", str(plan_file), cwd=repo)

    assert again.returncode == 0, again.stdout + again.stderr
    assert git("status", "--porcelain", cwd=repo) == ""
    assert git("rev-list", "--count", f"{start}..HEAD", cwd=repo) == "1"  # the step alone


def test_commands_see_the_contract_environment(repo: Path, plan_file: Path) -> None:
    write_plan(
        plan_file,
        """\
        version: 1
        name: env-plan
        settings:
          env: {GREETING: "hello"}
        phases:
          - id: p
            steps:
              - id: s
                run: echo $RUNNER_PLAN $RUNNER_PHASE $RUNNER_STEP $RUNNER_DRY_RUN $GREETING >env.txt
        """,
    )

    assert run_cli("run", str(plan_file), cwd=repo).returncode == 0

    assert (repo / "env.txt").read_text() == "env-plan p s 0 hello\n"


def test_branch_setting_creates_and_uses_the_branch(repo: Path, plan_file: Path) -> None:
    write_plan(
        plan_file,
        """\
        version: 1
        name: branchy
        settings: {branch: migration/test}
        phases:
          - id: p
            steps:
              - id: s
                run: "echo a > a.txt"
        """,
    )
    main_before = git("rev-parse", "main", cwd=repo)

    assert run_cli("run", str(plan_file), cwd=repo).returncode == 0

    assert git("branch", "--show-current", cwd=repo) == "migration/test"
    assert git("rev-parse", "main", cwd=repo) == main_before
