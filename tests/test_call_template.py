"""Call templates: binding as Python binds, and templates checked when the plan is loaded."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from runner.codemods.call_template import Bound, ast_shape, bind
from runner.errors import PlanError
from runner.model import CallRewrite, RewriteCall
from runner.plan import parse_plan
from tests.conftest import run_cli

PLAN = """version: 1
name: t
phases:
  - id: p
    steps:
      - id: s
        rewrite-call:
          from: {from_}
          to: {to}
"""

SIG = "pkg.f(a, b=None, *, c=None)"
TO = "pkg.g(x=a, y=b, z=c)"


def _template(from_: str = SIG, to: str = TO) -> CallRewrite:
    step = parse_plan(PLAN.format(from_=from_, to=to)).steps[0]
    assert isinstance(step.action, RewriteCall)
    return step.action.rewrites[0]


def _bind(call: str, from_: str = SIG, to: str = TO) -> Bound | str:
    template = _template(from_, to).template
    assert template is not None
    node = ast.parse(call, mode="eval").body
    assert isinstance(node, ast.Call)
    return bind(template, ast_shape(node))


@pytest.mark.parametrize(
    ("call", "order"),
    [
        ("f(1)", ((0, "x"),)),
        ("f(1, 2)", ((0, "x"), (1, "y"))),
        ("f(c=3, a=1)", ((0, "z"), (1, "x"))),
        ("f(1, c=3)", ((0, "x"), (1, "z"))),
        ("f(b=2, a=1)", ((0, "y"), (1, "x"))),
    ],
)
def test_binding_follows_python(call: str, order: tuple[tuple[int, str], ...]) -> None:
    assert _bind(call) == Bound(order)


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        ("f(*xs)", "passes *args"),
        ("f(1, **kw)", "passes **kwargs"),
        ("f(1, 2, 3)", "passes 3 arguments by position, the template takes at most 2"),
        ("f(1, d=4)", "passes the keyword d="),
        ("f(1, a=1)", "passes a twice"),
        ("f(b=1)", "does not pass a"),
    ],
)
def test_sites_python_would_refuse_or_that_cannot_be_known_are_refused(
    call: str, reason: str
) -> None:
    got = _bind(call)
    assert isinstance(got, str)
    assert got.startswith(reason)


def test_positional_only_parameters_refuse_keywords() -> None:
    got = _bind("f(a=1)", "pkg.f(a, /)", "pkg.g(a)")
    assert isinstance(got, str)
    assert "keyword a=" in got


def test_the_plain_form_is_unchanged_and_digests_as_before() -> None:
    plain = parse_plan(PLAN.format(from_="pkg.f", to="pkg.g")).steps[0]
    assert plain.action == RewriteCall((CallRewrite("pkg.f", "pkg.g"),))
    # The digest of a plain rewrite must not change with the new optional field.
    # As recorded in checkpoints made before templates existed: resume must still match them.
    assert plain.digest == (
        "sha256:f8683633e156a12b6eb7d10f605a7c407bb096c596b95fc6c8d33cb8de32dc75"
    )


@pytest.mark.parametrize(
    ("from_", "to", "where", "message"),
    [
        ("pkg.f(a, *rest)", "pkg.g(a)", "8:26", "'*rest' cannot be bound"),
        ("pkg.f(a, **kw)", "pkg.g(a)", "8:26", "'**kw' cannot be bound"),
        ("pkg.f(a, a)", "pkg.g(a)", "8:26", "the parameter 'a' is listed twice"),
        ("pkg.f(a b)", "pkg.g(a)", "8:25", "not valid Python"),
        ("pkg.f(a, b)", "pkg.g(a)", "9:22", "the parameter(s) b of 'from' go nowhere"),
        ("pkg.f(a)", "pkg.g(x=a, y=q)", "9:26", "'q' is not a parameter of 'from'"),
        ("pkg.f(a)", "pkg.g(x=a, y=a)", "9:26", "the parameter 'a' is written twice"),
        ("pkg.f(a)", "pkg.g(*a)", "9:21", "'*' and '**' cannot be written"),
        ("pkg.f(a)", "pkg.g", "9:15", "'from' and 'to' must both be call templates"),
        ("9pkg.f(a)", "pkg.g(a)", "8:17", "'from' must be a call template"),
        ("pkg.f(a", "pkg.g(a)", "8:24", "it must end with ')'"),
    ],
)
def test_bad_templates_are_located(from_: str, to: str, where: str, message: str) -> None:
    with pytest.raises(PlanError) as raised:
        parse_plan(PLAN.format(from_=from_, to=to))
    text = str(raised.value)
    assert f"phases.yaml:{where}: " in text, text
    assert message in text, text


def test_runner_check_refuses_a_bad_template_with_exit_2(tmp_path: Path) -> None:
    plan = tmp_path / "phases.yaml"
    plan.write_text(PLAN.format(from_="pkg.f(a, *rest)", to="pkg.g(a)"))
    done = run_cli("check", str(plan), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "phases.yaml:8:26: 'from' must be a call template" in done.stderr
    assert "Traceback" not in done.stderr
