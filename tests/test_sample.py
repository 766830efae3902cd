"""The bundled sample repository and its plan: real before, real after, green in between.

``runner demo`` runs ``phases.yaml`` on a fresh copy of ``runner/sample/netra``. These tests
check the sample by hand, without the engine: its own suite passes before the migration;
the plan's steps, simulated with plain text edits equivalent to what ``move-import``,
``rewrite-call``, the ``run`` step and ``delete`` do, keep it passing after every step; and
``-W error::DeprecationWarning`` fails before and passes after, as Gate 2 expects.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE = PROJECT / "runner" / "sample" / "netra"
PLAN = PROJECT / "phases.yaml"

BRIDGE = "netra_backend.app.agents.supervisor.execution_engine"
ENGINE = "netra_backend.app.agents.supervisor.user_execution_engine"
CONTEXT = "netra_backend.app.services.user_execution_context"
BRIDGE_FILE = "netra_backend/app/agents/supervisor/execution_engine.py"
ENGINE_FILE = "netra_backend/app/agents/supervisor/user_execution_engine.py"
BRIDGE_METHODS = ("_legacy_positional_init", "_warn_legacy_usage")
MOVES = {
    "ExecutionEngine": (ENGINE, "UserExecutionEngine"),
    "UserExecutionContext": (CONTEXT, "UserExecutionContext"),
}


# --- helpers ------------------------------------------------------------------------------


def _python_files(root: Path) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if "__pycache__" not in rel:
            yield rel, ast.parse(path.read_text(encoding="utf-8"), filename=rel)


def _walk_with_function(
    node: ast.AST, function: ast.AST | None = None
) -> Iterator[tuple[ast.AST, ast.AST | None]]:
    """Every node with its nearest enclosing function (``None`` at module or class level)."""
    yield node, function
    inner = (
        node if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) else function
    )
    for child in ast.iter_child_nodes(node):
        yield from _walk_with_function(child, inner)


def _is_legacy_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "ExecutionEngine"
        and len(node.args) == 3
        and not node.keywords
    )


@dataclass(frozen=True, slots=True)
class Census:
    import_sites: int
    files: frozenset[str]
    pattern1_files: frozenset[str]
    pattern3_files: frozenset[str]
    multi_name_sites: int
    async_calls: int
    sync_calls: tuple[str, ...]


def _census(root: Path) -> Census:
    sites = multi = async_calls = 0
    files: set[str] = set()
    p1: set[str] = set()
    p3: set[str] = set()
    sync: list[str] = []
    for rel, tree in _python_files(root):
        if rel.startswith("scripts/"):
            continue
        for node, function in _walk_with_function(tree):
            if isinstance(node, ast.ImportFrom) and node.module == BRIDGE:
                sites += 1
                multi += len(node.names) > 1
                files.add(rel)
                names = [a.name for a in node.names]
                if names == ["ExecutionEngine"] and node.col_offset == 0:
                    p1.add(rel)
                if names == ["UserExecutionContext"] and node.col_offset == 0:
                    p3.add(rel)
            elif _is_legacy_call(node):
                if isinstance(function, ast.AsyncFunctionDef):
                    async_calls += 1
                else:
                    sync.append(f"{rel}:{getattr(node, 'lineno', 0)}")
    return Census(
        sites, frozenset(files), frozenset(p1), frozenset(p3), multi, async_calls, tuple(sync)
    )


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _suite(cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return _run(cwd, "-m", "pytest", "-q", *extra, "tests")


def _assert_passes(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def _exclusions() -> list[str]:
    plan: dict[str, Any] = yaml.safe_load(PLAN.read_text())
    return list(plan["settings"]["exclude"])


# --- the simulated steps ------------------------------------------------------------------


def _replace_lines(path: Path, spans: list[tuple[int, int, list[str]]]) -> None:
    """Replace 1-based inclusive line spans, bottom up so earlier spans stay valid."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for first, last, new in sorted(spans, reverse=True):
        lines[first - 1 : last] = new
    path.write_text("".join(lines), encoding="utf-8")


def simulate_move_imports(root: Path, names: set[str], exclude: list[str]) -> int:
    """``move-import`` for the bridge's names: each moved name gets its own import line."""
    moved = 0
    for rel, tree in _python_files(root):
        if rel in exclude:
            continue
        spans: list[tuple[int, int, list[str]]] = []
        for node in ast.walk(tree):
            if not (isinstance(node, ast.ImportFrom) and node.module == BRIDGE):
                continue
            if not any(a.name in names for a in node.names):
                continue
            indent = " " * node.col_offset
            new, kept = [], []
            for alias in node.names:
                if alias.name not in names:
                    kept.append(alias.name + (f" as {alias.asname}" if alias.asname else ""))
                    continue
                module, target = MOVES[alias.name]
                local = alias.asname or alias.name
                suffix = "" if local == target else f" as {local}"
                new.append(f"{indent}from {module} import {target}{suffix}\n")
                moved += 1
            if kept:
                new.insert(0, f"{indent}from {BRIDGE} import {', '.join(kept)}\n")
            assert node.end_lineno is not None
            spans.append((node.lineno, node.end_lineno, new))
        if spans:
            _replace_lines(root / rel, spans)
    return moved


def simulate_rewrite_calls(root: Path, exclude: list[str]) -> tuple[int, list[str]]:
    """``rewrite-call`` with ``await: true``: async sites rewritten, sync sites listed."""
    rewritten, follow_ups = 0, []
    for rel, tree in _python_files(root):
        if rel in exclude:
            continue
        edits = []
        for node, function in _walk_with_function(tree):
            if not _is_legacy_call(node):
                continue
            assert isinstance(node, ast.Call)
            if isinstance(function, ast.AsyncFunctionDef):
                edits.append((node.lineno, node.col_offset))
            else:
                follow_ups.append(f"{rel}:{node.lineno}")
        path = root / rel
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        for row, col in sorted(edits, reverse=True):
            line = lines[row - 1]
            assert line[col:].startswith("ExecutionEngine(")
            rest = line[col + len("ExecutionEngine(") :]
            lines[row - 1] = line[:col] + "await ExecutionEngine.create_from_legacy(" + rest
            rewritten += 1
        if edits:
            path.write_text("".join(lines), encoding="utf-8")
    return rewritten, follow_ups


def simulate_keyword_constructors(root: Path, sites: list[str]) -> int:
    """``rewrite-call`` with a call template, on the sync sites left positional: the seed's
    TARGET PATTERN, ``ExecutionEngine(context=..., agent_factory=..., websocket_emitter=...)``."""
    legacy = "ExecutionEngine(registry, websocket_bridge, user_context)"
    target = (
        "ExecutionEngine(context=user_context, agent_factory=registry, "
        "websocket_emitter=websocket_bridge)"
    )
    for site in sites:
        rel, _, line = site.rpartition(":")
        path = root / rel
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        assert legacy in lines[int(line) - 1], site
        lines[int(line) - 1] = lines[int(line) - 1].replace(legacy, target)
        path.write_text("".join(lines), encoding="utf-8")
    return len(sites)


def simulate_delete(root: Path) -> None:
    """``delete`` of the bridge module and of the bridge methods (with their decorators)."""
    (root / BRIDGE_FILE).unlink()
    tree = ast.parse((root / ENGINE_FILE).read_text(encoding="utf-8"))
    spans: list[tuple[int, int, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "UserExecutionEngine":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name in BRIDGE_METHODS:
                    first = min([item.lineno, *(d.lineno for d in item.decorator_list)])
                    assert item.end_lineno is not None
                    spans.append((first, item.end_lineno, []))
    assert len(spans) == len(BRIDGE_METHODS)
    _replace_lines(root / ENGINE_FILE, spans)


# --- tests --------------------------------------------------------------------------------


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    dest = tmp_path / "netra"
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return dest


def test_seed_proportions() -> None:
    census = _census(SAMPLE)
    assert census.import_sites >= 128
    assert len(census.files) >= 40
    assert len(census.pattern1_files) >= 14
    assert len(census.pattern3_files) >= 12
    assert census.multi_name_sites >= 10
    assert census.async_calls + len(census.sync_calls) >= 35
    assert 3 <= len(census.sync_calls) <= 8
    assert all(site.startswith("netra_backend/app/admin/") for site in census.sync_calls)


def test_one_string_patch_target_of_the_bridge() -> None:
    hits = [
        rel
        for rel, tree in _python_files(SAMPLE)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value == f"{BRIDGE}.ExecutionEngine"
    ]
    assert hits == ["tests/unit/test_chat_service_engine_patching.py"]


def test_test_module_basenames_are_unique() -> None:
    # The sample's tests are not packages (pytest's default import mode): names must differ.
    names = [p.name for p in (SAMPLE / "tests").rglob("test_*.py")]
    assert len(names) == len(set(names))


def test_the_whole_plan_keeps_the_sample_green(sample: Path) -> None:
    exclude = _exclusions()
    before = _census(sample)
    _assert_passes(_suite(sample))
    strict = _suite(sample, "-W", "error::DeprecationWarning")
    assert strict.returncode != 0
    assert "DeprecationWarning" in strict.stdout + strict.stderr

    # import-migration: Pattern 1, then Pattern 3 (each step gated by the suite).
    moved_engine = simulate_move_imports(sample, {"ExecutionEngine"}, exclude)
    _assert_passes(_suite(sample))
    moved_context = simulate_move_imports(sample, {"UserExecutionContext"}, exclude)
    _assert_passes(_suite(sample))
    assert moved_engine + moved_context >= 128
    assert _census(sample).import_sites == 0

    # constructor-migration: async sites awaited, sync sites left as manual follow-ups.
    rewritten, follow_ups = simulate_rewrite_calls(sample, exclude)
    assert rewritten == before.async_calls
    assert sorted(follow_ups) == sorted(before.sync_calls)
    _assert_passes(_suite(sample))
    # ... and the sync sites listed take the keyword constructor (Gate 2 after that step).
    assert simulate_keyword_constructors(sample, follow_ups) == len(before.sync_calls)
    _assert_passes(_suite(sample, "-W", "error::DeprecationWarning"))

    # test-patterns: the sample's own script, as the plan's run step calls it.
    update = _run(sample, "scripts/update_test_patterns.py")
    _assert_passes(update)
    assert "test module(s) updated" in update.stdout
    assert not re.search(r"\bas ExecutionEngine\b", _read_tree(sample / "tests"))

    # bridge-removal: the module and the bridge methods go; everything still passes.
    simulate_delete(sample)
    _assert_passes(_suite(sample))
    _assert_passes(_suite(sample, "-W", "error::DeprecationWarning"))
    positional = _run(
        sample,
        "-c",
        f"from {ENGINE} import UserExecutionEngine\n"
        "try:\n    UserExecutionEngine(1, 2, 3)\nexcept TypeError as e:\n    print(e)\n",
    )
    assert "create_from_legacy" in positional.stdout


def _read_tree(root: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.py")))


def test_rollback_and_metric_scripts_print_only(sample: Path) -> None:
    files_before = sorted(p.relative_to(sample) for p in sample.rglob("*"))
    restart = _run(
        sample, "scripts/refresh_dev_services.py", "restart", "--services", "backend", "auth"
    )
    _assert_passes(restart)
    assert "restart backend" in restart.stdout
    metric = _run(sample, "scripts/measure_chat_latency.py")
    _assert_passes(metric)
    last_number = re.findall(r"\d+(?:\.\d+)?", metric.stdout)[-1]
    assert float(last_number) < 700
    check = _run(sample, "scripts/update_test_patterns.py", "--check")
    _assert_passes(check)
    assert "0 test module(s) to update" in check.stdout  # nothing to do before the migration
    assert sorted(p.relative_to(sample) for p in sample.rglob("*")) == files_before


# --- the plan file --------------------------------------------------------------------------

_TOP = {"version", "name", "description", "settings", "gates", "phases", "on-rollback"}
_SETTINGS = {"branch", "rollback", "rollback-mode", "timeout", "env", "exclude", "source-roots"}
_GATE_KINDS = {"run", "pytest", "forbid-imports", "metric", "approve"}
_GATE_KEYS = _GATE_KINDS | {"max", "max-ratio", "min", "timeout"}
_ACTIONS = {"run", "move-import", "rewrite-call", "delete"}
_STEP = _ACTIONS | {"id", "title", "gate", "timeout", "on-failure"}
_PHASE = {"id", "title", "gate", "steps"}


def _gate_refs(entries: list[Any], named: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for entry in entries:
        if isinstance(entry, str):
            assert entry in named, f"unknown gate {entry}"
            yield named[entry]
        else:
            yield entry


def _module_file(root: Path, dotted: str) -> Path:
    return root / (dotted.replace(".", "/") + ".py")


def _defines(root: Path, qualified: str) -> bool:
    """``pkg.mod.Name`` or ``pkg.mod.Class.method`` is defined in the sample."""
    parts = qualified.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        path = _module_file(root, ".".join(parts[:cut]))
        if path.exists():
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {getattr(n, "name", None) for n in ast.walk(tree) if hasattr(n, "name")} | {
                t.id
                for n in ast.walk(tree)
                if isinstance(n, ast.Assign)
                for t in n.targets
                if isinstance(t, ast.Name)
            }
            return all(p in names for p in parts[cut:])
    return False


def test_plan_uses_only_contract_keys_and_real_targets() -> None:
    plan: dict[str, Any] = yaml.safe_load(PLAN.read_text())
    assert set(plan) <= _TOP
    assert set(plan["settings"]) <= _SETTINGS
    assert re.fullmatch(r"[a-z0-9-]+", plan["name"])
    named = plan["gates"]
    for gate in named.values():
        assert set(gate) <= _GATE_KEYS
        assert len(set(gate) & _GATE_KINDS) == 1
    step_ids = []
    for phase in plan["phases"]:
        assert set(phase) <= _PHASE
        list(_gate_refs(phase.get("gate", []), named))
        for step in phase["steps"]:
            assert set(step) <= _STEP
            assert len(set(step) & _ACTIONS) <= 1
            step_ids.append(f"{phase['id']}/{step['id']}")
            list(_gate_refs(step.get("gate", []), named))
            for move in _as_list(step.get("move-import")):
                assert _defines(SAMPLE, move["from"]) and _defines(SAMPLE, move["to"])
            for call in _as_list(step.get("rewrite-call")):
                callables = [call[k].partition("(")[0] for k in ("from", "to")]  # templates
                assert all(_defines(SAMPLE, name) for name in callables)
            for target in step.get("delete", []):
                path, _, definition = target.partition("::")
                assert (SAMPLE / path).exists(), target
                if definition:
                    assert _defines(SAMPLE, path[:-3].replace("/", ".") + "." + definition)
    assert len(step_ids) == len(set(step_ids))
    list(_gate_refs(plan["on-rollback"]["verify"], named))
    for rel in plan["settings"]["exclude"]:
        assert (SAMPLE / rel).exists(), rel


def _as_list(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def test_package_ships_the_plan() -> None:
    link = PROJECT / "runner" / "sample" / "phases.yaml"
    assert link.is_symlink()
    assert os.readlink(link) == "../../phases.yaml"
    assert link.resolve() == PLAN.resolve()
