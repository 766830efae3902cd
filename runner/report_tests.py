"""The named tests of ``pytest`` gates in the live output and the JUnit report.

The counts are in a gate's summary; the names (flaky, new, fixed, pre-existing tests) are
what a person acts on, so the live output lists them under the gate line and the JUnit
report carries them as ``<property>`` elements of the gate's test case, the form pytest
itself uses for ``record_property`` and CI systems show.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from runner.results import GateResult

__all__ = ["junit_test_properties", "named_tests"]

_SHOWN = 5


def _kinds(result: GateResult) -> list[tuple[str, tuple[str, ...]]]:
    tests = result.tests
    if tests is None:
        return []
    new = "new failure" if tests.baseline is not None else "failed"
    return [
        ("flaky", tests.flaky),
        (new, tests.failed),
        ("pre-existing failure", tests.preexisting),
        ("fixed", tests.fixed),
    ]


def named_tests(result: GateResult) -> list[str]:
    """``flaky: tests/test_a.py::test_b`` lines for the live output (passed gates too)."""
    lines: list[str] = []
    for kind, ids in _kinds(result):
        if not ids or (kind == "pre-existing failure" and len(ids) > _SHOWN):
            continue  # a long list of known failures after every step is noise
        more = f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else ""
        lines.append(f"{kind}: {', '.join(ids[:_SHOWN])}{more}")
    return lines


def junit_test_properties(case: ET.Element, result: GateResult) -> None:
    """Every named test of the gate as ``<property name="flaky" value="ID"/>``."""
    found = [(kind, i) for kind, ids in _kinds(result) for i in ids]
    if result.tests is not None and result.tests.baseline is not None:
        found.insert(0, ("baseline", result.tests.baseline))
    if not found:
        return
    properties = ET.Element("properties")
    case.insert(0, properties)  # before <failure>, where the JUnit schema has it
    for kind, value in found:
        ET.SubElement(properties, "property", name=kind, value=value)
