"""Loading phases.yaml: valid plans become records; every mistake is one located problem."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from runner.errors import PlanError
from runner.model import (
    ApproveGate,
    CallRewrite,
    Delete,
    ForbidImportsGate,
    Gate,
    ImportMove,
    MetricGate,
    MoveImport,
    OnFailure,
    PytestGate,
    RewriteCall,
    Rollback,
    RollbackMode,
    RunAction,
    RunGate,
    Settings,
)
from runner.plan import load_plan, parse_duration, parse_plan
from runner.planvalues import branch_problem, dotted_name_problem, path_problem

EXAMPLE = Path(__file__).parent / "example_phases.yaml"  # docs/plan-format.md's plan, verbatim


def plan_text(steps: str = "", *, extra: str = "", gates: str = "") -> str:
    """A small valid plan; ``steps`` replaces its one step, ``extra`` adds top-level keys."""
    steps = steps or "- id: first\n  run: python migrate.py\n  gate: [unit]\n"
    return (
        "version: 1\nname: demo\ngates:\n  unit: {pytest: tests -q}\n"
        + textwrap.indent(gates, "  ")
        + "phases:\n  - id: main\n    steps:\n"
        + textwrap.indent(steps, "      ")
        + extra
    )


def problems(text: str | bytes) -> list[str]:
    with pytest.raises(PlanError) as info:
        parse_plan(text)
    return [str(p) for p in info.value.problems]


def only_problem(text: str | bytes) -> str:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


# --- the contract's example --------------------------------------------------------------


def test_contract_example_loads_into_records() -> None:
    plan = load_plan(EXAMPLE, display_path="phases.yaml")
    assert (plan.version, plan.name, plan.path) == (1, "ssot-chat-migration", "phases.yaml")
    assert plan.description.startswith("Complete the ExecutionEngine migration")
    assert plan.settings == Settings(
        branch="migration/ssot-chat",
        rollback=Rollback.STEP,
        rollback_mode=RollbackMode.RESET,
        timeout=900.0,
        env=(("PYTHONDONTWRITEBYTECODE", "1"),),
        exclude=("vendor/**",),
        source_roots=(".", "src"),
    )
    gates = dict(plan.gates)
    assert list(gates) == ["collect", "unit", "no-legacy", "bridge-down", "latency", "staging-ok"]
    assert gates["collect"] == Gate("collect", RunGate("python -m pytest --collect-only -q"))
    assert gates["unit"] == Gate("unit", PytestGate(("tests/unit", "-q")))
    assert gates["no-legacy"].spec == ForbidImportsGate(("pkg.old.Engine",), max=0)
    assert gates["bridge-down"].spec == ForbidImportsGate(("pkg.old",), max_ratio=0.3)
    assert gates["latency"].spec == MetricGate("python scripts/measure_latency.py", max=700.0)
    assert gates["staging-ok"].spec == ApproveGate("Did the staging deployment validate?")
    assert gates["staging-ok"].kind == "approve"


def test_contract_example_phases_and_steps() -> None:
    plan = load_plan(EXAMPLE)
    assert [p.id for p in plan.phases] == ["import-migration", "validation", "bridge-removal"]
    migration, validation, removal = plan.phases
    assert migration.title == "Phase 2: import pattern migration"
    assert [g.name for g in migration.gates] == ["no-legacy"]
    assert validation.title == "validation"  # default: the id

    engine, constructors, batch = migration.steps
    assert engine.key == "import-migration/engine-imports"
    assert engine.title == "Direct ExecutionEngine imports"
    assert engine.action == MoveImport(
        (ImportMove(from_="pkg.old.Engine", to="pkg.new.UserEngine", as_="Engine"),)
    )
    assert [g.name for g in engine.gates] == ["collect", "unit"]
    assert engine.line == 26
    assert engine.on_failure is OnFailure.ROLLBACK
    assert engine.timeout is None
    assert constructors.title == "constructors"
    assert constructors.action == RewriteCall(
        (CallRewrite("pkg.new.UserEngine", "pkg.new.UserEngine.create_from_legacy", await_=True),)
    )
    assert batch.action == RunAction("python scripts/migrate_batch.py --validate-first")
    assert batch.timeout == 300.0

    (checkpoints,) = validation.steps
    assert checkpoints.action is None
    assert [g.name for g in checkpoints.gates] == ["unit", "latency", "staging-ok"]
    assert checkpoints.on_failure is OnFailure.STOP

    (remove,) = removal.steps
    assert remove.action == Delete(("pkg/old.py", "pkg/new.py::UserEngine._legacy_init"))
    assert remove.gates == (
        Gate("forbid-imports", ForbidImportsGate(("pkg.old",), max=0)),
        dict(plan.gates)["unit"],
    )
    assert plan.on_rollback.run == ("python scripts/restart_services.py",)
    assert [g.name for g in plan.on_rollback.verify] == ["collect"]
    assert [s.line for s in plan.steps] == [26, 33, 36, 42, 47]


def test_text_and_bytes_give_the_same_plan() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert (
        parse_plan(text)
        == parse_plan(text.encode())
        == load_plan(EXAMPLE, display_path="phases.yaml")
    )
    assert parse_plan(b"\xef\xbb\xbf" + text.encode()) == parse_plan(text)  # UTF-8 BOM


def test_step_digest_ignores_titles() -> None:
    a = parse_plan(plan_text("- id: first\n  title: One\n  run: x\n"))
    b = parse_plan(plan_text("- id: first\n  title: Two\n  run: x\n"))
    c = parse_plan(plan_text("- id: first\n  title: One\n  run: y\n"))
    assert a.steps[0].digest == b.steps[0].digest != c.steps[0].digest


# --- load_plan ---------------------------------------------------------------------------


def test_display_path_defaults_to_the_path_as_given(tmp_path: Path) -> None:
    bad = tmp_path / "phases.yaml"
    bad.write_text("version: 1\n")
    with pytest.raises(PlanError) as info:
        load_plan(bad)
    assert str(info.value).startswith(f"{bad}:1:1: ")
    with pytest.raises(PlanError) as info:
        load_plan(bad, display_path="phases.yaml")
    assert str(info.value).splitlines()[0].startswith("phases.yaml:1:1: the plan is missing")


def test_missing_file_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=r"^nope\.yaml:1:1: cannot read the plan: No such file"):
        load_plan(tmp_path / "nope.yaml", display_path="nope.yaml")


def test_a_directory_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read the plan"):
        load_plan(tmp_path)


def test_huge_file_reports_its_size(tmp_path: Path) -> None:
    big = tmp_path / "phases.yaml"
    big.write_bytes(b"#" * (3 * 1024 * 1024))
    with pytest.raises(PlanError, match=r"is 3145728 bytes, over the 1024 KiB limit"):
        load_plan(big)


# --- durations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("15m", 900.0),
        ("90s", 90.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("1h30m15s", 5415.0),
        ("2m30s", 150.0),
        ("1.5h", 5400.0),
        ("0.5s", 0.5),
        ("45", 45.0),
        (45, 45.0),
        (2.5, 2.5),
    ],
)
def test_parse_duration(value: str | int | float, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    "value",
    ["", "soon", "15", "m", "1x", "15 m", "1H", "30m1h", "1h1h", "-5s", "0", "0s", 0, -1, True,
     float("inf"), float("nan"), "1e3s", " 5m"],
)  # fmt: skip
def test_parse_duration_refuses(value: str | int | float) -> None:
    if value == "15":
        assert parse_duration(value) == 15.0  # a bare number is seconds
        return
    with pytest.raises(ValueError, match="duration"):
        parse_duration(value)


def test_durations_in_a_plan() -> None:
    plan = parse_plan(
        plan_text(
            "- id: a\n  run: x\n  timeout: 90\n"
            "- id: b\n  run: x\n  timeout: 2.5\n"
            "- id: c\n  run: x\n  timeout: 1h30m\n",
            extra="settings:\n  timeout: 1h\n",
        )
    )
    assert [s.timeout for s in plan.steps] == [90.0, 2.5, 5400.0]
    assert plan.settings.timeout == 3600.0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", "'timeout' must be a duration like 90s, 15m or 1h, got 'soon'"),
        ("0", "'timeout' must be more than zero, got the number 0"),
        ("-5", "'timeout' must be more than zero, got the number -5"),
        ("yes", "'timeout' must be a duration like 90s, 15m or 1h, got the boolean yes"),
        ("[5m]", "'timeout' must be a duration like 90s, 15m or 1h, got a list"),
    ],
)
def test_bad_step_timeout(value: str, message: str) -> None:
    assert only_problem(plan_text(f"- id: a\n  run: x\n  timeout: {value}\n")) == (
        f"phases.yaml:10:18: {message}"
    )


def test_an_empty_value_is_located_right_after_its_key() -> None:
    assert only_problem(plan_text("- id: a\n  run: x\n  timeout:\n")) == (
        "phases.yaml:10:17: 'timeout' must be a duration like 90s, 15m or 1h, "
        "got nothing (an empty value)"
    )


# --- gates -------------------------------------------------------------------------------


def test_inline_gates_are_named_after_their_kind() -> None:
    plan = parse_plan(
        plan_text(
            "- id: a\n  run: x\n"
            "  gate: [{run: a}, unit, {run: b}, {pytest: [-k, fast]}, {run: c, timeout: 5m}]\n"
        )
    )
    gates = plan.steps[0].gates
    assert [g.name for g in gates] == ["run", "unit", "run-2", "pytest", "run-3"]
    assert gates[3].spec == PytestGate(("-k", "fast"))
    assert gates[4].timeout == 300.0


def test_inline_names_avoid_named_gates_listed_later() -> None:
    plan = parse_plan(
        plan_text(
            "- id: a\n  gate: [{pytest: x}, pytest, {pytest: y}]\n", gates="pytest: {pytest: z}\n"
        )
    )
    assert [g.name for g in plan.steps[0].gates] == ["pytest-2", "pytest", "pytest-3"]


def test_inline_names_restart_in_each_step() -> None:
    plan = parse_plan(plan_text("- id: a\n  gate: {run: x}\n- id: b\n  gate: [{run: y}]\n"))
    assert [g.name for s in plan.steps for g in s.gates] == ["run", "run"]


def test_a_single_gate_name_or_mapping_is_a_list_of_one() -> None:
    plan = parse_plan(plan_text("- id: a\n  run: x\n  gate: unit\n- id: b\n  gate: {run: t}\n"))
    assert [[g.name for g in s.gates] for s in plan.steps] == [["unit"], ["run"]]


def test_gate_kinds_and_their_forms() -> None:
    plan = parse_plan(
        plan_text(
            gates=(
                "argv: {run: [python, -c, 'print(1)'], timeout: 30s}\n"
                "split: {pytest: \"tests -k 'a or b'\"}\n"
                "none: {pytest: ''}\n"
                "one-name: {forbid-imports: pkg.old}\n"
                "both: {forbid-imports: [pkg.a, pkg.b], max: 3, max-ratio: 0.5}\n"
                "low: {metric: [python, m.py], min: 0.9}\n"
                "range: {metric: python m.py, min: 1, max: 2.5}\n"
                "ask: {approve: 'Ready?'}\n"
            )
        )
    )
    gates = dict(plan.gates)
    assert gates["argv"] == Gate("argv", RunGate(("python", "-c", "print(1)")), 30.0)
    assert gates["split"].spec == PytestGate(("tests", "-k", "a or b"))
    assert gates["none"].spec == PytestGate(())
    assert gates["one-name"].spec == ForbidImportsGate(("pkg.old",), max=0)  # forbid: none left
    assert gates["both"].spec == ForbidImportsGate(("pkg.a", "pkg.b"), max=3, max_ratio=0.5)
    assert gates["low"].spec == MetricGate(("python", "m.py"), min=0.9)
    assert gates["range"].spec == MetricGate("python m.py", max=2.5, min=1.0)
    assert gates["ask"].spec == ApproveGate("Ready?")


def test_approve_is_allowed_in_steps_but_not_in_rollback_verify() -> None:
    text = plan_text(
        "- id: a\n  gate: [ask]\n",
        gates="ask: {approve: 'Ready?'}\n",
        extra="on-rollback:\n  verify: [unit, ask]\n",
    )
    assert only_problem(text) == (
        "phases.yaml:12:18: an approve gate cannot verify a rollback: a rollback must finish "
        "without waiting for a person"
    )


def test_invalid_named_gate_is_reported_once_not_at_every_use() -> None:
    text = plan_text(
        "- id: a\n  gate: [broken]\n- id: b\n  gate: broken\n", gates="broken: {run: []}\n"
    )
    assert len(problems(text)) == 1


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ("{pytst: x}", "5:7: unknown gate kind 'pytst'; did you mean 'pytest'?"),
        ("{run: x, timout: 5m}", "5:15: unknown key 'timout'; did you mean 'timeout'?"),
        ("{run: x, pytest: y}", "5:15: gate 'g' has two kinds, 'run' and 'pytest'"),
        ("{}", "5:6: gate 'g' needs a kind: one of run, pytest, forbid-imports, metric, approve"),
        ("{run: x, min: 3}", "5:15: 'min' does not apply to a run gate, only to metric"),
        ("{metric: x, max-ratio: 0.5}", "5:18: 'max-ratio' does not apply to a metric gate"),
        ("{forbid-imports: [pkg.old], max: 1.5}", "must be a whole number, got the number 1.5"),
        ("{forbid-imports: [pkg..old]}", "has an empty part (check the dots)"),
        ("{forbid-imports: [1]}", "each entry"[0:0] + "must be a string, got the number 1"),
        ("{metric: x, max: lots}", "'max' must be a number, got 'lots'"),
        ("{metric: x, max: .inf}", "'max' must be a number, got the number .inf"),
        ("{approve: ''}", "'approve' (the question to ask) must not be empty"),
        ("{approve: [a]}", "'approve' (the question to ask) must be a string, got a list"),
        ("{run: ''}", "'run' must not be empty"),
        ("{run: [python, 3]}", "each word of 'run' must be a string, got the number 3"),
        ("{pytest: 5}", "'pytest' must be its arguments, as a string or a list"),
        ("{run: x, gate: unit}", "gate 'g' cannot refer to other gates"),
        ("[unit]", "5:6: gate 'g' must be a mapping with one gate kind"),
        ("make test", "5:6: gate 'g' must be a mapping with one gate kind (run, pytest, "
         "forbid-imports, metric, approve), got 'make test'; did you mean {run: \"make test\"}?"),
    ],
)  # fmt: skip
def test_bad_gate(gate: str, message: str) -> None:
    found = problems(plan_text(gates=f"g: {gate}\n"))
    assert any(message in f for f in found), found


def test_unknown_gate_names() -> None:
    text = plan_text("- id: a\n  run: x\n  gate: [unitt, zzz, run]\n")
    assert problems(text) == [
        "phases.yaml:10:16: unknown gate 'unitt'; did you mean 'unit'?",
        "phases.yaml:10:23: unknown gate 'zzz'; define it under 'gates:' (defined: unit)",
        "phases.yaml:10:28: unknown gate 'run'; for an inline gate write {run: ...}",
    ]


def test_gate_reference_cycle() -> None:
    found = problems(plan_text(gates="a: b\nb: c\nc: a\n"))
    assert [f.split(": ", 1)[0] for f in found] == [
        "phases.yaml:5:6",
        "phases.yaml:6:6",
        "phases.yaml:7:6",
    ]
    assert found[0].endswith("(they form a cycle: a -> b -> c -> a)")


# --- actions -----------------------------------------------------------------------------


def test_actions_and_their_forms() -> None:
    plan = parse_plan(
        plan_text(
            "- id: argv\n  run: [python, migrate.py, --fast]\n"
            "- id: moves\n  move-import:\n    - {from: mock, to: unittest.mock}\n"
            "    - {from: pkg.compat, to: pkg.core, as: compat}\n"
            "- id: calls\n  rewrite-call: [{from: a.f, to: a.g},"
            " {from: a.h, to: a.h, await: true}]\n"
            "- id: one\n  delete: pkg/old.py\n"
            "- id: many\n  delete: [pkg/legacy/, 'pkg/new.py::Engine._init', src/x.py::f]\n"
            "- id: gates-only\n  gate: unit\n"
        )
    )
    argv, moves, calls, one, many, only = plan.steps
    assert argv.action == RunAction(("python", "migrate.py", "--fast"))
    assert moves.action == MoveImport(
        (ImportMove("mock", "unittest.mock"), ImportMove("pkg.compat", "pkg.core", "compat"))
    )
    assert calls.action == RewriteCall(
        (CallRewrite("a.f", "a.g"), CallRewrite("a.h", "a.h", await_=True))
    )
    assert one.action == Delete(("pkg/old.py",))
    assert many.action == Delete(("pkg/legacy/", "pkg/new.py::Engine._init", "src/x.py::f"))
    assert only.action is None


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("run: x\ndelete: a.py\nmove-import: {from: a, to: b}",
         "has 'run' and 'delete'; split it into two steps"),
        ("title: t", "step 'main/a' does nothing: give it an action"),
        ("gate: []", "step 'main/a' does nothing"),
        ("move-import: []", "must be a mapping or a list of mappings, got an empty list"),
        ("move-import: pkg.old", "must be a mapping or a list of mappings, got 'pkg.old'"),
        ("move-import: {from: a.b, to: a.b}", "'from' and 'to' are both 'a.b': nothing would move"),
        ("move-import: {from: a, to: b, as: 'x.y'}", "'x.y' is not a Python identifier"),
        ("move-import: {from: a, to: b, into: c}", "unknown key 'into'; did you mean 'to'?"),
        ("rewrite-call: {from: a.f, to: a.f}", "nothing would change"),
        ("rewrite-call: {to: a.f}", "'rewrite-call' is missing the required key 'from'"),
        ("rewrite-call: {from: a.f, to: a.g, awiat: true}", "'awiat'; did you mean 'await'?"),
        ("delete: []", "'delete' must list at least one path"),
        ("delete: ''", "each entry of 'delete' must not be empty"),
        ("delete: 'a.py::'", "'a.py::': it is empty"),
        ("delete: 'a.py::1x'", "'1x' is not a Python identifier"),
        ("delete: 'C:/Windows'", "it has a drive letter"),
        ("delete: '~/notes'", "'~' is the home directory"),
        ("delete: 'pkg\\\\..\\\\..\\\\x'", "'..' reaches outside the repository"),
        ("delete: {path: a.py}", "'delete' must be a string or a list of strings, got a mapping"),
        ("run: null", "'run' must be a command: a string (run by the shell) or a list of strings"),
        ("run: ['', x]", "each word of 'run' must not be empty"),
        ("run: x\non-failure: Stop",
         "'on-failure' must be one of rollback, stop, continue, isolate, got 'Stop'; "
         "did you mean 'stop'?"),
        ("run: x\ntitle: ''", "'title' must not be empty"),
    ],
)  # fmt: skip
def test_bad_step(step: str, message: str) -> None:
    found = problems(plan_text("- id: a\n" + textwrap.indent(step, "  ") + "\n"))
    assert any(message in f for f in found), found


# --- structure ---------------------------------------------------------------------------


def test_optional_sections_default() -> None:
    plan = parse_plan("version: 1\nname: x\nphases: [{id: p, steps: [{id: s, run: x}]}]\n")
    assert plan.settings == Settings()
    assert plan.description == ""
    assert plan.gates == ()
    assert plan.on_rollback.run == ()
    assert plan.on_rollback.verify == ()


def test_settings_forms() -> None:
    plan = parse_plan(
        plan_text(
            extra=(
                "settings:\n"
                "  rollback: plan\n  rollback-mode: revert\n"
                "  env: {ZED: z, ALPHA: 'true', EMPTY: ''}\n"
                "  exclude: vendor/**\n"
                "  source-roots: [lib, src/python]\n"
            )
        )
    )
    settings = plan.settings
    assert settings.rollback is Rollback.PLAN
    assert settings.rollback_mode is RollbackMode.REVERT
    assert settings.env == (("ALPHA", "true"), ("EMPTY", ""), ("ZED", "z"))
    assert settings.exclude == ("vendor/**",)
    assert settings.source_roots == ("lib", "src/python")


def test_on_rollback_forms() -> None:
    plan = parse_plan(
        plan_text(
            extra="on-rollback:\n  run: [make restart, [python, -c, 'pass']]\n  verify: unit\n"
        )
    )
    assert plan.on_rollback.run == ("make restart", ("python", "-c", "pass"))
    assert [g.name for g in plan.on_rollback.verify] == ["unit"]
    plan = parse_plan(plan_text(extra="on-rollback:\n  run: make restart\n"))
    assert plan.on_rollback.run == ("make restart",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\nname: x\n", "1:1: the plan is missing the required key 'phases'"),
        ("version: 1\nname: x\nphases: {}\n", "3:9: 'phases' must be a list, got a mapping"),
        ("version: 1\nname: x\nphases: [p]\n", "3:10: a phase must be a mapping of keys, got 'p'"),
        ("version: 1\nname: x\nphases: [{id: p, steps: {}}]\n", "'steps' must be a list"),
        ("version: 1\nname: x\nphases: [{id: p, step: []}]\n", "'step'; did you mean 'steps'?"),
        ("version: 1.0\nname: x\nphases: []\n", "must be the number 1, got the number 1.0"),
        ("version: 1\nname: x\ndescription: 5\nphases: [{id: p, steps: [{id: s, run: x}]}]\n",
         "'description' must be a string, got the number 5"),
        ("version: 1\nname: x\nsettings: []\nphases: [{id: p, steps: [{id: s, run: x}]}]\n",
         "'settings' must be a mapping of keys, got a list"),
        ("version: 1\nname: x\ngates: [a]\nphases: [{id: p, steps: [{id: s, run: x}]}]\n",
         "'gates' must be a mapping of gate names to gates, got a list"),
        ("version: 1\nname: x\non-rollback: {verify: 3}\nphases: [{id: p, steps: [{id: s}]}]\n",
         "'verify' must be a list of gate names or inline gates like {run: ...}, got the number 3"),
        ("version: 1\nname: x\nphases: [{id: p, steps: [{id: s, gate: [3]}]}]\n",
         "each entry of 'gate' must be a gate name or an inline gate"),
    ],
)  # fmt: skip
def test_bad_structure(text: str, message: str) -> None:
    found = problems(text)
    assert any(message in f for f in found), found


def test_ids_may_repeat_across_phases_but_not_within() -> None:
    text = plan_text(extra="  - id: second\n    steps:\n      - id: first\n        run: x\n")
    assert [s.key for s in parse_plan(text).steps] == ["main/first", "second/first"]


def test_five_mistakes_are_reported_at_once_in_file_order() -> None:
    text = textwrap.dedent(
        """\
        version: 1
        name: Demo Plan
        gates:
          unit: {pytest: tests -q}
        phases:
          - id: main
            gates: [unit]
            steps:
              - id: first
                run: python migrate.py
                timeout: soon
              - id: second
                gate: [unitt]
          - id: cleanup
            steps:
              - id: drop
                delete: ../elsewhere
        """
    )
    assert problems(text) == [
        "phases.yaml:2:7: 'name' must be lowercase letters, digits and '-', got 'Demo Plan'; "
        "did you mean 'demo-plan'?",
        "phases.yaml:7:5: unknown key 'gates'; did you mean 'gate'?",
        "phases.yaml:11:18: 'timeout' must be a duration like 90s, 15m or 1h, got 'soon'",
        "phases.yaml:13:16: unknown gate 'unitt'; did you mean 'unit'?",
        "phases.yaml:17:17: 'delete' takes a path in the repository or path.py::Dotted.name, "
        "but '../elsewhere': '..' reaches outside the repository",
    ]


def test_problems_in_one_phase_do_not_hide_the_next() -> None:
    text = (
        "version: 1\nname: x\nphases:\n"
        "  - id: BAD\n    steps: 5\n"
        "  - id: ok\n    steps: [{id: s}]\n"
    )
    found = problems(text)
    assert [f.split(": ", 1)[0] for f in found] == [
        "phases.yaml:4:9",
        "phases.yaml:5:12",
        "phases.yaml:7:13",
    ]


def test_yaml_is_never_constructed() -> None:
    # A tag that would run a command under yaml.load(Loader=Loader) is only reported.
    text = plan_text(extra='description: !!python/object/apply:os.system ["exit 3"]\n')
    assert "tag !!python/object/apply:os.system is not allowed" in only_problem(text)


def test_problem_columns_count_characters_not_bytes() -> None:
    text = plan_text("- id: a\n  title: Ünïcödé\n  run: x\n  timeout: never\n")
    assert only_problem(text).startswith("phases.yaml:11:18:")


# --- single values -----------------------------------------------------------------------


BRANCHES = [
    "main", "migration/ssot-chat", "feature/a.b", "release-1.2", "user@host", "a/b/c",
    "", "-x", "HEAD", "a..b", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[1]", "a\\b",
    "/a", "a/", "a//b", "a.", ".a", "a/.b", "a.lock", "a/b.lock/c", "a@{1}", "a\tb", "a\x7fb",
]  # fmt: skip


@pytest.mark.parametrize("name", BRANCHES)
def test_branch_rules_agree_with_git(name: str) -> None:
    git = shutil.which("git")
    if git is None:  # pragma: no cover - git is a requirement of runner
        pytest.fail("git is required")
    result = subprocess.run(
        [git, "check-ref-format", "--branch", name], capture_output=True, check=False
    )
    assert (branch_problem(name) is None) == (result.returncode == 0), name


def test_branch_at_sign_alone_is_refused() -> None:
    # `git check-ref-format --branch @` resolves @ to HEAD; as a branch name it is invalid.
    assert branch_problem("@") == "'@' is reserved by git"


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("pkg/old.py", True), ("./pkg", True), (".", True), ("vendor/**", True),
        ("a..b/c", True), ("", False), ("  ", False), ("/etc", False), ("\\\\server\\x", False),
        ("C:\\x", False), ("~/x", False), ("../x", False), ("a/../../x", False),
        ("a\\..\\x", False), (".git/config", False),
    ],
)  # fmt: skip
def test_paths_stay_inside_the_repository(path: str, *, ok: bool) -> None:
    assert (path_problem(path) is None) is ok


@pytest.mark.parametrize(
    ("name", "ok"),
    [("pkg.old.Engine", True), ("mock", True), ("_x.y1", True), ("", False), ("a.", False),
     (".a", False), ("a-b", False), ("a.class", False), ("1a", False), ("a b", False)],
)  # fmt: skip
def test_dotted_names(name: str, *, ok: bool) -> None:
    assert (dotted_name_problem(name) is None) is ok


def test_yaml_scalar_forms() -> None:
    step = "- id: a\n  title: !!str 2024-06-01\n  run: x\n  timeout: 1:30\n"
    (loaded,) = parse_plan(plan_text(step)).steps
    assert loaded.title == "2024-06-01"  # an explicit standard tag is fine
    assert loaded.timeout == 90.0  # YAML 1.1 sexagesimal: 1:30 is 90


def test_infinite_timeout_is_not_a_duration() -> None:
    assert only_problem(plan_text("- id: a\n  run: x\n  timeout: .inf\n")).endswith(
        "'timeout' must be a duration like 90s, 15m or 1h, got the number .inf"
    )


def test_a_tag_on_the_whole_document_is_refused() -> None:
    text = "!!python/object:runner.model.Plan\n" + plan_text()
    assert problems(text) == [
        "phases.yaml:1:1: the tag !!python/object:runner.model.Plan is not allowed in a plan: "
        "plans hold only strings, numbers, booleans, lists and mappings (remove the tag)"
    ]


def test_move_import_strings_takes_exact_only() -> None:
    text = (
        "version: 1\nname: x\nphases:\n  - id: p\n    steps:\n      - id: s\n"
        "        move-import: {from: a.X, to: b.X, strings: all}\n"
    )
    with pytest.raises(PlanError) as raised:
        parse_plan(text)
    assert "phases.yaml:7:52: 'strings' must be exact" in str(raised.value)
    ok = parse_plan(text.replace("all", "exact")).steps[0].action
    assert isinstance(ok, MoveImport)
    assert ok.moves[0].strings == "exact"
