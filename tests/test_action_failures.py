"""Actions that cannot be carried out: a located message and an exit code, never a
traceback, and never half an action left in the tree. Real repositories, the real CLI."""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import git, make_repo, run_cli

MOVE = """\
version: 1
name: move
phases:
  - id: p
    steps:
      - id: s
        move-import: {from: pkg.old.Engine, to: pkg.new.Engine}
"""


def write_plan(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def head(repo: Path) -> str:
    return git("rev-parse", "HEAD", cwd=repo)


@pytest.fixture
def immutable() -> Iterator[list[Path]]:
    """Files made immutable with ``chattr +i`` (root cannot write them either); made
    mutable again afterwards so the temporary folder can go."""
    made: list[Path] = []
    yield made
    for path in made:
        subprocess.run(["chattr", "-i", str(path)], check=False, capture_output=True)


def make_immutable(path: Path, made: list[Path]) -> None:
    try:
        done = subprocess.run(["chattr", "+i", str(path)], check=False, capture_output=True)
    except FileNotFoundError:
        pytest.skip("chattr is not installed: no way to make a file unwritable for root")
    if done.returncode != 0:
        pytest.skip(f"this filesystem refuses chattr +i: {done.stderr.decode().strip()}")
    made.append(path)
    try:
        path.write_bytes(path.read_bytes())
    except PermissionError:
        return
    pytest.skip("chattr +i did not make the file unwritable here")


def test_deleting_a_folder_that_holds_a_submodule_names_it(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    upstream = make_repo(tmp_path / "upstream", {"lib.py": "x = 1\n"})
    git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(upstream),
        "vendor/sub", cwd=repo)  # fmt: skip
    (repo / "vendor" / "keep.py").write_text("k = 1\n")
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "vendor", cwd=repo)
    start = head(repo)
    write_plan(
        plan_file,
        """\
        version: 1
        name: delete
        phases:
          - id: p
            steps:
              - id: s
                delete: [vendor]
        """,
    )

    for _ in range(2):  # the same answer on every run
        done = run_cli("run", str(plan_file), cwd=repo)

        assert done.returncode == 1, done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        out = " ".join(done.stdout.split())
        assert "vendor/sub is a submodule" in out
        assert head(repo) == start
        assert git("status", "--porcelain", cwd=repo) == ""
        assert (repo / "vendor" / "keep.py").exists()
        assert (repo / "vendor" / "sub" / "lib.py").exists()


def test_a_codemod_that_cannot_write_a_file_changes_none(
    repo: Path, plan_file: Path, immutable: list[Path]
) -> None:
    source = "from pkg.old import Engine\n\nEngine()\n"
    for name in ("a.py", "b.py", "c.py"):
        (repo / name).write_text(source)
    (repo / "pkg").mkdir()
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "old.py").write_text("class Engine: ...\n")
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "sources", cwd=repo)
    start = head(repo)
    make_immutable(repo / "b.py", immutable)  # a.py is written before b.py fails
    write_plan(plan_file, MOVE)

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert f"{plan_file}:6: step p/s: b.py: cannot write it" in done.stderr
    assert "nothing was changed" in done.stderr
    assert head(repo) == start
    assert (repo / "a.py").read_text() == source  # put back, not half-migrated
    assert git("status", "--porcelain", cwd=repo) == ""
    status = run_cli("status", str(plan_file), cwd=repo)
    assert "interrupt" not in status.stdout  # nothing for the next run to recover


def test_a_codemod_whose_file_became_a_folder_changes_none(repo: Path, plan_file: Path) -> None:
    """A candidate replaced by a folder between the search and the write."""
    source = "from pkg.old import Engine\n\nEngine()\n"
    for name in ("a.py", "b.py"):
        (repo / name).write_text(source)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "sources", cwd=repo)
    write_plan(plan_file, MOVE)
    (repo / "b.py").unlink()
    (repo / "b.py").mkdir()  # git cannot see an empty folder: the tree looks clean
    (repo / "b.py" / ".keep").mkdir()

    done = run_cli("run", str(plan_file), cwd=repo)

    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode in (1, 2), done.stdout + done.stderr
    assert (repo / "a.py").read_text() == source


def test_a_symlink_leading_out_of_the_repository_is_not_written_through(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.py"
    source = "from pkg.old import Engine\n\nEngine()\n"
    outside.write_text(source)
    (repo / "linked.py").symlink_to(outside)
    (repo / "a.py").write_text(source)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "a link", cwd=repo)
    write_plan(plan_file, MOVE)

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert outside.read_text() == source
    assert "from pkg.new import Engine" in (repo / "a.py").read_text()


def test_an_ascii_terminal_gets_escapes_not_a_traceback(repo: Path, plan_file: Path) -> None:
    write_plan(
        plan_file,
        r"""
        version: 1
        name: ascii
        phases:
          - id: p
            steps:
              - id: s
                title: "Café → bistro ✓"
                run: "echo a > a.txt"
                gate: [{run: "printf 'fail \\342\\234\\227 caf\\303\\251\\n'; exit 1"}]
        """,
    )

    done = run_cli("run", str(plan_file), cwd=repo, env={"PYTHONIOENCODING": "ascii"})

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "Caf\\xe9 \\u2192 bistro" in done.stdout
    assert "fail \\u2717 caf\\xe9" in done.stdout
    assert "rolled back" in done.stdout
    assert git("status", "--porcelain", cwd=repo) == ""


def test_deleting_through_a_symlink_loop_is_a_message(repo: Path, plan_file: Path) -> None:
    (repo / "loop").symlink_to("loop")  # resolving it never ends
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "a loop", cwd=repo)
    write_plan(
        plan_file,
        """\
        version: 1
        name: delete
        phases:
          - id: p
            steps:
              - id: s
                delete: [loop/x.py]
        """,
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 1, done.stdout + done.stderr
    assert "loop/x.py: cannot be resolved" in " ".join(done.stdout.split())
    assert git("status", "--porcelain", cwd=repo) == ""
