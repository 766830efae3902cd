"""Every malformed plan in tests/bad_plans/ is refused with a located, expected problem."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from runner.errors import PlanError
from runner.plan import load_plan
from tests.bad_plan_corpus import CORPUS, GENERATED, Case, cases

CASES = cases()


def _materialise(case: Case, tmp_path: Path) -> Path:
    if not case.generated:
        return CORPUS / case.file
    path = tmp_path / case.file
    path.write_bytes(case.data())
    return path


@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_bad_plan_is_refused_where_expected(case: Case, tmp_path: Path) -> None:
    path = _materialise(case, tmp_path)
    start = time.perf_counter()
    with pytest.raises(PlanError) as info:
        load_plan(path, display_path=case.file)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"{case.file} took {elapsed:.2f}s: is alias expansion bounded?"

    problems = info.value.problems
    assert problems
    lines = case.data().count(b"\n") + 1
    for problem in problems:
        assert problem.path == case.file
        assert 1 <= problem.line <= lines, problem
        assert problem.col >= 1, problem
    located = [str(p) for p in problems if (p.line, p.col) == (case.line, case.col)]
    assert any(case.substring in p for p in located), "\n".join(str(p) for p in problems)
    assert info.value.exit_code == 2


def test_every_corpus_file_is_listed_once() -> None:
    on_disk = {p.name for p in CORPUS.glob("*.yaml")}
    listed = [c.file for c in CASES]
    assert len(listed) == len(set(listed))
    assert set(listed) == on_disk | set(GENERATED)
    assert len(CASES) >= 40


def test_corpus_names_are_numbered_in_order() -> None:
    numbers = [int(c.file.split("-", 1)[0]) for c in CASES]
    assert numbers == list(range(1, len(CASES) + 1))


def test_generated_cases_are_too_big_to_commit() -> None:
    for file in GENERATED:
        case = next(c for c in CASES if c.file == file)
        assert len(case.data()) > 100 * 1024
        assert not (CORPUS / file).exists()


def test_corpus_files_are_small() -> None:
    assert all(p.stat().st_size < 100 * 1024 for p in CORPUS.iterdir())


def test_docs_table_is_up_to_date() -> None:
    script = Path(__file__).parent.parent / "scripts" / "bad_input_table.py"
    spec = importlib.util.spec_from_file_location("bad_input_table", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    docs = script.parent.parent / "docs" / "bad-input.md"
    assert docs.read_text(encoding="utf-8") == module.render(), "run scripts/bad_input_table.py"
