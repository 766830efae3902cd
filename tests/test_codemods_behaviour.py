"""After the migration's codemods, the code still runs and does the same: executed, not diffed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from runner.codemods import apply_codemod, find_import_sites
from runner.codemods._parallel import guarded
from tests._codemod_cases import call, delete, git, make_repo, move, pinned_git

__all__ = ["pinned_git"]

PACKAGE = {
    "pkg/__init__.py": "from .old import Engine\n\n__all__ = ['Engine']\n",
    "pkg/new.py": (
        "class UserEngine:\n"
        "    def __init__(self, registry, bridge, ctx):\n"
        "        self.args = (registry, bridge, ctx)\n\n"
        "    @classmethod\n"
        "    async def create_from_legacy(cls, registry, bridge, ctx):\n"
        "        return cls(registry, bridge, ctx)\n\n"
        "    def run(self):\n"
        "        return f'{type(self).__name__} ran {self.args}'\n"
    ),
    "pkg/ctx.py": "class UserExecutionContext:\n    user = 'u1'\n",
    # The compatibility bridge: re-exports only, as the migration's bridge does.
    "pkg/old.py": (
        "from pkg.ctx import UserExecutionContext\nfrom pkg.new import UserEngine as Engine\n"
    ),
    "pkg/sub/__init__.py": "",
    "pkg/sub/deep.py": (
        "from ..old import Engine\n\n\ndef main():\n    return Engine(1, 2, 3).run()\n"
    ),
    "app/__init__.py": "",
    "app/a.py": (
        "from pkg.old import Engine\n\n\ndef main():\n    return Engine('a', 0, None).run()\n"
    ),
    "app/b.py": (
        "from pkg.old import (\n    UserExecutionContext,\n    Engine,  # legacy\n)\n\n\n"
        "def main():\n    return Engine('b', 1, UserExecutionContext.user).run()\n"
    ),
    "app/c.py": "import pkg.old\n\n\ndef main():\n    return pkg.old.Engine('c', 2, 3).run()\n",
    "app/d.py": "from pkg import old\n\n\ndef main():\n    return old.Engine('d', 2, 3).run()\n",
    "app/e.py": (
        "import asyncio\n\nfrom pkg.old import Engine as E\n\n\n"
        "async def build():\n    engine = E('e', 4, 5)\n    return engine\n\n\n"
        "def main():\n    return asyncio.run(build()).run()\n"
    ),
    "app/f.py": "from pkg import Engine\n\n\ndef main():\n    return Engine('f', 6, 7).run()\n",
}

PROBE = """
import importlib, json
mods = ["pkg.sub.deep", "app.a", "app.b", "app.c", "app.d", "app.e", "app.f"]
mods += [f"app.m{i}" for i in range(40)]
print(json.dumps({m: importlib.import_module(m).main() for m in mods}))
"""


def _many_consumers() -> dict[str, str]:
    """Enough files to go through the process pool (more than its threshold of 32)."""
    return {
        f"app/m{i}.py": (
            "from pkg.old import Engine, UserExecutionContext\n\n\n"
            f"def main():\n    return Engine({i}, 0, UserExecutionContext.user).run()\n"
        )
        for i in range(40)
    }


def _run_probe(root: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, str] = json.loads(done.stdout)
    return result


def test_move_then_delete_bridge_keeps_behaviour(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {**PACKAGE, **_many_consumers()})
    before = _run_probe(root)

    moved = apply_codemod(
        move(
            ("pkg.old.Engine", "pkg.new.UserEngine"),
            ("pkg.old.UserExecutionContext", "pkg.ctx.UserExecutionContext"),
        ),
        root,
        protected=("pkg/old.py",),
        jobs=2,
    )
    assert moved.errors == () and moved.skipped == () and moved.followups == ()
    assert "pkg/old.py" not in moved.changed
    assert len(moved.changed) == 47  # app/f.py imports pkg.Engine, which stays valid
    assert find_import_sites(root, ["pkg.old"]) == ()

    awaited = apply_codemod(
        call("pkg.new.UserEngine", "pkg.new.UserEngine.create_from_legacy", await_=True), root
    )
    assert awaited.changed == ("app/e.py",)
    assert awaited.sites == 1
    assert len(awaited.followups) == 45  # every sync constructor call, listed, not rewritten

    removed = apply_codemod(delete("pkg/old.py"), root)
    assert removed.changed == ("pkg/old.py",)
    assert _run_probe(root) == before
    assert (root / "app/e.py").read_text().count("await E.create_from_legacy('e', 4, 5)") == 1
    assert "UserEngine as Engine" in (root / "pkg/__init__.py").read_text()


def test_nothing_written_when_delete_refuses(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", PACKAGE)
    result = apply_codemod(delete("pkg/old.py", "pkg/new.py::UserEngine._legacy_init"), root)
    assert result.errors
    assert git("status", "--porcelain", cwd=root) == ""


def test_import_is_light() -> None:
    code = (
        "import sys, runner.codemods\n"
        "print(sorted(m for m in ('libcst', 'git') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert done.stdout.strip() == "[]"


def _explode(task: tuple[str, str, None, None]) -> object:
    raise RuntimeError("codemod bug on " + task[1])


def test_a_file_that_breaks_the_codemod_is_skipped_not_fatal() -> None:
    outcome = guarded(_explode, ("/repo", "pkg/odd.py", None, None))  # type: ignore[arg-type]

    assert outcome.path == "pkg/odd.py"
    assert outcome.new_source is None
    assert outcome.skipped is not None
    assert "RuntimeError: codemod bug on pkg/odd.py" in outcome.skipped
