"""Call templates and the move-import fixes, executed: the migrated code runs and does the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from runner.codemods import apply_codemod
from runner.model import ImportMove, MoveImport
from tests._codemod_cases import make_repo, pinned_git, template

__all__ = ["pinned_git"]

ENGINES = {
    "pkg/__init__.py": "",
    "pkg/old.py": (
        "class ExecutionEngine:\n"
        "    def __init__(self, registry, websocket_bridge, user_context, timeout=None):\n"
        "        self.args = (registry, websocket_bridge, user_context, timeout)\n\n\n"
        "def make_engine(registry, websocket_bridge, user_context):\n"
        "    return ExecutionEngine(registry, websocket_bridge, user_context)\n"
    ),
    # Keyword-only, as the new API is: a positional call would raise TypeError.
    "pkg/new.py": (
        "class UserExecutionEngine:\n"
        "    def __init__(self, *, context, agent_factory, websocket_emitter, timeout=None):\n"
        "        self.args = (agent_factory, websocket_emitter, context, timeout)\n\n"
        "    @classmethod\n"
        "    async def create(cls, *, context, agent_factory, websocket_emitter):\n"
        "        return cls(context=context, agent_factory=agent_factory,\n"
        "                   websocket_emitter=websocket_emitter)\n"
    ),
    "app/__init__.py": "",
    "app/engines.py": (
        "import asyncio\n\nfrom pkg.old import ExecutionEngine, make_engine\n\n\n"
        "def main():\n"
        "    a = ExecutionEngine('r', 'w', 'u')\n"
        "    b = ExecutionEngine(\n        'r',  # registry\n        'w',\n        'u',\n    )\n"
        "    c = ExecutionEngine('r', user_context='u', websocket_bridge='w', timeout=5)\n"
        "    d = asyncio.run(build())\n"
        "    return [e.args for e in (a, b, c, d)]\n\n\n"
        "async def build():\n    return make_engine('r', 'w', 'u')\n"
    ),
}

ENGINE_TO = (
    "pkg.new.UserExecutionEngine(context=user_context, agent_factory=registry, "
    "websocket_emitter=websocket_bridge, timeout=timeout)"
)
FACTORY_TO = (
    "pkg.new.UserExecutionEngine.create(context=user_context, agent_factory=registry, "
    "websocket_emitter=websocket_bridge)"
)

PROBE = """
import importlib, json, sys
print(json.dumps({m: importlib.import_module(m).main() for m in sys.argv[1:]}))
"""


def _probe(root: Path, *modules: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *modules],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_templated_calls_run_against_a_keyword_only_api(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", ENGINES)
    before = _probe(root, "app.engines")
    engine = template(
        "pkg.old.ExecutionEngine(registry, websocket_bridge, user_context, timeout=None)",
        ENGINE_TO,
    )
    factory = template(
        "pkg.old.make_engine(registry, websocket_bridge, user_context)", FACTORY_TO, await_=True
    )
    result = apply_codemod(type(engine)(engine.rewrites + factory.rewrites), root, jobs=1)

    assert result.followups == ()
    assert result.sites == 4
    text = (root / "app/engines.py").read_text()
    assert "agent_factory='r',  # registry\n" in text
    assert "await UserExecutionEngine.create(context='u'" in text
    assert _probe(root, "app.engines") == before


MOVED = {
    "pkg/__init__.py": "",
    "pkg/compat.py": "def text_(s):\n    return 't:' + s\n\n\nnative_ = text_\n",
    "pkg/util.py": (
        "from pkg.compat import text_\n\n\ndef text_(s):\n    return 't:' + s\n\n\n"
        "def shout(s):\n    return text_(s).upper()\n\n\ndef main():\n    return shout('u')\n"
    ),
    "app/__init__.py": "",
    "app/two.py": (
        "from pkg.compat import text_, native_\n\n\ndef main():\n    return native_(text_('x'))\n"
    ),
    "app/join.py": (
        "from pkg.util import shout\nfrom pkg.compat import text_\n\n\ndef main():\n"
        "    return shout(text_('j'))\n"
    ),
    "app/shadow.py": (
        "from pkg.compat import native_\n\n\n"
        "def own():\n    native_ = 'local'\n    return native_\n\n\n"
        "def main():\n    return [own(), native_('s')]\n"
    ),
    "app/patched.py": (
        "from unittest import mock\n\nfrom pkg import util\n\n\ndef main():\n"
        "    with mock.patch('pkg.compat.text_', lambda s: 'patched'):\n"
        "        return util.shout('p')\n"
    ),
    "app/attr.py": "import pkg.compat\n\n\ndef main():\n    return pkg.compat.text_('a')\n",
    "app/ann.py": (
        "from pkg.compat import native_\n\n\ndef f(x: 'native_') -> 'native_':\n    return x\n\n\n"
        "def main():\n    return eval(f.__annotations__['x'])('n')\n"
    ),
}


def test_move_import_fixes_run(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", MOVED)
    action = MoveImport(
        (
            ImportMove("pkg.compat.text_", "pkg.util.text_", strings="exact"),
            ImportMove("pkg.compat.native_", "pkg.util.text_", strings="exact"),
        )
    )
    result = apply_codemod(action, root, protected=("pkg/compat.py",), jobs=1)

    assert result.followups == ()
    (root / "pkg/compat.py").unlink()  # the bridge goes: nothing may still need it
    modules = ["pkg.util", "app.two", "app.join", "app.shadow", "app.patched", "app.attr"]
    got = _probe(root, *modules, "app.ann")
    assert got == {
        "pkg.util": "T:U",
        "app.two": "t:t:x",
        "app.join": "T:T:J",
        "app.shadow": ["local", "t:s"],
        "app.patched": "PATCHED",
        "app.attr": "t:a",
        "app.ann": "t:n",
    }
    assert (root / "app/join.py").read_text().startswith("from pkg.util import shout, text_\n\n")
