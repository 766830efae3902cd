"""Re-runs of a ``pytest`` gate's failed tests, by node id (``retries: N``).

The failed tests are not passed as arguments: a gate's arguments may hold its own selection
(``tests/unit -k fast``), and pytest would run that selection *and* the ids. Instead the
gate's command runs again unchanged with a small plugin (written next to the run's temporary
files, loaded with ``-p``) that keeps only the listed node ids, so the re-run sees the same
options, ``conftest.py`` files and rootdir as the first run. ``--continue-on-collection-errors``
keeps a file that fails to collect elsewhere from interrupting the re-run; files that failed
to collect are never re-run (a re-run cannot make an import error flaky).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from runner.gates.baseline import Case, read_cases
from runner.gates.common import GateContext, log_path
from runner.journal import file_label
from runner.model import Gate
from runner.process import run_command

__all__ = ["PLUGIN", "rerun"]

PLUGIN = "runner_rerun_only"
_IDS_ENV = "RUNNER_RERUN_IDS"
_SOURCE = f'''"""Written by runner: runs only the node ids listed in ${_IDS_ENV}."""
import os


def pytest_collection_modifyitems(config, items):
    with open(os.environ["{_IDS_ENV}"], encoding="utf-8") as f:
        wanted = set(f.read().splitlines())
    keep = [item for item in items if item.nodeid in wanted]
    dropped = [item for item in items if item.nodeid not in wanted]
    items[:] = keep
    if dropped:
        config.hook.pytest_deselected(items=dropped)
'''


def rerun(
    gate: Gate, argv: Sequence[str], ids: Sequence[str], ctx: GateContext, attempt: int
) -> list[Case] | None:
    """Run ``argv`` (the gate's pytest command) again for ``ids`` only; their cases, or
    ``None`` when the re-run wrote no report (a timeout, a crash)."""
    folder = ctx.tmp_dir / "pytest-rerun"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{PLUGIN}.py").write_text(_SOURCE, encoding="utf-8")
    stem = f"{file_label(ctx.label)}.{file_label(gate.name)}.retry-{attempt}"
    listed = folder / f"{stem}.ids"
    listed.write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
    xml = folder / f"{stem}.junit.xml"
    xml.unlink(missing_ok=True)
    command = [*_without_junit(argv), f"--junitxml={xml}", "-p", PLUGIN]
    command.append("--continue-on-collection-errors")
    path = os.pathsep.join(filter(None, [str(folder), ctx.env.get("PYTHONPATH", "")]))
    env = {**ctx.env, "PYTHONPATH": path, _IDS_ENV: str(listed)}
    log = log_path(gate, ctx).with_suffix(f".retry-{attempt}.log")
    timeout = gate.timeout if gate.timeout is not None else ctx.default_timeout
    done = run_command(tuple(command), cwd=ctx.root, env=env, timeout=timeout, log=log)
    if done.timed_out:
        return None
    return read_cases(xml, ctx.root)


def _without_junit(argv: Sequence[str]) -> list[str]:
    return [a for a in argv if not a.startswith("--junitxml=")]
