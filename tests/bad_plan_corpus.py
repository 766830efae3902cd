"""The bad-plan corpus (``tests/bad_plans/``) as data, for the tests and the docs script."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runner.yamlnodes import MAX_BYTES

CORPUS = Path(__file__).parent / "bad_plans"

_VALID_HEAD = (
    "version: 1\nname: demo\nphases:\n  - id: main\n    steps:\n      - id: a\n        run: x\n"
)


def _huge_file() -> bytes:
    return (_VALID_HEAD + "# " + "x" * MAX_BYTES + "\n").encode()


#: Cases too big to commit, made on demand.
GENERATED: dict[str, Callable[[], bytes]] = {"82-huge-file.yaml": _huge_file}


@dataclass(frozen=True)
class Case:
    """One malformed plan and the problem it must produce."""

    file: str
    line: int
    col: int
    substring: str
    description: str

    @property
    def generated(self) -> bool:
        return self.file in GENERATED

    def data(self) -> bytes:
        make = GENERATED.get(self.file)
        return make() if make is not None else (CORPUS / self.file).read_bytes()


def cases() -> list[Case]:
    """Every case listed in ``expected.txt``, in file order."""
    result = []
    for raw in (CORPUS / "expected.txt").read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        file, position, substring, description = (part.strip() for part in raw.split(" | "))
        line, col = position.split(":")
        result.append(Case(file, int(line), int(col), substring, description))
    return result
