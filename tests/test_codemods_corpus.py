"""Before/after corpus of the built-in codemods, each case on a real git repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.codemods import apply_codemod
from tests._codemod_cases import Case, as_bytes, call, delete, make_repo, move, pinned_git
from tests._corpus_moves import MOVES
from tests._corpus_templates import TEMPLATES

__all__ = ["pinned_git"]

OLD, NEW = "pkg.old.Engine", "pkg.new.UserEngine"
EE = "netra_backend.app.agents.supervisor.execution_engine"
UEE = "netra_backend.app.agents.supervisor.user_execution_engine"
UEC = "netra_backend.app.services.user_execution_context"

SEED = [
    Case(
        "seed-1-direct-engine-import",
        move((f"{EE}.ExecutionEngine", f"{UEE}.UserExecutionEngine", "ExecutionEngine")),
        {
            "tests/unit/test_engine.py": (
                f"from {EE} import ExecutionEngine\n\n\ndef test_it():\n"
                "    assert ExecutionEngine\n"
            )
        },
        {
            "tests/unit/test_engine.py": (
                f"from {UEE} import UserExecutionEngine as ExecutionEngine\n\n\ndef test_it():\n"
                "    assert ExecutionEngine\n"
            )
        },
        sites=1,
    ),
    Case(
        "seed-2-legacy-constructor",
        call(
            f"{EE}.ExecutionEngine",
            f"{UEE}.UserExecutionEngine.create_from_legacy",
            await_=True,
        ),
        {
            "app/chat.py": (
                f"from {EE} import ExecutionEngine\n"
                f"from {UEE} import UserExecutionEngine\n\n\n"
                "async def start(registry, websocket_bridge, user_context):\n"
                "    engine = ExecutionEngine(registry, websocket_bridge, user_context)\n"
                "    return engine\n"
            )
        },
        {
            "app/chat.py": (
                f"from {EE} import ExecutionEngine\n"
                f"from {UEE} import UserExecutionEngine\n\n\n"
                "async def start(registry, websocket_bridge, user_context):\n"
                "    engine = await UserExecutionEngine.create_from_legacy(registry, "
                "websocket_bridge, user_context)\n"
                "    return engine\n"
            )
        },
        sites=1,
    ),
    Case(
        "seed-3-context-import-location",
        move((f"{EE}.UserExecutionContext", f"{UEC}.UserExecutionContext")),
        {"app/ctx.py": f"from {EE} import UserExecutionContext\n\nCTX = UserExecutionContext\n"},
        {"app/ctx.py": f"from {UEC} import UserExecutionContext\n\nCTX = UserExecutionContext\n"},
        sites=1,
    ),
    Case(
        "seed-multi-import-block-splits-into-clean-imports",
        move(
            (f"{EE}.ExecutionEngine", f"{UEE}.UserExecutionEngine", "ExecutionEngine"),
            (f"{EE}.UserExecutionContext", f"{UEC}.UserExecutionContext"),
        ),
        {"app/both.py": f"from {EE} import ExecutionEngine, UserExecutionContext\n"},
        {
            "app/both.py": (
                f"from {UEE} import UserExecutionEngine as ExecutionEngine\n"
                f"from {UEC} import UserExecutionContext\n"
            )
        },
        sites=2,
    ),
]

MOVE_SYMBOL = [
    Case(
        "from-import-uses-follow-new-name",
        move((OLD, NEW)),
        {"app.py": "from pkg.old import Engine\n\nx = Engine()\ny: Engine = x\n"},
        {"app.py": "from pkg.new import UserEngine\n\nx = UserEngine()\ny: UserEngine = x\n"},
    ),
    Case(
        "file-alias-is-kept",
        move((OLD, NEW)),
        {"app.py": "from pkg.old import Engine as E\n\nE()\n"},
        {"app.py": "from pkg.new import UserEngine as E\n\nE()\n"},
    ),
    Case(
        "mapping-as-keeps-local-name",
        move((OLD, NEW, "Engine")),
        {"app.py": "from pkg.old import Engine\n\nEngine()\n"},
        {"app.py": "from pkg.new import UserEngine as Engine\n\nEngine()\n"},
    ),
    Case(
        "multi-name-keeps-others-in-place",
        move((OLD, NEW)),
        {"app.py": "from pkg.old import A, Engine, B\n\nEngine(A, B)\n"},
        {
            "app.py": (
                "from pkg.old import A, B\nfrom pkg.new import UserEngine\n\nUserEngine(A, B)\n"
            )
        },
    ),
    Case(
        "multi-name-with-mapping-as",
        move((OLD, NEW, "Engine")),
        {"app.py": "from pkg.old import A, Engine, B\n\nEngine(A, B)\n"},
        {
            "app.py": (
                "from pkg.old import A, B\nfrom pkg.new import UserEngine as Engine\n\n"
                "Engine(A, B)\n"
            )
        },
    ),
    Case(
        "parenthesised-block-keeps-shape-and-comments",
        move((OLD, NEW, "Engine")),
        {
            "app.py": (
                "from pkg.old import (  # legacy\n    A,\n    Engine,  # the engine\n    B,\n)\n"
            )
        },
        {
            "app.py": (
                "from pkg.old import (  # legacy\n    A,\n    B,\n)\n"
                "from pkg.new import UserEngine as Engine\n"
            )
        },
    ),
    Case(
        "parenthesised-last-name-moves",
        move((OLD, NEW, "Engine")),
        {"app.py": "from pkg.old import (\n    A,\n    Engine\n)\n"},
        {"app.py": "from pkg.old import (\n    A\n)\nfrom pkg.new import UserEngine as Engine\n"},
    ),
    Case(
        "parenthesised-comment-stays-with-its-name",
        move((OLD, NEW, "Engine")),
        {"app.py": "from pkg.old import (\n    A,  # about A\n    Engine,  # legacy\n)\n"},
        {
            "app.py": (
                "from pkg.old import (\n    A,  # about A\n)\n"
                "from pkg.new import UserEngine as Engine\n"
            )
        },
    ),
    Case(
        "backslash-continued-block-keeps-shape",
        move((OLD, NEW, "Engine")),
        {"app.py": "from pkg.old import A, \\\n    Engine, B\n"},
        {"app.py": "from pkg.old import A, \\\n    B\nfrom pkg.new import UserEngine as Engine\n"},
    ),
    Case(
        "every-name-to-one-module-rewrites-in-place",
        move((OLD, NEW, "Engine"), ("pkg.old.Helper", "pkg.new.Helper")),
        {"app.py": "from pkg.old import (\n    Engine,\n    Helper,\n)\n"},
        {"app.py": "from pkg.new import (\n    UserEngine as Engine,\n    Helper,\n)\n"},
        sites=2,
    ),
    Case(
        "relative-import-same-package",
        move((OLD, NEW)),
        {"pkg/consumer.py": "from .old import Engine\n\nEngine()\n"},
        {"pkg/consumer.py": "from .new import UserEngine\n\nUserEngine()\n"},
    ),
    Case(
        "relative-module-import-with-attribute-use",
        move((OLD, NEW)),
        {"pkg/consumer.py": "from . import old\n\nold.Engine()\n"},
        {"pkg/consumer.py": "from . import new\n\nnew.UserEngine()\n"},
    ),
    Case(
        "relative-module-import-kept-for-other-uses",
        move((OLD, NEW)),
        {"pkg/consumer.py": "from . import old\n\nold.Engine()\nold.helper()\n"},
        {
            "pkg/consumer.py": (
                "from . import old\nfrom . import new\n\nnew.UserEngine()\nold.helper()\n"
            )
        },
    ),
    Case(
        "src-layout-two-levels-up",
        move((OLD, NEW)),
        {"src/pkg/sub/deep.py": "from ..old import Engine\n\nEngine()\n"},
        {"src/pkg/sub/deep.py": "from ..new import UserEngine\n\nUserEngine()\n"},
    ),
    Case(
        "src-layout-three-levels-up-in-package-init",
        move((OLD, NEW)),
        {"src/pkg/a/b/__init__.py": "from ...old import Engine\n"},
        {"src/pkg/a/b/__init__.py": "from ...new import UserEngine as Engine\n"},
    ),
    Case(
        "relative-becomes-absolute-when-target-leaves-package",
        move(("pkg.sub.old.Engine", "other.place.Engine")),
        {"pkg/sub/user.py": "from .old import Engine\n"},
        {"pkg/sub/user.py": "from other.place import Engine\n"},
    ),
    Case(
        "relative-import-of-unrelated-module-untouched",
        move((OLD, NEW)),
        {"pkg/sub/user.py": "from .old import Engine\n"},
    ),
    Case(
        "module-import-attribute-use-stays-an-attribute",
        move((OLD, NEW)),
        {"app.py": "import pkg.old\n\npkg.old.Engine(1)\n"},
        {"app.py": "import pkg.new\n\npkg.new.UserEngine(1)\n"},
        sites=1,
    ),
    Case(
        "module-import-kept-while-other-uses-remain",
        move((OLD, NEW)),
        {"app.py": "import pkg.old\n\npkg.old.Engine(1)\npkg.old.helper()\n"},
        {"app.py": ("import pkg.old\nimport pkg.new\n\npkg.new.UserEngine(1)\npkg.old.helper()\n")},
    ),
    Case(
        "aliased-module-import-attribute-use",
        move((OLD, NEW, "Engine")),
        {"app.py": "import pkg.old as po\n\npo.Engine.create()\n"},
        {"app.py": "from pkg.new import UserEngine as Engine\n\nEngine.create()\n"},
    ),
    Case(
        "builtins-move-drops-import-and-renames",
        move(("six.text_type", "builtins.str")),
        {"app.py": "import os\nfrom six import text_type\n\nx = text_type(1)\n"},
        {"app.py": "import os\n\nx = str(1)\n"},
    ),
    Case(
        "builtins-move-inside-multi-import",
        move(("six.text_type", "builtins.str")),
        {"app.py": "from six import PY3, text_type\n\nx = text_type(PY3)\n"},
        {"app.py": "from six import PY3\n\nx = str(PY3)\n"},
    ),
    Case(
        "builtins-move-of-module-attribute",
        move(("six.text_type", "builtins.str")),
        {"app.py": "import os\nimport six\n\nx = six.text_type(1)\n"},
        {"app.py": "import os\n\nx = str(1)\n"},
    ),
    Case(
        "duplicate-import-merged",
        move((OLD, NEW)),
        {"app.py": "from pkg.new import UserEngine\nfrom pkg.old import Engine\n\nEngine()\n"},
        {"app.py": "from pkg.new import UserEngine\n\nUserEngine()\n"},
    ),
    Case(
        "two-old-imports-become-one",
        move((OLD, NEW, "Engine"), ("pkg.legacy.Engine", NEW, "Engine")),
        {"app.py": "from pkg.old import Engine\nfrom pkg.legacy import Engine\n"},
        {"app.py": "from pkg.new import UserEngine as Engine\n"},
    ),
    Case(
        "package-init-reexport-keeps-public-name",
        move((OLD, NEW)),
        {"pkg/__init__.py": "from .old import Engine\n\n__all__ = ['Engine']\n"},
        {"pkg/__init__.py": "from .new import UserEngine as Engine\n\n__all__ = ['Engine']\n"},
    ),
    Case(
        "dunder-all-keeps-public-name",
        move((OLD, NEW)),
        {"pkg/api.py": 'from pkg.old import Engine\n\n__all__ = ["Engine"]\n'},
        {"pkg/api.py": 'from pkg.new import UserEngine as Engine\n\n__all__ = ["Engine"]\n'},
    ),
    Case(
        "new-name-taken-keeps-old-local",
        move((OLD, NEW)),
        {"app.py": "from pkg.old import Engine\n\n\nclass UserEngine(Engine):\n    pass\n"},
        {
            "app.py": (
                "from pkg.new import UserEngine as Engine\n\n\nclass UserEngine(Engine):\n"
                "    pass\n"
            )
        },
    ),
    Case(
        "parameter-shadows-the-name",
        move((OLD, NEW)),
        {
            "app.py": (
                "from pkg.old import Engine\n\n\ndef f(Engine):\n    return Engine\n\n\n"
                "g = Engine\n"
            )
        },
        {
            "app.py": (
                "from pkg.new import UserEngine\n\n\ndef f(Engine):\n    return Engine\n\n\n"
                "g = UserEngine\n"
            )
        },
    ),
    Case(
        "attributes-and-keywords-not-renamed",
        move((OLD, NEW)),
        {"app.py": "from pkg.old import Engine\n\nobj.Engine(Engine=Engine)\n"},
        {"app.py": "from pkg.new import UserEngine\n\nobj.Engine(Engine=UserEngine)\n"},
    ),
    Case(
        "import-inside-function",
        move((OLD, NEW)),
        {"app.py": "def make():\n    from pkg.old import Engine\n    return Engine()\n"},
        {"app.py": "def make():\n    from pkg.new import UserEngine\n    return UserEngine()\n"},
    ),
    Case(
        "try-except-double-binding-keeps-local",
        move((OLD, NEW)),
        {
            "app.py": (
                "try:\n    from pkg.old import Engine\nexcept ImportError:\n"
                "    from fallback import Engine\n"
            )
        },
        {
            "app.py": (
                "try:\n    from pkg.new import UserEngine as Engine\nexcept ImportError:\n"
                "    from fallback import Engine\n"
            )
        },
    ),
    Case(
        "semicolon-line",
        move((OLD, NEW, "Engine")),
        {"app.py": "import os; from pkg.old import Engine\n"},
        {"app.py": "import os; from pkg.new import UserEngine as Engine\n"},
    ),
    Case(
        "trailing-comment-survives",
        move((OLD, NEW, "Engine")),
        {"app.py": "from pkg.old import Engine  # noqa: F401\n"},
        {"app.py": "from pkg.new import UserEngine as Engine  # noqa: F401\n"},
    ),
    Case(
        "use-deep-inside-a-class-method",
        move((OLD, NEW)),
        {
            "app.py": (
                "from pkg.old import Engine\n\n\nclass A:\n    x = 1;  y = 2\n\n"
                "    def a(self):\n        return 1\n\n    @property\n    def b(self):\n"
                "        if self:\n            return Engine( 1 )\n"
            )
        },
        {
            "app.py": (
                "from pkg.new import UserEngine\n\n\nclass A:\n    x = 1;  y = 2\n\n"
                "    def a(self):\n        return 1\n\n    @property\n    def b(self):\n"
                "        if self:\n            return UserEngine( 1 )\n"
            )
        },
    ),
    Case(
        "token-only-file-unchanged",
        move((OLD, NEW)),
        {"app.py": "old = 1\nEngine = 2\n"},
        sites=0,
    ),
    Case(
        "most-specific-mapping-wins",
        move(("pkg.old", "pkg.core"), (OLD, NEW, "Engine")),
        {"app.py": "from pkg.old import Engine, helper\n"},
        {"app.py": "from pkg.new import UserEngine as Engine\nfrom pkg.core import helper\n"},
    ),
]

MOVE_MODULE = [
    Case(
        "module-to-top-level-from-parent-import",
        move(("os.path", "posixpath")),
        {"a.py": 'from os import path\n\ny = path.join("a")\n'},
        {"a.py": 'import posixpath\n\ny = posixpath.join("a")\n'},
        sites=1,
    ),
    Case(
        "module-to-top-level-from-parent-import-as",
        move(("os.path", "posixpath")),
        {"a.py": 'from os import path as p\n\ny = p.join("a")\n'},
        {"a.py": 'import posixpath as p\n\ny = p.join("a")\n'},
        sites=1,
    ),
    Case(
        "module-to-top-level-through-parent-attribute",
        move(("os.path", "posixpath")),
        {"a.py": 'import os\n\nz = os.path.exists("a")\n'},
        {"a.py": 'import posixpath\n\nz = posixpath.exists("a")\n'},
        sites=1,
    ),
    Case(
        "untouched-spacing-stays-byte-identical-in-a-file-with-no-site",
        move((OLD, NEW)),
        {
            "a.py": (
                "import pkg.old\n\n# Engine lives elsewhere now\nx = pkg.old.Other\n"
                "try:\n    pass\nexcept ValueError :\n    pass\n"
            )
        },
        {},
        sites=0,
    ),
    Case(
        "import-mock-becomes-from-unittest",
        move(("mock", "unittest.mock")),
        {"tests/test_x.py": "import mock\n\nmock.patch('os.getcwd')\n"},
        {"tests/test_x.py": "from unittest import mock\n\nmock.patch('os.getcwd')\n"},
    ),
    Case(
        "from-mock-import-names",
        move(("mock", "unittest.mock")),
        {"tests/test_x.py": "from mock import MagicMock, patch\n"},
        {"tests/test_x.py": "from unittest.mock import MagicMock, patch\n"},
    ),
    Case(
        "import-mock-among-others",
        move(("mock", "unittest.mock")),
        {"tests/test_x.py": "import os, mock\n"},
        {"tests/test_x.py": "import os\nfrom unittest import mock\n"},
    ),
    Case(
        "module-star-import-rewritten",
        move(("mock", "unittest.mock")),
        {"tests/test_x.py": "from mock import *\n"},
        {"tests/test_x.py": "from unittest.mock import *\n"},
    ),
    Case(
        "aliased-module-import",
        move(("pkg.compat", "pkg.core")),
        {"app.py": "import pkg.compat as c\n\nc.run()\n"},
        {"app.py": "import pkg.core as c\n\nc.run()\n"},
    ),
    Case(
        "dotted-module-import-and-chains",
        move(("pkg.compat", "pkg.core")),
        {"app.py": "import pkg.compat\n\npkg.compat.run()\nx = pkg.compat\n"},
        {"app.py": "import pkg.core\n\npkg.core.run()\nx = pkg.core\n"},
        sites=3,
    ),
    Case(
        "submodule-from-import",
        move(("pkg.compat", "pkg.core")),
        {"app.py": "from pkg.compat.sub import g\n"},
        {"app.py": "from pkg.core.sub import g\n"},
    ),
    Case(
        "from-parent-import-module",
        move(("pkg.compat", "pkg.core")),
        {"app.py": "from pkg import compat\n\ncompat.run()\n"},
        {"app.py": "from pkg import core\n\ncore.run()\n"},
    ),
    Case(
        "relative-module-move",
        move(("pkg.compat", "pkg.core")),
        {"pkg/user.py": "from .compat import run\nfrom . import compat as c\n"},
        {"pkg/user.py": "from .core import run\nfrom . import core as c\n"},
    ),
]

FOLLOW_UPS = [
    Case(
        "star-import-of-symbol-module-is-a-follow-up",
        move((OLD, NEW)),
        {"app.py": "from pkg.old import *\n\nEngine()\n"},
        followups=("app.py:1: star import from pkg.old may bring Engine (now pkg.new.UserEngine)",),
    ),
    Case(
        "dynamic-imports-are-follow-ups",
        move((OLD, NEW)),
        {
            "pkg/old.py": "class Engine:\n    pass\n",
            "app.py": (
                "import importlib\n\nm = importlib.import_module('pkg.old')\n"
                "n = __import__('pkg.old')\nE = m.Engine\n"
            ),
        },
        followups=("app.py:3: dynamic import of 'pkg.old': rewrite it by hand (also lines 4)",),
    ),
    Case(
        "a-class-attribute-of-the-same-name-keeps-the-local-name",
        move((OLD, NEW)),
        {
            "app.py": (
                "from pkg.old import Engine\n\n\nclass Holder:\n"
                "    if True:\n        Engine = None\n\n"
                "    def get(self):\n        return self.Engine or Engine()\n"
            )
        },
        {
            "app.py": (
                "from pkg.new import UserEngine as Engine\n\n\nclass Holder:\n"
                "    if True:\n        Engine = None\n\n"
                "    def get(self):\n        return self.Engine or Engine()\n"
            )
        },
    ),
    Case(
        "locals-in-functions-are-renamed-with-the-import",
        move((OLD, NEW)),
        {
            "app.py": (
                "from pkg.old import Engine\n\n\nclass Holder:\n    kind = Engine\n\n\n"
                "def f():\n    Engine2 = Engine\n    return [Engine for _ in range(2)], Engine2\n"
            )
        },
        {
            "app.py": (
                "from pkg.new import UserEngine\n\n\nclass Holder:\n    kind = UserEngine\n\n\n"
                "def f():\n    Engine2 = UserEngine\n"
                "    return [UserEngine for _ in range(2)], Engine2\n"
            )
        },
    ),
    Case(
        "string-annotations-of-a-renamed-name-are-renamed",
        move((OLD, NEW)),
        {
            "app.py": (
                "from pkg.old import Engine\n\n\n"
                'def build(e: "Engine", n: "int") -> "list[Engine]":\n'
                '    x: "Engine | None" = None\n'
                '    y: "Engine(" = None\n'
                "    return [Engine()]\n"
            )
        },
        {
            "app.py": (
                "from pkg.new import UserEngine\n\n\n"
                'def build(e: "UserEngine", n: "int") -> "list[UserEngine]":\n'
                '    x: "UserEngine | None" = None\n'
                '    y: "Engine(" = None\n'
                "    return [UserEngine()]\n"
            )
        },
    ),
    Case(
        "string-annotations-stay-right-when-the-name-is-kept",
        move((OLD, NEW, "Engine")),
        {"app.py": 'from pkg.old import Engine\n\n\ndef build(e: "Engine") -> None:\n    pass\n'},
        {
            "app.py": (
                "from pkg.new import UserEngine as Engine\n\n\n"
                'def build(e: "Engine") -> None:\n    pass\n'
            )
        },
    ),
    Case(
        "patch-strings-are-follow-ups",
        move((OLD, NEW, "Engine")),
        {
            "tests/test_app.py": (
                "from unittest import mock\nfrom pkg.old import Engine\n\n\n"
                "@mock.patch('pkg.old.Engine')\ndef test_a(m):\n"
                '    with mock.patch("pkg.old.Engine.run"):\n        Engine()\n'
                "    return 'pkg.old.EngineX'\n"
            )
        },
        {
            "tests/test_app.py": (
                "from unittest import mock\nfrom pkg.new import UserEngine as Engine\n\n\n"
                "@mock.patch('pkg.old.Engine')\ndef test_a(m):\n"
                '    with mock.patch("pkg.old.Engine.run"):\n        Engine()\n'
                "    return 'pkg.old.EngineX'\n"
            )
        },
        followups=(
            "tests/test_app.py:5: string target 'pkg.old.Engine'",
            "tests/test_app.py:7: string target 'pkg.old.Engine.run'",
        ),
    ),
]

FORMAT = [
    Case(
        "crlf-line-endings-survive",
        move((OLD, NEW)),
        {"app.py": b"import os\r\nfrom pkg.old import A, Engine\r\n\r\nEngine(os)  # use\r\n"},
        {
            "app.py": (
                b"import os\r\nfrom pkg.old import A\r\nfrom pkg.new import UserEngine\r\n\r\n"
                b"UserEngine(os)  # use\r\n"
            )
        },
    ),
    Case(
        "bom-survives",
        move((OLD, NEW, "Engine")),
        {"app.py": b"\xef\xbb\xbffrom pkg.old import Engine\n# caf\xc3\xa9\n"},
        {"app.py": b"\xef\xbb\xbffrom pkg.new import UserEngine as Engine\n# caf\xc3\xa9\n"},
    ),
    Case(
        "encoding-cookie-survives",
        move((OLD, NEW, "Engine")),
        {"app.py": b"# -*- coding: latin-1 -*-\nfrom pkg.old import Engine\nNAME = '\xe9'\n"},
        {
            "app.py": (
                b"# -*- coding: latin-1 -*-\nfrom pkg.new import UserEngine as Engine\n"
                b"NAME = '\xe9'\n"
            )
        },
    ),
    Case(
        "tabs-survive",
        move((OLD, NEW)),
        {"app.py": "def f():\n\tfrom pkg.old import Engine\n\tif Engine:\n\t\treturn Engine()\n"},
        {
            "app.py": (
                "def f():\n\tfrom pkg.new import UserEngine\n\tif UserEngine:\n"
                "\t\treturn UserEngine()\n"
            )
        },
    ),
    Case(
        "untouched-lines-byte-identical",
        move((OLD, NEW, "Engine")),
        {
            "app.py": (
                "import   os  # spaced\n\n\nfrom pkg.old import Engine\n"
                "x = [1,2 ,3]   # odd spacing\n"
            )
        },
        {
            "app.py": (
                "import   os  # spaced\n\n\nfrom pkg.new import UserEngine as Engine\n"
                "x = [1,2 ,3]   # odd spacing\n"
            )
        },
    ),
]

SAFETY = [
    Case(
        "exclude-glob-never-touched",
        move((OLD, NEW, "Engine")),
        {
            "vendor/lib/x.py": "from pkg.old import Engine\n",
            "app.py": "from pkg.old import Engine\n",
        },
        {"app.py": "from pkg.new import UserEngine as Engine\n"},
        exclude=("vendor/**",),
    ),
    Case(
        "protected-file-never-touched",
        move((OLD, NEW, "Engine")),
        {"a.py": "from pkg.old import Engine\n", "b.py": "from pkg.old import Engine\n"},
        {"b.py": "from pkg.new import UserEngine as Engine\n"},
        protected=("a.py",),
    ),
    Case(
        "non-parsing-file-skipped-byte-identical",
        move((OLD, NEW, "Engine")),
        {
            "broken.py": "from pkg.old import Engine\ndef (:\n",
            "ok.py": "from pkg.old import Engine\n",
        },
        {"ok.py": "from pkg.new import UserEngine as Engine\n"},
        skipped=("broken.py",),
    ),
    Case(
        "non-utf8-file-skipped-byte-identical",
        move((OLD, NEW, "Engine")),
        {"latin.py": b"from pkg.old import Engine\nNAME = '\xe9'\n"},
        skipped=("latin.py",),
    ),
]

REWRITE_CALL = [
    Case(
        "alias-resolved-and-awaited",
        call(NEW, f"{NEW}.create_from_legacy", await_=True),
        {
            "app.py": (
                "from pkg.new import UserEngine as Engine\n\n\nasync def go(a, b):\n"
                "    return Engine(a, b)\n"
            )
        },
        {
            "app.py": (
                "from pkg.new import UserEngine as Engine\n\n\nasync def go(a, b):\n"
                "    return await Engine.create_from_legacy(a, b)\n"
            )
        },
        sites=1,
    ),
    Case(
        "module-alias-resolved",
        call(NEW, f"{NEW}.create_from_legacy", await_=True),
        {"app.py": "import pkg.new as mod\n\n\nasync def go():\n    e = mod.UserEngine()\n"},
        {
            "app.py": (
                "import pkg.new as mod\n\n\nasync def go():\n"
                "    e = await mod.UserEngine.create_from_legacy()\n"
            )
        },
    ),
    Case(
        "sync-sites-are-follow-ups",
        call(NEW, f"{NEW}.create_from_legacy", await_=True),
        {
            "app.py": (
                "from pkg.new import UserEngine\n\nE = UserEngine()\n\n\ndef f():\n"
                "    return UserEngine()\n\n\nasync def g():\n    h = lambda: UserEngine()\n"
                "    def inner():\n        return UserEngine()\n    return UserEngine()\n"
            )
        },
        {
            "app.py": (
                "from pkg.new import UserEngine\n\nE = UserEngine()\n\n\ndef f():\n"
                "    return UserEngine()\n\n\nasync def g():\n    h = lambda: UserEngine()\n"
                "    def inner():\n        return UserEngine()\n"
                "    return await UserEngine.create_from_legacy()\n"
            )
        },
        followups=(
            "app.py:3: sync call site of an awaited factory",
            "app.py:7: sync call site of an awaited factory",
            "app.py:11: sync call site of an awaited factory",
            "app.py:13: sync call site of an awaited factory",
        ),
        sites=1,
    ),
    Case(
        "already-awaited-not-doubled",
        call(NEW, f"{NEW}.create_from_legacy", await_=True),
        {"app.py": "from pkg.new import UserEngine\n\n\nasync def g():\n    await UserEngine()\n"},
        {
            "app.py": (
                "from pkg.new import UserEngine\n\n\nasync def g():\n"
                "    await UserEngine.create_from_legacy()\n"
            )
        },
    ),
    Case(
        "await-parenthesised-before-trailer",
        call(NEW, f"{NEW}.create_from_legacy", await_=True),
        {
            "app.py": (
                "from pkg.new import UserEngine\n\n\nasync def g():\n"
                "    UserEngine(1).start()\n    return UserEngine(2)[0]\n"
            )
        },
        {
            "app.py": (
                "from pkg.new import UserEngine\n\n\nasync def g():\n"
                "    (await UserEngine.create_from_legacy(1)).start()\n"
                "    return (await UserEngine.create_from_legacy(2))[0]\n"
            )
        },
    ),
    Case(
        "no-await-renames-everywhere",
        call("pkg.util.make", "pkg.util.build"),
        {
            "app.py": (
                "from pkg import util\nfrom pkg.util import make as mk\n\nutil.make(1)\nmk(2)\n"
            )
        },
        {
            "app.py": (
                "from pkg import util\nfrom pkg.util import make as mk\n\nutil.build(1)\n"
                "util.build(2)\n"
            )
        },
        sites=2,
    ),
    Case(
        "different-module-target-adds-import",
        call(NEW, "pkg.factory.build_engine"),
        {"app.py": "import os\nfrom pkg.new import UserEngine\n\nx = UserEngine(os)\n"},
        {
            "app.py": (
                "import os\nfrom pkg.new import UserEngine\n"
                "from pkg.factory import build_engine\n\n"
                "x = build_engine(os)\n"
            )
        },
    ),
    Case(
        "defining-module-not-rewritten",
        call(NEW, f"{NEW}.create_from_legacy", await_=True),
        {
            "pkg/new.py": (
                "class UserEngine:\n    @classmethod\n    async def create_from_legacy(cls):\n"
                "        return UserEngine()\n"
            )
        },
    ),
    Case(
        "unrelated-callee-same-name-untouched",
        call(NEW, f"{NEW}.create_from_legacy", await_=True),
        {"app.py": "from other import UserEngine\n\n\nasync def g():\n    UserEngine()\n"},
    ),
]

DELETE = [
    Case(
        "delete-file",
        delete("pkg/old.py"),
        {"pkg/old.py": "X = 1\n", "pkg/new.py": "Y = 2\n"},
        {"pkg/old.py": None},
        sites=1,
    ),
    Case(
        "delete-folder",
        delete("pkg/compat"),
        {
            "pkg/compat/__init__.py": "",
            "pkg/compat/a/b.py": "B = 1\n",
            "pkg/core.py": "C = 1\n",
        },
        {"pkg/compat/__init__.py": None, "pkg/compat/a/b.py": None},
    ),
    Case(
        "delete-method-with-decorator-and-comment",
        delete("pkg/new.py::UserEngine._legacy_init"),
        {
            "pkg/new.py": (
                "class UserEngine:\n    def __init__(self):\n        self.x = 1\n\n"
                "    # Bridge for the legacy signature.\n    @staticmethod\n"
                "    def _legacy_init(a, b):\n        return a\n\n    def run(self):\n"
                "        return self.x\n"
            )
        },
        {
            "pkg/new.py": (
                "class UserEngine:\n    def __init__(self):\n        self.x = 1\n\n"
                "    def run(self):\n        return self.x\n"
            )
        },
        sites=1,
    ),
    Case(
        "delete-function",
        delete("pkg/util.py::legacy"),
        {
            "pkg/util.py": (
                "def a():\n    pass\n\n\ndef legacy():\n    pass\n\n\ndef b():\n    pass\n"
            )
        },
        {"pkg/util.py": "def a():\n    pass\n\n\ndef b():\n    pass\n"},
    ),
    Case(
        "delete-decorated-async-function",
        delete("pkg/util.py::legacy"),
        {"pkg/util.py": "import f\n\n\n@f.wrap\n@f.other(1)\nasync def legacy():\n    pass\n"},
        {"pkg/util.py": "import f\n"},
    ),
    Case(
        "delete-last-method-leaves-pass",
        delete("pkg/new.py::Engine.go"),
        {"pkg/new.py": "class Engine:\n    def go(self):\n        pass\n\n\nX = 1\n"},
        {"pkg/new.py": "class Engine:\n    pass\n\n\nX = 1\n"},
    ),
    Case(
        "delete-first-method-no-blank-left-on-top",
        delete("pkg/new.py::Engine.a"),
        {
            "pkg/new.py": (
                "class Engine:\n    def a(self):\n        pass\n\n    def b(self):\n        pass\n"
            )
        },
        {"pkg/new.py": "class Engine:\n    def b(self):\n        pass\n"},
    ),
    Case(
        "delete-class",
        delete("pkg/new.py::Legacy"),
        {"pkg/new.py": "import os\n\n\nclass Legacy:\n    x = 1\n\n\nclass Keep:\n    pass\n"},
        {"pkg/new.py": "import os\n\n\nclass Keep:\n    pass\n"},
    ),
    Case(
        "delete-property-getter-and-setter",
        delete("pkg/new.py::Engine.size"),
        {
            "pkg/new.py": (
                "class Engine:\n    @property\n    def size(self):\n        return 1\n\n"
                "    @size.setter\n    def size(self, v):\n        pass\n\n"
                "    def keep(self):\n        pass\n"
            )
        },
        {"pkg/new.py": "class Engine:\n    def keep(self):\n        pass\n"},
        sites=2,
    ),
    Case(
        "delete-keeps-detached-section-comment",
        delete("pkg/util.py::legacy"),
        {
            "pkg/util.py": (
                "X = 1\n\n# --- helpers ---\n\n# the old way\ndef legacy():\n    pass\n\n\n"
                "def b():\n    pass\n"
            )
        },
        {"pkg/util.py": "X = 1\n\n# --- helpers ---\n\n\ndef b():\n    pass\n"},
    ),
    Case(
        "delete-two-definitions-in-one-file-and-a-file",
        delete("pkg/new.py::Engine._legacy_init", "pkg/new.py::legacy_helper", "pkg/old.py"),
        {
            "pkg/new.py": (
                "class Engine:\n    def _legacy_init(self):\n        pass\n\n"
                "    def run(self):\n        pass\n\n\ndef legacy_helper():\n    pass\n"
            ),
            "pkg/old.py": "from pkg.new import Engine\n",
        },
        {"pkg/new.py": "class Engine:\n    def run(self):\n        pass\n", "pkg/old.py": None},
        sites=3,
    ),
    Case(
        "delete-refuses-missing-definition-and-writes-nothing",
        delete("pkg/old.py", "pkg/new.py::UserEngine._legacy_init"),
        {"pkg/old.py": "X = 1\n", "pkg/new.py": "class UserEngine:\n    pass\n"},
        errors=(
            "pkg/new.py::UserEngine._legacy_init: no definition named _legacy_init "
            "in class UserEngine",
        ),
    ),
    Case(
        "delete-refuses-missing-class",
        delete("pkg/new.py::Nope.x"),
        {"pkg/new.py": "X = 1\n"},
        errors=("pkg/new.py::Nope.x: no definition named Nope at module level",),
    ),
    Case(
        "delete-refuses-parent-path",
        delete("../outside.py"),
        {"a.py": ""},
        errors=("../outside.py: '..' leaves the repository",),
    ),
    Case(
        "delete-refuses-absolute-path",
        delete("/etc/passwd"),
        {"a.py": ""},
        errors=("/etc/passwd: an absolute path",),
    ),
    Case(
        "delete-refuses-missing-file",
        delete("pkg/gone.py"),
        {"a.py": ""},
        errors=("pkg/gone.py: no such file or folder",),
    ),
    Case(
        "delete-refuses-git-dir",
        delete(".git"),
        {"a.py": ""},
        errors=(".git: refusing to delete git's own files",),
    ),
    Case(
        "delete-leaves-protected-file-in-folder",
        delete("pkg/compat"),
        {"pkg/compat/a.py": "A = 1\n", "pkg/compat/b.py": "B = 1\n"},
        {"pkg/compat/a.py": None},
        protected=("pkg/compat/b.py",),
        skipped=("pkg/compat/b.py",),
    ),
]

CASES = SEED + MOVE_SYMBOL + MOVE_MODULE + FOLLOW_UPS + FORMAT + SAFETY + REWRITE_CALL + DELETE
CASES += TEMPLATES + MOVES


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_codemod_case(case: Case, tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", case.before)
    result = apply_codemod(
        case.action, root, exclude=case.exclude, protected=case.protected, jobs=1
    )

    for expected in case.errors:
        assert any(e.startswith(expected) for e in result.errors), result.errors
    assert bool(result.errors) == bool(case.errors), result.errors
    after = {} if case.errors else case.after
    for path, content in case.before.items():
        want = after.get(path, content)
        if want is None:
            assert not (root / path).exists(), path
        else:
            assert (root / path).read_bytes() == as_bytes(want), path
    assert sorted(result.changed) == sorted(after), "changed"
    got = [str(f) for f in result.followups]
    assert len(got) == len(case.followups), got
    for line, expected in zip(got, case.followups, strict=True):
        assert line.startswith(expected), got
    assert sorted(s.path for s in result.skipped) == sorted(case.skipped)
    if case.sites is not None:
        assert result.sites == case.sites


def test_a_repeated_follow_up_is_listed_once_with_its_lines(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.id == "repeated-follow-up-listed-once-with-its-lines")
    root = make_repo(tmp_path / "repo", case.before)
    result = apply_codemod(case.action, root, jobs=1)
    assert [str(f) for f in result.followups] == [
        "app.py:3: string target 'pkg.old.Engine' names pkg.old.Engine (moved to "
        "pkg.new.UserEngine); update it by hand (also lines 4, 5)"
    ]
