"""A static import graph of the repository, and the files a change reaches through it.

An ``affected: true`` pytest gate runs only the test files that import, directly or through
other modules, a module the step changed. Which files those are is read from the source with
the stdlib :mod:`ast`, never by importing anything: a gate must not run the project's code
to decide which of the project's tests to run.

What counts as an import of a module (each one over-approximates, never under):

* ``import a.b.c`` imports ``a``, ``a.b`` and ``a.b.c`` (Python runs each package's
  ``__init__``), and so does being imported as ``a.b.c`` (a test module in a package runs
  its ``__init__.py`` however pytest reached it); ``from a.b import c`` imports those and
  ``a.b.c`` (``c`` may be a submodule);
  ``from a.b import *`` imports every module below ``a.b``. Relative imports are resolved
  against the importing file's package. Imports inside functions and ``if TYPE_CHECKING:``
  count too.
* ``importlib.import_module("a.b")`` and ``__import__("a.b")`` with a literal name, and the
  string targets of ``patch("a.b.f")``, ``patch.dict("a.b.X")`` and
  ``monkeypatch.setattr("a.b.f", ...)`` (which import ``a.b`` when they run).
* ``pytest_plugins = ["a.b", ...]`` (pytest imports each name for every test below), and
  ``runpy.run_module("a.b")``; the calls above count under any name they are imported as
  (``from importlib import import_module as load``).
* A dynamic import whose name is not a literal makes its file **open**: it may import
  anything, so it counts as reached by every change. So does loading code from a file path
  (``runpy.run_path``, ``importlib.util.spec_from_file_location``, ``SourceFileLoader``,
  ``imp.load_source``) and a ``pytest_plugins`` that is not a list of literals. A file that
  does not parse is open too.

A file has a module name under each of ``settings.source-roots`` it lies in, one as
pytest's default ``prepend`` import mode names it (relative to the first folder above it
without an ``__init__.py``), and one for each folder further up (folders without an
``__init__.py`` are namespace packages of whatever folder a ``pythonpath`` setting or a
``sys.path`` tweak puts on the path); an import of any of its names reaches it.

Parsing is the cost, so each file's imports are cached by its git blob id in
``.git/runner/importgraph.json``: a step that changed three files re-parses three files.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from runner.gitcore import pinned_repo
from runner.importcache import FileFacts, read_cache, write_cache

__all__ = [
    "FileFacts",
    "ImportGraph",
    "Reach",
    "build_graph",
    "changed_between",
    "module_names",
    "parse_facts",
]

_DYNAMIC_CALLS = frozenset({"import_module", "__import__", "run_module"})
#: Calls that load code from a file path: what they load is not a module name.
_PATH_CALLS = frozenset({"run_path", "spec_from_file_location", "SourceFileLoader", "load_source"})
_PATCH_CALLS = frozenset({"patch", "dict", "setattr", "delattr"})


def parse_facts(source: bytes, path: str) -> FileFacts:
    """The imports written in ``source`` (see the module docstring for what counts)."""
    try:
        tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError) as e:
        line = getattr(e, "lineno", None)
        return FileFacts(error=f"{path}:{line}: {e.__class__.__name__}" if line else str(e))
    imports: list[tuple[int, str, tuple[str, ...]]] = []
    dynamic: list[int] = []
    aliases = _call_aliases(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.extend((0, alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imports.append((node.level, node.module or "", tuple(a.name for a in node.names)))
        elif isinstance(node, ast.Call):
            _call_import(node, imports, dynamic, aliases)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            _plugins(node, imports, dynamic)
    return FileFacts(tuple(imports), tuple(sorted(set(dynamic))))


def _call_aliases(tree: ast.AST) -> dict[str, str]:
    """``from importlib import import_module as load``: ``load`` → ``import_module``."""
    known = _DYNAMIC_CALLS | _PATH_CALLS | _PATCH_CALLS
    return {
        alias.asname: alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname and alias.name in known
    }


def _plugins(
    node: ast.Assign | ast.AnnAssign | ast.AugAssign,
    imports: list[tuple[int, str, tuple[str, ...]]],
    dynamic: list[int],
) -> None:
    """``pytest_plugins = [...]``: pytest imports each name, as an import statement would."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if not any(isinstance(t, ast.Name) and t.id == "pytest_plugins" for t in targets):
        return
    value = node.value
    if value is None:  # ``pytest_plugins: list[str]`` alone names nothing
        return
    items = value.elts if isinstance(value, (ast.List, ast.Tuple, ast.Set)) else [value]
    for item in items:
        if isinstance(item, ast.Constant) and isinstance(item.value, str):
            imports.append((0, item.value, ()))
        else:
            dynamic.append(node.lineno)


def _call_import(
    node: ast.Call,
    imports: list[tuple[int, str, tuple[str, ...]]],
    dynamic: list[int],
    aliases: Mapping[str, str],
) -> None:
    func = node.func
    name = func.id if isinstance(func, ast.Name) else ""
    name = func.attr if isinstance(func, ast.Attribute) else name
    name = aliases.get(name, name)
    if name in _PATH_CALLS:
        dynamic.append(node.lineno)
        return
    first = node.args[0] if node.args else None
    literal = None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        literal = first.value
    if name in _DYNAMIC_CALLS:
        if literal is None or (literal.startswith(".") and not _package_is_own(node)):
            dynamic.append(node.lineno)
        else:
            level = len(literal) - len(literal.lstrip("."))
            imports.append((level, literal.lstrip("."), ()) if level else (0, literal, ()))
    elif name in _PATCH_CALLS and literal is not None and _is_dotted(literal):
        imports.append((0, literal, ()))


def _package_is_own(node: ast.Call) -> bool:
    """``import_module(".x", __package__)``: relative to the calling file's own package."""
    package = node.args[1] if len(node.args) > 1 else None
    package = package or next((k.value for k in node.keywords if k.arg == "package"), None)
    return isinstance(package, ast.Name) and package.id in {"__package__", "__name__"}


def _is_dotted(text: str) -> bool:
    parts = text.split(".")
    return len(parts) > 1 and all(p.isidentifier() for p in parts)


# --- where files are, as module names --------------------------------------------------


def module_names(path: str, roots: Sequence[str], files: frozenset[str]) -> frozenset[str]:
    """Every dotted name ``path`` can be imported as (``files``: the tree, for ``__init__``)."""
    pure = PurePosixPath(path)
    parts = [*pure.parent.parts, pure.stem] if pure.stem != "__init__" else [*pure.parent.parts]
    names: set[str] = set()
    for root in roots:
        base = PurePosixPath(root.strip("/") or ".")
        depth = 0 if str(base) == "." else len(base.parts)
        if depth and tuple(pure.parts[:depth]) != base.parts:
            continue
        _add(names, parts[depth:])
    # pytest's prepend mode: the first folder up without an __init__.py goes on sys.path.
    # A folder without one may as well be a namespace package below a folder that is on
    # sys.path some other way (pytest's ``pythonpath``, a conftest's ``sys.path.insert``):
    # ``lib/ns/core.py`` is ``core``, ``ns.core`` and ``lib.ns.core``. A regular package
    # (with ``__init__.py``) is only ever imported whole, from its top.
    depth = len(pure.parent.parts)
    while depth and "/".join([*pure.parent.parts[:depth], "__init__.py"]) in files:
        depth -= 1
    for start in range(depth + 1):
        _add(names, parts[start:])
    return frozenset(names)


def _add(names: set[str], parts: Sequence[str]) -> None:
    if parts and all(p.isidentifier() for p in parts):
        names.add(".".join(parts))


def _package_of(name: str, path: str) -> str:
    return name if PurePosixPath(path).stem == "__init__" else name.rpartition(".")[0]


def _targets(facts: FileFacts, path: str, own: Iterable[str]) -> set[str]:
    """The dotted names a file imports; ``X.*`` means every module below ``X``."""
    out: set[str] = set()
    for level, module, names in facts.imports:
        bases = [module] if level == 0 else _relative_bases(level, module, path, own)
        for base in bases:
            if not base:
                continue
            parts = base.split(".")
            out.update(".".join(parts[: i + 1]) for i in range(len(parts)))
            out.update(f"{base}.{n}" if n != "*" else f"{base}.*" for n in names)
    return out


def _relative_bases(level: int, module: str, path: str, own: Iterable[str]) -> list[str]:
    bases = []
    for name in own:
        package = _package_of(name, path).split(".") if _package_of(name, path) else []
        if level - 1 > len(package):
            continue
        kept = package[: len(package) - (level - 1)]
        bases.append(".".join([*kept, module] if module else kept))
    return bases


# --- the graph ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reach:
    """The files a change reaches, and the changed files that make the answer unsure."""

    files: frozenset[str]
    open_changed: tuple[tuple[str, str], ...]  # (path, why) of changed files that are open


@dataclass(frozen=True, slots=True)
class ImportGraph:
    """The repository's Python files, their module names and what each imports."""

    facts: Mapping[str, FileFacts]
    roots: tuple[str, ...]
    files: frozenset[str]  # every file in the tree, Python or not
    parsed: int  # how many files were parsed rather than read from the cache

    def reach(self, changed: Iterable[str]) -> Reach:
        """Every Python file that imports a changed file, directly or transitively.

        Changed files themselves are in the answer; so is every open file (it may import
        anything) once anything changed. Deleted files are found by their path's names.
        """
        changed = [c for c in changed if c.endswith(".py")]
        importers = self._importers()
        seeds = set(changed)
        if changed:
            seeds |= {p for p, f in self.facts.items() if f.is_open}
        found, queue = set(seeds), list(seeds)
        while queue:
            for name in module_names(queue.pop(), self.roots, self.files):
                for importer in _importers_of(name, importers):
                    if importer not in found:
                        found.add(importer)
                        queue.append(importer)
        unsure = tuple(
            (p, _why_open(self.facts[p]))
            for p in changed
            if p in self.facts and self.facts[p].is_open
        )
        return Reach(frozenset(f for f in found if f in self.facts or f in changed), unsure)

    def _importers(self) -> dict[str, set[str]]:
        importers: dict[str, set[str]] = {}
        for path, facts in self.facts.items():
            own = module_names(path, self.roots, self.files)
            for target in _targets(facts, path, own) | _packages_above(own):
                importers.setdefault(target, set()).add(path)
        return importers


def _packages_above(own: Iterable[str]) -> set[str]:
    """The packages a file's import runs first: ``tests/test_a.py``, imported by pytest as
    ``tests.test_a``, runs ``tests/__init__.py`` whatever the test itself imports."""
    return {name.rsplit(".", i)[0] for name in own for i in range(1, name.count(".") + 1)}


def _importers_of(name: str, importers: Mapping[str, set[str]]) -> Iterator[str]:
    yield from importers.get(name, ())
    parts = name.split(".")
    for i in range(1, len(parts)):
        yield from importers.get(".".join(parts[:i]) + ".*", ())


def _why_open(facts: FileFacts) -> str:
    if facts.error is not None:
        return f"does not parse ({facts.error})"
    lines = ", ".join(str(n) for n in facts.dynamic[:3])
    return f"imports dynamically (line {lines})"


def build_graph(root: Path, roots: Sequence[str], cache: Path | None) -> ImportGraph:
    """The graph of the working tree at ``root``; parsed files are cached by blob id."""
    blobs = _tree_blobs(root)
    stored = read_cache(cache)
    facts: dict[str, FileFacts] = {}
    parsed = 0
    for path, blob in blobs.items():
        if not path.endswith(".py"):
            continue
        known = stored.get(blob)
        if known is None:
            try:
                known = parse_facts((root / path).read_bytes(), path)
            except OSError as e:  # unreadable: its imports are unknown, so it is open
                facts[path] = FileFacts(error=f"{path}: {e.strerror}")
                continue
            parsed += 1
            stored[blob] = known
        facts[path] = known
    if cache is not None and parsed:
        write_cache(cache, {b: stored[b] for b in set(blobs.values()) if b in stored})
    return ImportGraph(facts, tuple(roots), frozenset(blobs), parsed)


def changed_between(root: Path, old: str, new: str) -> list[str]:
    """Paths that differ between two trees (both sides of a rename, as deleted and added)."""
    with pinned_repo(root) as repo:
        out: str = repo.git.diff_tree("-r", "-z", "--name-only", "--no-renames", old, new)
    return [p for p in out.split("\0") if p]


def _tree_blobs(root: Path) -> dict[str, str]:
    """Path → blob id of every file in the working tree that git tracks or would add.

    The index's ids serve for files as staged; files changed since, and untracked files
    git does not ignore, are hashed here as git would (``blob <size>\\0<bytes>``).
    """
    with pinned_repo(root) as repo:
        staged = repo.git.ls_files("-s", "-z")
        changed = repo.git.ls_files("-m", "-o", "--exclude-standard", "-z")
    blobs: dict[str, str] = {}
    for entry in staged.split("\0"):
        if entry:
            meta, _, path = entry.partition("\t")
            mode, blob = meta.split(" ")[:2]
            if mode != "160000":  # a submodule is not a file of this tree
                blobs[path] = blob
    for path in filter(None, changed.split("\0")):
        try:
            data = (root / path).read_bytes()
        except OSError:
            blobs.pop(path, None)  # deleted in the working tree
            continue
        header = b"blob %d\0" % len(data)
        blobs[path] = hashlib.sha1(header + data, usedforsecurity=False).hexdigest()
    return blobs
