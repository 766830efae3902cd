"""The follow-up re-check on real files: what is gone is resolved, what moved is found."""

from __future__ import annotations

from pathlib import Path

from runner.codemods import FollowUp
from runner.followups import counts, recheck

STRING = (
    "string target 'pkg.old.Engine' names pkg.old.Engine (moved to pkg.new.Engine); "
    "update it by hand"
)
SYNC = (
    "sync call site of an awaited factory: pkg.make_engine(...) is not inside an async def; "
    "rewrite it to pkg.new.make by hand"
)
STAR = "star import from pkg.old may bring Engine (now pkg.new.Engine); import it by name"
OTHER = "cannot import pkg.new.Engine as Engine: the name is taken here; rewrite it by hand"


def _check(tmp_path: Path, text: str | None, reason: str, line: int = 1) -> tuple[bool, int]:
    if text is not None:
        (tmp_path / "m.py").write_text(text)
    (live,) = recheck(tmp_path, [("p/s", FollowUp("m.py", line, reason))])
    return live.open, live.line


def test_a_string_target_is_open_where_it_is_now_and_resolved_once_gone(tmp_path: Path) -> None:
    assert _check(tmp_path, 'x = 1\n\nT = "pkg.old.Engine"\n', STRING) == (True, 3)
    assert _check(
        tmp_path, '# "pkg.old.Engine" in a comment only\nT = "pkg.new.Engine"\n', STRING
    ) == (False, 1)
    # A file that does not parse: the text decides.
    assert _check(tmp_path, 'def (:\n"pkg.old.Engine"\n', STRING) == (True, 2)


def test_a_sync_call_site_is_resolved_once_every_call_is_awaited_inside_async(
    tmp_path: Path,
) -> None:
    sync = "import pkg\n\n\ndef f():\n    return pkg.make_engine()\n"
    awaited = "import pkg\n\n\nasync def f():\n    return await pkg.make_engine()\n"
    nested = "async def f():\n    def g():\n        return make_engine()\n"
    aliased = "from pkg import make_engine as old_make\n\n\ndef f():\n    return old_make()\n"
    assert _check(tmp_path, sync, SYNC, line=5) == (True, 5)
    assert _check(tmp_path, awaited, SYNC, line=5) == (False, 5)
    assert _check(tmp_path, nested, SYNC) == (True, 3)
    assert _check(tmp_path, aliased, SYNC) == (True, 5)


def test_a_star_import_unknown_reasons_and_deleted_files(tmp_path: Path) -> None:
    assert _check(tmp_path, "from pkg.old import *\n", STAR) == (True, 1)
    assert _check(tmp_path, "from pkg.old import Engine\n", STAR) == (False, 1)
    # A reason with no check stays open where it was recorded: never a false "done".
    assert _check(tmp_path, "x = 1\n", OTHER, line=7) == (True, 7)
    (tmp_path / "m.py").unlink()
    assert _check(tmp_path, None, OTHER, line=7) == (False, 7)


def test_counts_and_each_file_read_once(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text('A = "pkg.old.Engine"\nfrom pkg.old import *\n')
    live = recheck(
        tmp_path,
        [
            ("a", FollowUp("m.py", 1, STRING)),
            ("b", FollowUp("m.py", 2, STAR)),
            ("c", FollowUp("gone.py", 1, STRING)),
        ],
    )
    assert counts(live) == (2, 1)
    assert str(live[0]) == f"m.py:1: {STRING}"
