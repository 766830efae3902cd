"""Test ids from pytest's JUnit XML, and a ``pytest`` gate's verdict judged by them.

pytest writes each test as ``classname`` + ``name``, a mangled form of its node id
(``tests/sub/test_a.py::TestK::test_m[x]`` becomes ``tests.sub.test_a.TestK`` +
``test_m[x]``), and, in the ``xunit1`` family runner asks for, the ``file`` the test came
from. The node id is rebuilt from those three, so the ids runner records, prints and re-runs
are the ones ``pytest``, ``--deselect`` and a person's terminal accept. A file that failed to
collect is one id, its path (``tests/test_broken.py``).

Judging: a failing test is *flaky* when it passed on a re-run (``retries``), *pre-existing*
when it already failed on the plan's starting commit (``baseline: start``), and *new*
otherwise; only new failures (and flaky ones under ``flaky: fail``) fail the gate. A test of
the baseline that passes now is *fixed*. The verdict is changed only when pytest ran the
tests and said so (exit 0 or 1, a readable report) and every failure is a named test:
anything else (a crash, an exit code from a plugin's threshold) keeps pytest's own verdict.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.model import PytestGate

__all__ = [
    "Case",
    "Judged",
    "TestBaseline",
    "failing",
    "judge",
    "node_id",
    "outcomes",
    "read_cases",
    "test_baseline_key",
]

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass(frozen=True, slots=True)
class Case:
    """One test (or one file that failed to collect) and how it ended."""

    id: str
    outcome: str  # passed | failed | skipped (an error is a failure here)


@dataclass(frozen=True, slots=True)
class TestBaseline:
    """The tests failing on the commit a plan started from."""

    __test__ = False  # not a pytest test class, whatever its name

    commit: str
    failing: frozenset[str]


def test_baseline_key(spec: PytestGate) -> str:
    """How a gate's baseline is recorded: by its arguments (two gates selecting the same
    tests share one), not by its name, which inline gates do not choose."""
    text = json.dumps(list(spec.args))
    return "pytest-" + hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Judged:
    """The ids behind a verdict; ``blocking``: whether they fail the gate."""

    new: tuple[str, ...]
    flaky: tuple[str, ...]
    preexisting: tuple[str, ...]
    fixed: tuple[str, ...]
    blocking: bool


def read_cases(xml: Path, root: Path) -> list[Case] | None:
    """The cases of pytest's JUnit report; ``None`` when it is missing or unreadable."""
    try:
        tree = ET.parse(xml).getroot()  # noqa: S314 - pytest wrote this file a moment ago
    except (OSError, ET.ParseError):
        return None
    cases: dict[str, Case] = {}
    for case in tree.iter("testcase"):
        test = node_id(case.get("classname", ""), case.get("name", ""), case.get("file"), root)
        outcome = _outcome(case)
        seen = cases.get(test)
        # a test failing in teardown after passing is two entries of one id: the worst wins
        if seen is None or _rank(outcome) > _rank(seen.outcome):
            cases[test] = Case(test, outcome)
    return list(cases.values())


def failing(cases: Iterable[Case]) -> tuple[str, ...]:
    """The ids that failed (or errored), sorted."""
    return tuple(sorted(c.id for c in cases if c.outcome == FAILED))


def node_id(classname: str, name: str, file: str | None, root: Path) -> str:
    """pytest's node id of a JUnit test case (see the module docstring)."""
    if file and not classname:
        return file  # a file that failed to collect
    path = file if file and _matches(file, classname) else _find_module(classname, root)
    if path is None:  # no such file here: pytest's own mangling, undone as well as it can be
        path = classname.replace(".", "/") + ".py"
        return f"{path}::{name}"
    inner = classname[len(_dotted(path)) :].lstrip(".")
    return "::".join([path, *(inner.split(".") if inner else []), name])


def judge(
    cases: Iterable[Case],
    *,
    flaky: Collection[str] = (),
    baseline: Collection[str] | None = None,
    flaky_fails: bool = False,
) -> Judged:
    """Sort the failures of ``cases`` into new, flaky and pre-existing; find the fixed."""
    done = list(cases)
    still = [t for t in failing(done) if t not in flaky]
    known = set(baseline or ())
    new = tuple(t for t in still if t not in known)
    preexisting = tuple(t for t in still if t in known)
    fixed = tuple(sorted(t for t in known if t not in still and _ran(t, done)))
    blocking = bool(new) or (flaky_fails and bool(flaky))
    return Judged(new, tuple(sorted(flaky)), preexisting, fixed, blocking)


def outcomes(cases: Iterable[Case]) -> Mapping[str, str]:
    """Each id's outcome."""
    return {c.id: c.outcome for c in cases}


def _ran(test: str, cases: list[Case]) -> bool:
    """Whether ``test`` ran now and passed: a file that failed to collect counts as run when
    any of its tests ran."""
    if "::" in test:
        return any(c.id == test and c.outcome != FAILED for c in cases)
    return any(c.id.startswith(test + "::") for c in cases)


def _outcome(case: ET.Element) -> str:
    if case.find("failure") is not None or case.find("error") is not None:
        return FAILED
    if case.find("skipped") is not None:
        return SKIPPED
    return PASSED


def _rank(outcome: str) -> int:
    return {PASSED: 0, SKIPPED: 1, FAILED: 2}[outcome]


def _dotted(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def _matches(path: str, classname: str) -> bool:
    module = _dotted(path)
    return classname == module or classname.startswith(module + ".")


def _find_module(classname: str, root: Path) -> str | None:
    """The longest ``a/b/c.py`` under ``root`` that ``classname`` starts with: a test
    inherited from a class in another file names that file, not its own module."""
    parts = classname.split(".")
    for end in range(len(parts), 0, -1):
        candidate = "/".join(parts[:end]) + ".py"
        if (root / candidate).is_file():
            return candidate
    return None
