"""``move-import``, phase three: carry out the plan, touching only the nodes it names.

Statements the plan does not name come back as the very objects they were, so
:mod:`._splice` copies their bytes from the source.
"""

# LibCST dispatches on visit_<NodeName> method names.

from __future__ import annotations

import libcst as cst

from runner.codemods._cst import (
    build_dotted,
    chain_text,
    drop_aliases,
    from_import,
    module_ref,
    set_alias,
)
from runner.codemods._move_layout import BlankLines, join_imports
from runner.codemods._move_plan import Plan
from runner.codemods._move_scan import MoveSpec
from runner.codemods._move_strings import plain_inner, rewrite_annotation, string_target
from runner.codemods._resolve import FileModule, resolve_from
from runner.codemods._skip import SkippingTransformer

__all__ = ["Apply"]

_Key = tuple[str, str, str]


class Apply(SkippingTransformer):
    """Phase three: carry out the plan, touching only the nodes it names."""

    def __init__(
        self,
        plan: Plan,
        file: FileModule | None,
        skip: set[int],
        refs: set[int] | None = None,
        strings: MoveSpec | None = None,
    ) -> None:
        super().__init__(skip)
        #: The spec, where string literals naming an old path are to be rewritten.
        self.strings = strings
        self.strings_rewritten = 0
        self.annotation = 0
        #: Names reading the module-level binding of a renamed name, where scopes were analysed.
        self.refs = refs
        self.blank = BlankLines()
        self.plan = plan
        self.file = file
        self.depth = 0
        self.seen: dict[_Key, bool] = {}
        self.not_renamed: set[int] = set()
        self.shadowed: list[set[str]] = []

    # --- names ------------------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.not_renamed.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.not_renamed.add(id(node.keyword))

    def visit_Param(self, node: cst.Param) -> None:
        self.not_renamed.add(id(node.name))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.not_renamed.add(id(node.name))
        self._shadow(node.params)

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        self.shadowed.pop()
        return updated_node

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._shadow(node.params)

    def leave_Lambda(self, original_node: cst.Lambda, updated_node: cst.Lambda) -> cst.Lambda:
        self.shadowed.pop()
        return updated_node

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.not_renamed.add(id(node.name))

    def _shadow(self, params: cst.Parameters) -> None:
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                every.append(star)
        self.shadowed.append({p.name.value for p in every} & self.plan.renames.keys())

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        replacement = self.plan.replace.get(id(original_node))
        if replacement is not None:
            return replacement
        new = self.plan.renames.get(updated_node.value)
        if new is None or id(original_node) in self.not_renamed:
            return updated_node
        if any(updated_node.value in names for names in self.shadowed):
            return updated_node
        if self.refs is not None and id(original_node) not in self.refs:
            return updated_node  # a function's own variable of the same name
        return updated_node.with_changes(value=new)

    def visit_Annotation(self, node: cst.Annotation) -> None:
        self.annotation += 1

    def leave_Annotation(
        self, original_node: cst.Annotation, updated_node: cst.Annotation
    ) -> cst.Annotation:
        self.annotation -= 1
        return updated_node

    def leave_SimpleString(
        self, original_node: cst.SimpleString, updated_node: cst.SimpleString
    ) -> cst.SimpleString:
        inner = plain_inner(updated_node.value)
        if inner is None:
            return updated_node
        new = None
        if self.strings is not None:
            spec = self.strings
            new = string_target(inner, spec.froms, spec.tos, spec.strings)
            self.strings_rewritten += new is not None
        if new is None and self.annotation and self.plan.renames:
            new = rewrite_annotation(inner, self.plan.renames)
        if new is None:
            return updated_node
        quote = updated_node.quote
        return updated_node.with_changes(value=f"{updated_node.prefix}{quote}{new}{quote}")

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        return self.plan.replace.get(id(original_node), updated_node)

    # --- statements -------------------------------------------------------------------

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.depth += 1

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        self.depth -= 1
        if not updated_node.body:
            return updated_node.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])
        return updated_node

    def visit_Module(self, node: cst.Module) -> None:
        self.blank.learn(node.body)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return join_imports(original_node, self.blank.leave_module(updated_node), self.file)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> (
        cst.SimpleStatementLine | cst.FlattenSentinel[cst.SimpleStatementLine] | cst.RemovalSentinel
    ):
        out = self._line(original_node, updated_node)
        if self.depth:
            return out
        if isinstance(out, cst.RemovalSentinel):
            self.blank.removed(original_node)
            return out
        if isinstance(out, cst.FlattenSentinel):
            first = out.nodes[0]
            assert isinstance(first, cst.SimpleStatementLine)
            return cst.FlattenSentinel([self.blank.kept(original_node, first), *out.nodes[1:]])
        return self.blank.kept(original_node, out)

    def _line(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> (
        cst.SimpleStatementLine | cst.FlattenSentinel[cst.SimpleStatementLine] | cst.RemovalSentinel
    ):
        maybe_body: list[cst.BaseSmallStatement | None] = []
        maybe_extra: list[cst.BaseSmallStatement | None] = []
        changed = False
        for original, updated in zip(original_node.body, updated_node.body, strict=True):
            if (
                isinstance(original, cst.Import | cst.ImportFrom)
                and id(original) in self.plan.statements
            ):
                changed = True
                here, after = self._rewrite(original)
                if here is not None:
                    maybe_body.append(self._dedupe(here, touched=True))
                maybe_extra += [self._dedupe(s, touched=True) for s in after]
            else:
                here2 = self._dedupe(updated, touched=False) if self.depth == 0 else updated
                changed = changed or here2 is not updated
                maybe_body.append(here2)
        if not changed:
            return updated_node
        body = [s for s in maybe_body if s is not None]
        extra = [s for s in maybe_extra if s is not None]
        lines = [updated_node.with_changes(body=body)] if body else []
        lines += [cst.SimpleStatementLine(body=[s]) for s in extra]
        if not lines:
            return cst.RemovalSentinel.REMOVE
        if not body:
            lines[0] = lines[0].with_changes(
                leading_lines=updated_node.leading_lines,
                trailing_whitespace=updated_node.trailing_whitespace,
            )
        return lines[0] if len(lines) == 1 else cst.FlattenSentinel(lines)

    def _rewrite(
        self, stmt: cst.Import | cst.ImportFrom
    ) -> tuple[cst.BaseSmallStatement | None, list[cst.BaseSmallStatement]]:
        after: list[cst.BaseSmallStatement] = []
        here: cst.BaseSmallStatement | None
        if isinstance(stmt, cst.Import):
            here, after = self._rewrite_import(stmt)
        else:
            here, after = self._rewrite_from(stmt)
        level = len(stmt.relative) if isinstance(stmt, cst.ImportFrom) else 0
        for module, name, local in self.plan.appended.get(id(stmt), []):
            after.append(self._import_one(level, module, name, local))
        return here, after

    def _import_one(
        self, level: int, module: str, name: str, local: str | None
    ) -> cst.BaseSmallStatement:
        """``from module import name as local``, or ``import name as local`` for a top-level
        module (``os.path`` moved to ``posixpath`` has no parent to import from)."""
        if module or level:
            return from_import(self.file, level, module, [(name, local or name)])
        asname = None if local in (None, "", name) else cst.AsName(cst.Name(local or name))
        return cst.Import([cst.ImportAlias(build_dotted(name), asname=asname)])

    def _rewrite_import(
        self, stmt: cst.Import
    ) -> tuple[cst.Import | None, list[cst.BaseSmallStatement]]:
        aliases: list[cst.ImportAlias] = []
        keep: list[bool] = []
        after: list[cst.BaseSmallStatement] = []
        for alias in stmt.names:
            fate = self.plan.fates.get(id(alias))
            if fate is not None and fate.kind == "import":
                alias = set_alias(alias, fate.module, fate.local)  # noqa: PLW2901
            elif fate is not None and fate.kind == "to_from":
                local = fate.local or fate.name
                after.append(from_import(self.file, 0, fate.module, [(fate.name, local)]))
            aliases.append(alias)
            keep.append(fate is None or fate.kind == "import")
        if not any(keep):
            return None, after
        return stmt.with_changes(names=drop_aliases(aliases, keep)), after

    def _rewrite_from(
        self, stmt: cst.ImportFrom
    ) -> tuple[cst.ImportFrom | None, list[cst.BaseSmallStatement]]:
        level = len(stmt.relative)
        if isinstance(stmt.names, cst.ImportStar):
            relative, module = module_ref(self.file, level, self.plan.star_modules[id(stmt)])
            return stmt.with_changes(relative=relative, module=module), []
        aliases = list(stmt.names)
        fates = [self.plan.fates.get(id(a)) for a in aliases]
        groups: dict[str, list[int]] = {}
        for i, fate in enumerate(fates):
            if fate is not None and fate.kind == "from":
                groups.setdefault(fate.module, []).append(i)
        keep = [f is None for f in fates]
        here: cst.ImportFrom | None = None
        if any(keep):
            here = stmt.with_changes(names=drop_aliases(aliases, keep))
        elif groups:
            first = next(iter(groups))
            mask = [i in groups[first] for i in range(len(aliases))]
            renamed = [
                set_alias(a, f.name, f.local) if m and f is not None else a
                for a, f, m in zip(aliases, fates, mask, strict=True)
            ]
            relative, module = module_ref(self.file, level, first)
            here = stmt.with_changes(
                relative=relative, module=module, names=drop_aliases(renamed, mask)
            )
            del groups[first]
        after: list[cst.BaseSmallStatement] = []
        for module_name, indexes in groups.items():
            names = []
            for i in indexes:
                fate = fates[i]
                assert fate is not None
                names.append((fate.name, fate.local or fate.name))
            after.append(from_import(self.file, level, module_name, names))
        for fate in fates:
            if fate is not None and fate.kind == "plain":
                after.append(self._import_one(0, "", fate.name, fate.local))
        return here, after

    # --- one import per module-level binding ------------------------------------------

    def _keys(self, stmt: cst.BaseSmallStatement) -> list[_Key | None]:
        if isinstance(stmt, cst.Import):
            return [
                ("import", chain_text(a.name) or "", a.evaluated_alias or "") for a in stmt.names
            ]
        if isinstance(stmt, cst.ImportFrom) and not isinstance(stmt.names, cst.ImportStar):
            module = chain_text(stmt.module) if stmt.module is not None else None
            base = resolve_from(self.file, len(stmt.relative), module)
            if base is None:
                return [None for _ in stmt.names]
            return [
                (base, a.evaluated_name, a.evaluated_alias or a.evaluated_name) for a in stmt.names
            ]
        return []

    def _dedupe(
        self, stmt: cst.BaseSmallStatement, *, touched: bool
    ) -> cst.BaseSmallStatement | None:
        """Drop names a module-level import already bound, when this codemod made the twin."""
        keys = self._keys(stmt) if self.depth == 0 else []
        if not keys:
            return stmt
        keep = []
        for key in keys:
            dup = key is not None and key in self.seen and (touched or self.seen[key])
            keep.append(not dup)
            if key is not None and not dup:
                self.seen[key] = self.seen.get(key, False) or touched
        if all(keep):
            return stmt
        if not any(keep):
            return None
        assert isinstance(stmt, cst.Import | cst.ImportFrom)
        assert not isinstance(stmt.names, cst.ImportStar)
        return stmt.with_changes(names=drop_aliases(list(stmt.names), keep))
