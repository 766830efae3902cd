"""File names git can store but a shell, a pathspec or a commit message would misread.

``runner rollback FILE`` names files: each name is that file alone (``[ab].py`` is not a
pattern, ``:(top)x.py`` is not pathspec magic), and each name taken back round-trips
through the commit's trailers (quoted as git quotes paths), so later codemods leave it alone.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from runner.git import repository
from tests.conftest import git, make_repo, run_cli

#: Names that git would read as a pattern or as magic, beside plain names they would match.
ODD = ("[ab].py", "*.py", "?.py", "a:b.py", ":(top)x.py", "sp ace.py", "é.py", "new\nline.py")
PLAIN = ("a.py", "b.py", "x.py")

#: Appends a line to every ``*.py`` file in the repository's root, whatever its name.
EDIT_ALL = "import os; [open(n, 'a').write('new\\n') for n in os.listdir() if n.endswith('.py')]"
TOUCH_ALL = f"""\
version: 1
name: odd
phases:
  - id: first
    steps:
      - id: edit
        run: [python, -c, {json.dumps(EDIT_ALL)}]
"""

MOVE = """\
  - id: second
    steps:
      - id: move
        move-import: {from: pkg.old, to: pkg.new}
"""


def _repo(tmp_path: Path, names: tuple[str, ...], text: str) -> Path:
    return make_repo(tmp_path / "repo", dict.fromkeys(names, text))


def test_rollback_file_names_are_literal_paths_never_patterns(
    tmp_path: Path, plan_file: Path
) -> None:
    repo = _repo(tmp_path, ODD + PLAIN, "old\n")
    plan_file.write_text(TOUCH_ALL)
    assert run_cli("run", str(plan_file), cwd=repo).returncode == 0

    done = run_cli("rollback", *ODD, "--plan", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    for name in ODD:
        assert (repo / name).read_text() == "old\n", name
    for name in PLAIN:  # what the names would match as patterns: untouched
        assert (repo / name).read_text() == "old\nnew\n", name
    assert git("status", "--porcelain", cwd=repo) == ""
    changed = git("show", "--name-only", "-z", "--format=", "HEAD", cwd=repo)
    assert sorted(p for p in changed.split("\0") if p) == sorted(ODD)
    state = json.loads(run_cli("status", str(plan_file), "--json", cwd=repo).stdout)
    assert sorted(state["protected_files"]) == sorted(ODD)


def test_a_taken_back_file_with_a_newline_in_its_name_stays_protected(
    tmp_path: Path, plan_file: Path
) -> None:
    odd = "odd\nname.py"
    repo = _repo(tmp_path, (odd, "app.py"), "import pkg.old\n")
    plan_file.write_text(TOUCH_ALL)
    assert run_cli("run", str(plan_file), cwd=repo).returncode == 0
    done = run_cli("rollback", odd, "--plan", str(plan_file), cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    trailers = git("log", "-1", "--format=%(trailers:key=Runner-Rollback-File)", cwd=repo)
    assert trailers == 'Runner-Rollback-File: "odd\\nname.py"'

    plan_file.write_text(TOUCH_ALL + MOVE)
    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert (repo / odd).read_text() == "import pkg.old\n"  # protected: left alone
    assert (repo / "app.py").read_text() == "import pkg.new\nnew\n"


def test_a_name_that_is_not_utf8_is_taken_back_and_recorded(
    tmp_path: Path, plan_file: Path
) -> None:
    raw = b"caf\xe9.py"  # Latin-1: a valid file name on Linux, not UTF-8
    repo = make_repo(tmp_path / "repo", {"app.py": "import pkg.old\n"})
    try:
        (repo / os.fsdecode(raw)).write_text("import pkg.old\n")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "latin-1 name", cwd=repo)
    plan_file.write_text(TOUCH_ALL)
    assert run_cli("run", str(plan_file), cwd=repo).returncode == 0

    taken = run_cli("rollback", os.fsdecode(raw), "--plan", str(plan_file), cwd=repo)
    assert taken.returncode == 0, taken.stdout + taken.stderr
    trailers = git("log", "-1", "--format=%(trailers:key=Runner-Rollback-File)", cwd=repo)
    assert trailers == 'Runner-Rollback-File: "caf\\351.py"'

    plan_file.write_text(TOUCH_ALL + MOVE)
    assert run_cli("run", str(plan_file), cwd=repo).returncode == 0
    assert (repo / os.fsdecode(raw)).read_text() == "import pkg.old\n"
    assert (repo / "app.py").read_text() == "import pkg.new\nnew\n"


def test_a_deleted_folder_is_that_folder_even_when_its_name_is_a_pattern(
    tmp_path: Path, plan_file: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"lib*/x.py": "x\n", "library/y.py": "y\n"})
    plan_file.write_text(
        "version: 1\nname: odd\nphases:\n  - id: p\n    steps:\n"
        '      - id: drop\n        delete: ["lib*"]\n'
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert not (repo / "lib*").exists()
    assert (repo / "library/y.py").read_text() == "y\n"
    assert git("show", "--name-only", "--format=", "HEAD", cwd=repo) == "lib*/x.py"


def test_staging_a_codemods_files_stages_those_names_alone(tmp_path: Path) -> None:
    """A codemod stages the files it wrote by name (``--pathspec-from-file``): a name that
    looks like a pattern or magic must not stage the files it would match."""
    repo = _repo(tmp_path, ODD + PLAIN, "old\n")
    for name in ODD + PLAIN:
        (repo / name).write_text("changed\n")

    with repository(repo) as r:
        r.stage_paths(ODD)
        staged = r.staged_paths()

    assert sorted(staged) == sorted(ODD)
