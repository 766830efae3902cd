# ruff: noqa: E501 - templates hold the generated lines verbatim, some longer than ours
"""Generate the consumer modules and tests of the bundled sample repository.

The sample (``runner/sample/netra``) is a miniature of the codebase in the seed migration plan
(Issue #802): 128+ deprecated import sites of the compatibility bridge over 40+ files, 35+
legacy constructor calls ``ExecutionEngine(registry, websocket_bridge, user_context)``. The
engine, the bridge, the websocket layer, the golden-path services and the named test suites
are written by hand; this script writes the many consumers around them (feature services,
routes, sync admin tools, tests) so their proportions stay those of the seed.

The output is committed: the sample must be plain files. Run it again after changing the
tables below, then run ``pytest tests/test_sample.py``::

    python scripts/make_sample.py
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "runner" / "sample" / "netra"
BRIDGE = "netra_backend.app.agents.supervisor.execution_engine"
CONTEXT_MODULE = "netra_backend.app.services.user_execution_context"


@dataclass(frozen=True)
class Method:
    name: str
    agent: str
    param: str
    doc: str
    message: str


@dataclass(frozen=True)
class Feature:
    slug: str
    cls: str
    doc: str
    methods: tuple[Method, ...]


def m(name: str, agent: str, param: str, doc: str, message: str) -> Method:
    return Method(name, agent, param, doc, message)


FEATURES = (
    Feature(
        "billing_insights",
        "BillingInsightsService",
        "Explains a customer's AI bill and where the money goes.",
        (
            m(
                "summarize_invoice",
                "cost_optimizer",
                "invoice_text",
                "Plain-words invoice summary.",
                "Why is my invoice so expensive this month? The price of large model calls doubled.",
            ),
            m(
                "forecast_spend",
                "cost_optimizer",
                "usage_note",
                "Next month's spend at current usage.",
                "Forecast the cost of 40k support chats per day on the large tier.",
            ),
        ),
    ),
    Feature(
        "usage_analytics",
        "UsageAnalyticsService",
        "Usage reports per workspace: volumes, topics, token counts.",
        (
            m(
                "analyze_usage",
                "data_helper",
                "report_request",
                "Token volume of a usage question.",
                "How many tokens does our nightly summarization job use?",
            ),
            m(
                "top_topics",
                "triage",
                "transcript",
                "The topics a workspace talks about most.",
                "latency latency cache cache cache embeddings routing",
            ),
            m(
                "token_report",
                "data_helper",
                "query",
                "A short token report for one query.",
                "Token report for the retrieval prompts in the onboarding flow",
            ),
        ),
    ),
    Feature(
        "model_routing",
        "ModelRoutingService",
        "Suggests which model tier should serve which traffic.",
        (
            m(
                "recommend_route",
                "cost_optimizer",
                "workload",
                "Tier recommendation for a workload.",
                "Route our classification traffic to the cheapest model that keeps accuracy",
            ),
            m(
                "explain_route",
                "triage",
                "question",
                "Why a request went to a given tier.",
                "Why did routing send the legal review prompts to the large model?",
            ),
        ),
    ),
    Feature(
        "prompt_optimization",
        "PromptOptimizationService",
        "Shortens prompts without losing what they ask for.",
        (
            m(
                "shorten_prompt",
                "data_helper",
                "prompt",
                "Token count before trimming a prompt.",
                "You are a helpful assistant. Please, if you can, kindly answer the question below.",
            ),
            m(
                "rank_prompts",
                "triage",
                "prompts",
                "Which prompt topics dominate.",
                "summarize summarize translate classify summarize extract",
            ),
        ),
    ),
    Feature(
        "feedback",
        "FeedbackService",
        "Reads what users say about their chats.",
        (
            m(
                "classify_feedback",
                "reporting",
                "feedback",
                "Positive or negative, with a score.",
                "Great answers and fast, thanks!",
            ),
            m(
                "escalate_if_unhappy",
                "reporting",
                "feedback",
                "Flags frustrated users for support.",
                "The chat is slow and the answers are broken, latency is bad",
            ),
        ),
    ),
    Feature(
        "thread_summary",
        "ThreadSummaryService",
        "Summaries of long chat threads.",
        (
            m(
                "summarize_thread",
                "triage",
                "thread_text",
                "Topics of a chat thread.",
                "We discussed caching, batching and caching again for the embeddings pipeline.",
            ),
            m(
                "title_for_thread",
                "triage",
                "first_message",
                "A title from the opening message.",
                "Help me reduce GPU cost for our nightly batch",
            ),
            m(
                "estimate_thread_tokens",
                "data_helper",
                "thread_text",
                "Tokens in a whole thread.",
                "A long thread about vector databases, rerankers and prompt caching.",
            ),
        ),
    ),
    Feature(
        "cost_alerts",
        "CostAlertService",
        "Alerts when projected spend crosses a budget.",
        (
            m(
                "check_budget",
                "cost_optimizer",
                "budget_note",
                "Projected spend against a budget.",
                "Budget check: 12k agent runs per day with tool calls on the large tier",
            ),
            m(
                "explain_alert",
                "triage",
                "alert_text",
                "What an alert is about.",
                "Alert: spend spike on embeddings and reranking since Tuesday",
            ),
        ),
    ),
    Feature(
        "quota",
        "QuotaService",
        "Per-user quotas measured in tokens.",
        (
            m(
                "remaining_quota",
                "data_helper",
                "request_text",
                "Tokens this request would use.",
                "Translate the attached 3 page contract into German",
            ),
            m(
                "quota_warning",
                "reporting",
                "usage_comment",
                "Tone of a user near their quota.",
                "I love the product but the quota errors are bad",
            ),
        ),
    ),
    Feature(
        "onboarding",
        "OnboardingService",
        "First-run guidance for new workspaces.",
        (
            m(
                "welcome_plan",
                "triage",
                "goals",
                "A first plan from the user's stated goals.",
                "We want cheaper support automation and faster answers",
            ),
            m(
                "starter_budget",
                "cost_optimizer",
                "goals",
                "A starting budget for those goals.",
                "Start with 500 chats a day for the pilot team",
            ),
        ),
    ),
    Feature(
        "support_triage",
        "SupportTriageService",
        "Routes support tickets to the right specialist agent.",
        (
            m(
                "triage_ticket",
                "triage",
                "ticket",
                "The ticket's topics, routed.",
                "Ticket: websocket events missing after deploy, agent_completed never arrives",
            ),
            m(
                "ticket_sentiment",
                "reporting",
                "ticket",
                "How upset the customer is.",
                "Still broken after three days, this is bad",
            ),
            m(
                "ticket_size",
                "data_helper",
                "ticket",
                "Tokens needed to answer the ticket.",
                "Please explain the difference between the small and the medium tier",
            ),
        ),
    ),
    Feature(
        "experiments",
        "ExperimentService",
        "A/B experiments on prompts and model tiers.",
        (
            m(
                "design_experiment",
                "cost_optimizer",
                "hypothesis",
                "Cost of running an experiment.",
                "Hypothesis: the medium tier answers billing questions as well as the large one",
            ),
            m(
                "read_results",
                "reporting",
                "results_note",
                "Whether results look good.",
                "Results: faster and cheap, users say thanks",
            ),
        ),
    ),
    Feature(
        "compliance_audit",
        "ComplianceAuditService",
        "Audits which data each agent run touched.",
        (
            m(
                "audit_run",
                "triage",
                "audit_request",
                "Topics an audited run touched.",
                "Audit the data access of the reporting agent for workspace acme",
            ),
            m(
                "audit_volume",
                "data_helper",
                "audit_request",
                "Token volume under audit.",
                "Audit volume for all runs that touched personal data last week",
            ),
        ),
    ),
    Feature(
        "workload_insights",
        "WorkloadInsightsService",
        "Finds the workloads that dominate cost and latency.",
        (
            m(
                "hot_workloads",
                "triage",
                "telemetry",
                "Topics of the busiest workloads.",
                "embeddings embeddings search rerank embeddings chat",
            ),
            m(
                "workload_cost",
                "cost_optimizer",
                "telemetry",
                "What the busiest workload costs.",
                "Cost of 2 million embedding calls per day",
            ),
            m(
                "latency_mood",
                "reporting",
                "telemetry",
                "How users feel about latency.",
                "Responses are slow, latency is bad during peak hours",
            ),
        ),
    ),
    Feature(
        "cache_advisor",
        "CacheAdvisorService",
        "Advises where prompt and response caching pays off.",
        (
            m(
                "cache_candidates",
                "triage",
                "traffic_sample",
                "Repeated topics worth caching.",
                "pricing pricing pricing refund pricing invoice",
            ),
            m(
                "cache_savings",
                "cost_optimizer",
                "traffic_sample",
                "Savings if cached.",
                "Savings from caching the 30 most common pricing answers",
            ),
        ),
    ),
)

#: Async methods that reach the engine through a ``_engine_for`` helper (a ``return`` site).
HELPER_STYLE = {"usage_analytics", "support_triage", "workload_insights", "feedback"}


def write(rel: str, text: str) -> None:
    path = ROOT / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))


def ensure_package(rel_dir: str, doc: str) -> None:
    init = ROOT / rel_dir / "__init__.py"
    if not init.exists():
        write(f"{rel_dir}/__init__.py", f'"""{doc}"""\n')


# --- feature services ---------------------------------------------------------------------


def _service_imports(i: int) -> str:
    """Four import styles, as a real codebase accumulates them."""
    style = i % 4
    if style == 0:
        return f"from {BRIDGE} import ExecutionEngine, UserExecutionContext\n"
    if style == 1:
        return f"from {BRIDGE} import (\n    ExecutionEngine,\n    UserExecutionContext,\n)\n"
    if style == 2:
        return f"from {BRIDGE} import ExecutionEngine\nfrom {BRIDGE} import UserExecutionContext\n"
    return f"from {BRIDGE} import UserExecutionContext, ExecutionEngine\n"


def service_module(i: int, f: Feature) -> str:
    private = i % 2 == 1
    reg, br = (
        ("self._registry", "self._bridge")
        if private
        else ("self.registry", "self.websocket_bridge")
    )
    ctx = ("user_context", "context", "ctx")[i % 3]
    helper = f.slug in HELPER_STYLE
    lines = [
        f'"""{f.cls}: {f.doc}\n\nBuilt on the execution engine through the Issue #565 compatibility bridge.\n"""\n',
        "from __future__ import annotations\n",
        "from typing import Any\n",
        "from netra_backend.app.agents.registry import AgentRegistry",
        _service_imports(i).rstrip("\n"),
        "from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge\n",
        f'__all__ = ["{f.cls}"]\n\n',
        f"class {f.cls}:",
        f'    """{f.doc}"""\n',
        "    def __init__(",
        "        self,",
        "        registry: AgentRegistry | None = None,",
        "        websocket_bridge: AgentWebSocketBridge | None = None,",
        "    ) -> None:",
        f"        {reg} = registry or AgentRegistry.default()",
        f"        {br} = websocket_bridge or AgentWebSocketBridge()",
        "        self.calls = 0\n",
    ]
    if helper:
        lines += [
            f"    async def _engine_for(self, {ctx}: UserExecutionContext) -> ExecutionEngine:",
            f"        return ExecutionEngine({reg}, {br}, {ctx})\n",
        ]
    for k, meth in enumerate(f.methods):
        lines += [
            f"    async def {meth.name}(self, {ctx}: UserExecutionContext, {meth.param}: str) -> dict[str, Any]:",
            f'        """{meth.doc}"""',
            "        self.calls += 1",
        ]
        if helper and k % 2 == 0:
            lines.append(f"        engine = await self._engine_for({ctx})")
        else:
            lines.append(f"        engine = ExecutionEngine({reg}, {br}, {ctx})")
        lines += [
            f'        result = await engine.execute_agent("{meth.agent}", {meth.param})',
            "        return {",
            f'            "{meth.name}": result.response,',
            '            "user_id": result.user_id,',
            '            "run_id": result.run_id,',
            '            "engine": result.engine_class,',
            "        }\n",
        ]
    # A sync helper with a lazy import, as modules that dodge import cycles have.
    lines += [
        "    def context_for(self, user_id: str, **metadata: Any) -> UserExecutionContext:",
        f"        from {BRIDGE} import UserExecutionContext as _Context  # noqa: PLC0415 - import cycle",
        "",
        f'        return _Context.from_request(user_id, feature="{f.slug}", **metadata)\n',
    ]
    return "\n".join(lines).rstrip() + "\n"


# --- routes (Pattern 3: UserExecutionContext from the bridge) ------------------------------


def route_module(i: int, f: Feature) -> str:
    out = [
        f'"""Routes for {f.slug.replace("_", " ")}: request dicts in, JSON-able dicts out."""\n',
        "from __future__ import annotations\n",
        "from typing import Any\n",
    ]
    if i % 5 == 4:
        out += ["from typing import TYPE_CHECKING\n"]
    out += [
        f"from {BRIDGE} import UserExecutionContext",
        f"from netra_backend.app.services.{f.slug}_service import {f.cls}\n",
    ]
    if i % 5 == 4:
        out += [
            "if TYPE_CHECKING:",
            f"    from {BRIDGE} import ExecutionEngine\n",
        ]
    out += [
        f'ROUTE_PREFIX = "/api/{f.slug.replace("_", "-")}"\n\n',
        "def context_from_request(request: dict[str, Any]) -> UserExecutionContext:",
        '    """The user context of one request; ids the client sent are kept."""',
        "    return UserExecutionContext.from_request(",
        '        request["user_id"],',
        '        thread_id=request.get("thread_id"),',
        '        run_id=request.get("run_id"),',
        "        route=ROUTE_PREFIX,",
        "    )\n\n",
    ]
    for meth in f.methods:
        out += [
            f"async def {meth.name}_route(service: {f.cls}, request: dict[str, Any]) -> dict[str, Any]:",
            "    context = context_from_request(request)",
            f'    return await service.{meth.name}(context, request["{meth.param}"])\n\n',
        ]
    out += [
        "def validate_request(request: dict[str, Any]) -> list[str]:",
        '    """Problems with a request, empty when it can be served."""',
        f"    from {BRIDGE} import UserExecutionContext as _Ctx  # noqa: PLC0415",
        "",
        '    problems = [] if request.get("user_id") else ["user_id is required"]',
        "    if not problems:",
        '        _Ctx.from_request(request["user_id"])  # raises on a blank id',
        "    return problems\n\n",
    ]
    if i % 5 == 4:
        out += [
            'def describe_engine(engine: "ExecutionEngine") -> dict[str, Any]:',
            '    return {"user_id": engine.context.user_id, "runs": len(engine.history)}\n',
        ]
    return "\n".join(out).rstrip() + "\n"


# --- admin tools: sync code, so their constructor calls stay manual follow-ups -------------

ADMIN = (
    (
        "netra_backend/app/admin/replay_cli.py",
        "Replays a user's last message from the command line.",
        ("replay_message", "triage"),
    ),
    (
        "netra_backend/app/admin/maintenance.py",
        "Maintenance commands operators run by hand.",
        ("warm_cost_model", "cost_optimizer"),
        ("recount_tokens", "data_helper"),
    ),
    (
        "netra_backend/app/admin/batch_jobs.py",
        "Nightly batch jobs (sync, run by cron).",
        ("nightly_feedback_digest", "reporting"),
        ("nightly_topic_digest", "triage"),
    ),
)


def admin_module(doc: str, commands: tuple[tuple[str, str], ...]) -> str:
    out = [
        f'"""{doc}\n\nSync code: an engine built here runs its agent with ``asyncio.run``. Not on\nany request path; tests/unit/test_admin_tools.py runs it.\n"""\n',
        "from __future__ import annotations\n",
        "import asyncio",
        "import sys\n",
        "from netra_backend.app.agents.registry import AgentRegistry",
        f"from {BRIDGE} import ExecutionEngine",
        f"from {BRIDGE} import UserExecutionContext",
        "from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge\n\n",
    ]
    for name, agent in commands:
        out += [
            f"def {name}(user_id: str, text: str) -> str:",
            "    registry = AgentRegistry.default()",
            "    websocket_bridge = AgentWebSocketBridge()",
            f'    user_context = UserExecutionContext.from_request(user_id, source="admin:{name}")',
            "    engine = ExecutionEngine(registry, websocket_bridge, user_context)",
            f'    return asyncio.run(engine.execute_agent("{agent}", text)).response\n\n',
        ]
    first = commands[0][0]
    out += [
        "def main(argv: list[str] | None = None) -> int:",
        "    args = sys.argv[1:] if argv is None else argv",
        "    if len(args) != 2:",
        f'        print("usage: {first} USER_ID TEXT", file=sys.stderr)',
        "        return 2",
        f"    print({first}(args[0], args[1]))",
        "    return 0\n\n",
        'if __name__ == "__main__":',
        "    sys.exit(main())",
    ]
    return "\n".join(out) + "\n"


# --- tests --------------------------------------------------------------------------------


def service_test(i: int, f: Feature) -> str:
    """One test module per feature: every async constructor site runs, all five events."""
    calls = []
    for meth in f.methods:
        calls.append(f'    ("{meth.name}", {meth.message!r}),')
    ctx_import = (
        f"from {BRIDGE} import UserExecutionContext"
        if i % 3 != 2
        else f"from {BRIDGE} import ExecutionEngine, UserExecutionContext"
    )
    extra = ""
    if i % 3 == 2:
        extra = f"""

def test_{f.slug}_engine_is_the_ssot_engine():
    service = {f.cls}()
    reply = asyncio.run(service.{f.methods[0].name}(_context("u-ssot"), "ping"))
    assert reply["engine"] == ExecutionEngine.__name__ == "UserExecutionEngine"
"""
    if i % 2:
        lazy = f"""

def test_{f.slug}_context_location_still_importable():
    from {BRIDGE} import UserExecutionContext as Legacy  # noqa: PLC0415

    assert Legacy is UserExecutionContext
"""
    else:
        lazy = f"""

def test_{f.slug}_service_reports_the_engine_it_used():
    from {BRIDGE} import ExecutionEngine  # noqa: PLC0415

    reply = asyncio.run({f.cls}().{f.methods[-1].name}(_context("u-eng"), "engine check"))
    assert reply["engine"] == ExecutionEngine.__qualname__
"""
    routes_test = f'''

def test_{f.slug}_routes_build_context_from_request():
    from netra_backend.app.routes import {f.slug} as routes  # noqa: PLC0415

    service = {f.cls}()
    request = {{"user_id": "u-route-{i}", "thread_id": "t-{i}", "{f.methods[0].param}": "route check"}}
    reply = asyncio.run(routes.{f.methods[0].name}_route(service, request))
    assert reply["user_id"] == "u-route-{i}"
'''
    return f'''"""{f.cls}: every call runs one agent for one user and emits the five events."""

from __future__ import annotations

import asyncio

import pytest

{ctx_import}
from netra_backend.app.services.{f.slug}_service import {f.cls}
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

CASES = [
{chr(10).join(calls)}
]


def _context(user_id: str) -> UserExecutionContext:
    return UserExecutionContext.from_request(user_id, feature="{f.slug}")


@pytest.mark.parametrize(("method", "message"), CASES)
def test_{f.slug}_call_emits_critical_events(method: str, message: str) -> None:
    bridge = AgentWebSocketBridge()
    service = {f.cls}(websocket_bridge=bridge)
    context = _context("u-{f.slug}")
    reply = asyncio.run(getattr(service, method)(context, message))
    assert reply[method]
    assert reply["user_id"] == context.user_id
    assert bridge.manager.event_types_for(context.user_id) == list(CRITICAL_EVENTS)
    assert bridge.manager.connected_users() == [context.user_id]
{extra}{lazy}{routes_test}'''


P1_TESTS = (
    (
        "tests/integration/test_supervisor_ssot_system_conflicts.py",
        "The supervisor has one engine implementation, whatever name it is imported under.",
    ),
    (
        "tests/e2e/test_issue_686_golden_path_execution_engine_conflicts.py",
        "Issue #686: the golden path and the legacy engine name resolve to the same engine.",
    ),
    (
        "tests/unit/test_ssot_execution_engine_migration_validation.py",
        "Migration validation: legacy-style construction yields the SSOT engine.",
    ),
    (
        "tests/unit/test_execution_engine_lifecycle.py",
        "An engine's life: built for one user, runs agents, keeps its own history.",
    ),
    (
        "tests/unit/agents/test_agent_execution_results.py",
        "What an agent run returns through the engine.",
    ),
    (
        "tests/integration/test_execution_engine_websocket_routing.py",
        "Events from an engine reach its user's connection and no other.",
    ),
    (
        "tests/unit/test_engine_history_isolation.py",
        "Engine history is per instance: two users never share it.",
    ),
    (
        "tests/integration/test_engine_registry_integration.py",
        "The engine resolves agents through the registry it was given.",
    ),
    (
        "tests/unit/test_execution_engine_errors.py",
        "The engine refuses unknown agents and cross-user emitters.",
    ),
    (
        "tests/e2e/test_chat_thread_continuity.py",
        "One thread, several messages: every run keeps the thread id.",
    ),
    (
        "tests/integration/test_agent_tool_pipeline.py",
        "Agent → tool → response: the tool output reaches the answer.",
    ),
    (
        "tests/websocket/test_websocket_event_payloads.py",
        "Payloads of the five events carry user, thread and run ids.",
    ),
)

_P1_BODIES = (
    """
async def _engine(user_id: str) -> ExecutionEngine:
    registry = AgentRegistry.default()
    websocket_bridge = AgentWebSocketBridge()
    user_context = UserExecutionContext.from_request(user_id)
    return ExecutionEngine(registry, websocket_bridge, user_context)


def test_legacy_name_is_the_ssot_engine():
    engine = asyncio.run(_engine("{u}-a"))
    assert isinstance(engine, ExecutionEngine)
    assert type(engine).__name__ == "UserExecutionEngine"


def test_engine_runs_{agent}_for_its_user():
    async def scenario():
        engine = await _engine("{u}-b")
        return await engine.execute_agent("{agent}", "{message}")

    result = asyncio.run(scenario())
    assert result.user_id == "{u}-b"
    assert result.response


def test_context_import_from_the_engine_package():
    from netra_backend.app.agents.supervisor.execution_engine import UserExecutionContext as Ctx  # noqa: PLC0415

    assert Ctx is UserExecutionContext
""",
    """
def test_two_engines_do_not_share_history():
    async def scenario():
        registry = AgentRegistry.default()
        websocket_bridge = AgentWebSocketBridge()
        first_context = UserExecutionContext.from_request("{u}-1")
        second_context = UserExecutionContext.from_request("{u}-2")
        first = ExecutionEngine(registry, websocket_bridge, first_context)
        second = ExecutionEngine(registry, websocket_bridge, second_context)
        await first.execute_agent("{agent}", "{message}")
        return first, second, websocket_bridge

    first, second, websocket_bridge = asyncio.run(scenario())
    assert len(first.history) == 1
    assert second.history == []
    assert websocket_bridge.manager.messages_for("{u}-2") == []


def test_engine_class_is_importable_from_the_migration_path():
    from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine as Engine  # noqa: PLC0415

    assert Engine.__name__ == "UserExecutionEngine"
""",
    """
@pytest.fixture
def websocket_bridge() -> AgentWebSocketBridge:
    return AgentWebSocketBridge()


def test_{agent}_events_reach_only_their_user(websocket_bridge: AgentWebSocketBridge):
    async def scenario():
        user_context = UserExecutionContext.from_request("{u}")
        engine = ExecutionEngine(AgentRegistry.default(), websocket_bridge, user_context)
        return await engine.execute_agent("{agent}", "{message}")

    result = asyncio.run(scenario())
    messages = websocket_bridge.manager.messages_for("{u}")
    assert [m["type"] for m in messages] == list(CRITICAL_EVENTS)
    assert {{m["run_id"] for m in messages}} == {{result.run_id}}
    assert websocket_bridge.manager.connected_users() == ["{u}"]


def test_engine_rejects_unknown_agent(websocket_bridge: AgentWebSocketBridge):
    async def scenario():
        user_context = UserExecutionContext.from_request("{u}-x")
        engine = ExecutionEngine(AgentRegistry.default(), websocket_bridge, user_context)
        await engine.execute_agent("no_such_agent", "hello")

    with pytest.raises(UnknownAgentError):
        asyncio.run(scenario())
    assert isinstance(ExecutionEngine, type)


def test_legacy_module_exports_both_names():
    from netra_backend.app.agents.supervisor.execution_engine import (  # noqa: PLC0415
        ExecutionEngine as Engine,
        UserExecutionContext as Ctx,
    )

    assert Engine is ExecutionEngine
    assert Ctx is UserExecutionContext
""",
)

_AGENTS = ("triage", "cost_optimizer", "data_helper", "reporting")
_MESSAGES = (
    "How do we cut inference cost for support chats?",
    "Estimate tokens for the weekly report prompt",
    "The new answers are great and fast",
    "Which topics dominate our traffic this week?",
)


def p1_test(i: int, doc: str) -> str:
    body = _P1_BODIES[i % 3].format(
        u=f"user-{i:02d}", agent=_AGENTS[i % 4], message=_MESSAGES[i % 4]
    )
    third = i % 3 == 2
    imports = [
        "import asyncio\n",
        *(["import pytest\n"] if third else []),
        "from netra_backend.app.agents.registry import AgentRegistry"
        + (", UnknownAgentError" if third else ""),
        f"from {BRIDGE} import ExecutionEngine",
        f"from {CONTEXT_MODULE} import UserExecutionContext",
        "from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge",
        *(
            ["from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS"]
            if third
            else []
        ),
    ]
    head = "\n".join(imports)
    return f'''"""{doc}"""

from __future__ import annotations

{head}

{body}'''


# --- websocket message handlers -------------------------------------------------------------

HANDLERS = (
    ("user_message", "UserMessageHandler", "triage", "Plain chat messages from the UI."),
    (
        "start_agent",
        "StartAgentHandler",
        "data_helper",
        "Explicit agent starts from the agent picker.",
    ),
    ("thread_resume", "ThreadResumeHandler", "triage", "Resumes a thread after a reconnect."),
    ("feedback_message", "FeedbackMessageHandler", "reporting", "Thumbs up/down with a comment."),
    (
        "cost_question",
        "CostQuestionHandler",
        "cost_optimizer",
        "Questions from the cost dashboard.",
    ),
    (
        "usage_question",
        "UsageQuestionHandler",
        "data_helper",
        "Questions from the usage dashboard.",
    ),
)


def handler_module(i: int, kind: str, cls: str, agent: str, doc: str) -> str:
    imports = (
        f"from {BRIDGE} import ExecutionEngine, UserExecutionContext"
        if i % 2 == 0
        else f"from {BRIDGE} import (\n    UserExecutionContext,\n    ExecutionEngine,\n)"
    )
    return f'''"""{cls}: {doc}"""

from __future__ import annotations

from typing import Any

from netra_backend.app.agents.registry import AgentRegistry
{imports}
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge

__all__ = ["{cls}"]


class {cls}:
    """Handles ``{kind}`` messages: one engine per message, events back to the sender."""

    message_type = "{kind}"

    def __init__(self, registry: AgentRegistry, websocket_bridge: AgentWebSocketBridge) -> None:
        self.registry = registry
        self.websocket_bridge = websocket_bridge
        self.handled = 0

    def can_handle(self, message: dict[str, Any]) -> bool:
        return message.get("type") == self.message_type

    async def handle(self, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
        payload = message.get("payload", {{}})
        user_context = UserExecutionContext.from_request(
            user_id, thread_id=payload.get("thread_id"), channel="websocket"
        )
        engine = ExecutionEngine(self.registry, self.websocket_bridge, user_context)
        result = await engine.execute_agent("{agent}", payload.get("text", ""))
        self.handled += 1
        return {{"type": "agent_response", "text": result.response, "run_id": result.run_id}}

    def describe(self) -> dict[str, Any]:
        from {BRIDGE} import ExecutionEngine as _Engine  # noqa: PLC0415 - optional at import time

        return {{"message_type": self.message_type, "engine": _Engine.__qualname__}}
'''


def handlers_init() -> str:
    lines = [
        '"""Websocket message handlers, one per message type."""\n',
        "from __future__ import annotations\n",
    ]
    lines += [f"from .{kind}_handler import {cls}" for kind, cls, *_ in HANDLERS]
    names = ", ".join(f'"{cls}"' for _, cls, *_ in sorted(HANDLERS, key=lambda h: h[1]))
    lines += [
        "",
        f"__all__ = [{names}]",
        "",
        "HANDLER_CLASSES = (" + ", ".join(c for _, c, *_ in HANDLERS) + ")",
    ]
    return "\n".join(lines) + "\n"


def handlers_test() -> str:
    cases = "\n".join(f'    ("{kind}", "{cls}"),' for kind, cls, *_ in HANDLERS)
    return f'''"""Websocket handlers: each message type runs one agent and answers its sender only."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.agents.registry import AgentRegistry
from {BRIDGE} import UserExecutionContext
from netra_backend.app.websocket_core import handlers
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import CRITICAL_EVENTS

CASES = [
{cases}
]


@pytest.mark.parametrize(("kind", "cls_name"), CASES)
def test_handler_answers_its_sender(kind: str, cls_name: str) -> None:
    bridge = AgentWebSocketBridge()
    handler = getattr(handlers, cls_name)(AgentRegistry.default(), bridge)
    message = {{"type": kind, "payload": {{"text": "How much do embeddings cost?", "thread_id": "t-ws"}}}}
    assert handler.can_handle(message)
    reply = asyncio.run(handler.handle("ws-user", message))
    assert reply["type"] == "agent_response"
    assert bridge.manager.event_types_for("ws-user") == list(CRITICAL_EVENTS)
    assert bridge.manager.connected_users() == ["ws-user"]
    assert handler.describe()["engine"] == "UserExecutionEngine"


def test_handlers_keep_concurrent_senders_apart() -> None:
    bridge = AgentWebSocketBridge()
    registry = AgentRegistry.default()
    all_handlers = [cls(registry, bridge) for cls in handlers.HANDLER_CLASSES]

    async def burst() -> None:
        await asyncio.gather(
            *(
                h.handle(f"ws-{{n}}", {{"type": h.message_type, "payload": {{"text": "hi"}}}})
                for n, h in enumerate(all_handlers)
            )
        )

    asyncio.run(burst())
    for n in range(len(all_handlers)):
        messages = bridge.manager.messages_for(f"ws-{{n}}")
        assert {{m["user_id"] for m in messages}} == {{f"ws-{{n}}"}}


def test_context_type_is_the_ssot_class() -> None:
    assert UserExecutionContext.__module__ == "{CONTEXT_MODULE}"
'''


def main() -> None:
    ensure_package("netra_backend/app/routes", "HTTP routes: request dicts in, service calls out.")
    ensure_package("netra_backend/app/admin", "Operator tools: sync commands, cron jobs.")
    for i, f in enumerate(FEATURES):
        write(f"netra_backend/app/services/{f.slug}_service.py", service_module(i, f))
        write(f"netra_backend/app/routes/{f.slug}.py", route_module(i, f))
        write(f"tests/integration/services/test_{f.slug}_service.py", service_test(i, f))
    for rel, doc, *commands in ADMIN:
        write(rel, admin_module(doc, tuple(commands)))
    for i, (kind, cls, agent, doc) in enumerate(HANDLERS):
        write(
            f"netra_backend/app/websocket_core/handlers/{kind}_handler.py",
            handler_module(i, kind, cls, agent, doc),
        )
    write("netra_backend/app/websocket_core/handlers/__init__.py", handlers_init())
    write("tests/websocket/test_message_handlers.py", handlers_test())
    for i, (rel, doc) in enumerate(P1_TESTS):
        write(rel, p1_test(i, doc))
    print(f"wrote the generated part of {ROOT}")


if __name__ == "__main__":
    main()
