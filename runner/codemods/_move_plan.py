"""``move-import``, phase two: every rewrite of one module decided before anything changes.

The planner reads the scan (imports, chains) and the file's facts and writes down each
binding's fate, the renames of uses and the nodes to replace, keyed by node ``id``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import libcst as cst

from runner.codemods import FollowUp
from runner.codemods._cst import build_dotted
from runner.codemods._move_scan import Bind, Fate, MoveSpec, Scan
from runner.codemods._move_scopes import ScopeFacts
from runner.codemods._pyast import Binding
from runner.codemods._resolve import match_prefix, split_dotted

__all__ = ["Plan", "Planner", "is_related"]


@dataclass(slots=True)
class Plan:
    """Phase two's decisions, keyed by the ``id`` of nodes of the parsed module."""

    fates: dict[int, Fate] = field(default_factory=dict)
    star_modules: dict[int, str] = field(default_factory=dict)
    renames: dict[str, str] = field(default_factory=dict)
    replace: dict[int, cst.BaseExpression] = field(default_factory=dict)
    appended: dict[int, list[tuple[str, str, str]]] = field(default_factory=dict)
    statements: set[int] = field(default_factory=set)
    sites: int = 0
    followups: list[FollowUp] = field(default_factory=list)


class Planner:
    """Decides every rewrite of one module from the scan, before anything is transformed."""

    def __init__(
        self,
        scan: Scan,
        spec: MoveSpec,
        path: str,
        lines: list[Binding],
        scopes: ScopeFacts | None = None,
    ) -> None:
        self.scan = scan
        self.scopes = scopes or ScopeFacts(frozenset(), frozenset())
        self.spec = spec
        self.path = path
        self.lines = lines
        self.plan = Plan()
        self.bind_count = Counter(b.local for b in scan.binds)
        self.targets: dict[str, set[str]] = {}
        for b in scan.binds:
            self.targets.setdefault(b.local, set()).add(b.target)
        self._replaced: dict[int, int] = {}

    def run(self) -> Plan:
        for node, base in self.scan.stars:
            hit = match_prefix(base, self.spec.froms)
            if hit is not None:
                self.plan.star_modules[id(node)] = self.spec.tos[hit[0]] + hit[1]
                self.plan.statements.add(id(node))
                self.plan.sites += 1
        for bind in self.scan.binds:
            self._decide(bind)
        for chain in self.scan.chains:
            self._chain(chain)
        self._drop_unused()
        return self.plan

    def _taken(self, name: str, target: str) -> bool:
        """Whether binding ``name`` to ``target`` would clash with another meaning in the file."""
        known = self.targets.get(name)
        if known is not None:
            # Two old names moved onto one new name are one meaning, not a clash; a function
            # binding the name for itself is (``native_`` → ``text_`` would read its local).
            return {self._moved(t) for t in known} != {target} or name in self.scopes.inner
        return self.scan.names[name] > 0

    def _moved(self, dotted: str) -> str:
        hit = match_prefix(dotted, self.spec.froms)
        return dotted if hit is None else self.spec.tos[hit[0]] + hit[1]

    def _decide(self, bind: Bind) -> None:
        hit = match_prefix(bind.imported, self.spec.froms)
        if hit is None:
            return
        index, suffix = hit
        new = self.spec.tos[index] + suffix
        if isinstance(bind.stmt, cst.Import):
            bind.fate = self._import_fate(bind, new)
        elif self._into_itself(bind, new):
            return
        else:
            bind.fate = self._from_fate(bind, new, suffix, self.spec.aliases[index])
        self.plan.fates[id(bind.alias)] = bind.fate
        self.plan.statements.add(id(bind.stmt))
        self.plan.sites += 1

    def _into_itself(self, bind: Bind, new: str) -> bool:
        """In the module the name moves to, ``from old import name`` would import the module
        from itself: the import goes where the module defines the name, else it stays."""
        module, name = split_dotted(new)
        file = self.scan.file
        if file is None or file.name != module:
            return False
        public = bind.local in self.scan.all_names or file.is_package
        if name in self.scopes.defined and (bind.local == name or not public):
            bind.fate = Fate("drop")
            if bind.local != name:
                self.plan.renames[bind.local] = name
            self.plan.fates[id(bind.alias)] = bind.fate
            self.plan.statements.add(id(bind.stmt))
            self.plan.sites += 1
            return True
        line = next((b.line for b in self.lines if b.local == bind.local), 1)
        why = (
            f"it does not define {name}"
            if name not in self.scopes.defined
            else (f"{bind.local} is public here")
        )
        reason = (
            f"{module} is where {bind.imported} moves, but {why}; its import was left as "
            "it was: define it here or move it by hand"
        )
        self.plan.followups.append(FollowUp(self.path, line, reason))
        return True

    def _import_fate(self, bind: Bind, new: str) -> Fate:
        if bind.alias.asname is not None:
            return Fate("import", new, local=bind.local)
        if "." in bind.imported:
            return Fate("import", new)
        parent, last = split_dotted(new)
        if parent:
            return Fate("to_from", parent, last, bind.local)
        return Fate("import", new, local=bind.local)

    def _from_fate(self, bind: Bind, new: str, suffix: str, as_: str | None) -> Fate:
        module, name = split_dotted(new)
        own_alias = bind.alias.asname is not None
        if module == "builtins":
            if bind.local != name:
                self.plan.renames[bind.local] = name
            return Fate("drop")
        if suffix or own_alias:
            local = bind.local
        elif as_:
            local = as_
        elif self._keep_local(bind, name, new):
            local = bind.local
            self._merge_refused(bind, name, new)
        else:
            local = name
        if local != bind.local:
            self.plan.renames[bind.local] = local
            self.targets.setdefault(local, set()).add(new)
        return Fate("from" if module else "plain", module, name, local)

    def _merge_refused(self, bind: Bind, name: str, new: str) -> None:
        """Another old name moves onto ``new`` too, but this one keeps its alias: say why."""
        if name == bind.local or not any(
            b is not bind and self._moved(b.imported) == new for b in self.scan.binds
        ):
            return
        line = next((b.line for b in self.lines if b.local == bind.local), 1)
        reason = (
            f"{bind.local} kept as an alias of {new}: {name} means something else in this "
            f"file (or in a function of it); rename the uses of {bind.local} by hand"
        )
        self.plan.followups.append(FollowUp(self.path, line, reason))

    def _keep_local(self, bind: Bind, name: str, new: str) -> bool:
        """Renaming uses is unsafe where the old name is public or ambiguous, or the new taken,
        or where a class attribute of the same name would be renamed with it."""
        if name == bind.local:
            return True
        file = self.scan.file
        return (
            (file is not None and file.is_package)
            or bind.local in self.scan.all_names
            or bind.local in self.scan.class_bound
            or self.bind_count[bind.local] > 1
            or self._taken(name, new)
        )

    def _chain(self, chain: list[tuple[cst.Name | cst.Attribute, str]]) -> None:
        head = chain[0][1]
        binds = [b for b in self.scan.binds if b.local == head]
        if not binds or len({b.target for b in binds}) > 1:
            return
        target = binds[0].target
        for node, text in reversed(chain):
            resolved = target + text[len(head) :]
            index = self._exact(resolved)
            if index is None:
                continue
            related = [b for b in binds if is_related(b.imported, resolved)]
            moved = [b for b in related if b.fate is not None]
            if moved:
                self._rewrite_through_moved(moved[0], node, index)
            else:
                providers = [b for b in related if resolved.startswith(b.imported + ".")]
                if providers:
                    self._use_new_name(max(providers, key=lambda b: len(b.imported)), node, index)
            return

    def _exact(self, dotted: str) -> int | None:
        return next((i for i, f in enumerate(self.spec.froms) if f == dotted), None)

    def _rewrite_through_moved(
        self, bind: Bind, node: cst.Name | cst.Attribute, index: int
    ) -> None:
        """``import a.old`` became ``import a.new``: the chain ``a.old`` becomes ``a.new``."""
        fate = bind.fate
        if fate is None or fate.kind != "import" or fate.local is not None:
            return  # the binding keeps its local name, or is renamed: uses need nothing
        new = self.spec.tos[index]
        module, name = split_dotted(new)
        expr = cst.Name(name) if module == "builtins" else build_dotted(new)
        self.plan.replace[id(node)] = expr.with_changes(lpar=node.lpar, rpar=node.rpar)
        self.plan.sites += 1

    def _use_new_name(self, bind: Bind, node: cst.Name | cst.Attribute, index: int) -> None:
        """``pkg.old.Engine`` through an unmoved module import stays an attribute chain:
        ``pkg.new.UserEngine``, the new module imported as the file imported the old one
        (``logging.warn`` → ``logging.warning`` only renames the attribute). Where that import
        cannot be written (an ``as`` alias, a name taken), it becomes ``UserEngine``."""
        if self._attribute_form(bind, node, index):
            return
        new = self.spec.tos[index]
        module, name = split_dotted(new)
        local = name if module == "builtins" else (self.spec.aliases[index] or name)
        if module != "builtins":
            if self._taken(local, new):
                if self._full_path(bind, node, new):
                    return
                line = next((b.line for b in self.lines if b.local == bind.local), 1)
                reason = (
                    f"cannot import {new} as {local}: the name is taken here; rewrite it by hand"
                )
                self.plan.followups.append(FollowUp(self.path, line, reason))
                return
            self.targets.setdefault(local, set()).add(new)
            added = self.plan.appended.setdefault(id(bind.stmt), [])
            if (module, name, local) not in added:
                added.append((module, name, local))
            self.plan.statements.add(id(bind.stmt))
        self.plan.replace[id(node)] = cst.Name(local, lpar=node.lpar, rpar=node.rpar)
        self.plan.sites += 1
        self._replaced[id(bind.alias)] = self._replaced.get(id(bind.alias), 0) + 1

    def _attribute_form(self, bind: Bind, node: cst.Name | cst.Attribute, index: int) -> bool:
        new = self.spec.tos[index]
        module, _ = split_dotted(new)
        if module in ("builtins", ""):
            return False  # a builtin, or a top-level module: its own name is the short form
        if new.startswith(bind.imported + "."):  # the same module: only the attribute changes
            dotted = bind.local + new[len(bind.target) :]
        elif not self._import_module_like(bind, module):
            return False
        else:
            dotted = (
                new if isinstance(bind.stmt, cst.Import) else new[len(split_dotted(module)[0]) :]
            )
            dotted = dotted.lstrip(".")
            self._replaced[id(bind.alias)] = self._replaced.get(id(bind.alias), 0) + 1
        expr = build_dotted(dotted)
        self.plan.replace[id(node)] = expr.with_changes(lpar=node.lpar, rpar=node.rpar)
        self.plan.sites += 1
        return True

    def _full_path(self, bind: Bind, node: cst.Name | cst.Attribute, new: str) -> bool:
        """The new name is taken: ``import pkg.new`` and the full ``pkg.new.UserEngine``
        rather than leave the site alone, where ``pkg`` is free or already that package."""
        module = split_dotted(new)[0]
        top = module.partition(".")[0]
        if not module or self._taken(top, top):
            return False
        added = self.plan.appended.setdefault(id(bind.stmt), [])
        if ("", module, "") not in added:
            added.append(("", module, ""))
        self.plan.statements.add(id(bind.stmt))
        self.plan.replace[id(node)] = build_dotted(new).with_changes(lpar=node.lpar, rpar=node.rpar)
        self.plan.sites += 1
        self._replaced[id(bind.alias)] = self._replaced.get(id(bind.alias), 0) + 1
        return True

    def _import_module_like(self, bind: Bind, module: str) -> bool:
        """Plan ``import a.new`` after ``import a.old``, or ``from a import new`` after
        ``from a import old``; false where the file's form cannot carry it."""
        if bind.alias.asname is not None:
            return False  # ``import a.old as o``: no name to give the new module
        if isinstance(bind.stmt, cst.Import):
            top = module.partition(".")[0]
            if self._taken(top, top):
                return False
            entry = ("", module, "")
        else:
            parent, last = split_dotted(module)
            if not parent or self._taken(last, module):
                return False
            self.targets.setdefault(last, set()).add(module)
            entry = (parent, last, last)
        added = self.plan.appended.setdefault(id(bind.stmt), [])
        if entry not in added:
            added.append(entry)
        self.plan.statements.add(id(bind.stmt))
        return True

    def _drop_unused(self) -> None:
        """A module import whose every use was rewritten to the new name goes away."""
        for bind in self.scan.binds:
            done = self._replaced.get(id(bind.alias), 0)
            if not done or bind.fate is not None:
                continue
            if isinstance(bind.stmt, cst.Import) and bind.alias.asname is None:
                needs = sum(
                    1
                    for chain in self.scan.chains
                    if chain[0][1] == bind.local and is_related(chain[-1][1], bind.imported)
                )
                others = self.scan.names[bind.local] - needs
                drop = done == needs and (others == 0 or self.bind_count[bind.local] > 1)
            else:
                drop = done == self.scan.names[bind.local]
            if drop:
                bind.fate = Fate("drop")
                self.plan.fates[id(bind.alias)] = bind.fate
                self.plan.statements.add(id(bind.stmt))


def is_related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")
