"""``phases.yaml`` → the frozen records of :mod:`runner.model`, or every problem at once.

Loading runs nothing. :mod:`runner.yamlnodes` composes the text into a node tree (safe
loader, no construction, aliases and foreign tags refused); this module walks that tree once,
checks every rule of the plan format (``docs/plan-format-notes.md`` lists the choices made
where the contract is silent) and reports each mistake as ``FILE:LINE:COL: message`` at the
offending key or value. A broken phase does not hide problems in the next one: the walk
goes on after each problem and :class:`~runner.errors.PlanError` carries them all.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from runner.errors import PlanError, Problem
from runner.model import (
    Command,
    Gate,
    OnFailure,
    OnRollback,
    Phase,
    Plan,
    Rollback,
    RollbackMode,
    Settings,
    Step,
)
from runner.planactions import ActionValidator
from runner.planbase import (
    ACTIONS,
    ENV_NAME,
    FORMAT_VERSION,
    GATE_KINDS,
    GATE_OPTIONS,
    KEYS,
    PLAN_NAME,
    YAML_TAG,
    Fields,
    describe,
    is_str,
    scalar_value,
)
from runner.plangates import GateValidator
from runner.planisolate import parse_isolate
from runner.planparallel import gate_settings, step_run_all
from runner.planvalues import (
    branch_problem,
    parse_duration,
    path_problem,
)
from runner.planverdicts import on_inconclusive_option
from runner.yamlnodes import MAX_BYTES, Collector, RefusedNode, compose

__all__ = [
    "ACTIONS",
    "FORMAT_VERSION",
    "GATE_KINDS",
    "GATE_OPTIONS",
    "KEYS",
    "load_plan",
    "parse_duration",
    "parse_plan",
]


def load_plan(path: Path, *, display_path: str | None = None) -> Plan:
    """Read and validate the plan at ``path``; messages name it ``display_path``.

    ``display_path`` defaults to ``path`` as given, so a relative path the user typed stays
    relative. Raises :class:`~runner.errors.PlanError` listing every problem.
    """
    shown = str(path) if display_path is None else display_path
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                data += f.read()  # the size goes into the message; the cap is per plan
    except OSError as e:
        reason = e.strerror or str(e)
        raise PlanError([Problem(shown, 1, 1, f"cannot read the plan: {reason}")]) from None
    return parse_plan(data, path=shown)


def parse_plan(text: str | bytes, *, path: str = "phases.yaml") -> Plan:
    """Validate a plan given as text; ``path`` names it in messages."""
    report = Collector(path)
    root = compose(text, report)
    plan = _PlanValidator(report).plan(root) if root is not None else None
    if report.problems or plan is None:
        problems = sorted(report.problems, key=lambda p: (p.line, p.col))
        raise PlanError(problems or [Problem(path, 1, 1, "the plan could not be read")])
    return dataclasses.replace(plan, path=path)


class _PlanValidator(GateValidator, ActionValidator):
    """One walk over a composed plan; every problem goes to the collector."""

    # --- the plan --------------------------------------------------------------------------

    def plan(self, root: Node) -> Plan | None:
        if isinstance(root, SequenceNode | ScalarNode) and not isinstance(root, RefusedNode):
            self.problem(
                root,
                f"the plan must be a mapping with keys such as 'version:', 'name:' and "
                f"'phases:', got {describe(root)} at the top",
            )
            return None
        top = self.fields(root, "plan", "the plan", required=("version", "name", "phases"))
        if top is None:
            return None
        version = self.version(top["version"][1]) if "version" in top else None
        name = None
        if "name" in top:
            name = self.identifier(
                top["name"][1], "'name'", PLAN_NAME, "lowercase letters, digits and '-'"
            )
        description = ""
        if "description" in top:
            description = self.string(top["description"][1], "'description'", empty_ok=True) or ""
        settings = self.settings(top["settings"][1]) if "settings" in top else Settings()
        if "gates" in top:
            self.named_gates(top["gates"][1])
        phases = self.phases(top["phases"][1]) if "phases" in top else None
        on_rollback = OnRollback()
        if "on-rollback" in top:
            on_rollback = self.on_rollback(top["on-rollback"][1]) or on_rollback
        if version is None or name is None or settings is None or phases is None:
            return None
        return Plan(
            version=version,
            name=name,
            description=description,
            settings=settings,
            gates=tuple(self.gates.items()),
            phases=phases,
            on_rollback=on_rollback,
        )

    def version(self, node: Node) -> int | None:
        value = scalar_value(node) if node.tag == YAML_TAG + "int" else None
        if not isinstance(value, int):
            if not isinstance(node, RefusedNode):
                self.problem(
                    node,
                    f"'version' must be the number {FORMAT_VERSION}, got {describe(node)}",
                )
            return None
        if value != FORMAT_VERSION:
            self.problem(
                node,
                f"unsupported plan format version {value}; this runner reads version "
                f"{FORMAT_VERSION}",
            )
            return None
        return value

    # --- settings --------------------------------------------------------------------------

    def settings(self, node: Node) -> Settings | None:
        found = self.fields(node, "settings", "'settings'")
        if found is None:
            return None
        before = len(self.report.problems)
        defaults = Settings()
        branch = None
        if "branch" in found:
            branch = self.branch(found["branch"][1])
        rollback = defaults.rollback
        if "rollback" in found:
            rollback = self.choice(found["rollback"][1], "'rollback'", Rollback) or rollback
        mode = defaults.rollback_mode
        if "rollback-mode" in found:
            mode = self.choice(found["rollback-mode"][1], "'rollback-mode'", RollbackMode) or mode
        timeout = defaults.timeout
        if "timeout" in found:
            timeout = self.duration(found["timeout"][1], "'timeout'")
        env = self.env(found["env"][1]) if "env" in found else ()
        exclude: tuple[str, ...] | None = ()
        if "exclude" in found:
            exclude = self.paths(found["exclude"][1], "'exclude'", glob=True)
        roots = defaults.source_roots
        if "source-roots" in found:
            roots = self.source_roots(found["source-roots"][1]) or roots
        include: tuple[str, ...] | None = defaults.rehearsal_include
        if "rehearsal-include" in found:
            include = self.paths(found["rehearsal-include"][1], "'rehearsal-include'", glob=True)
        replay = None
        if "replay" in found:
            replay = self.duration(found["replay"][1], "'replay'")
        max_size = defaults.max_file_size
        if "max-file-size" in found:
            max_size = self.size(found["max-file-size"][1], "'max-file-size'") or max_size
        parallel, run_all = gate_settings(self, found)
        if len(self.report.problems) > before or env is None or None in (exclude, include):
            return None
        assert exclude is not None
        assert include is not None
        return Settings(
            branch=branch,
            rollback=rollback,
            rollback_mode=mode,
            timeout=timeout,
            env=env,
            exclude=exclude,
            source_roots=roots,
            rehearsal_include=include,
            replay=replay,
            max_file_size=max_size,
            parallel_gates=parallel,
            run_all_gates=run_all,
        )

    def branch(self, node: Node) -> str | None:
        name = self.string(node, "'branch'")
        if name is None:
            return None
        reason = branch_problem(name)
        if reason is not None:
            self.problem(node, f"'branch' is not a valid git branch name: {reason}")
            return None
        return name

    def env(self, node: Node) -> tuple[tuple[str, str], ...] | None:
        if isinstance(node, RefusedNode):
            return None
        if not isinstance(node, MappingNode):
            self.problem(node, f"'env' must be a mapping of NAME: value, got {describe(node)}")
            return None
        pairs: list[tuple[str, str]] = []
        for key, value in node.value:
            if not ENV_NAME.fullmatch(key.value):
                self.problem(
                    key,
                    f"'{key.value}' is not an environment variable name (letters, digits "
                    "and '_', not starting with a digit)",
                )
                continue
            text = self.string(value, f"the value of {key.value}", empty_ok=True)
            if text is not None:
                pairs.append((key.value, text))
        if len(pairs) != len(node.value):
            return None
        return tuple(sorted(pairs))

    def paths(self, node: Node, label: str, *, glob: bool = False) -> tuple[str, ...] | None:
        items = self.strings(node, label)
        if items is None:
            return None
        return self.each(items, lambda item: self.path(item, f"each entry of {label}", glob=glob))

    def path(self, node: Node, label: str, *, glob: bool = False) -> str | None:
        value = self.string(node, label)
        if value is None:
            return None
        reason = path_problem(value, glob=glob)
        if reason is not None:
            self.problem(node, f"{label} must stay inside the repository, but '{value}': {reason}")
            return None
        return value

    def source_roots(self, node: Node) -> tuple[str, ...] | None:
        roots = self.paths(node, "'source-roots'")
        if roots == ():
            self.problem(node, "'source-roots' must list at least one directory (default: ., src)")
            return None
        return roots

    # --- phases and steps ------------------------------------------------------------------

    def phases(self, node: Node) -> tuple[Phase, ...] | None:
        items = self.strings(node, "'phases'", single_ok=False)
        if items is None:
            return None
        if not items:
            self.problem(node, "'phases' must list at least one phase")
            return None
        ids: dict[str, Node] = {}
        return self.each(items, lambda item: self.phase(item, ids))

    def phase(self, node: Node, ids: dict[str, Node]) -> Phase | None:
        found = self.fields(node, "phase", "a phase", required=("id", "steps"))
        if found is None:
            return None
        before = len(self.report.problems)
        phase_id = self.unique_id(found, "phase", ids)
        what = f"phase '{written_id(found)}'" if written_id(found) else "this phase"
        title = self.title(found, phase_id)
        gates: tuple[Gate, ...] | None = ()
        if "gate" in found:
            gates = self.gate_list(found["gate"][1], "'gate'")
        steps = None
        if "steps" in found:
            steps = self.steps(found["steps"][1], written_id(found) or "?", what)
        if len(self.report.problems) > before or steps is None or gates is None:
            return None
        return Phase(id=phase_id or "", title=title or "", steps=steps, gates=gates)

    def unique_id(self, found: Fields, what: str, ids: dict[str, Node]) -> str | None:
        if "id" not in found:
            return None
        node = found["id"][1]
        value = self.ident(node, "'id'")
        if value is None:
            return None
        if value in ids:
            line = ids[value].start_mark.line + 1
            self.problem(node, f"duplicate {what} id '{value}' (first used at line {line})")
            return None
        ids[value] = node
        return value

    def title(self, found: Fields, default: str | None) -> str | None:
        if "title" not in found:
            return default
        return self.string(found["title"][1], "'title'")

    def steps(self, node: Node, phase_id: str, what: str) -> tuple[Step, ...] | None:
        items = self.strings(node, "'steps'", single_ok=False)
        if items is None:
            return None
        if not items:
            self.problem(node, f"{what} must have at least one step under 'steps'")
            return None
        ids: dict[str, Node] = {}
        return self.each(items, lambda item: self.step(item, phase_id, ids))

    def step(self, node: Node, phase_id: str, ids: dict[str, Node]) -> Step | None:
        found = self.fields(node, "step", "a step", required=("id",))
        if found is None:
            return None
        before = len(self.report.problems)
        step_id = self.unique_id(found, "step", ids)
        written = written_id(found)
        what = f"step '{phase_id}/{written}'" if written else "this step"
        title = self.title(found, step_id)
        action = self.action(found)
        gates: tuple[Gate, ...] | None = ()
        if "gate" in found:
            gates = self.gate_list(found["gate"][1], "'gate'")
        if not any(a in found for a in ACTIONS) and gates == ():
            self.problem(
                node,
                f"{what} does nothing: give it an action ({', '.join(ACTIONS)}) or a 'gate'",
            )
        timeout = None
        if "timeout" in found:
            timeout = self.duration(found["timeout"][1], "'timeout'")
        on_failure = OnFailure.ROLLBACK
        if "on-failure" in found:
            choice = self.choice(found["on-failure"][1], "'on-failure'", OnFailure)
            on_failure = choice or on_failure
        isolate = parse_isolate(
            found, on_failure, has_action=action is not None, has_gates=bool(gates),
            report=self.report.add,
        )  # fmt: skip
        on_inconclusive = on_inconclusive_option(self, found, gates)
        run_all = step_run_all(self, found)
        if len(self.report.problems) > before or gates is None:
            return None
        return Step(
            phase_id=phase_id,
            id=step_id or "",
            title=title or "",
            action=action,
            gates=gates,
            timeout=timeout,
            on_failure=on_failure,
            line=node.start_mark.line + 1,
            isolate=isolate,
            on_inconclusive=on_inconclusive,
            run_all_gates=run_all,
        )

    # --- on-rollback -----------------------------------------------------------------------

    def on_rollback(self, node: Node) -> OnRollback | None:
        found = self.fields(node, "on-rollback", "'on-rollback'")
        if found is None:
            return None
        commands: tuple[Command, ...] | None = ()
        if "run" in found:
            items = self.strings(found["run"][1], "'run'")
            label = "each command of 'run'"
            commands = None if items is None else self.each(items, lambda i: self.command(i, label))
        verify: tuple[Gate, ...] | None = ()
        if "verify" in found:
            verify = self.gate_list(found["verify"][1], "'verify'", verify=True)
        if commands is None or verify is None:
            return None
        return OnRollback(run=commands, verify=verify)


def written_id(found: Fields) -> str | None:
    """The id as written, valid or not, to name a phase or step in messages."""
    node = found["id"][1] if "id" in found else None
    return str(node.value) if node is not None and is_str(node) and node.value else None
