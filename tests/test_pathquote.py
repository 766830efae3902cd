"""Paths in commit records: quoted as git quotes them, read back exactly, old records too."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from runner.codemods import FollowUp
from runner.git import CommitRecord
from runner.history import T_ROLLBACK_FILE, followups_block, read_history
from runner.pathquote import quote_path, unquote_path
from tests.conftest import git, make_repo

NAMES = [
    "plain.py",
    "sp ace.py",
    " leading.py",
    "trailing.py ",
    "new\nline.py",
    "tab\there.py",
    'quo"te.py',
    "back\\slash.py",
    "bell\a\b\v\f\r.py",
    "del\x7f\x01.py",
    "é/ünï/çødé.py",
    "a:12: b.py",
    '"quoted".py',
    os.fsdecode(b"caf\xe9-\xff\x80.py"),  # not UTF-8: carried as surrogates
]


@pytest.mark.parametrize("name", NAMES)
def test_every_name_round_trips_on_one_line(name: str) -> None:
    quoted = quote_path(name)
    assert "\n" not in quoted
    assert quoted == quoted.strip()
    quoted.encode("utf-8")  # writable into a UTF-8 commit message
    assert unquote_path(quoted) == name
    assert unquote_path(quote_path(name, always=True)) == name


def test_the_quoting_is_gits_own(tmp_path: Path) -> None:
    """What ``git ls-files`` prints for a name (core.quotePath=false) is what runner writes;
    beyond git: edge whitespace (a trailer loses it) and bytes that are not UTF-8 (octal,
    where git with core.quotePath=false writes them raw) are quoted too."""
    odd = [n for n in NAMES if n == n.strip() and not _carries_raw_bytes(n)]
    repo = make_repo(tmp_path / "repo", {"keep.py": "x\n"})
    for name in odd:
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")
    git("add", "-A", cwd=repo)
    listed = subprocess.run(
        ["git", "-c", "core.quotePath=false", "ls-files"],
        cwd=repo,
        capture_output=True,
        check=True,
    ).stdout.splitlines()
    assert sorted(os.fsdecode(line) for line in listed) == sorted(
        quote_path(n) for n in [*odd, "keep.py"]
    )


def _carries_raw_bytes(name: str) -> bool:
    return any(0xDC80 <= ord(c) <= 0xDCFF for c in name)


def test_gits_default_octal_form_reads_back_too() -> None:
    assert unquote_path('"\\303\\251.py"') == "é.py"


@pytest.mark.parametrize("text", ["plain.py", '"unclosed.py', 'a "b" c.py', '"bad\\q.py"', '"'])
def test_unquoted_records_read_as_they_are(text: str) -> None:
    """Records made before quoting existed name the path as it is."""
    assert unquote_path(text) == text


def test_rollback_file_records_old_and_quoted_read_back() -> None:
    record = CommitRecord(
        "0" * 40,
        "files: roll back",
        "",
        ((T_ROLLBACK_FILE, "old/plain.py"), (T_ROLLBACK_FILE, '"new\\nline.py"')),
    )
    assert read_history([record]).protected == {"old/plain.py", "new\nline.py"}


def test_followups_round_trip_whatever_their_path() -> None:
    followups = tuple(FollowUp(name, 3, "dynamic import") for name in NAMES)
    body = "subject\n\n" + followups_block(followups) + "\n"
    record = CommitRecord("0" * 40, "subject", body, (("Runner-Step", "p/s"),))
    assert read_history([record]).done["p/s"].followups == followups
