"""SSOT compliance (Issue #565): one engine, one context class, legacy usage never grows.

Passes before, during and after the Issue #802 migration: it checks that whatever name the
engine is imported under it is the SSOT class, and that the deprecated patterns only shrink.
"""

from __future__ import annotations

import ast
import asyncio
import warnings
from pathlib import Path

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine
from netra_backend.app.services.user_execution_context import UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge

ROOT = Path(__file__).resolve().parents[3]
BRIDGE_MODULE = "netra_backend.app.agents.supervisor.execution_engine"
SSOT_MODULE = "netra_backend.app.agents.supervisor.user_execution_engine"

#: Counted when the migration was planned (seed: "128 locations", "35+ files").
BASELINE_BRIDGE_IMPORTS = 135
BASELINE_LEGACY_CONSTRUCTOR_CALLS = 61


def _trees() -> list[tuple[Path, ast.Module]]:
    paths = sorted((ROOT / "netra_backend").rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py"))
    return [(p, ast.parse(p.read_text(), filename=str(p))) for p in paths]


def _bridge_imports() -> int:
    count = 0
    for _, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == BRIDGE_MODULE:
                count += 1
            elif isinstance(node, ast.Import):
                count += sum(a.name == BRIDGE_MODULE for a in node.names)
    return count


def _legacy_constructor_calls() -> int:
    return sum(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id.endswith("ExecutionEngine")
        and len(node.args) == 3
        and not node.keywords
        for _, tree in _trees()
        for node in ast.walk(tree)
    )


def test_engine_name_resolves_to_the_ssot_class() -> None:
    assert ExecutionEngine.__module__ == SSOT_MODULE
    assert ExecutionEngine.__qualname__ == "UserExecutionEngine"


def test_exactly_one_engine_and_one_context_class_are_defined() -> None:
    engines, contexts = [], []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in {"ExecutionEngine", "UserExecutionEngine"}:
                engines.append(path.relative_to(ROOT).as_posix())
            if isinstance(node, ast.ClassDef) and node.name == "UserExecutionContext":
                contexts.append(path.relative_to(ROOT).as_posix())
    assert engines == ["netra_backend/app/agents/supervisor/user_execution_engine.py"]
    assert contexts == ["netra_backend/app/services/user_execution_context.py"]


def test_deprecated_bridge_imports_never_grow() -> None:
    assert _bridge_imports() <= BASELINE_BRIDGE_IMPORTS


def test_legacy_constructor_calls_never_grow() -> None:
    assert _legacy_constructor_calls() <= BASELINE_LEGACY_CONSTRUCTOR_CALLS


def test_transition_pattern_does_not_warn() -> None:
    async def build() -> ExecutionEngine:
        context = UserExecutionContext.from_request("ssot-transition")
        return await ExecutionEngine.create_from_legacy(
            AgentRegistry.default(), AgentWebSocketBridge(), context
        )

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        engine = asyncio.run(build())
    assert type(engine).__qualname__ == "UserExecutionEngine"
    assert engine.context.user_id == "ssot-transition"
