"""The test baselines and named tests a checkpoint commit's body records.

A baseline can hold hundreds of ids, each up to a few hundred characters, so it goes in the
body, not in trailers (``git interpret-trailers`` folds and splits long values), as one
section per gate::

    Runner test baseline pytest-1a2b3c4d5e6f at <commit>, 2 failing:
      "tests/test_a.py::test_x"
      "tests/test_b.py::test_y[a b]"

Each id is a JSON string, so quotes, backslashes and any character pytest lets through read
back exactly; the count in the header guards against a section cut short (by hand or by a
tool rewriting messages): a section whose lines do not add up is ignored and the baseline
measured again. The first section for a key on the branch wins, as for ``Runner-Baseline``.

The names behind a step's gate counts (flaky, fixed and still-failing pre-existing tests)
are listed the same way, for a person reading ``git log``; nothing reads them back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

from runner.gates.baseline import TestBaseline
from runner.git import CommitRecord
from runner.results import GateResult

__all__ = ["baseline_section", "read_test_baselines", "tests_section"]

_HEADER = re.compile(
    r"^Runner test baseline (?P<key>pytest-[0-9a-f]{12}) at (?P<commit>[0-9a-f]{7,64}), "
    r"(?P<count>\d+) failing:$"
)
_LISTED = 5  # names per gate and kind in a checkpoint's body before "and N more"


def baseline_section(key: str, baseline: TestBaseline) -> str:
    """One gate's baseline as a body section (see the module docstring)."""
    ids = sorted(baseline.failing)
    header = f"Runner test baseline {key} at {baseline.commit}, {len(ids)} failing:"
    return "\n".join([header, *(f"  {json.dumps(i)}" for i in ids)])


def read_test_baselines(commits: Iterable[CommitRecord]) -> Mapping[str, TestBaseline]:
    """Every baseline the commits record (oldest first; the first one for a key wins)."""
    found: dict[str, TestBaseline] = {}
    for commit in commits:
        for key, baseline in _sections(commit.body):
            found.setdefault(key, baseline)
    return found


def tests_section(gates: Iterable[GateResult]) -> str:
    """The named tests behind the step's gate counts, for ``git log`` readers."""
    lines: list[str] = []
    for gate in gates:
        tests = gate.tests
        if tests is None:
            continue
        kinds = (
            ("flaky", tests.flaky),
            ("failed", tests.failed),
            ("pre-existing", tests.preexisting),
            ("fixed", tests.fixed),
        )
        for kind, ids in kinds:
            if not ids:
                continue
            shown = ", ".join(ids[:_LISTED])
            more = f" and {len(ids) - _LISTED} more" if len(ids) > _LISTED else ""
            lines.append(f"  {gate.name} {kind}: {shown}{more}")
    return "\n".join(["Tests:", *lines]) if lines else ""


def _sections(body: str) -> Iterable[tuple[str, TestBaseline]]:
    lines = body.split("\n")  # git's lines (splitlines also splits at U+2028)
    for n, line in enumerate(lines):
        match = _HEADER.match(line)
        if match is None:
            continue
        count = int(match["count"])
        ids = [_unquote(item) for item in lines[n + 1 : n + 1 + count]]
        if len(ids) != count or any(i is None for i in ids):
            continue  # cut short or edited: measured again rather than trusted
        yield match["key"], TestBaseline(match["commit"], frozenset(i for i in ids if i))


def _unquote(line: str) -> str | None:
    if not line.startswith('  "'):
        return None
    try:
        value = json.loads(line[2:])
    except ValueError:
        return None
    return value if isinstance(value, str) else None
