"""Helpers for the codemod tests: real git repositories in ``tmp_path``, and the case record.

Kept apart from the test modules so the corpus reads as data, as LibCST's own codemod tests
do (``libcst/codemod/_testing.py``): before, after, expected follow-ups.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from runner.model import (
    CallRewrite,
    Delete,
    ImportMove,
    MoveImport,
    RewriteCall,
)

Files = Mapping[str, str | bytes]


@dataclass(frozen=True)
class Case:
    """One before/after pair; files missing from ``after`` must stay byte-identical.

    ``after[path] = None`` means the file must be gone. ``followups`` are ``FILE:LINE: reason``
    prefixes (matched up to the first ``:`` after the line, then by ``in``), ``skipped`` paths.
    """

    id: str
    action: MoveImport | RewriteCall | Delete
    before: Files
    after: dict[str, str | bytes | None] = field(default_factory=dict)
    followups: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    protected: tuple[str, ...] = ()
    sites: int | None = None


def move(*mappings: tuple[str, str] | tuple[str, str, str]) -> MoveImport:
    """``move-import`` with one or more ``(from, to[, as])`` mappings."""
    return MoveImport(tuple(ImportMove(*m) for m in mappings))


def call(from_: str, to: str, *, await_: bool = False) -> RewriteCall:
    """``rewrite-call`` with one mapping."""
    return RewriteCall((CallRewrite(from_, to, await_),))


def template(from_: str, to: str, *, await_: bool = False) -> RewriteCall:
    """``rewrite-call`` with call templates, read by the plan loader as a user's plan is."""
    from runner.plan import parse_plan  # noqa: PLC0415 - only the template cases need it

    text = (
        "version: 1\nname: corpus\nphases:\n  - id: p\n    steps:\n      - id: s\n"
        f"        rewrite-call:\n          from: '{from_}'\n          to: '{to}'\n"
        f"          await: {'true' if await_ else 'false'}\n"
    )
    action = parse_plan(text).steps[0].action
    assert isinstance(action, RewriteCall)
    return action


def delete(*targets: str) -> Delete:
    """``delete`` of files, folders or definitions."""
    return Delete(targets)


def git(*args: str, cwd: Path) -> str:
    """Run git for real; the autouse fixture has pinned its identity and configuration."""
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


def as_bytes(content: str | bytes) -> bytes:
    return content.encode() if isinstance(content, str) else content


def make_repo(root: Path, files: Files) -> Path:
    """A committed repository at ``root`` holding ``files``."""
    root.mkdir(parents=True, exist_ok=True)
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(as_bytes(content))
    git("init", "-q", "-b", "main", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "base", "--allow-empty", cwd=root)
    return root


@pytest.fixture(autouse=True)
def pinned_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Git with no user or system configuration and a fixed identity, as every test needs."""
    config = tmp_path_factory.mktemp("gitconfig") / "config"
    config.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Runner Tests")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "tests@runner.invalid")


__all__ = [
    "CallRewrite",
    "Case",
    "Files",
    "as_bytes",
    "call",
    "delete",
    "git",
    "make_repo",
    "move",
    "pinned_git",
    "template",
]
