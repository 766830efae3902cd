"""The static import graph: which files a change reaches, on real repositories.

Each test builds a real git repository and asks :func:`runner.importgraph.build_graph` what
a change to one module reaches; nothing is imported or mocked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.gates.unseen import unseen_python
from runner.importgraph import build_graph
from tests.conftest import git, make_repo

ROOTS = (".", "src")

#: A package whose ``low`` module is used by ``mid``, which the first test file uses.
BASE = {
    "pkg/__init__.py": "",
    "pkg/low.py": "VALUE = 1\n",
    "pkg/mid.py": "from . import low\n\ndef f():\n    return low.VALUE\n",
    "pkg/other.py": "X = 2\n",
    "tests/test_mid.py": "from pkg.mid import f\n\ndef test_f():\n    assert f() == 1\n",
    "tests/test_other.py": "import pkg.other\n\ndef test_x():\n    assert pkg.other.X\n",
}


def reached(root: Path, *changed: str, cache: Path | None = None) -> set[str]:
    return set(build_graph(root, ROOTS, cache).reach(changed).files)


def test_a_change_reaches_tests_through_an_indirect_import(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", BASE)
    found = reached(root, "pkg/low.py")
    assert found == {"pkg/low.py", "pkg/mid.py", "tests/test_mid.py"}
    assert "tests/test_other.py" not in found


#: Every way of writing "this file uses pkg.low"; each must be found.
IMPORT_FORMS = {
    "import": "import pkg.low\n",
    "import-as": "import pkg.low as l\n",
    "from-module": "from pkg.low import VALUE\n",
    "from-package-submodule": "from pkg import low\n",
    "relative-sibling": "from .low import VALUE\n",
    "relative-parent": "from .. import low\n",
    "relative-parent-module": "from ..low import VALUE\n",
    "star": "from pkg import *\n",
    "in-function": "def f():\n    import pkg.low\n",
    "import-module-literal": "import importlib\nimportlib.import_module('pkg.low')\n",
    "dunder-import-literal": "__import__('pkg.low')\n",
    "import-module-relative": "import importlib\nimportlib.import_module('.low', __package__)\n",
    "patch-target": "from unittest import mock\n\n@mock.patch('pkg.low.VALUE', 3)\ndef f(): ...\n",
    "monkeypatch-target": "def test(monkeypatch):\n    monkeypatch.setattr('pkg.low.VALUE', 2)\n",
    # pytest imports the plugins a conftest or test module names, for every test below it
    "pytest-plugins-list": "pytest_plugins = ['pkg.low']\n",
    "pytest-plugins-string": "pytest_plugins = 'pkg.low'\n",
    "pytest-plugins-tuple-annotated": "pytest_plugins: tuple[str, ...] = ('x', 'pkg.low')\n",
    # the import calls under another name
    "import-module-alias": "from importlib import import_module as load\nload('pkg.low')\n",
    "run-module": "import runpy\nrunpy.run_module('pkg.low')\n",
    "run-module-alias": "from runpy import run_module as go\ngo('pkg.low')\n",
    "patch-alias": "from unittest.mock import patch as p\n\n@p('pkg.low.VALUE', 3)\ndef f(): ...\n",
}


@pytest.mark.parametrize("form", sorted(IMPORT_FORMS))
def test_each_import_form_is_an_edge(tmp_path: Path, form: str) -> None:
    where = "pkg/sub/user.py" if form.startswith("relative-parent") else "pkg/user.py"
    files = {**BASE, "pkg/sub/__init__.py": "", where: IMPORT_FORMS[form]}
    root = make_repo(tmp_path / "r", files)
    assert where in reached(root, "pkg/low.py")
    if form != "star":  # every module of pkg, so pkg.other too
        assert where not in reached(root, "pkg/other.py")


def test_a_package_init_reaches_every_import_below_it(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", BASE)
    found = reached(root, "pkg/__init__.py")
    assert {"tests/test_mid.py", "tests/test_other.py"} <= found


def test_source_roots_and_pytest_prepend_names(tmp_path: Path) -> None:
    files = {
        "src/lib/__init__.py": "",
        "src/lib/core.py": "N = 1\n",
        "tests/helpers.py": "from lib.core import N\n",
        "tests/test_lib.py": "import helpers\n\ndef test_n():\n    assert helpers.N\n",
    }
    root = make_repo(tmp_path / "r", files)
    assert "tests/test_lib.py" in reached(root, "src/lib/core.py")


def test_a_deleted_module_reaches_its_importers(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", BASE)
    (root / "pkg/low.py").unlink()
    assert "tests/test_mid.py" in reached(root, "pkg/low.py")


def test_dynamic_imports_and_broken_files_make_the_answer_unsure(tmp_path: Path) -> None:
    files = {
        **BASE,
        "pkg/plugins.py": (
            "import importlib\n\ndef load(name):\n    return importlib.import_module(name)\n"
        ),
        "pkg/broken.py": "def (:\n",
        "tests/test_plugins.py": "from pkg.plugins import load\n",
    }
    root = make_repo(tmp_path / "r", files)
    graph = build_graph(root, ROOTS, None)
    reach = graph.reach(["pkg/plugins.py", "pkg/broken.py"])
    assert dict(reach.open_changed).keys() == {"pkg/plugins.py", "pkg/broken.py"}
    assert "line 4" in dict(reach.open_changed)["pkg/plugins.py"]
    # unchanged, it may still import the changed module: reached by every change
    assert "tests/test_plugins.py" in graph.reach(["pkg/other.py"]).files


#: Code loaded by file path or by plugin names that are not literals: no module name to follow.
OPEN_FORMS = {
    "run-path": "import runpy\nrunpy.run_path('pkg/low.py')\n",
    "spec-from-file": (
        "import importlib.util as u\nspec = u.spec_from_file_location('m', 'pkg/low.py')\n"
    ),
    "spec-from-file-alias": (
        "from importlib.util import spec_from_file_location as s\ns('m', 'pkg/low.py')\n"
    ),
    "source-file-loader": (
        "from importlib.machinery import SourceFileLoader as L\nL('m', 'p').load_module()\n"
    ),
    "computed-pytest-plugins": "NAMES = ['pkg.low']\npytest_plugins = NAMES\n",
}


@pytest.mark.parametrize("form", sorted(OPEN_FORMS))
def test_loading_by_path_or_computed_plugins_is_open(tmp_path: Path, form: str) -> None:
    root = make_repo(tmp_path / "r", {**BASE, "tests/test_load.py": OPEN_FORMS[form]})
    graph = build_graph(root, ROOTS, None)
    assert "tests/test_load.py" in graph.reach(["pkg/other.py"]).files
    assert dict(graph.reach(["tests/test_load.py"]).open_changed).keys() == {"tests/test_load.py"}


def test_the_cache_parses_only_changed_files(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", BASE)
    cache = tmp_path / "state" / "importgraph.json"
    assert build_graph(root, ROOTS, cache).parsed == len([f for f in BASE if f.endswith(".py")])
    assert build_graph(root, ROOTS, cache).parsed == 0
    (root / "pkg/other.py").write_text("import pkg.low\n")  # unstaged: hashed as git would
    graph = build_graph(root, ROOTS, cache)
    assert graph.parsed == 1
    assert "pkg/other.py" in graph.reach(["pkg/low.py"]).files
    git("add", "-A", cwd=root)  # the same bytes staged: the same blob id, no parse
    assert build_graph(root, ROOTS, cache).parsed == 0
    cache.write_text("{not json")
    assert "tests/test_mid.py" in build_graph(root, ROOTS, cache).reach(["pkg/low.py"]).files


def test_namespace_packages_are_reached_under_any_folder_on_the_path(tmp_path: Path) -> None:
    files = {
        "lib/ns/core.py": "V = 1\n",  # no __init__.py: ``ns`` is a namespace package
        "pytest.ini": "[pytest]\npythonpath = lib\n",
        "tests/test_ns.py": "import ns.core\n\ndef test_v():\n    assert ns.core.V\n",
        "tests/test_from.py": "from ns import core\n",
        "tests/test_plain.py": "def test_p():\n    pass\n",
        "pkg/__init__.py": "",
        "pkg/util.py": "X = 1\n",
        "tests/test_util.py": "import util\n",  # a regular package is imported from its top
    }
    root = make_repo(tmp_path / "r", files)
    found = reached(root, "lib/ns/core.py")
    assert {"tests/test_ns.py", "tests/test_from.py"} <= found
    assert "tests/test_plain.py" not in found
    assert "tests/test_util.py" not in reached(root, "pkg/util.py")


def test_a_module_reaches_what_its_own_packages_import(tmp_path: Path) -> None:
    # pytest imports tests/test_env.py as tests.test_env: tests/__init__.py runs first
    files = {
        **BASE,
        "tests/__init__.py": "import os\nfrom pkg.other import X\nos.environ['X'] = str(X)\n",
        "tests/test_env.py": "import os\n\ndef test_x():\n    assert os.environ['X'] == '2'\n",
        "pkg/sub/__init__.py": "from pkg import other\n",
        "pkg/sub/leaf.py": "VALUE = 1\n",
        "tests/test_leaf.py": "from pkg.sub.leaf import VALUE\n",
    }
    root = make_repo(tmp_path / "r", files)
    found = reached(root, "pkg/other.py")
    assert {"tests/__init__.py", "tests/test_env.py", "tests/test_leaf.py"} <= found
    assert "pkg/low.py" not in found


def test_ignored_files_pytest_would_collect_are_found(tmp_path: Path) -> None:
    ignored = "docs/_build/\nenv/\nbuild/\ntests/gen/\ntests/local/\n"
    root = make_repo(tmp_path / "r", {**BASE, ".gitignore": ignored})
    for name in ("docs/_build/page.html", "env/pyvenv.cfg", "env/lib/test_venv.py",
                 "build/lib/test_built.py", "tests/gen/helper.py"):  # fmt: skip
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    patterns = ("test_*.py",)
    assert unseen_python(root, ["."], patterns).tests is False  # helper.py is no test file
    assert unseen_python(root, ["tests"], None).tests is True  # any .py when runner cannot tell
    (root / "tests/gen/test_gen.py").write_text("")
    assert unseen_python(root, ["."], patterns).tests is True
    (root / "tests/local").mkdir()
    (root / "tests/local/conftest.py").write_text("")
    assert unseen_python(root, ["tests"], patterns).conftest == "tests/local/conftest.py"
