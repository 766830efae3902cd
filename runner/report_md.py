"""``--report FILE.md``: the run as a pull-request description, from the JSON report's data.

One model, two renderers: this module reads the very dictionary ``--report FILE.json``
writes (:func:`runner.report.report_json`), so the two never disagree. The Markdown is
plain CommonMark plus GitHub's task lists (``- [ ]``), which is what PR descriptions render.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.report import report_json

if TYPE_CHECKING:
    from runner.followups import LiveFollowUp
    from runner.results import RunReport

__all__ = ["render_markdown", "write_report"]


def write_report(
    report: RunReport, path: Path, *, followups: Sequence[LiveFollowUp] | None = None
) -> None:
    """``--report FILE``: Markdown for ``.md``/``.markdown``, JSON otherwise."""
    data = report_json(report, followups=followups)
    if path.suffix.lower() in (".md", ".markdown"):
        text = render_markdown(data)
    else:
        text = json.dumps(data, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")


def render_markdown(data: dict[str, Any]) -> str:
    """The JSON report's dictionary as Markdown: plan, steps and gates, rollbacks, follow-ups."""
    lines = [f"## {'Rehearsal' if data['rehearsal'] else 'Migration'}: {_code(data['plan'])}", ""]
    verdict = "failed" if data["failed"] else "done"
    lines += [
        f"**{verdict}** in {data['seconds']:.1f}s on branch {_code(data['branch'] or 'detached')}"
        f", {_code(data['start'][:10])} → {_code(data['head'][:10])}",
        "",
    ]
    if data.get("stopped_at"):
        lines += [f"Stopped at {_code(data['stopped_at'])}.", ""]
    lines += _steps_table(data["steps"])
    lines += _gates(data)
    lines += _rollbacks(data)
    lines += _followups(data)
    if data.get("notices"):
        lines += ["### Notices", "", *(f"- {_text(n)}" for n in data["notices"]), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _steps_table(steps: list[dict[str, Any]]) -> list[str]:
    lines = [
        "### Steps",
        "",
        "| step | status | time | gates | files | sites | commit |",
        "| --- | --- | ---: | --- | ---: | ---: | --- |",
    ]
    for s in steps:
        passed = sum(1 for g in s["gates"] if g["status"] == "passed")
        gates = f"{passed}/{len(s['gates'])} passed" if s["gates"] else ""
        unjudged = sum(1 for g in s["gates"] if g["status"] == "inconclusive")
        gates += f", {unjudged} inconclusive" if unjudged else ""
        lines.append(
            "| "
            + " | ".join(
                [
                    _code(s["key"]),
                    _cell(s["status"]),
                    f"{s['seconds']:.1f}s" if s["seconds"] else "",
                    gates,
                    str(len(s["changed"])) if s["changed"] else "",
                    str(s["sites"]) if s["sites"] else "",
                    _code(s["commit"][:10]) if s["commit"] else "",
                ]
            )
            + " |"
        )
    return [*lines, ""]


def _gates(data: dict[str, Any]) -> list[str]:
    rows = [(s["key"], g) for s in data["steps"] for g in s["gates"]]
    rows += [(f"phase {p}", g) for p, gates in data["phase_gates"] for g in gates]
    if not rows:
        return []
    lines = [
        "### Gates",
        "",
        "| for | gate | result | time | counts |",
        "| --- | --- | --- | ---: | --- |",
    ]
    for owner, g in rows:
        counts = ", ".join(f"{n} {k}" for k, n in g["counts"]) or _cell(g["summary"])
        if g["status"] == "inconclusive":  # the counts would not say why nothing was judged
            counts = _cell(g["summary"] + ": never judged")
        result = g["status"] + (" (report-only)" if g.get("report_only") else "")
        lines.append(
            f"| {_code(owner)} | {_code(g['name'])} | {_cell(result)} | "
            f"{g['seconds']:.1f}s | {counts} |"
        )
    return [*lines, ""]


def _rollbacks(data: dict[str, Any]) -> list[str]:
    records = [(s["key"], s["rollback"]) for s in data["steps"] if s.get("rollback")]
    if data.get("rollback"):
        records.append((data.get("stopped_at") or "phase", data["rollback"]))
    if not records:
        return []
    lines = ["### Rollbacks", ""]
    for owner, r in records:
        lines.append(
            f"- {_code(owner)}: rolled back ({r['scope']}, by {r['mode']}) to "
            f"{_code(r['target'][:10])}"
        )
        if r["patch"]:
            lines.append(f"  - discarded changes ({r['files']} file(s)): `git apply {r['patch']}`")
        for h in (*r["hooks"], *r["verify"]):
            lines.append(f"  - on-rollback {_code(h['name'])}: {_cell(h['status'])}")
    return [*lines, ""]


def _followups(data: dict[str, Any]) -> list[str]:
    live = data.get("followups")
    if live is not None:
        items = [(i["path"], i["line"], i["reason"], i["open"]) for i in live["items"]]
    else:
        items = [
            (f["path"], f["line"], f["reason"], True)
            for s in data["steps"]
            if s["commit"]
            for f in s["followups"]
        ]
    if not items:
        return []
    still = sum(1 for i in items if i[3])
    lines = [f"### Manual follow-ups ({still} open, {len(items) - still} resolved)", ""]
    for path, line, reason, is_open in sorted(items, key=lambda i: not i[3]):
        lines.append(f"- [{' ' if is_open else 'x'}] {_code(f'{path}:{line}')}: {_text(reason)}")
    return [*lines, ""]


def _code(text: str) -> str:
    """Inline code that survives backticks in the text."""
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: str) -> str:
    """Text inside a table cell: pipes escaped, one line."""
    return _text(text).replace("|", "\\|").replace("\n", " ")


def _text(text: str) -> str:
    """Markdown's active characters escaped where they would start markup."""
    for ch in ("\\", "*", "_", "[", "]", "<", ">"):
        text = text.replace(ch, "\\" + ch)
    return text
