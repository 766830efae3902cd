"""What gates leave in the tree that a patch or the tree watch cannot hold: nested
repositories, and writes through hard links. Real repositories, the real CLI."""

from __future__ import annotations

import os
import tarfile
import textwrap
from pathlib import Path

from tests.conftest import git, make_repo, run_cli


def write_plan(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def committed(repo: Path, rev: str = "HEAD") -> list[str]:
    """``git ls-tree`` of ``rev``, one ``MODE PATH`` entry a line."""
    out = git("ls-tree", "-r", "--format=%(objectmode) %(path)", rev, cwd=repo)
    return out.splitlines()


def test_a_gate_that_clones_a_repository_leaves_nothing_behind(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    upstream = make_repo(tmp_path / "upstream", {"lib.py": "x = 1\n"})
    write_plan(
        plan_file,
        f"""\
        version: 1
        name: clones
        phases:
          - id: p
            steps:
              - id: first
                run: "echo a > a.txt"
                gate: [{{run: "git clone -q {upstream} fetched && echo r > report.txt"}}]
              - id: second
                run: "echo b > b.txt"
                gate: [{{run: "git clone -q {upstream} again"}}]
        """,
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert not (repo / "fetched").exists()
    assert not (repo / "again").exists()
    assert git("status", "--porcelain", cwd=repo) == ""
    for entry in committed(repo):
        assert not entry.startswith("160000"), entry
    assert "fetched" not in git("log", "--name-only", "--format=", cwd=repo)
    notice = " ".join(done.stdout.split())  # rich may wrap long lines
    assert "gates left 1 changed file(s)" in notice
    assert "nested repositories fetched saved as" in notice
    assert "p/second: gates left changes in the tree" in notice  # a clone, no file: no count
    assert "gates left 0" not in notice
    tarball = next((repo / ".git" / "runner" / "rollbacks").glob("*-first-leftovers.tar"))
    with tarfile.open(tarball) as tar:
        assert "fetched/lib.py" in tar.getnames()
        assert any(n.startswith("fetched/.git/") for n in tar.getnames())


def test_a_step_never_commits_an_undeclared_gitlink(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    upstream = make_repo(tmp_path / "upstream", {"lib.py": "x = 1\n"})
    write_plan(
        plan_file,
        f"""\
        version: 1
        name: gitlink
        phases:
          - id: p
            steps:
              - id: s
                run: "git clone -q {upstream} vendored && echo a > a.txt"
                gate: [{{run: "true"}}]
        """,
    )
    start = git("rev-parse", "HEAD", cwd=repo)

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    out = " ".join(done.stdout.split())
    assert "would commit vendored as a nested repository" in out
    assert ".gitmodules does not declare" in out
    assert git("rev-parse", "HEAD", cwd=repo) == start
    assert git("status", "--porcelain", cwd=repo) == ""
    assert not (repo / "vendored").exists()
    tarball = next((repo / ".git" / "runner" / "rollbacks").glob("*-s-nested.tar"))
    with tarfile.open(tarball) as tar:
        assert "vendored/lib.py" in tar.getnames()


def test_a_write_through_a_hard_link_is_not_committed(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside-link.py"
    os.link(repo / "app.py", outside)  # the same file, reached from outside the tree
    write_plan(
        plan_file,
        f"""\
        version: 1
        name: hardlink
        phases:
          - id: p
            steps:
              - id: first
                run: "echo a > a.txt"
                gate: [{{run: "echo injected >> {outside}"}}]
              - id: second
                run: "echo b > b.txt"
                gate: [{{run: "true"}}]
        """,
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 0, done.stdout + done.stderr
    assert git("show", "--name-only", "--format=", "HEAD", cwd=repo) == "b.txt"
    assert "injected" not in git("show", "HEAD:app.py", cwd=repo)
    assert git("status", "--porcelain", cwd=repo) == ""
    assert "gates left 1 changed file(s)" in done.stdout
    patch = next((repo / ".git" / "runner" / "rollbacks").glob("*-first-leftovers.patch"))
    assert "+injected" in patch.read_text()


def test_an_action_that_makes_a_repository_without_a_commit_fails_its_step_cleanly(
    repo: Path, plan_file: Path
) -> None:
    """``git init emptyrepo`` in an action: ``git add -A`` used to fail with a raw git error
    (exit 2, changes left), and every later run stopped at exit 3."""
    write_plan(
        plan_file,
        """\
        version: 1
        name: unborn
        phases:
          - id: p
            steps:
              - id: s
                run: "mkdir emptyrepo && git init -q emptyrepo && echo z > emptyrepo/z"
        """,
    )
    start = git("rev-parse", "HEAD", cwd=repo)

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "would commit emptyrepo as a nested repository" in " ".join(done.stdout.split())
    assert git("rev-parse", "HEAD", cwd=repo) == start
    assert git("status", "--porcelain", cwd=repo) == ""
    tarball = next((repo / ".git" / "runner" / "rollbacks").glob("*-s-nested.tar"))
    with tarfile.open(tarball) as tar:
        assert "emptyrepo/z" in tar.getnames()
    again = run_cli("run", str(plan_file), cwd=repo)
    assert again.returncode == 1, again.stdout + again.stderr


def test_a_codemod_inside_a_submodule_fails_its_step_instead_of_a_raw_git_error(
    plan_file: Path, tmp_path: Path
) -> None:
    """``delete: [vend/sm/d/x.py::f]``: staging it failed with git's "is in submodule"
    (exit 2, the deletion left in the submodule)."""
    lib = make_repo(
        tmp_path / "lib", {"d/x.py": "def f():\n    return 1\n\n\ndef g():\n    pass\n"}
    )
    repo = make_repo(tmp_path / "super", {"app.py": "x = 1\n"})
    git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "vend/sm",
        cwd=repo)  # fmt: skip
    git("commit", "-qm", "add the library", cwd=repo)
    write_plan(
        plan_file,
        """\
        version: 1
        name: insub
        phases:
          - id: p
            steps:
              - id: s
                delete: ["vend/sm/d/x.py::f"]
        """,
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode in (1, 2), done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "is inside vend/sm, a submodule" in " ".join((done.stdout + done.stderr).split())
    assert "def f" in (repo / "vend/sm/d/x.py").read_text()
    assert git("status", "--porcelain", cwd=repo) == ""
    assert git("-C", "vend/sm", "status", "--porcelain", cwd=repo) == ""


def test_huge_and_special_files_are_moved_aside_not_diffed(repo: Path, plan_file: Path) -> None:
    """A gate leaving a 3 GB sparse file made saving its leftovers fail (``git diff``: out of
    memory, exit 2 on every later run); a FIFO is no content at all. Both the leftovers of
    a passed step and the rollback of a failed one move them aside."""
    write_plan(
        plan_file,
        """\
        version: 1
        name: huge
        phases:
          - id: p
            steps:
              - id: a
                run: "echo a > a.txt"
                gate: [{run: "truncate -s 3G big.bin && mkfifo pipe"}]
              - id: b
                run: "echo b > b.txt"
                gate: [{run: "truncate -s 3G huge.bin && false"}]
        """,
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    out = " ".join(done.stdout.split())
    assert "moved, not diffed" in out
    assert git("status", "--porcelain", cwd=repo) == ""
    assert git("log", "-1", "--format=%s", cwd=repo) == "huge: p/a: a"
    rollbacks = repo / ".git" / "runner" / "rollbacks"
    (big,) = rollbacks.glob("*-a-leftovers-aside/big.bin")
    assert big.stat().st_size == 3 << 30
    assert (repo / "pipe").is_fifo()  # git never lists one: no patch to spoil, left alone
    (huge,) = rollbacks.glob("*-p_b-aside/huge.bin")
    assert huge.stat().st_size == 3 << 30
    assert not (repo / "b.txt").exists()
    assert run_cli("run", str(plan_file), cwd=repo).returncode == 1  # no stuck state


def test_names_and_output_reach_the_terminal_escaped(
    repo: Path, plan_file: Path, tmp_path: Path
) -> None:
    """An ESC sequence or a newline in a nested repository's name, or in a gate's output,
    reached the terminal raw (it could rewrite the screen or forge a line)."""
    upstream = make_repo(tmp_path / "upstream", {"lib.py": "x = 1\n"})
    write_plan(
        plan_file,
        f"""\
        version: 1
        name: names
        phases:
          - id: p
            steps:
              - id: a
                run: "echo a > a.txt"
                gate: [{{run: "git clone -q {upstream} \\"$(printf 'ne\\\\033[2Jst\\\\nx')\\""}}]
              - id: b
                run: "echo b > b.txt"
                gate: [{{run: "printf 'boom\\\\033[2J\\\\rforged\\\\n'; false"}}]
        """,
    )

    done = run_cli("run", str(plan_file), cwd=repo)

    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout + done.stderr
    assert "\x1b" not in out
    assert "\r" not in out
    assert '"ne\\033[2Jst\\nx"' in " ".join(done.stdout.split())
    assert "boom\\x1b[2J\\x0dforged" in out
    assert git("status", "--porcelain", cwd=repo) == ""
