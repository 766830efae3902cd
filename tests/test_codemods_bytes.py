"""Lines a codemod does not rewrite keep every byte, through each codemod: form feeds,
vertical tabs, odd whitespace, trailing spaces, mixed line ends, no final newline."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.codemods import apply_codemod
from runner.model import CallRewrite, Delete, ImportMove, MoveImport, RewriteCall
from tests.conftest import git, make_repo

#: Odd but valid Python around a site each codemod rewrites (``Engine``, ``make()``,
#: ``def gone``). Each entry: the lines, joined by ``\n`` unless they carry their own end.
CORPUS = {
    "formfeed-class": "\x0cclass A:\n    pass\n",
    "formfeed-def": "\x0c\x0cdef f():\n    return 1\n",
    "formfeed-blank": "x = 1\n\x0c\ny = 2\n",
    "formfeed-indent": "if True:\n\x0c    z = 3\n",
    "vertical-tab": "v = 1  # tab\x0b here\n",
    "odd-space": "w = [1,\x0c 2]  # \x1c\x1d\x1e \x85 \u2028 ends\n",
    "trailing-spaces": "t = 1   \n\n   \nu = 2\t\n",
    "crlf-mixed": "c = 1\r\nd = 2\n",
    "except-space": "try:\n    pass\nexcept ValueError :\n    pass\n",
}

HEADER = "from pkg.old import Engine, make\n"
SITES = (
    "\n\x0cdef uses():\n    try:\n        pass\n    except OSError :\n        pass\n"
    "\x0c\n    return Engine(), make()\n\n\ndef gone():\n    return 0\n"
)


def _source(body: str, *, final_newline: bool) -> bytes:
    text = HEADER + body + SITES + body
    return (text if final_newline else text.rstrip("\n")).encode()


def _kept_lines(before: bytes, after: bytes, touched: tuple[bytes, ...]) -> None:
    """Every line of ``before`` that holds none of ``touched`` is in ``after``, byte for
    byte and in order (lines split at ``\\n`` only, their ends kept)."""
    out_lines = iter(after.split(b"\n"))
    for line in before.split(b"\n"):
        if not line or any(t in line for t in touched):
            continue  # a blank line may go with a deleted definition
        assert any(line == o for o in out_lines), (line, after)


ACTIONS: dict[str, tuple[MoveImport | RewriteCall | Delete, tuple[bytes, ...]]] = {
    "move-import": (
        MoveImport((ImportMove("pkg.old.Engine", "pkg.new.Engine"),)),
        (b"Engine",),
    ),
    "rewrite-call": (
        RewriteCall((CallRewrite("pkg.old.make", "pkg.new.build"),)),
        (b"make", b"import"),
    ),
    "delete": (Delete(("app.py::gone",)), (b"gone", b"return 0")),
}


@pytest.mark.parametrize("final_newline", [True, False], ids=["newline", "no-final-newline"])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_untouched_lines_keep_every_byte(tmp_path: Path, action: str, final_newline: bool) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/old.py": "class Engine: ...\ndef make(): ...\n",
        "pkg/new.py": "class Engine: ...\ndef build(): ...\n",
    }
    repo = make_repo(tmp_path / "repo", files)
    sources = {name: _source(body, final_newline=final_newline) for name, body in CORPUS.items()}
    for name, data in sources.items():
        (repo / name / "app.py").parent.mkdir()
        (repo / name / "app.py").write_bytes(data)
    git("add", "-A", cwd=repo)  # candidates are found among tracked files
    git("commit", "-qm", "corpus", cwd=repo)
    spec, touched = ACTIONS[action]
    if isinstance(spec, Delete):
        results = [apply_codemod(Delete((f"{n}/app.py::gone",)), repo) for n in CORPUS]
        changed = [p for r in results for p in r.changed]
    else:
        changed = list(apply_codemod(spec, repo, jobs=1).changed)

    assert sorted(changed) == sorted(f"{name}/app.py" for name in CORPUS)
    for name, before in sources.items():
        after = (repo / name / "app.py").read_bytes()
        assert after != before
        _kept_lines(before, after, touched)
