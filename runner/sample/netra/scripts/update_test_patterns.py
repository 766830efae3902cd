"""Step 2.3 of Issue #802: tests use the SSOT engine name, not the legacy alias.

After the import migration, test modules read::

    from netra_backend.app.agents.supervisor.user_execution_engine import UserExecutionEngine as ExecutionEngine

This script drops the alias in every test module that has it and renames the module's uses
of ``ExecutionEngine`` to ``UserExecutionEngine``. It works on tokens (names only, never
strings, comments or attributes), parses every rewritten module before writing any
("validate first"), and writes nothing else: no backups, no reports.

    python scripts/update_test_patterns.py [--check] [ROOT]
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
import tokenize
from pathlib import Path

OLD, NEW = "ExecutionEngine", "UserExecutionEngine"


def _has_alias(tokens: list[tokenize.TokenInfo]) -> bool:
    names = [t.string for t in tokens if t.type == tokenize.NAME]
    return any(names[i : i + 3] == [NEW, "as", OLD] for i in range(len(names) - 2))


def rewrite(source: str) -> str | None:
    """The module with the alias dropped, or None when it has no such alias."""
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    if not _has_alias(tokens):
        return None
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, int, str]] = []  # row, start col, end col, new text
    significant = [t for t in tokens if t.type not in (tokenize.NL, tokenize.COMMENT)]
    for i, tok in enumerate(significant):
        if tok.type != tokenize.NAME or tok.string != OLD:
            continue
        before = significant[i - 1] if i else None
        if before is not None and before.string == ".":
            continue  # an attribute of something else
        if before is not None and before.string == "as" and significant[i - 2].string == NEW:
            # `UserExecutionEngine as ExecutionEngine` -> `UserExecutionEngine`
            start = significant[i - 2].end
            edits.append((start[0], start[1], tok.end[1], ""))
            continue
        edits.append((tok.start[0], tok.start[1], tok.end[1], NEW))
    for row, start, end, text in sorted(edits, reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:start] + text + line[end:]
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=".", type=Path)
    parser.add_argument("--check", action="store_true", help="report, write nothing")
    args = parser.parse_args(argv)
    changed: dict[Path, str] = {}
    for path in sorted((args.root / "tests").rglob("*.py")):
        new = rewrite(path.read_text(encoding="utf-8"))
        if new is None:
            continue
        try:
            ast.parse(new, filename=str(path))
        except SyntaxError as exc:
            print(f"{path}:{exc.lineno}: rewrite would not parse; nothing written", file=sys.stderr)
            return 1
        changed[path] = new
    for path, new in changed.items():
        if not args.check:
            path.write_text(new, encoding="utf-8")
        print(f"{'would update' if args.check else 'updated'} {path}")
    print(f"{len(changed)} test module(s) {'to update' if args.check else 'updated'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
