"""``affected: true`` on a ``pytest`` gate: run only the tests the changes can reach.

Which changes: everything that changed since the tree on which this gate last passed in this
run (:mod:`runner.gates.memory`), so that a test left out passed under this very gate on a
tree that is, for that test's imports, the same; on the gate's first run in a run, the
step's own changes (a step without an action then runs everything). The changed paths go
through the repository's import graph (:mod:`runner.importgraph`): a test file runs when it,
or a ``conftest.py`` in a folder above it, imports a changed module directly or
transitively. The gate's arguments stay as written and a small plugin
(:mod:`runner.gates.affected_plugin`) skips the other test files during collection, so the
rootdir, ini file, conftest files and test order are those of the full run.

When the graph cannot be sure, the gate runs the full selection and says why: a changed
``conftest.py`` or pytest configuration file, a changed non-Python file under a test root
(the folders the gate's arguments name, or the whole repository when they name none) or a
source root, a changed module that imports dynamically or does not parse, or a failure of
the graph itself. Phase gates and ``on-rollback`` verify gates always run the full
selection: they are the backstop for a gate's first run, which judges the step's change.
"""

from __future__ import annotations

import configparser
import contextlib
import fnmatch
import json
import os
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from runner.gates.common import GateContext
from runner.gates.memory import GateKey, GateMemory
from runner.gates.unseen import unseen_python
from runner.importgraph import ImportGraph, build_graph, changed_between, module_names
from runner.model import Gate
from runner.process import Completed
from runner.results import GateResult, GateStatus

__all__ = ["Selection", "finished", "narrowed", "nothing_affected", "select_tests"]

#: Files that configure pytest itself: a change to one can change any test's outcome.
_CONFIG_FILES = frozenset({"pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini", ".pytest.ini"})
#: Options after which runner cannot know pytest's python_files from the root's ini alone.
_OPAQUE_OPTIONS = ("-c", "--config-file", "-o", "--override-ini", "--rootdir", "--pyargs")
#: pytest options that take their value as the next argument (not a path to test).
_VALUED = frozenset(
    {"-k", "-m", "-p", "-W", "-c", "-o", "-n", "-r", "--tb", "--rootdir", "--maxfail",
     "--deselect", "--ignore", "--ignore-glob", "--basetemp", "--confcutdir",
     "--junitxml", "--durations", "--log-level", "--import-mode", "--override-ini",
     "--config-file", "--dist", "--numprocesses", "--cov", "--cov-report"}
)  # fmt: skip
_DEFAULT_PATTERNS = ("test_*.py", "*_test.py")
PLUGIN = "runner_affected_plugin"
_NO_TESTS = 5  # pytest's exit code when it collected no test
#: A ``pytest11`` entry-point group in ``pyproject.toml`` or ``setup.cfg``: installed (even
#: in editable mode), pytest loads those plugins for every test.
_ENTRY_POINTS = re.compile(r"pytest11[\"']?\]?\s*=?([^\[]*)")
_ENTRY_VALUE = re.compile(r"=\s*[\"']?([A-Za-z_][\w.]*)")
#: ``-p NAME`` in arguments or a configuration file's ``addopts``: a plugin module that
#: pytest imports for every test, with no import statement the graph could follow.
_PLUGIN_OPTION = re.compile(r"""(?:^|[\s"'\[,=])-p[\s"',=]*([A-Za-z_][\w.]*)""")


@dataclass(frozen=True, slots=True)
class Selection:
    """Which tests an ``affected`` gate runs: ``reason`` set means all of them."""

    reason: str | None
    files: frozenset[str] = frozenset()  # reached Python files, repository-relative
    dirs: tuple[str, ...] = ()  # folders whose conftest.py was reached
    modules: int = 0  # changed Python files
    reached_tests: int | None = None  # test files reached; None: only pytest can tell
    total_tests: int = 0  # test files under the gate's test roots (runner's count)
    seconds: float = 0.0  # spent choosing
    changed: int = 0  # paths changed since then, Python or not
    since: str = ""  # the tree the gate last passed on, changes counted from there
    key: GateKey | None = None  # the gate, to remember where it passes
    memory: GateMemory | None = None  # the run's, where it is remembered
    tree: str = ""  # the tree the gate judges
    origin: str = ""  # " since the run started": changes of earlier steps count too
    known: frozenset[str] = frozenset()  # Python files the graph saw; pytest runs the others

    @property
    def nothing(self) -> bool:
        """Whether no test can be affected, so pytest need not start at all."""
        return self.reason is None and (self.reached_tests == 0 or not self.files) and not self.dirs

    def scope(self, kept: int | None = None, seen: int | None = None) -> str:
        """``3 of 12 test files (affected by 2 changed modules)``, or the full selection's why."""
        if self.reason is not None:
            return f"full selection ({self.reason})"
        if not self.changed:
            return f"nothing changed since the gate passed on tree {self.since[:10]}"
        kept = self.reached_tests if kept is None else kept
        seen = self.total_tests if seen is None else seen
        plural = "s" * (self.modules != 1)
        since = " since its last pass" if self.since else self.origin
        return (
            f"{kept} of {seen} test files (affected by {self.modules} changed module{plural}"
            f"{since})"
        )


def select_tests(gate: Gate, args: Sequence[str], ctx: GateContext) -> Selection:
    """The selection for a step gate with ``affected: true`` (see the module docstring).

    Its ``seconds`` (the graph's cost) count in the gate's time: a faster gate must be
    faster including the time spent deciding what to run.
    """
    start = time.monotonic()
    if ctx.tree is None:
        return Selection(reason=_not_a_step(ctx.label))
    key = (gate.name, tuple(args))
    try:
        selection = _select(args, ctx, ctx.memory.last_pass(key), ctx.tree)
    except Exception as e:  # noqa: BLE001 - choosing fewer tests is an optimisation: any failure
        # (git, a file read, a bug) costs time, never a verdict, so it runs them all and says why
        selection = Selection(reason=f"the import graph failed: {e.__class__.__name__}: {e}")
    seconds = time.monotonic() - start
    return replace(selection, key=key, memory=ctx.memory, tree=ctx.tree, seconds=seconds)


def _select(args: Sequence[str], ctx: GateContext, base: str | None, tree: str) -> Selection:
    origin = ""
    if base is None:  # its first run: what earlier steps without this gate changed counts too
        start = ctx.memory.start
        earlier = set(changed_between(ctx.root, start, tree)) if start else set()
        if not (earlier | set(ctx.changed)):
            return Selection(reason="its first run in this run, after a step that changed nothing")
        origin = " since the run started" if earlier - set(ctx.changed) else ""
        changed = sorted(earlier | set(ctx.changed))
    else:
        changed = sorted(changed_between(ctx.root, base, tree))
    if not changed:
        return Selection(None, since=base or "")
    test_roots = _test_roots(args, ctx.root)
    if why := _unsure_path(changed, test_roots, ctx.source_roots):
        return Selection(reason=why)
    graph = build_graph(ctx.root, ctx.source_roots, ctx.tmp_dir.parent / "importgraph.json")
    reach = graph.reach(changed)
    if reach.open_changed:
        path, why = reach.open_changed[0]
        return Selection(reason=f"changed {path} {why}")
    if why := _reached_plugin(reach.files, args, graph, ctx):
        return Selection(reason=why)
    patterns = None if _opaque(args) else _python_files(graph, ctx.root)
    tests = _test_files(graph, test_roots, patterns or _DEFAULT_PATTERNS)
    tests |= _named_files(args, ctx.root) & set(graph.facts)
    dirs = tuple(sorted(str(PurePosixPath(f).parent) for f in reach.files if _is_conftest(f)))
    # files git ignores are not in the graph: pytest may still collect them (the plugin keeps
    # every file the graph never saw), and an ignored conftest.py may import anything
    unseen = unseen_python(ctx.root, test_roots, patterns)
    if unseen.conftest is not None:
        return Selection(reason=f"{unseen.conftest} is ignored by git: the graph cannot see it")
    known = patterns is not None and not unseen.tests
    reached = len(tests & reach.files) if known else None
    modules = sum(1 for c in changed if c.endswith(".py"))
    count = len(changed)
    return Selection(
        None, reach.files, dirs, modules, reached, len(tests), changed=count, since=base or "",
        origin=origin, known=frozenset(graph.facts),
    )  # fmt: skip


def _reached_plugin(
    reached: frozenset[str], args: Sequence[str], graph: ImportGraph, ctx: GateContext
) -> str:
    """Why all tests run when a change reaches a plugin pytest loads with ``-p`` (or
    ``PYTEST_PLUGINS``) rather than through an import statement."""
    text = " ".join([*args, ctx.env.get("PYTEST_ADDOPTS", "")])
    for name in _CONFIG_FILES:  # addopts of any of them: over-asking only costs time
        if name in graph.files:
            with contextlib.suppress(OSError, ValueError):
                text += "\n" + (ctx.root / name).read_text("utf-8")
    plugins = {m.group(1) for m in _PLUGIN_OPTION.finditer(text)}
    for block in _ENTRY_POINTS.findall(text):  # the project's own pytest11 entry points
        plugins |= {m.group(1) for m in _ENTRY_VALUE.finditer(block)}
    plugins |= {p.strip() for p in ctx.env.get("PYTEST_PLUGINS", "").split(",") if p.strip()}
    for path in sorted(reached):
        names = module_names(path, graph.roots, graph.files) & plugins
        if names:
            return f"changed code reaches {path}, loaded by pytest as plugin {min(names)}"
    return ""


def _not_a_step(label: str) -> str:
    if label.startswith("phase"):
        return "a phase gate always runs all its tests"
    return "an on-rollback gate always runs all its tests"


def _unsure_path(changed: Sequence[str], test_roots: Sequence[str], roots: Sequence[str]) -> str:
    for path in changed:
        name = PurePosixPath(path).name
        if _is_conftest(path):
            return f"{path} changed"
        if name in _CONFIG_FILES:
            return f"pytest configuration {path} changed"
        if not path.endswith(".py") and _under(path, [*test_roots, *roots]):
            return f"{path} changed, not Python, under a test or source root"
    return ""


def _under(path: str, roots: Sequence[str]) -> bool:
    for root in roots:
        base = root.strip("/")
        if base in {"", "."} or path == base or path.startswith(base + "/"):
            return True
    return False


def _is_conftest(path: str) -> bool:
    return PurePosixPath(path).name == "conftest.py"


def _test_roots(args: Sequence[str], root: Path) -> list[str]:
    """The folders the gate's arguments name (a file's folder), or the whole repository."""
    found: list[str] = []
    for path in _arg_paths(args):
        where = root / path
        if where.is_dir():
            found.append(PurePosixPath(path).as_posix())
        elif where.is_file():
            found.append(PurePosixPath(path).parent.as_posix())
    return found or ["."]


def _named_files(args: Sequence[str], root: Path) -> set[str]:
    """Files the arguments name: pytest collects them whatever ``python_files`` says."""
    return {
        PurePosixPath(path).as_posix()
        for path in _arg_paths(args)
        if path.endswith(".py") and (root / path).is_file()
    }


def _arg_paths(args: Sequence[str]) -> list[str]:
    """The arguments that are not options or their values, without ``::test`` parts."""
    found: list[str] = []
    skip = False
    for arg in args:
        if skip or arg.startswith("-"):
            skip = not skip and arg in _VALUED
            continue
        found.append(arg.split("::", 1)[0])
    return found


def _opaque(args: Sequence[str]) -> bool:
    return any(a == o or a.startswith(o + "=") for a in args for o in _OPAQUE_OPTIONS)


def _python_files(graph: ImportGraph, root: Path) -> tuple[str, ...] | None:
    """pytest's ``python_files`` from the root's ini file; ``None``: runner cannot tell."""
    if any("/" in f and PurePosixPath(f).name in _CONFIG_FILES for f in graph.files):
        return None  # an ini file below the root may be the one pytest picks
    for name, section in (("pytest.ini", "pytest"), (".pytest.ini", "pytest")):
        if name in graph.files:
            return _ini_patterns(root / name, section)
    if "pyproject.toml" in graph.files:
        try:  # no TOML reader on Python 3.10: a python_files there leaves pytest to tell
            text = (root / "pyproject.toml").read_text("utf-8")
        except (OSError, ValueError):
            return None
        if "[tool.pytest" in text:
            return None if "python_files" in text else _DEFAULT_PATTERNS
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        if name in graph.files:
            patterns = _ini_patterns(root / name, section, required=True)
            if patterns != ():
                return patterns
    return _DEFAULT_PATTERNS


def _ini_patterns(path: Path, section: str, *, required: bool = False) -> tuple[str, ...] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, configparser.Error):
        return None
    if not parser.has_section(section):
        return () if required else _DEFAULT_PATTERNS
    return tuple(parser.get(section, "python_files", fallback=" ".join(_DEFAULT_PATTERNS)).split())


def _test_files(graph: ImportGraph, roots: Sequence[str], patterns: Sequence[str]) -> set[str]:
    return {
        f
        for f in graph.facts
        if _under(f, roots) and any(fnmatch.fnmatch(PurePosixPath(f).name, p) for p in patterns)
    }


# --- running pytest with the plugin -----------------------------------------------------


def plugin_run(
    selection: Selection, ctx: GateContext, stem: str
) -> tuple[list[str], dict[str, str]]:
    """The extra pytest arguments and environment that make pytest run ``selection`` only."""
    base = ctx.tmp_dir / f"{stem}.affected"
    shutil.rmtree(base, ignore_errors=True)
    (base / "report").mkdir(parents=True)
    shutil.copyfile(Path(__file__).with_name("affected_plugin.py"), base / f"{PLUGIN}.py")
    data = {
        "files": sorted(str(ctx.root / f) for f in selection.files),
        "known": sorted(str(ctx.root / f) for f in selection.known),
        "dirs": [str(ctx.root / d) if d != "." else str(ctx.root) for d in selection.dirs],
        "report": str(base / "report"),
    }
    (base / "selection.json").write_text(json.dumps(data), encoding="utf-8")
    path = ctx.env.get("PYTHONPATH")
    env = {
        "RUNNER_AFFECTED": str(base / "selection.json"),
        "PYTHONPATH": str(base) + (f"{os.pathsep}{path}" if path else ""),
    }
    return ["-p", PLUGIN], env


def read_counts(ctx: GateContext, stem: str) -> tuple[int, int] | None:
    """(test files kept, test files pytest saw), from the plugin's reports; ``None``: none."""
    found = []
    for report in (ctx.tmp_dir / f"{stem}.affected" / "report").glob("*.json"):
        try:
            data = json.loads(report.read_text("utf-8"))
            found.append((int(data["kept"]), int(data["seen"])))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return max(found, key=lambda kept_seen: kept_seen[1]) if found else None


# --- the gate's result ------------------------------------------------------------------


def narrowed(
    selection: Selection | None, ctx: GateContext, stem: str
) -> tuple[list[str], GateContext]:
    """Arguments and context for pytest: with the plugin when only some tests run."""
    if selection is None or selection.reason is not None:
        return [], ctx
    extra, env = plugin_run(selection, ctx, stem)
    return extra, replace(ctx, env={**ctx.env, **env})


def nothing_affected(gate: Gate, selection: Selection) -> GateResult:
    """The pass of a gate whose step's change reaches no test: pytest never starts."""
    _remember(selection, GateStatus.PASSED)
    return GateResult(
        name=gate.name,
        kind=gate.kind,
        status=GateStatus.PASSED,
        seconds=selection.seconds,
        summary=f"no affected tests: {selection.scope()}",
    )


def finished(
    result: GateResult, selection: Selection | None, ctx: GateContext, stem: str, done: Completed
) -> GateResult:
    """``result`` saying which tests ran; pytest's "no tests" is a pass when none was kept."""
    if selection is None:
        return result
    result = replace(result, seconds=result.seconds + selection.seconds)
    _remember(selection, result.status)
    counts = read_counts(ctx, stem) if selection.reason is None else None
    scope = selection.scope(*counts) if counts else selection.scope()
    if done.returncode == _NO_TESTS and counts is not None and counts[0] == 0:
        summary = f"no affected tests: {scope}"
        _remember(selection, GateStatus.PASSED)
        return replace(result, status=GateStatus.PASSED, summary=summary, output_tail="")
    return replace(result, summary=f"{scope}: {result.summary}")


def _remember(selection: Selection, status: GateStatus) -> None:
    if status is GateStatus.PASSED and selection.key is not None and selection.memory:
        selection.memory.remember(selection.key, selection.tree)
