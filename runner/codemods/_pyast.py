"""Fast, read-only questions about a file, answered with the stdlib ``ast`` (~10x LibCST's speed).

Every codemod first parses a candidate with ``ast``: that rejects files that do not parse or
decode (they are skipped, byte-identical), finds the sites that cannot be rewritten safely
(star imports, dynamic imports, string targets) with exact line numbers, and tells whether the
file imports anything the action is about at all; only then is LibCST asked to parse it.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from runner.codemods import FollowUp
from runner.codemods._resolve import FileModule, match_prefix, resolve_from

__all__ = [
    "Binding",
    "FileFacts",
    "MoveNames",
    "dotted_name",
    "file_facts",
    "import_bindings",
    "move_followups",
    "overlaps",
    "parse_source",
    "walk_nodes",
]


@dataclass(frozen=True, slots=True)
class Binding:
    """A local name an import statement binds, and the dotted name it stands for.

    ``import a.b.c`` binds ``a`` to ``a`` (and makes ``a.b.c`` reachable: ``imported``);
    ``import a.b as x`` binds ``x`` to ``a.b``; ``from a import b as y`` binds ``y`` to ``a.b``.
    """

    local: str
    target: str
    imported: str
    line: int
    statement: bool  # True for ``import ...``, False for ``from ... import ...``


def parse_source(source: bytes) -> ast.Module | str:
    """The module's AST, or why it cannot be parsed (bad syntax, not decodable, NUL bytes)."""
    try:
        return ast.parse(source)
    except SyntaxError as e:
        where = f" (line {e.lineno})" if e.lineno else ""
        return f"does not parse: {e.msg}{where}"
    except (ValueError, UnicodeDecodeError) as e:
        return f"cannot decode: {e}"


def dotted_name(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of names and attributes; ``None`` for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


#: The loops below test ``type(node)``, not ``isinstance``: ``ast.parse`` builds nodes of these
#: exact classes, and the test is several times cheaper on the thousands of nodes of a file.
_IMPORTS = frozenset({ast.Import, ast.ImportFrom})
_FOLLOWUP_TYPES = frozenset({ast.ImportFrom, ast.Call, ast.Constant})
_DEFINITIONS = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef})
_FACT_TYPES = frozenset(
    {ast.Name, ast.arg, ast.Global, ast.Nonlocal, ast.Assign, ast.AugAssign}
    | _DEFINITIONS
    | _IMPORTS
)


def walk_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` in :func:`ast.walk` order, walked once for several questions.

    Walking is most of what the questions below cost; pass the list as ``nodes`` to ask them
    all of one walk. The same breadth-first order as :func:`ast.walk`, without its generators
    (half the time).
    """
    out = [tree]
    for node in out:  # grows while it is read: each node's children queue up behind it
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                out.append(value)
            elif isinstance(value, list):
                out.extend(item for item in value if isinstance(item, ast.AST))
    return out


def _walk_imports(
    tree: ast.Module, nodes: Sequence[ast.AST] | None
) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.walk(tree) if nodes is None else nodes:
        if type(node) in _IMPORTS:
            yield node  # type: ignore[misc]  # exactly one of the two classes


def import_bindings(
    tree: ast.Module, module: FileModule | None, nodes: Sequence[ast.AST] | None = None
) -> list[Binding]:
    """Every name bound by an import anywhere in the file (scopes are not told apart).

    ``nodes`` is :func:`walk_nodes` of ``tree``, when the caller already has it.
    """
    out: list[Binding] = []
    for node in _walk_imports(tree, nodes):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    out.append(
                        Binding(alias.asname, alias.name, alias.name, node.lineno, statement=True)
                    )
                else:
                    top = alias.name.partition(".")[0]
                    out.append(Binding(top, top, alias.name, node.lineno, statement=True))
            continue
        base = resolve_from(module, node.level, node.module)
        if base is None:
            continue
        for alias in node.names:
            if alias.name != "*":
                full = f"{base}.{alias.name}"
                line = getattr(alias, "lineno", node.lineno)
                out.append(Binding(alias.asname or alias.name, full, full, line, statement=False))
    return out


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def overlaps(
    tree: ast.Module,
    module: FileModule | None,
    names: Sequence[str],
    nodes: Sequence[ast.AST] | None = None,
) -> bool:
    """Whether any import in the file is, lies under, or contains one of ``names``."""
    for node in _walk_imports(tree, nodes):
        if isinstance(node, ast.Import):
            dotted = [a.name for a in node.names]
        else:
            base = resolve_from(module, node.level, node.module)
            if base is None:
                continue
            dotted = [base] + [f"{base}.{a.name}" for a in node.names if a.name != "*"]
        if any(_related(d, n) for d in dotted for n in names):
            return True
    return False


def _is_dynamic_import(call: ast.Call) -> bool:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return name in {"__import__", "import_module"}


@dataclass(frozen=True, slots=True)
class MoveNames:
    """What :func:`move_followups` needs of a ``move-import``: old and new names, by index."""

    froms: Sequence[str]
    tos: Sequence[str]
    #: Modules that symbols move out of: ``from pkg.old import *`` or
    #: ``import_module("pkg.old")`` may still reach the moved symbol through them.
    symbol_parents: Sequence[str]


def move_followups(
    tree: ast.Module,
    path: str,
    module: FileModule | None,
    names: MoveNames,
    nodes: Sequence[ast.AST] | None = None,
) -> list[FollowUp]:
    """Sites of a ``move-import`` that need a person: star and dynamic imports, string targets."""
    out: list[tuple[int, str]] = []
    reported: set[int] = set()
    for node in ast.walk(tree) if nodes is None else nodes:
        if type(node) not in _FOLLOWUP_TYPES:
            continue
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            base = resolve_from(module, node.level, node.module)
            if base is not None and base in names.symbol_parents:
                out.append((node.lineno, _star_reason(base, names)))
        elif isinstance(node, ast.Call) and node.args and _is_dynamic_import(node):
            arg = node.args[0]
            target = _dynamic_target(arg, names)
            if target is not None:
                reported.add(id(arg))
                out.append((node.lineno, f"dynamic import of {target!r}: rewrite it by hand"))
        elif isinstance(node, ast.Constant) and id(node) not in reported:
            reason = _string_reason(node, names)
            if reason is not None:
                out.append((node.lineno, reason))
    return [FollowUp(path, line, reason) for line, reason in sorted(out)]


def _star_reason(base: str, names: MoveNames) -> str:
    moved = ", ".join(
        f"{old.rpartition('.')[2]} (now {new})"
        for old, new in zip(names.froms, names.tos, strict=True)
        if old.rpartition(".")[0] == base
    )
    return f"star import from {base} may bring {moved}; import it by name"


def _dynamic_target(arg: ast.expr, names: MoveNames) -> str | None:
    if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
        return None
    if match_prefix(arg.value, names.froms) is None and arg.value not in names.symbol_parents:
        return None
    return arg.value


def _string_reason(node: ast.Constant, names: MoveNames) -> str | None:
    if not isinstance(node.value, str):
        return None
    hit = match_prefix(node.value, names.froms)
    if hit is None:
        return None
    old, new = names.froms[hit[0]], names.tos[hit[0]]
    return f"string target {node.value!r} names {old} (moved to {new}); update it by hand"


@dataclass(slots=True)
class FileFacts:
    """Names a file uses or defines, and where: what LibCST would take a full walk to learn."""

    #: Every occurrence of each name (uses, assignments, parameters, definitions).
    names: Counter[str] = field(default_factory=Counter)
    #: Lines where each name occurs as a ``Name`` (not as an attribute of something else).
    lines: dict[str, set[int]] = field(default_factory=dict)
    #: Strings listed in ``__all__``: names other modules import from this one.
    public: set[str] = field(default_factory=set)
    #: Lines covered by import statements.
    import_lines: set[int] = field(default_factory=set)
    #: Names a class body binds (``class C: Engine = None``): class attributes, which other
    #: code reads as ``C.Engine``, so a rename must not reach them.
    class_bound: set[str] = field(default_factory=set)


def file_facts(tree: ast.Module, nodes: Sequence[ast.AST] | None = None) -> FileFacts:
    """One walk over the AST (or over ``nodes``, its :func:`walk_nodes`) collecting
    :class:`FileFacts`."""
    facts = FileFacts()
    for node in ast.walk(tree) if nodes is None else nodes:
        if type(node) not in _FACT_TYPES:
            continue
        if isinstance(node, ast.Name):
            facts.names[node.id] += 1
            facts.lines.setdefault(node.id, set()).add(node.lineno)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            facts.names[node.name] += 1
            if isinstance(node, ast.ClassDef):
                facts.class_bound |= _class_bindings(node.body)
        elif isinstance(node, ast.arg):
            facts.names[node.arg] += 1
        elif isinstance(node, ast.Global | ast.Nonlocal):
            facts.names.update(node.names)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            facts.import_lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        elif isinstance(node, ast.Assign | ast.AugAssign):
            _collect_public(node, facts.public)
    return facts


def _class_bindings(body: list[ast.stmt]) -> set[str]:
    """Names bound directly in a class body (through ``if``/``try``/``for``/``with`` blocks,
    not inside methods or nested classes, which are scopes of their own)."""
    bound: set[str] = set()
    for stmt in body:
        targets: list[ast.expr] = []
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AnnAssign | ast.AugAssign | ast.For | ast.AsyncFor):
            targets = [stmt.target]
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            targets = [i.optional_vars for i in stmt.items if i.optional_vars is not None]
        elif isinstance(stmt, ast.Import | ast.ImportFrom):
            bound |= {(a.asname or a.name).split(".")[0] for a in stmt.names}
        for target in targets:
            bound |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        if isinstance(stmt, ast.If | ast.For | ast.AsyncFor | ast.While | ast.With | ast.AsyncWith):
            bound |= _class_bindings([*stmt.body, *getattr(stmt, "orelse", [])])
        elif isinstance(stmt, ast.Try):
            blocks = [*stmt.body, *stmt.orelse, *stmt.finalbody]
            blocks += [s for h in stmt.handlers for s in h.body]
            bound |= _class_bindings(blocks)
    return bound


def _collect_public(node: ast.Assign | ast.AugAssign, public: set[str]) -> None:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if not any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
        return
    if isinstance(node.value, ast.List | ast.Tuple):
        for element in node.value.elts:
            if isinstance(element, ast.Constant) and isinstance(element.value, str):
                public.add(element.value)
