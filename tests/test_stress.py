"""A 20-kill sample of ``scripts/stress.py``: SIGKILLs of runner, its pool workers, a gate.

The full run (200 kills over a 3,000-file plan, ``python scripts/stress.py``) takes minutes;
this sample uses a 340-file repository (34 codemod candidates: still over the process pool's
threshold) so CI stays within its budget. Nothing is timed here; the script's own checks
(no stuck lock, no process left, nothing lost, trees as uninterrupted) are the assertions.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")


def _load_stress() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stress", ROOT / "scripts" / "stress.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("stress", module)  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_twenty_random_kills_lose_nothing_and_leave_nothing_running(tmp_path: Path) -> None:
    stress = _load_stress()

    tally = stress.stress(kills=20, files=340, seed=7, workdir=tmp_path)

    assert tally.failures == []
    assert tally.total == 20
    assert all(n > 0 for n in tally.kills.values()), tally.kills
