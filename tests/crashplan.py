"""The crash-point suite's plan and its yardsticks, shared by the fault-injection tests.

A three-step plan (a codemod step and a ``run`` step that pass, then a step whose gate
fails, so the run rolls back, runs the on-rollback hook and the verify gate) on a small
repository; two small plans for phase gates (passing and failing) and ``on-failure:
continue|stop``; and how to compare what runs leave behind: exit code, tree, history with
commit ids and durations normalised, and whether any content a run wrote is lost.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT, git, make_repo

__all__ = [
    "BASE_FILES",
    "CODEMOD_ACTION",
    "CRASH_PLAN",
    "DECIDED_BY",
    "FLOW_PLANS",
    "MODES",
    "Outcome",
    "crash_plan",
    "crashed_journal",
    "fresh_repo",
    "journal_events",
    "lost_contents",
    "outcome",
    "plan_text",
    "runner_process",
    "working_files",
]

#: The codemod step of the crash plan: a real ``move-import`` (LibCST, process pool and all).
CODEMOD_ACTION = "move-import: {from: pkg.old, to: pkg.new}"

#: Step 1 (a codemod) and step 2 (a ``run`` step) pass; step 3's gate fails, so the run
#: rolls it back, runs the on-rollback hook and the verify gate, and exits 1.
CRASH_PLAN = """\
version: 1
name: crash-plan
settings:
  timeout: 30s
  env: {{PYTHONDONTWRITEBYTECODE: "1"}}
{settings}
gates:
  imports: {{run: "python -c 'import app'"}}
phases:
  - id: migrate
    steps:
      - id: imports
        title: Move pkg.old imports to pkg.new
        {codemod}
        gate: [imports]
      - id: bridge
        title: Drop the bridge module
        run: "rm pkg/old.py && echo 'VALUE = 2' > pkg/new.py"
        gate: [imports]
      - id: broken
        title: A change whose gate fails
        run: "echo 'import pkg.gone' > app.py && echo notes > NOTES.txt"
        gate: [imports]
on-rollback:
  run: ["echo restarted >> \\"$RUNNER_REPO/../hooks.log\\""]
  verify: [imports]
"""

BASE_FILES = {
    "app.py": "import pkg.old\n\nprint(pkg.old.VALUE)\n",
    "pkg/__init__.py": "",
    "pkg/old.py": "VALUE = 1\n",
    "pkg/new.py": "VALUE = 1\n",
    "README.md": "A repository to migrate.\n",
}

MODES = {
    "reset": "",
    "revert": "  rollback: plan\n  rollback-mode: revert\n",
}

_DURATION = re.compile(r"\bin \d+(?:\.\d+)?s\b")
_SHA = re.compile(r"\b[0-9a-f]{40}\b")


def crash_plan(settings: str) -> str:
    return CRASH_PLAN.format(settings=settings, codemod=CODEMOD_ACTION)


#: Plans of the other ways a run goes on or ends, kept small (shell steps, no Python gate):
#: the crash points of each cost three runner processes.
FLOW_PLANS = {
    # A failed gate committed as failed (on-failure: continue), a passing phase gate, then
    # a phase whose phase gate fails, so the phase is rolled back.
    "phase-gates": """\
version: 1
name: crash-flow
settings: {timeout: 30s}
phases:
  - id: one
    steps:
      - id: lenient
        on-failure: continue
        run: "echo soft > soft.txt"
        gate: [{run: "false"}]
    gate: [{run: "test -f soft.txt"}]
  - id: two
    steps:
      - id: more
        run: "echo two > two.txt"
    gate: [{run: "test -f missing.txt"}]
""",
    # A failed gate that stops the run with the tree as the step left it (on-failure: stop).
    "stop": """\
version: 1
name: crash-stop
settings: {timeout: 30s}
phases:
  - id: one
    steps:
      - id: stopper
        on-failure: stop
        run: "echo half > README.md"
        gate: [{run: "false"}]
""",
    # A failed gate whose culprit search keeps one file and holds back the other
    # (on-failure: isolate): probes switch the tree between subsets of the step's change.
    "isolate": """\
version: 1
name: crash-isolate
settings: {timeout: 30s}
phases:
  - id: one
    steps:
      - id: split
        on-failure: isolate
        run: "echo ok > a.txt && echo bad > b.txt"
        gate: [{run: "! grep -q bad b.txt 2>/dev/null"}]
""",
}

#: The journal event after which a crashed run's outcome is decided: the next run finishes
#: what it began and then runs the plan again, as a second run after an uninterrupted one.
DECIDED_BY = {"reset": "rollback-started", "revert": "rollback-started",
              "phase-gates": "rollback-started", "stop": "step-finished",
              "isolate": "step-committed"}  # fmt: skip


def plan_text(shape: str) -> str:
    """The crash plan of ``shape``: a rollback mode of the main plan, or a flow plan."""
    return crash_plan(MODES[shape]) if shape in MODES else FLOW_PLANS[shape]


# --- what a run leaves behind ----------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a run leaves that must not depend on a crash: exit code, tree, history."""

    code: int
    tree: str
    history: tuple[tuple[str, str], ...]  # (tree, message with durations normalised)
    status: str  # git status --porcelain: must stay empty


def outcome(repo: Path, code: int) -> Outcome:
    log = git("log", "--first-parent", "--format=%H%x1f%T%x1f%B%x1e", cwd=repo)
    records = [r.strip().split("\x1f", 2) for r in log.split("\x1e") if r.strip()]
    # Commit ids change with commit times; a message that names a commit (a revert) names
    # it by its place in the history instead.
    place = {sha: f"<commit ~{i}>" for i, (sha, _, _) in enumerate(records)}
    history = tuple(
        (tree, _DURATION.sub("in Ns", _SHA.sub(lambda m: place.get(m[0], "<sha>"), message)))
        for _, tree, message in records
    )
    return Outcome(code, git("rev-parse", "HEAD^{tree}", cwd=repo), history,
                   git("status", "--porcelain", cwd=repo))  # fmt: skip


def journal_events(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["event"] for line in path.read_text().splitlines() if line.strip()]


def crashed_journal(repo: Path) -> list[str]:
    """The journal of the run that was killed: still open, or archived if it had ended."""
    state = repo / ".git/runner"
    if (state / "journal.jsonl").exists():
        return journal_events(state / "journal.jsonl")
    archived = sorted((state / "runs").glob("*.jsonl")) if (state / "runs").exists() else []
    return journal_events(archived[-1]) if archived else []


def working_files(repo: Path) -> dict[str, bytes]:
    files = {}
    for path in repo.rglob("*"):
        rel = path.relative_to(repo)
        if rel.parts[0] != ".git" and path.is_file():
            files[rel.as_posix()] = path.read_bytes()
    return files


def blob_id(data: bytes, repo: Path) -> str:
    done = subprocess.run(["git", "hash-object", "--stdin"], input=data, cwd=repo,
                          capture_output=True, check=True)  # fmt: skip
    return done.stdout.decode().strip()


def recoverable_blobs(repo: Path) -> set[str]:
    """Contents a user can get back: post-images in saved patches, or anything in history."""
    found: set[str] = set()
    for patch in (repo / ".git/runner/rollbacks").glob("*.patch"):
        found |= set(re.findall(r"^index [0-9a-f]+\.\.([0-9a-f]{40})", patch.read_text(), re.M))
    objects = git("rev-list", "--objects", "--all", cwd=repo)
    found |= {line.split()[0] for line in objects.splitlines()}
    return found


def lost_contents(repo: Path, crashed: dict[str, bytes]) -> list[str]:
    """Files whose content after the crash is neither in the final tree nor recoverable."""
    final = working_files(repo)
    missing = [p for p, data in crashed.items() if final.get(p) != data]
    if not missing:
        return []
    saved = recoverable_blobs(repo)
    return [p for p in missing if blob_id(crashed[p], repo) not in saved]


# --- running --------------------------------------------------------------------------


def fresh_repo(path: Path, plan_text: str) -> tuple[Path, Path]:
    repo = make_repo(path / "repo", BASE_FILES)
    plan = path / "phases.yaml"
    plan.write_text(plan_text)
    return repo, plan


def runner_process(plan: Path, repo: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.Popen([sys.executable, "-m", "runner", "run", str(plan)], cwd=repo,
                            env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)  # fmt: skip
