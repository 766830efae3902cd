"""The import graph's cache: each parsed file's imports, by git blob id.

``.git/runner/importgraph.json`` holds the facts of the files of the last tree a graph was
built for; a file whose blob id is there is not parsed again. It is only a cache: missing,
damaged or from another version, it is ignored and the files are parsed again.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["VERSION", "FileFacts", "read_cache", "write_cache"]

VERSION = 2  # 2: pytest_plugins, runpy, aliased and file-path imports


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What one file's source says about its imports, independent of where the file lies.

    ``imports`` holds ``(level, module, names)``: ``import a.b`` is ``(0, "a.b", ())``,
    ``from ..x import y`` is ``(2, "x", ("y",))``. ``dynamic`` holds the lines of imports
    whose target is not a literal; ``error`` says why the file did not parse.
    """

    imports: tuple[tuple[int, str, tuple[str, ...]], ...] = ()
    dynamic: tuple[int, ...] = ()
    error: str | None = None

    @property
    def is_open(self) -> bool:
        """Whether this file may import modules the graph cannot see."""
        return bool(self.dynamic) or self.error is not None


def read_cache(cache: Path | None) -> dict[str, FileFacts]:
    if cache is None:
        return {}
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # missing or damaged: parse again, it is only a cache
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return {}
    out: dict[str, FileFacts] = {}
    with contextlib.suppress(TypeError, ValueError, AttributeError):
        for blob, (imports, dynamic, error) in data["files"].items():
            out[blob] = FileFacts(
                tuple((int(lv), str(m), tuple(map(str, n))) for lv, m, n in imports),
                tuple(int(n) for n in dynamic),
                None if error is None else str(error),
            )
    return out


def write_cache(cache: Path, facts: Mapping[str, FileFacts]) -> None:
    """Atomically, so two gates writing at once leave one whole file, never a mix."""
    files = {b: [f.imports, f.dynamic, f.error] for b, f in facts.items()}
    text = json.dumps({"version": VERSION, "files": files}, separators=(",", ":"))
    with contextlib.suppress(OSError):  # a cache that cannot be written costs time, not truth
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=".importgraph-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        Path(tmp).replace(cache)
