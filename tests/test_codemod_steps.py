"""Codemod steps inside real runs: protected files, excludes, follow-ups, ratio baselines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import git, make_repo, run_cli

LEGACY = "from pkg.old import Engine\n\n\ndef build():\n    return Engine()\n"
MODERN = "from pkg.new import UserEngine as Engine\n\n\ndef build():\n    return Engine()\n"

PLAN = """\
version: 1
name: codemods
settings:
  rollback-mode: revert
  exclude: ["vendor/**"]
phases:
  - id: p
    steps:
      - id: move
        move-import: {from: pkg.old.Engine, to: pkg.new.UserEngine, as: Engine}
        gate: [{forbid-imports: [pkg.old.Engine], max-ratio: 0.5}]
"""


def sample(tmp_path: Path) -> Path:
    files = {
        "pkg/__init__.py": "",
        "pkg/old.py": "class Engine: ...\n",
        "pkg/new.py": "class UserEngine: ...\n",
        "a.py": LEGACY,
        "b.py": LEGACY,
        "c.py": LEGACY,
        "vendor/lib.py": LEGACY,
        "tests/test_patching.py": 'from unittest import mock\nP = mock.patch("pkg.old.Engine")\n',
    }
    return make_repo(tmp_path / "repo", files)


def test_a_move_import_step_rewrites_and_records_follow_ups(
    tmp_path: Path, plan_file: Path
) -> None:
    repo = sample(tmp_path)
    plan_file.write_text(PLAN)

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert (repo / "a.py").read_text() == MODERN
    assert (repo / "vendor/lib.py").read_text() == LEGACY  # settings.exclude
    body = git("log", "-1", "--format=%B", cwd=repo)
    assert "Manual follow-ups:\n  tests/test_patching.py:2:" in body
    assert "Runner-Baseline: pkg.old.Engine=3" in body  # counted before the step ran
    state = json.loads(run_cli("status", str(plan_file), "--json", cwd=repo).stdout)
    assert state["steps"][0]["followups"][0].startswith("tests/test_patching.py:2:")
    assert state["baselines"] == {"pkg.old.Engine": 3}


def test_files_taken_back_stay_untouched_when_the_plan_runs_again(
    tmp_path: Path, plan_file: Path
) -> None:
    repo = sample(tmp_path)
    plan_file.write_text(PLAN)
    assert run_cli("run", str(plan_file), cwd=repo).returncode == 0
    taken = run_cli("rollback", "a.py", "--to", "p/move", "--plan", str(plan_file), cwd=repo)
    assert taken.returncode == 0, taken.stderr
    # Take the whole plan back (revert mode keeps the record of a.py in history), then run it
    # again from the start: the codemod redoes b.py and c.py but leaves a.py alone.
    assert run_cli("rollback", "--all", "--plan", str(plan_file), cwd=repo).returncode == 0
    assert (repo / "b.py").read_text() == LEGACY

    again = run_cli("run", str(plan_file), cwd=repo)

    assert again.returncode == 0, again.stdout + again.stderr
    assert (repo / "a.py").read_text() == LEGACY
    assert (repo / "b.py").read_text() == MODERN
    assert (repo / "c.py").read_text() == MODERN
    state = json.loads(run_cli("status", str(plan_file), "--json", cwd=repo).stdout)
    assert state["protected_files"] == ["a.py"]
    # The ratio's baseline is the count when the plan first started, not after the rollback.
    assert state["baselines"] == {"pkg.old.Engine": 3}


def test_a_failing_forbid_imports_gate_lists_every_remaining_site(
    tmp_path: Path, plan_file: Path
) -> None:
    repo = sample(tmp_path)
    plan_file.write_text(
        PLAN.replace("max-ratio: 0.5", "max: 0").replace('exclude: ["vendor/**"]', "exclude: []")
    )
    plan_file.write_text(plan_file.read_text().replace("from: pkg.old.Engine", "from: pkg.other.X"))

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 1
    for site in ("a.py:1", "b.py:1", "c.py:1", "vendor/lib.py:1"):
        assert site in done.stdout
    assert git("status", "--porcelain", cwd=repo) == ""


def test_deleting_a_folder_leaves_ignored_files_in_it(tmp_path: Path, plan_file: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {".gitignore": "*.local\n", "pkg/compat/__init__.py": "", "pkg/compat/shim.py": "x = 1\n"},
    )
    (repo / "pkg/compat/settings.local").write_text("the user's own\n")
    plan_file.write_text(
        "version: 1\nname: cleanup\nphases:\n  - id: p\n    steps:\n"
        "      - id: drop\n        delete: pkg/compat\n"
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert not (repo / "pkg/compat/shim.py").exists()
    assert (repo / "pkg/compat/settings.local").read_text() == "the user's own\n"
    removed = git("show", "--name-status", "--format=", "HEAD", cwd=repo).splitlines()
    assert removed == ["D\tpkg/compat/__init__.py", "D\tpkg/compat/shim.py"]


def test_many_rewritten_files_are_staged_into_one_pack_and_commit_intact(
    tmp_path: Path, plan_file: Path
) -> None:
    files = {"pkg/__init__.py": "", "pkg/old.py": "class Engine:\n    pass\n"}
    files |= {
        f"app/m_{i:02d}.py": f"from pkg.old import Engine\n\nE{i} = Engine\n" for i in range(20)
    }
    repo = make_repo(tmp_path / "repo", files)
    git("gc", "-q", cwd=repo)  # everything packed: one pack before the run
    plan_file.write_text(
        "version: 1\nname: many\nphases:\n  - id: p\n    steps:\n      - id: move\n"
        "        move-import: {from: pkg.old.Engine, to: pkg.new.UserEngine}\n"
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    packs = list((repo / ".git" / "objects" / "pack").glob("*.pack"))
    assert len(packs) == 2  # the 20 new blobs went into one pack of their own
    git("fsck", "--strict", "--no-dangling", cwd=repo)
    assert git("show", "HEAD:app/m_07.py", cwd=repo) == (
        "from pkg.new import UserEngine\n\nE7 = UserEngine"
    )
    assert git("status", "--porcelain", cwd=repo) == ""


@pytest.mark.parametrize(
    ("setting", "size", "shown"),
    [("", 600_000, "586 KB, over settings.max-file-size (512 KB)"),
     ("settings: {max-file-size: 4KB}\n", 6000, "6 KB, over settings.max-file-size (4 KB)")],
)  # fmt: skip
def test_files_over_the_size_limit_are_left_unchanged_and_named(
    repo: Path, plan_file: Path, setting: str, size: int, shown: str
) -> None:
    """Never parsed: LibCST needs minutes and gigabytes for a module of a few MB."""
    big = "from pkg.old import Engine\n" + "x = 1\n" * (size // 6)
    (repo / "big.py").write_text(big)
    (repo / "small.py").write_text("from pkg.old import Engine\n")
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "files", cwd=repo)
    plan_file.write_text(
        "version: 1\nname: sizes\n" + setting + "phases:\n  - id: p\n    steps:\n"
        "      - id: s\n        move-import: {from: pkg.old.Engine, to: pkg.new.Engine}\n"
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert (repo / "big.py").read_text() == big
    assert (repo / "small.py").read_text() == "from pkg.new import Engine\n"
    out = " ".join(done.stdout.split())
    assert f"big.py: {shown}; left unchanged" in out
