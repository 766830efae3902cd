"""The ``forbid-imports`` scanner on real files in a real repository: counts and lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.codemods import ImportSite, find_import_sites
from runner.codemods.scan import scan_files
from tests._codemod_cases import make_repo, pinned_git

__all__ = ["pinned_git"]

FILES = {
    "pkg/__init__.py": "",
    "pkg/old.py": "class Engine:\n    pass\n",
    "pkg/sub/__init__.py": "",
    "a.py": "import pkg.old\n\nx = pkg.old.Engine()\ny = pkg.old.helper\n",
    "b.py": "from pkg.old import Engine, Other\nfrom pkg.old.inner import thing\n",
    "c.py": "from pkg import old\nimport pkg.old as po\n\npo.Engine\n",
    "pkg/rel.py": "from .old import Engine\nfrom . import old\n",
    "pkg/sub/deeper.py": "from ..old import (\n    Other,\n    Engine,\n)\n",
    "d.py": "from pkg.older import Engine\nimport pkg.oldish\nold = 1\n",
    "e.py": "def f():\n    from pkg.old import *\n",
    "broken.py": "from pkg.old import Engine\ndef (:\n",
    "vendor/v.py": "import pkg.old\n",
    "src/lib/__init__.py": "",
    "src/lib/mod.py": "from ..pkg import old\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", FILES)


def _lines(sites: tuple[ImportSite, ...], name: str) -> list[str]:
    return sorted(f"{s.path}:{s.line}" for s in sites if s.name == name)


def test_module_name_counts_imports_and_attribute_uses(repo: Path) -> None:
    sites = find_import_sites(repo, ["pkg.old"], exclude=["vendor/**"])
    assert _lines(sites, "pkg.old") == [
        "a.py:1",
        "a.py:3",
        "a.py:4",
        "b.py:1",
        "b.py:2",
        "c.py:1",
        "c.py:2",
        "c.py:4",
        "e.py:2",
        "pkg/rel.py:1",
        "pkg/rel.py:2",
        "pkg/sub/deeper.py:1",
    ]


def test_symbol_name_counts_only_that_symbol(repo: Path) -> None:
    sites = find_import_sites(repo, ["pkg.old.Engine"], exclude=["vendor/**"])
    assert _lines(sites, "pkg.old.Engine") == [
        "a.py:3",
        "b.py:1",
        "c.py:4",
        "pkg/rel.py:1",
        "pkg/sub/deeper.py:3",
    ]


def test_several_names_in_one_scan(repo: Path) -> None:
    sites = find_import_sites(repo, ["pkg.old.Engine", "pkg.old.Other"], exclude=["vendor/**"])
    assert _lines(sites, "pkg.old.Other") == ["b.py:1", "pkg/sub/deeper.py:2"]
    assert len(_lines(sites, "pkg.old.Engine")) == 5


def test_exclude_and_unparsable_files(repo: Path) -> None:
    with_vendor = find_import_sites(repo, ["pkg.old"])
    assert "vendor/v.py:1" in _lines(with_vendor, "pkg.old")
    result = scan_files(repo, ["pkg.old"])
    assert [s.path for s in result.skipped] == ["broken.py"]
    assert "broken.py" not in {s.path for s in result.sites}


def test_site_renders_as_file_and_line(repo: Path) -> None:
    sites = find_import_sites(repo, ["pkg.old.Other"])
    assert str(sites[0]) == "b.py:1: pkg.old.Other"


def test_relative_import_out_of_the_tree_is_not_counted(repo: Path) -> None:
    # src/lib/mod.py: "from ..pkg import old" leaves the source root: nothing to resolve.
    sites = find_import_sites(repo, ["pkg.old"], source_roots=["src"])
    assert "src/lib/mod.py" not in {s.path for s in sites}


def test_parallel_scan_matches_serial(tmp_path: Path) -> None:
    files = {f"m{i}.py": "import pkg.old\npkg.old.Engine\n" for i in range(450)}
    root = make_repo(tmp_path / "big", files)
    serial = find_import_sites(root, ["pkg.old.Engine"], jobs=1)
    parallel = find_import_sites(root, ["pkg.old.Engine"], jobs=2)
    assert sorted(serial, key=str) == sorted(parallel, key=str)
    assert len(serial) == 450


def test_no_candidates(repo: Path) -> None:
    assert find_import_sites(repo, ["nothing.here"]) == ()
