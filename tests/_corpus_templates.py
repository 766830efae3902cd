"""Corpus cases for call templates of ``rewrite-call`` (the migration's preferred pattern)."""

from __future__ import annotations

from tests._codemod_cases import Case, template

EE = "pkg.old.ExecutionEngine"
FROM = f"{EE}(registry, websocket_bridge, user_context)"
TO = (
    "pkg.new.UserExecutionEngine(context=user_context, agent_factory=registry, "
    "websocket_emitter=websocket_bridge)"
)
PKG = {"pkg/__init__.py": "", "pkg/old.py": "", "pkg/new.py": ""}
HEAD = "from pkg.old import ExecutionEngine\n"
ADDED = "from pkg.old import ExecutionEngine\nfrom pkg.new import UserExecutionEngine\n"
CLIENT_FROM = "pkg.old.Client(url, retries=3, *, timeout=None)"
CLIENT_TO = "pkg.new.Session(url=url, max_retries=retries, timeout=timeout)"


def _fn(body: str, *, head: str = HEAD) -> str:
    return f"{head}\n\ndef start(r, w, u, args, kw):\n{body}"


TEMPLATES = [
    Case(
        "template-seed-positional-to-keywords",
        template(FROM, TO),
        {**PKG, "app.py": _fn("    return ExecutionEngine(r, w, u)\n")},
        {
            "app.py": _fn(
                "    return UserExecutionEngine(context=u, agent_factory=r, websocket_emitter=w)\n",
                head=ADDED,
            )
        },
        sites=1,
    ),
    Case(
        "template-keywords-keep-the-sites-order-renamed",
        template(CLIENT_FROM, CLIENT_TO),
        {**PKG, "app.py": "from pkg.old import Client\n\nc = Client(retries=r, url=u)\n"},
        {
            "app.py": (
                "from pkg.old import Client\nfrom pkg.new import Session\n\n"
                "c = Session(max_retries=r, url=u)\n"
            )
        },
    ),
    Case(
        "template-new-name-taken-is-listed-not-skipped-in-silence",
        template(CLIENT_FROM, "pkg.new.Client(url=url, max_retries=retries, timeout=timeout)"),
        {**PKG, "app.py": "from pkg.old import Client\n\nc = Client(retries=r, url=u)\n"},
        {},
        followups=("app.py:3: call of pkg.old.Client left as it is: Client already names",),
        sites=0,
    ),
    Case(
        "template-only-what-the-site-passed",
        template(CLIENT_FROM, CLIENT_TO),
        {**PKG, "app.py": "import pkg.old\n\na = pkg.old.Client(u)\nb = pkg.old.Client(u, 5)\n"},
        {
            "app.py": (
                "import pkg.old\nfrom pkg.new import Session\n\na = Session(url=u)\n"
                "b = Session(url=u, max_retries=5)\n"
            )
        },
        sites=2,
    ),
    Case(
        "template-positional-first-then-keywords",
        template(CLIENT_FROM, CLIENT_TO),
        {**PKG, "app.py": "import pkg.old\n\npkg.old.Client(u, timeout=1, retries=2)\n"},
        {
            "app.py": (
                "import pkg.old\nfrom pkg.new import Session\n\n"
                "Session(url=u, timeout=1, max_retries=2)\n"
            )
        },
    ),
    Case(
        "template-one-per-line-stays-and-comments-travel",
        template(FROM, TO),
        {
            **PKG,
            "app.py": _fn(
                "    return ExecutionEngine(\n"
                "        r,  # the registry\n"
                "        w,\n"
                "        u,\n"
                "    )\n"
            ),
        },
        {
            "app.py": _fn(
                "    return UserExecutionEngine(\n"
                "        context=u,\n"
                "        agent_factory=r,  # the registry\n"
                "        websocket_emitter=w,\n"
                "    )\n",
                head=ADDED,
            )
        },
    ),
    Case(
        "template-arguments-keep-their-source-text",
        template(FROM, TO),
        {
            **PKG,
            "app.py": _fn(
                "    return ExecutionEngine(r, w, make(u,  # inner comment\n             2))\n"
            ),
        },
        {
            "app.py": _fn(
                "    return UserExecutionEngine(context=make(u,  # inner comment\n             2), "
                "agent_factory=r, websocket_emitter=w)\n",
                head=ADDED,
            )
        },
    ),
    Case(
        "template-unsafe-sites-left-and-listed",
        template(FROM, TO),
        {
            **PKG,
            "app.py": _fn(
                "    a = ExecutionEngine(*args)\n"
                "    b = ExecutionEngine(**kw)\n"
                "    c = ExecutionEngine(r, w, u, 4)\n"
                "    d = ExecutionEngine(r, w, ctx=u)\n"
                "    e = ExecutionEngine(r, w)\n"
                "    return ExecutionEngine(r, w, registry=u)\n"
            ),
        },
        {},
        followups=(
            "app.py:5: call of pkg.old.ExecutionEngine left as it is: it passes *args",
            "app.py:6: call of pkg.old.ExecutionEngine left as it is: it passes **kwargs",
            "app.py:7: call of pkg.old.ExecutionEngine left as it is: it passes 4 arguments",
            "app.py:8: call of pkg.old.ExecutionEngine left as it is: it passes the keyword ctx=",
            "app.py:9: call of pkg.old.ExecutionEngine left as it is: it does not pass",
            "app.py:10: call of pkg.old.ExecutionEngine left as it is: it passes registry twice",
        ),
        sites=0,
    ),
    Case(
        "template-keyword-only-refused-by-position",
        template(CLIENT_FROM, CLIENT_TO),
        {**PKG, "app.py": "import pkg.old\n\npkg.old.Client(u, 2, 3)\n"},
        {},
        followups=("app.py:3: call of pkg.old.Client left as it is: it passes 3 arguments",),
    ),
    Case(
        "template-with-await",
        template(FROM, TO, await_=True),
        {
            **PKG,
            "app.py": (
                f"{HEAD}\n\nasync def a(r, w, u):\n    return ExecutionEngine(r, w, u)\n\n\n"
                "def b(r, w, u):\n    return ExecutionEngine(r, w, u)\n"
            ),
        },
        {
            "app.py": (
                f"{ADDED}\n\nasync def a(r, w, u):\n    return await UserExecutionEngine("
                "context=u, agent_factory=r, websocket_emitter=w)\n\n\n"
                "def b(r, w, u):\n    return ExecutionEngine(r, w, u)\n"
            )
        },
        followups=("app.py:9: sync call site of an awaited factory",),
        sites=1,
    ),
    Case(
        "template-positional-in-to-and-positional-only",
        template("pkg.old.f(a, /, b=None)", "pkg.new.g(b, a)"),
        {**PKG, "app.py": "import pkg.old\n\npkg.old.f(1, b=2)\npkg.old.f(1)\n"},
        {"app.py": "import pkg.old\nfrom pkg.new import g\n\ng(2, 1)\npkg.old.f(1)\n"},
        followups=("app.py:4: call of pkg.old.f left as it is: it leaves out b",),
        sites=1,
    ),
]

__all__ = ["TEMPLATES"]
