"""Corpus cases for ``move-import`` found on real migrations done by hand upstream."""

from __future__ import annotations

from runner.model import ImportMove, MoveImport
from tests._codemod_cases import Case, move

TEXT = ("pkg.compat.text_", "pkg.util.text_")
NATIVE = ("pkg.compat.native_", "pkg.util.text_")
PKG = {"pkg/__init__.py": "", "pkg/compat.py": "", "pkg/util.py": ""}
OLD, NEW = "pkg.old.Engine", "pkg.new.UserEngine"


def _strings(*mappings: tuple[str, str]) -> MoveImport:
    return MoveImport(tuple(ImportMove(f, t, strings="exact") for f, t in mappings))


MOVES = [
    Case(
        "destination-module-drops-its-import-of-itself",
        move(TEXT),
        {
            **PKG,
            "pkg/util.py": (
                "import os\nfrom pkg.compat import text_\n\n\ndef text_(s):\n    return str(s)\n"
            ),
        },
        {"pkg/util.py": "import os\n\n\ndef text_(s):\n    return str(s)\n"},
        sites=1,
    ),
    Case(
        "destination-module-without-the-name-keeps-its-import",
        move(TEXT),
        {**PKG, "pkg/util.py": "from pkg.compat import text_\n\nX = text_\n"},
        {},
        followups=("pkg/util.py:1: pkg.util is where pkg.compat.text_ moves, but it does not",),
        sites=0,
    ),
    Case(
        "two-old-names-onto-one-new-name",
        move(TEXT, NATIVE),
        {**PKG, "app.py": "from pkg.compat import text_, native_\n\nx = native_(text_(1))\n"},
        {"app.py": "from pkg.util import text_\n\nx = text_(text_(1))\n"},
    ),
    Case(
        "two-old-names-alias-kept-where-the-new-name-is-a-local",
        move(TEXT, NATIVE),
        {
            **PKG,
            "app.py": (
                "from pkg.compat import text_, native_\n\n\ndef f():\n    text_ = 1\n"
                "    return native_(text_)\n"
            ),
        },
        {
            "app.py": (
                "from pkg.util import text_, text_ as native_\n\n\ndef f():\n    text_ = 1\n"
                "    return native_(text_)\n"
            )
        },
        followups=("app.py:1: native_ kept as an alias of pkg.util.text_: text_ means",),
    ),
    Case(
        "moved-name-joins-the-new-modules-statement",
        move(TEXT),
        {**PKG, "app.py": "from pkg.util import a\nfrom pkg.compat import text_\n\nx = text_\n"},
        {"app.py": "from pkg.util import a, text_\n\nx = text_\n"},
    ),
    Case(
        "moved-name-joins-a-parenthesised-statement-in-its-style",
        move(TEXT),
        {
            **PKG,
            "app.py": (
                "import os\nfrom pkg.util import (\n    a,\n    b,\n)\n"
                "from pkg.compat import text_, other\n\nx = text_\n"
            ),
        },
        {
            "app.py": (
                "import os\nfrom pkg.util import (\n    a,\n    b,\n    text_,\n)\n"
                "from pkg.compat import other\n\nx = text_\n"
            )
        },
    ),
    Case(
        "strings-exact-rewrites-string-targets",
        _strings((OLD, NEW), ("pkg.compat", "pkg.util")),
        {
            "pkg/__init__.py": "",
            "app.py": (
                "from unittest import mock\n\n"
                'a = mock.patch("pkg.old.Engine")\n'
                "b = 'pkg.old.Engine.create'\n"
                'c = "pkg.compat.x"\n'
                'd = "pkg.old.EngineRoom"\n'
                'e = f"pkg.old.Engine{1}"\n'
            ),
        },
        {
            "app.py": (
                "from unittest import mock\n\n"
                'a = mock.patch("pkg.new.UserEngine")\n'
                "b = 'pkg.new.UserEngine.create'\n"
                'c = "pkg.util.x"\n'
                'd = "pkg.old.EngineRoom"\n'
                'e = f"pkg.old.Engine{1}"\n'
            )
        },
        followups=("app.py:7: string target 'pkg.old.Engine' names",),  # an f-string
        sites=3,
    ),
    Case(
        "a-functions-own-variable-keeps-its-name",
        move((OLD, NEW)),
        {
            "app.py": (
                "from pkg.old import Engine\n\n\ndef f():\n    Engine = 1\n    return Engine\n\n\n"
                "def g():\n    return [Engine for Engine in range(2)], Engine()\n"
            )
        },
        {
            "app.py": (
                "from pkg.new import UserEngine\n\n\n"
                "def f():\n    Engine = 1\n    return Engine\n\n\n"
                "def g():\n    return [Engine for Engine in range(2)], UserEngine()\n"
            )
        },
    ),
    Case(
        "blank-lines-go-with-an-import-inside-a-block",
        move(("pkg.compat.text_", "builtins.str")),
        {
            **PKG,
            "app.py": "import os\n\nfrom pkg.compat import text_\nimport sys\n\nx = text_(1)\n",
        },
        {"app.py": "import os\nimport sys\n\nx = str(1)\n"},
    ),
    Case(
        "blank-lines-stay-when-the-import-opened-the-block",
        move(("pkg.compat.text_", "builtins.str")),
        {
            **PKG,
            "app.py": '"""Doc."""\n\nfrom pkg.compat import text_\nimport os\n\nx = text_(1)\n',
        },
        {"app.py": '"""Doc."""\n\nimport os\n\nx = str(1)\n'},
    ),
    Case(
        "attribute-form-stays-when-the-module-is-the-same",
        move(("logging.warn", "logging.warning")),
        {"app.py": "import logging\n\nlogging.warn(1)\n"},
        {"app.py": "import logging\n\nlogging.warning(1)\n"},
        sites=1,
    ),
    Case(
        "attribute-form-stays-when-the-new-name-is-taken",
        move((OLD, NEW)),
        {"app.py": "import pkg.old\n\nUserEngine = None\npkg.old.Engine()\n"},
        {"app.py": "import pkg.new\n\nUserEngine = None\npkg.new.UserEngine()\n"},
    ),
    Case(
        "aliased-module-with-the-new-name-taken-falls-back-to-the-full-path",
        move((OLD, NEW)),
        {"app.py": "import pkg.old as o\n\nUserEngine = None\no.Engine()\n"},
        {"app.py": "import pkg.new\n\nUserEngine = None\npkg.new.UserEngine()\n"},
    ),
    Case(
        "repeated-follow-up-listed-once-with-its-lines",
        move((OLD, NEW)),
        {
            "app.py": (
                'import x\n\nx.patch("pkg.old.Engine")\nx.patch("pkg.old.Engine")\n'
                'x.patch("pkg.old.Engine")\n'
            )
        },
        {},
        followups=("app.py:3: string target 'pkg.old.Engine' names",),
    ),
]

__all__ = ["MOVES"]
