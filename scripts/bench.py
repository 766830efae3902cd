"""Measure runner against the floor (bare git, LibCST on the candidates) and its peer, in one run.

Every number is a ratio against what the same work costs without runner, on the same
synthetic repository, so a slow machine moves both sides alike::

    python scripts/bench.py                        # sizes 1000,10000 (~15 min on 2 cores)
    python scripts/bench.py --quick                # 1000 files, one repetition (CI smoke)
    python scripts/bench.py --out bench.md --json bench.json

What is compared (the targets come from the issues that asked for them):

* Issue 2, engine overhead, on the largest repository: a 50-step plan of ``run`` steps with
  ``run: "true"`` gates against a shell script doing the same commands plus ``git add -A`` and
  ``git commit`` (≤ 1.2x); an automatic rollback of a 200-file step, from the journal's
  ``rollback-started`` → ``rollback-done`` times, against ``git reset --hard`` + ``git clean
  -fd`` on an identical repository state (≤ 1.5x).
* Issue 3, codemods: a one-step ``move-import`` plan, whole process, against the floor
  (``git grep -l`` + ``libcst.parse_module`` of the candidates on every core, see
  :func:`floor_grep_parse`; ≤ 2x) and against LibCST's own ``rename.RenameCommand`` (at least
  100x faster), with peak memory (< 300 MB); a ``rewrite-call`` with a call template (one
  call site in each of 2 % of the files: 200 on 10,000) against the same floor (≤ 2x); the
  ``forbid-imports`` scan against ``git grep``;
  ``runner --help`` and ``runner status`` against importing runner's dependencies, without
  LibCST.
* Issue 5, rehearsal: ``runner run --dry-run`` against ``git worktree add`` + the same
  commands + ``git worktree remove`` (≤ 1.5x); the rehearsal's private repository (``git
  init`` + alternates + the user's refs + checkout, then removal), in-process, against ``git
  worktree add`` + ``git worktree remove`` of the same repository (context: the isolation's
  price); on the bundled sample plan, rehearsal + ``run --replay`` against rehearsal + a plain
  run, and the replaying run's gate time against the plain run's (≤ 0.1x; not in --quick).
* Gates side by side: on the bundled sample plan, the gate time (wall, from the journal) with
  ``settings.parallel-gates: auto`` against one gate at a time, with the same verdicts and
  final tree (context; not in --quick; ``scripts/bench_parallel.py``).

Repositories are real git repositories built under a temporary folder; each measurement runs
on a fresh copy of one, with the index refreshed, so neither side pays for the copy. Git runs
with an empty global config and a fixed identity, so a developer's hooks or signing settings
never change a result. LibCST's tool needs no ``.libcst.codemod.yaml`` (``initialize`` only
writes defaults); it runs with ``--no-format`` because its default formatter, black, is not a
dependency and runner does not format either.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from random import Random
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RUNNER = [PYTHON, "-m", "runner"]
OLD, NEW = "pkg.old.Engine", "pkg.new.UserEngine"
USER_SHARE = 0.02  # share of files that use the deprecated symbol
OVERHEAD_STEPS = 50
ROLLBACK_FILES = 200
ROLLBACK_REPS = 5
REHEARSAL_STEPS = 3
MEMORY_LIMIT_MB = 300
#: The issues set their codemod targets on this size; smaller sizes are context.
TARGET_SIZE = 10_000

# --- the table ---------------------------------------------------------------------------

#: The measurement rows, in table order; ``{n}`` is a repository size. The smoke test checks
#: that every row is printed, so a row is never silently dropped.
ROWS_LARGEST = (
    "engine overhead: {n} files, 50-step plan vs bare shell script",
    "rollback of a 200-file step: {n} files, journal vs git reset --hard + clean",
    "rollback of a 200-file step: {n} files, whole process vs bare script",
    "rehearsal: {n} files, run --dry-run vs worktree add + commands + remove",
    "rehearsal setup: {n} files, private repository made + removed vs worktree add + remove",
    "sample plan: rehearsal + run --replay vs rehearsal + plain run (wall)",
    "sample plan: gate time of run --replay vs of a plain run",
    "runner --help vs import typer, git, yaml",
    "runner status vs import typer, git, yaml",
    "sample plan: gate time (wall) with parallel-gates: auto vs one gate at a time",
    "culprit search: 64-file step, 2 culprits, {n} files, search vs gate runs x one gate run",
)
ROWS_PER_SIZE = (
    "move-import: {n} files, whole process vs floor process (grep + parse)",
    "move-import: {n} files, whole process vs floor function in-process",
    "move-import: {n} files, whole process vs LibCST rename codemod -j2",
    "move-import: {n} files, peak RSS of process tree",
    "rewrite-call template: {n} files, whole process vs floor process (grep + parse)",
    "forbid-imports: {n} files, find_import_sites in-process vs git grep",
    "forbid-imports: {n} files, one-gate plan whole process vs git grep",
)


@dataclass
class Row:
    """One line of the table; ``runner`` and ``base`` are seconds (or MB for memory rows)."""

    name: str
    runner: float | None
    base: float | None
    base_label: str
    target: str
    verdict: str
    ratio: str
    unit: str = "s"
    note: str = ""
    samples: dict[str, Any] = field(default_factory=dict)


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def ratio_row(
    name: str,
    runner: float | None,
    base: float | None,
    label: str,
    *,
    limit: float | None,
    **extra: Any,
) -> Row:
    """runner ÷ base, against ``limit`` (``None``: context only, no verdict)."""
    if runner is None or base is None or base <= 0:
        return Row(name, runner, base, label, _limit_text(limit), "-", "skipped", **extra)
    ratio = runner / base
    verdict = "-" if limit is None else "✓" if ratio <= limit else "✗"
    return Row(name, runner, base, label, _limit_text(limit), verdict, f"{ratio:.2f}x", **extra)


def _limit_text(limit: float | None) -> str:
    return "-" if limit is None else f"≤ {limit:g}x"


def speedup_row(
    name: str,
    runner: float | None,
    peer: float | None,
    label: str,
    *,
    at_least: float | None,
    timed_out: bool,
    **extra: Any,
) -> Row:
    """How many times faster than the peer; a peer cut by its timeout gives a lower bound.
    ``at_least`` ``None``: context only, no verdict."""
    target = "-" if at_least is None else f"≥ {at_least:g}x faster"
    if runner is None or peer is None:
        return Row(name, runner, peer, label, target, "-", "skipped", **extra)
    speed = peer / runner
    if at_least is None:
        verdict = "-"
    elif timed_out:
        verdict = "✓" if speed >= at_least else "?"  # a lower bound: not a failure
    else:
        verdict = "✓" if speed >= at_least else "✗"
    if timed_out:
        return Row(
            name,
            runner,
            peer,
            f"{label} (>{_fmt(peer, 's')}: timed out)",
            target,
            verdict,
            f">{speed:.0f}x faster",
            **extra,
        )
    return Row(name, runner, peer, label, target, verdict, f"{speed:.0f}x faster", **extra)


def render(rows: Sequence[Row], header: str) -> str:
    """The Markdown table, with the notes under it."""
    lines = [
        header,
        "",
        "| measurement | runner | floor/peer | ratio | target | verdict |",
        "|---|---:|---|---:|---|:-:|",
    ]
    for r in rows:
        base = f"{_fmt(r.base, r.unit)} ({r.base_label})" if r.base_label else _fmt(r.base, r.unit)
        cells = (r.name, _fmt(r.runner, r.unit), base, r.ratio, r.target, r.verdict)
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"- {r.name}: {r.note}" for r in rows if r.note]
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines) + "\n"


# --- the synthetic repository ------------------------------------------------------------

_NOUNS = (
    "invoice",
    "order",
    "account",
    "session",
    "report",
    "ticket",
    "message",
    "payment",
    "profile",
    "channel",
    "record",
    "metric",
    "token",
    "queue",
    "batch",
    "widget",
    "customer",
    "shipment",
    "product",
    "review",
    "quota",
    "schedule",
    "budget",
    "upload",
)
_VERBS = (
    "load",
    "parse",
    "build",
    "render",
    "merge",
    "split",
    "validate",
    "collect",
    "format",
    "compute",
    "filter",
    "resolve",
    "publish",
    "sync",
    "archive",
    "refresh",
)
_AREAS = (
    "billing",
    "auth",
    "search",
    "catalog",
    "shipping",
    "analytics",
    "notifications",
    "inventory",
    "support",
    "reporting",
)
_FILES_PER_DIR = 50

_OLD_MODULE = '''\
"""The deprecated engine, kept for callers that have not moved yet."""


class Engine:
    def __init__(self, a, b):
        self.a = a
        self.b = b

    def start(self):
        return (self.a, self.b)


class Config:
    retries = 3


def helper():
    return Config()
'''
_NEW_MODULE = '''\
"""The engine every caller should use."""


class UserEngine:
    def __init__(self, a, b):
        self.a = a
        self.b = b

    def start(self):
        return (self.a, self.b)
'''

#: How a user file imports the deprecated symbol (import lines, local name of the class).
_FORMS: tuple[tuple[str, str], ...] = (
    ("from pkg.old import Engine\n", "Engine"),
    ("from pkg.old import Engine as E\n", "E"),
    ("from pkg.old import Config, Engine, helper\n", "Engine"),
    ("from pkg.old import (\n    Config,\n    Engine,\n    helper,\n)\n", "Engine"),
    ("import pkg.old\n", "pkg.old.Engine"),
)
_RELATIVE_FORM = ("from .old import Engine\n", "Engine")


def _filler(rng: Random, module_index: int, extra_import: str = "", user: str = "") -> str:
    """A realistic module of 30-80 lines; ``user`` is the local name of the deprecated class."""
    noun = rng.choice(_NOUNS)
    cls = noun.capitalize() + rng.choice(("Record", "Item", "Entry", "Summary"))
    parts = [
        f'"""{noun.capitalize()} helpers for the {rng.choice(_AREAS)} service."""\n\n'
        "from __future__ import annotations\n\n"
        "import json\nimport logging\nfrom dataclasses import dataclass, field\n"
        f"from typing import Any\n{extra_import}\n"
        f"log = logging.getLogger(__name__)\n\nMAX_ITEMS = {rng.randint(10, 500)}\n\n\n"
        f"@dataclass\nclass {cls}:\n"
        f'    """One {noun}, as the API returns it."""\n\n'
        "    name: str\n    size: int = 0\n"
        "    tags: list[str] = field(default_factory=list)\n\n"
        "    def describe(self) -> str:\n"
        '        return f"{self.name} ({self.size})"\n'
    ]
    for _ in range(rng.randint(1, 4)):
        verb = rng.choice(_VERBS)
        key = rng.choice(_NOUNS)
        parts.append(
            textwrap.dedent(f'''

            def {verb}_{key}_{module_index}_{len(parts)}(items: list[dict[str, Any]]) -> list:
                """{verb.capitalize()} the {key} entries, skipping oversized ones."""
                out = []
                for item in items:
                    if item.get("size", 0) > MAX_ITEMS:
                        log.debug("skipping %s", json.dumps(item))
                        continue
                    out.append({cls}(item["name"], item.get("size", 0)))
                return out
        ''')
        )
    if user:
        parts.append(
            textwrap.dedent(f"""

            def start_{noun}(a, b):
                engine = {user}(a, b)
                log.info("started %s", engine)
                return engine.start()
        """)
        )
    return "".join(parts)


def build_repo(path: Path, n_files: int, env: dict[str, str], seed: int = 802) -> dict[str, int]:
    """A committed repository of ``n_files`` Python files, ~2 % using ``pkg.old.Engine``."""
    rng = Random(seed + n_files)
    files: dict[str, str] = {
        "pkg/__init__.py": "",
        "pkg/old.py": _OLD_MODULE,
        "pkg/new.py": _NEW_MODULE,
    }
    users = max(1, round(n_files * USER_SHARE))
    relative = max(1, users // 7)
    for k in range(relative):
        line, name = _RELATIVE_FORM
        files[f"pkg/consumer_{k:03d}.py"] = _filler(rng, k, line, name)
    every = max(1, (n_files - len(files)) // (users - relative)) if users > relative else 0
    index, user_count, current_dir = 0, relative, ""
    while len(files) < n_files:
        group = index // _FILES_PER_DIR
        directory = f"app/{_AREAS[group % len(_AREAS)]}/g{group:03d}"
        if directory != current_dir:
            current_dir = directory
            files[f"{directory}/__init__.py"] = f'"""The {directory} package."""\n'
            continue
        is_user = every and index % every == every // 2 and user_count < users
        if is_user:
            line, name = _FORMS[user_count % len(_FORMS)]
            text = _filler(rng, index, line, name)
            user_count += 1
        else:
            text = _filler(rng, index)
            if "old" in text or "Engine" in text:  # the floor greps both: keep fillers clean
                raise AssertionError(text)
        files[f"{directory}/m_{index:05d}.py"] = text
        index += 1
    for rel, text in files.items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for args in (
        ("init", "-q", "-b", "main"),
        ("add", "-A"),
        ("commit", "-qm", "base"),
        ("gc", "-q"),
    ):
        subprocess.run(["git", *args], cwd=path, env=env, check=True, capture_output=True)
    return {"files": len(files), "users": user_count}


def fresh_copy(base: Path, dest: Path, env: dict[str, str]) -> Path:
    """A copy of ``base`` with its index refreshed, so the first git command pays nothing,
    and flushed to disk, so the kernel writing back ~100 MB of copy never lands inside a
    measurement (it made one side's writes several times slower, at random)."""
    if dest.exists():
        shutil.rmtree(dest)
    subprocess.run(["cp", "-a", str(base), str(dest)], check=True)
    subprocess.run(
        ["git", "update-index", "-q", "--refresh"],
        cwd=dest,
        env=env,
        check=False,
        capture_output=True,
    )
    os.sync()
    return dest


# --- measuring processes -----------------------------------------------------------------


@dataclass
class Sample:
    """One finished process: wall time, exit code, peak RSS (MB) of its largest process."""

    seconds: float
    returncode: int
    max_rss_mb: float
    timed_out: bool = False
    tree_peak_mb: float | None = None


def _tree_rss_mb(root_pid: int) -> float:
    """The summed RSS of ``root_pid`` and every descendant, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [root_pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total / 2**20


def run_timed(
    cmd: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    log: Path,
    timeout: float | None = None,
    sample_tree: bool = False,
) -> Sample:
    """Run ``cmd`` to completion (or ``timeout``: the group is killed), measured via wait4."""
    log.parent.mkdir(parents=True, exist_ok=True)
    peak = [0.0]
    done = threading.Event()
    with log.open("ab") as out:
        out.write(f"$ {' '.join(cmd)}  (in {cwd})\n".encode())
        out.flush()
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        killed: list[bool] = []
        timer = threading.Timer(timeout, _kill_group, (proc.pid, killed)) if timeout else None
        if timer:
            timer.start()
        sampler = None
        if sample_tree:

            def sample() -> None:
                while not done.wait(0.05):
                    peak[0] = max(peak[0], _tree_rss_mb(proc.pid))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if timer:
            timer.cancel()
        if sampler:
            sampler.join()
    return Sample(
        seconds,
        proc.returncode,
        usage.ru_maxrss / 1024,
        bool(killed),
        peak[0] if sample_tree else None,
    )


def _kill_group(pid: int, killed: list[bool]) -> None:
    killed.append(True)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def median(values: Sequence[float]) -> float:
    """The median (a single value is its own median)."""
    return statistics.median(values)


class Failed(Exception):
    """A measured command did not do what it should have; the log says why."""


def expect(sample: Sample, codes: Sequence[int], what: str, log: Path) -> Sample:
    """Refuse to report a time for a command that failed: the number would mean nothing."""
    if sample.returncode not in codes:
        tail = log.read_text(errors="replace")[-2000:]
        msg = f"{what} exited {sample.returncode} (expected {codes}); log {log}:\n{tail}"
        raise Failed(msg)
    return sample


# --- the floor for codemods --------------------------------------------------------------


def _parse_one(path: str) -> int:
    import libcst  # noqa: PLC0415 - already imported by the parent; workers are forked

    libcst.parse_module(Path(path).read_bytes())
    return 1


def floor_grep_parse(root: Path) -> int:
    """The least any LibCST codemod must do: find candidates with git grep, parse them all.

    ``git grep -l -e Engine -e old``, then ``libcst.parse_module`` on each candidate in a
    process pool as wide as the machine. Returns the number of candidates.
    """
    import libcst  # noqa: F401, PLC0415 - imported once here, inherited by forked workers

    out = subprocess.run(
        ["git", "grep", "-l", "-z", "-e", "Engine", "-e", "old", "--", "*.py"],
        cwd=root,
        capture_output=True,
        check=False,
    ).stdout
    paths = [str(root / p) for p in out.decode().split("\0") if p]
    workers = os.cpu_count() or 1
    chunksize = max(1, math.ceil(len(paths) / (workers * 4)))
    with ProcessPoolExecutor(workers) as pool:
        return sum(pool.map(_parse_one, paths, chunksize=chunksize))


# --- plans -------------------------------------------------------------------------------


def _plan(name: str, steps: Sequence[str]) -> str:
    return f"version: 1\nname: {name}\nphases:\n  - id: bench\n    steps:\n" + "".join(steps)


def _run_step(i: int, command: str, gate: str = '{run: "true"}') -> str:
    return f"      - id: s{i:03d}\n        run: {json.dumps(command)}\n        gate: [{gate}]\n"


def overhead_plan() -> str:
    """50 small ``run`` steps with trivial gates."""
    return _plan(
        "bench-overhead",
        [_run_step(i, f"echo {i} >> f_{i}.txt") for i in range(1, OVERHEAD_STEPS + 1)],
    )


def move_plan() -> str:
    """One ``move-import`` step with a trivial gate."""
    step = (
        f"      - id: move\n        move-import: {{from: {OLD}, to: {NEW}}}\n"
        '        gate: [{run: "true"}]\n'
    )
    return _plan("bench-move", [step])


def template_plan() -> str:
    """One ``rewrite-call`` step with a call template: every ``Engine(a, b)`` site (2 % of
    the files, 200 on 10,000) becomes ``UserEngine(a=..., b=...)``."""
    step = (
        "      - id: call\n        rewrite-call:\n"
        f"          from: '{OLD}(a, b)'\n          to: '{NEW}(a=a, b=b)'\n"
        '        gate: [{run: "true"}]\n'
    )
    return _plan("bench-template", [step])


def forbid_plan() -> str:
    """One step with no action and only a ``forbid-imports`` gate that passes."""
    step = f"      - id: scan\n        gate: [{{forbid-imports: [{OLD}], max: 1000000}}]\n"
    return _plan("bench-scan", [step])


# --- the benchmark -----------------------------------------------------------------------


@dataclass
class Bench:
    """Everything a run shares: options, the work folder, the environment, the results."""

    sizes: tuple[int, ...]
    reps: int
    quick: bool
    peer: bool
    peer_timeout: float
    peer_max_size: int
    work: Path
    env: dict[str, str]
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    repos: dict[int, Path] = field(default_factory=dict)
    row_types: tuple[Any, Any] = (Row, ratio_row)  # for scripts/bench_input.py

    @property
    def logs(self) -> Path:
        return self.work / "logs"

    def say(self, text: str) -> None:
        print(f"[bench] {text}", file=sys.stderr, flush=True)

    def copy(self, size: int, name: str) -> Path:
        dest = self.work / "copies" / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        return fresh_copy(self.repos[size], dest, self.env)

    def tidy(self, keep: Path | None = None) -> None:
        """Remove the copies of earlier measurements (a 10,000-file copy is ~100 MB)."""
        copies = self.work / "copies"
        for path in copies.iterdir() if copies.exists() else ():
            if path != keep:
                shutil.rmtree(path, ignore_errors=True)

    def timed(
        self,
        cmd: Sequence[str],
        cwd: Path,
        what: str,
        *,
        codes: Sequence[int] = (0,),
        **kwargs: Any,
    ) -> Sample:
        log = self.logs / f"{what}.log"
        return expect(run_timed(cmd, cwd=cwd, env=self.env, log=log, **kwargs), codes, what, log)

    def write(self, name: str, text: str) -> Path:
        path = self.work / "inputs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def repeat(self, make: Callable[[int], float]) -> list[float]:
        return [make(i) for i in range(self.reps)]

    # --- issue 2: engine overhead ------------------------------------------------------

    def engine_overhead(self, n: int) -> Path:
        plan = self.write("overhead.yaml", overhead_plan())
        lines = ["set -e"]
        for i in range(1, OVERHEAD_STEPS + 1):
            lines += [
                f"echo {i} >> f_{i}.txt",
                "git add -A",
                "true",
                f"git commit -q --no-verify --no-gpg-sign -m 'step {i}'",
            ]
        script = self.write("overhead.sh", "\n".join(lines) + "\n")
        last = Path()

        def runner(i: int) -> float:
            nonlocal last
            last = self.copy(n, f"overhead-runner-{i}")
            return self.timed(
                [*RUNNER, "run", str(plan), "--repo", str(last)], last, f"overhead-runner-{n}-{i}"
            ).seconds

        def bare(i: int) -> float:
            repo = self.copy(n, f"overhead-bare-{i}")
            return self.timed(["bash", str(script)], repo, f"overhead-bare-{n}-{i}").seconds

        r, b = self.repeat(runner), self.repeat(bare)
        self.raw[f"overhead-{n}"] = {"runner": r, "bare": b}
        self.rows.append(
            ratio_row(ROWS_LARGEST[0].format(n=n), median(r), median(b), "bare script", limit=1.2)
        )
        return last  # holds the 50 checkpoints, for `runner status`

    def rollback(self, n: int) -> None:
        plan = self.write(
            "rollback.yaml",
            _plan(
                "bench-rollback",
                [_run_step(1, f"sh {self.work / 'inputs' / 'touch.sh'}", '{run: "false"}')],
            ),
        )
        targets = sorted(
            p.relative_to(self.repos[n]).as_posix() for p in self.repos[n].glob("app/*/*/m_*.py")
        )[:ROLLBACK_FILES]
        touch = self.write("touch.sh", "".join(f"echo '# touched' >> {t}\n" for t in targets))
        bare_script = self.write(
            "rollback.sh",
            f"sh {touch}\ngit add -A\nif ! false; then\n"
            "  git reset -q --hard HEAD\n  git clean -fdq\nfi\n",
        )
        journal, whole, bare_reset, bare_whole = [], [], [], []
        # Each side writes 200 files: the disk makes single samples vary by 2x, and a
        # repetition costs a second, so a measuring run takes at least five (a smoke run one).
        reps = self.reps if self.reps == 1 else max(self.reps, ROLLBACK_REPS)
        for i in range(reps):
            repo = self.copy(n, f"rollback-runner-{i}")
            s = self.timed(
                [*RUNNER, "run", str(plan), "--repo", str(repo)],
                repo,
                f"rollback-runner-{n}-{i}",
                codes=(1,),
            )
            whole.append(s.seconds)
            journal.append(_rollback_seconds(repo))
            repo = self.copy(n, f"rollback-bare-{i}")
            subprocess.run(["sh", str(touch)], cwd=repo, check=True)
            subprocess.run(["git", "add", "-A"], cwd=repo, env=self.env, check=True)
            start = time.perf_counter()
            for cmd in (["git", "reset", "-q", "--hard", "HEAD"], ["git", "clean", "-fdq"]):
                subprocess.run(cmd, cwd=repo, env=self.env, check=True)
            bare_reset.append(time.perf_counter() - start)
            repo = self.copy(n, f"rollback-bare-whole-{i}")
            bare_whole.append(
                self.timed(["bash", str(bare_script)], repo, f"rollback-bare-whole-{n}-{i}").seconds
            )
        self.raw[f"rollback-{n}"] = {
            "journal": journal,
            "runner_whole": whole,
            "bare_reset_clean": bare_reset,
            "bare_whole": bare_whole,
        }
        self.rows.append(
            ratio_row(
                ROWS_LARGEST[1].format(n=n),
                median(journal),
                median(bare_reset),
                "reset --hard + clean -fd",
                limit=1.5,
                note="runner saves the discarded diff as a patch first (git diff --cached "
                "--binary of the index the step staged, fsync); the tree watch vouches that "
                "the gates changed nothing since; then it restores only the paths the run "
                "changed (git checkout TARGET -- paths, git update-ref), never a whole-tree reset",
            )
        )
        self.rows.append(
            ratio_row(
                ROWS_LARGEST[2].format(n=n),
                median(whole),
                median(bare_whole),
                "bare script",
                limit=None,
            )
        )

    def rehearsal(self, n: int) -> None:
        plan = self.write(
            "rehearsal.yaml",
            _plan(
                "bench-rehearsal",
                [_run_step(i, f"echo {i} >> f_{i}.txt") for i in range(1, REHEARSAL_STEPS + 1)],
            ),
        )
        tree = self.work / "rehearsal-tree"
        lines = ["set -e", f'git worktree add -q --detach "{tree}" HEAD', f'cd "{tree}"']
        for i in range(1, REHEARSAL_STEPS + 1):
            lines += [
                f"echo {i} >> f_{i}.txt",
                "git add -A",
                "true",
                f"git commit -q --no-verify --no-gpg-sign -m 'step {i}'",
            ]
        lines += ['cd "$OLDPWD"', f'git worktree remove --force --force "{tree}"']
        script = self.write("rehearsal.sh", "\n".join(lines) + "\n")
        repo_r, repo_b = self.copy(n, "rehearsal-runner"), self.copy(n, "rehearsal-bare")
        r = self.repeat(
            lambda i: (
                self.timed(
                    [*RUNNER, "run", str(plan), "--dry-run", "--repo", str(repo_r)],
                    repo_r,
                    f"rehearsal-runner-{n}-{i}",
                ).seconds
            )
        )
        b = self.repeat(
            lambda i: self.timed(["bash", str(script)], repo_b, f"rehearsal-bare-{n}-{i}").seconds
        )
        self.raw[f"rehearsal-{n}"] = {"runner": r, "bare": b}
        self.rows.append(
            ratio_row(
                ROWS_LARGEST[3].format(n=n), median(r), median(b), "bare worktree script", limit=1.5
            )
        )

    def rehearsal_setup(self, n: int) -> None:
        """The private repository against the worktree it replaced, both timed in-process."""
        repo = self.copy(n, "rehearsal-setup")
        code = textwrap.dedent(f"""\
            import json, subprocess, sys, time
            from pathlib import Path
            from runner.isolate import private_workspace
            repo, tree, out = Path(sys.argv[1]), sys.argv[2], []
            for _ in range({self.reps}):
                t = time.perf_counter()
                with private_workspace(repo, None):
                    pass
                private = time.perf_counter() - t
                t = time.perf_counter()
                subprocess.run(["git", "worktree", "add", "-q", "--detach", tree, "HEAD"],
                               cwd=repo, check=True)
                subprocess.run(["git", "worktree", "remove", "--force", "--force", tree],
                               cwd=repo, check=True)
                out.append([private, time.perf_counter() - t])
            print(json.dumps(out))
        """)
        done = subprocess.run(
            [PYTHON, "-c", code, str(repo), str(self.work / "setup-tree")],
            cwd=repo,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise Failed(f"rehearsal setup failed: {done.stderr[-2000:]}")
        pairs = json.loads(done.stdout)
        private, worktree = [p for p, _ in pairs], [w for _, w in pairs]
        self.raw[f"rehearsal-setup-{n}"] = {"private": private, "worktree": worktree}
        self.rows.append(
            ratio_row(
                ROWS_LARGEST[4].format(n=n),
                median(private),
                median(worktree),
                "worktree add + remove",
                limit=None,
            )
        )

    def sample_replay(self) -> None:
        """The bundled sample plan: rehearse, then replay; against rehearse, then run."""
        names = ROWS_LARGEST[5:7]
        if self.quick:
            for name in names:
                self.rows.append(Row(name, None, None, "-", "-", "-", "skipped", note="--quick"))
            return
        sample = ROOT / "runner" / "sample"
        base = self.work / "sample"
        shutil.copytree(sample / "netra", base, ignore=shutil.ignore_patterns("__pycache__"))
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "base"]):
            subprocess.run(["git", *args], cwd=base, env=self.env, check=True)
        env = self.env | {"PATH": f"{Path(PYTHON).parent}{os.pathsep}{self.env['PATH']}"}
        plan = str(sample / "phases.yaml")

        def run(repo: Path, what: str, *extra: str) -> tuple[float, float]:
            report = self.work / f"{what}.json"
            cmd = [*RUNNER, "run", plan, "--yes", "--report", str(report), *extra]
            log = self.logs / f"sample-{what}.log"
            sample_ = expect(run_timed(cmd, cwd=repo, env=env, log=log), (0,), what, log)
            data = json.loads(report.read_text())
            gates = [g for s in data["steps"] for g in s["gates"]]
            gates += [g for _, phase in data["phase_gates"] for g in phase]
            return sample_.seconds, sum(g["seconds"] for g in gates)

        replayed, plain = self.copy_of(base, "sample-replay"), self.copy_of(base, "sample-plain")
        rehearsal, _ = run(replayed, "sample-rehearsal", "--dry-run")
        replay_wall, replay_gates = run(replayed, "sample-replay", "--replay")
        plain_wall, plain_gates = run(plain, "sample-plain")
        self.raw["sample-replay"] = {
            "rehearsal": rehearsal, "replay": [replay_wall, replay_gates],
            "plain": [plain_wall, plain_gates],
        }  # fmt: skip
        self.rows.append(
            ratio_row(
                names[0],
                rehearsal + replay_wall,
                rehearsal + plain_wall,
                "rehearsal + plain run",
                limit=None,
            )
        )
        self.rows.append(
            ratio_row(names[1], replay_gates, plain_gates, "plain run's gates", limit=0.1)
        )

    def copy_of(self, base: Path, name: str) -> Path:
        dest = self.work / "copies" / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        return fresh_copy(base, dest, self.env)

    def startup(self, repo: Path) -> None:
        plan = self.work / "inputs" / "overhead.yaml"
        cases = {
            "help": ([*RUNNER, "--help"], ROWS_LARGEST[7]),
            "status": ([*RUNNER, "status", str(plan), "--repo", str(repo)], ROWS_LARGEST[8]),
        }
        base_cmd = [PYTHON, "-c", "import typer, git, yaml"]
        reps = max(3, self.reps * 2)
        base = [self.timed(base_cmd, repo, f"import-deps-{i}").seconds for i in range(reps)]
        self.raw["import-deps"] = base
        for key, (cmd, name) in cases.items():
            times = [self.timed(cmd, repo, f"{key}-{i}").seconds for i in range(reps)]
            loaded = _imports_libcst(cmd, repo, self.env)
            row = ratio_row(
                name, median(times), median(base), "import typer, git, yaml", limit=None
            )
            row.target = "no LibCST import"
            row.verdict = "✗" if loaded else "✓"
            row.note = "LibCST imported!" if loaded else ""
            self.raw[f"startup-{key}"] = {"runner": times, "imports_libcst": loaded}
            self.rows.append(row)

    # --- issue 3: codemods -------------------------------------------------------------

    def codemods(self, n: int) -> None:
        plan = self.write("move.yaml", move_plan())
        runs: list[Sample] = []
        for i in range(self.reps):
            repo = self.copy(n, f"move-runner-{i}")
            runs.append(
                self.timed(
                    [*RUNNER, "run", str(plan), "--repo", str(repo)], repo, f"move-runner-{n}-{i}"
                )
            )
        changed = _changed_files(repo, self.env)
        repo = self.copy(n, "move-runner-mem")
        mem = self.timed(
            [*RUNNER, "run", str(plan), "--repo", str(repo)],
            repo,
            f"move-runner-mem-{n}",
            sample_tree=True,
        )
        floor_repo = self.copy(n, "move-floor")
        floor_proc = [
            self.timed([PYTHON, __file__, "--floor", str(floor_repo)], floor_repo, f"floor-{n}-{i}")
            for i in range(self.reps)
        ]
        floor_mem = self.timed(
            [PYTHON, __file__, "--floor", str(floor_repo)],
            floor_repo,
            f"floor-mem-{n}",
            sample_tree=True,
        )
        import libcst  # noqa: F401, PLC0415 - warm, as the in-process floor assumes

        in_process, candidates = [], 0
        for _ in range(self.reps):
            start = time.perf_counter()
            candidates = floor_grep_parse(floor_repo)
            in_process.append(time.perf_counter() - start)
        r = median([s.seconds for s in runs])
        targeted = n >= TARGET_SIZE
        self.raw[f"move-{n}"] = {
            "runner": [asdict(s) for s in runs],
            "runner_memory": asdict(mem),
            "files_changed": changed,
            "floor_process": [asdict(s) for s in floor_proc],
            "floor_memory": asdict(floor_mem),
            "floor_in_process": in_process,
            "floor_candidates": candidates,
        }
        self.rows.append(
            ratio_row(
                ROWS_PER_SIZE[0].format(n=n),
                r,
                median([s.seconds for s in floor_proc]),
                "floor process",
                limit=2 if targeted else None,
                note=f"{changed} files rewritten; the floor parses "
                f"{candidates} candidates and writes nothing",
            )
        )
        self.rows.append(
            ratio_row(
                ROWS_PER_SIZE[1].format(n=n),
                r,
                median(in_process),
                "floor function, warm",
                limit=None,
                note="context: this floor starts no interpreter and imports nothing",
            )
        )
        self.rows.append(self._peer(n, r, targeted=targeted))
        self._template(n, floor_proc, targeted=targeted)
        peak = max(mem.tree_peak_mb or 0.0, mem.max_rss_mb)
        self.rows.append(
            Row(
                ROWS_PER_SIZE[3].format(n=n),
                peak,
                floor_mem.tree_peak_mb,
                "floor process",
                f"< {MEMORY_LIMIT_MB} MB" if targeted else "-",
                ("✓" if peak < MEMORY_LIMIT_MB else "✗") if targeted else "-",
                "-",
                unit="MB",
                note=f"largest single process {mem.max_rss_mb:.0f} MB (wait4 ru_maxrss); the tree "
                "sum is sampled every 50 ms",
            )
        )
        self.forbid_imports(n)

    def _template(self, n: int, floor: list[Sample], *, targeted: bool) -> None:
        """The templated ``rewrite-call``, whole process, against the same floor."""
        plan = self.write("template.yaml", template_plan())
        runs: list[Sample] = []
        for i in range(self.reps):
            repo = self.copy(n, f"template-runner-{i}")
            runs.append(
                self.timed(
                    [*RUNNER, "run", str(plan), "--repo", str(repo)], repo, f"template-{n}-{i}"
                )
            )
        changed = _changed_files(repo, self.env)
        self.raw[f"template-{n}"] = {"runner": [asdict(s) for s in runs], "files_changed": changed}
        self.rows.append(
            ratio_row(
                ROWS_PER_SIZE[4].format(n=n),
                median([s.seconds for s in runs]),
                median([s.seconds for s in floor]),
                "floor process",
                limit=2 if targeted else None,
                note=f"{changed} files rewritten, one call site each",
            )
        )

    def _peer(self, n: int, runner_seconds: float, *, targeted: bool) -> Row:
        name = ROWS_PER_SIZE[2].format(n=n)
        at_least = 100 if targeted else None
        if not self.peer or n > self.peer_max_size:
            return speedup_row(
                name,
                runner_seconds,
                None,
                "skipped",
                at_least=at_least,
                timed_out=False,
                note="LibCST peer not run (--skip-peer or --quick)",
            )
        repo = self.copy(n, "move-peer")
        self.say(f"LibCST rename codemod on {n} files (timeout {self.peer_timeout:.0f} s)")
        # The command name comes first: the tool finds it with a first, partial parse.
        cmd = [
            PYTHON,
            "-m",
            "libcst.tool",
            "codemod",
            "rename.RenameCommand",
            "-j",
            "2",
            "--no-format",
            "--hide-progress",
            "--hide-generated-warnings",
            "--hide-blacklisted-warnings",
            "--old_name",
            OLD,
            "--new_name",
            NEW,
            ".",
        ]
        s = self.timed(
            cmd, repo, f"peer-{n}", codes=(0, 1, -signal.SIGKILL), timeout=self.peer_timeout
        )
        changed = _changed_files(repo, self.env, staged=False)
        self.raw[f"peer-{n}"] = {**asdict(s), "files_changed": changed}
        return speedup_row(
            name,
            runner_seconds,
            s.seconds,
            "libcst.tool",
            at_least=at_least,
            timed_out=s.timed_out,
            note=f"LibCST changed {changed} files; it parses every file",
        )

    def forbid_imports(self, n: int) -> None:
        sys.path.insert(0, str(ROOT))
        from runner.codemods import find_import_sites  # noqa: PLC0415 - runner is not installed

        repo = self.copy(n, "forbid")
        grep = ["git", "grep", "-l", "-F", "-e", "Engine", "--", "*.py"]
        g = [self.timed(grep, repo, f"grep-{n}-{i}").seconds for i in range(max(3, self.reps))]
        in_proc, sites = [], 0
        for _ in range(max(3, self.reps)):
            start = time.perf_counter()
            sites = len(find_import_sites(repo, [OLD]))
            in_proc.append(time.perf_counter() - start)
        plan = self.write("forbid.yaml", forbid_plan())
        whole = []
        for i in range(self.reps):
            copy = self.copy(n, f"forbid-plan-{i}")
            whole.append(
                self.timed(
                    [*RUNNER, "run", str(plan), "--repo", str(copy)], copy, f"forbid-plan-{n}-{i}"
                ).seconds
            )
        self.raw[f"forbid-{n}"] = {
            "git_grep": g,
            "in_process": in_proc,
            "plan": whole,
            "sites": sites,
        }
        self.rows.append(
            ratio_row(
                ROWS_PER_SIZE[5].format(n=n),
                median(in_proc),
                median(g),
                "git grep -l",
                limit=None,
                note=f"{sites} sites found",
            )
        )
        self.rows.append(
            ratio_row(
                ROWS_PER_SIZE[6].format(n=n), median(whole), median(g), "git grep -l", limit=None
            )
        )


def _rollback_seconds(repo: Path) -> float:
    """``rollback-started`` → ``rollback-done`` from the run's archived journal."""
    times: dict[str, float] = {}
    for journal in (repo / ".git" / "runner" / "runs").glob("*.jsonl"):
        for line in journal.read_text().splitlines():
            event = json.loads(line)
            if event.get("event") in ("rollback-started", "rollback-done"):
                times[event["event"]] = float(event["time"])
    if len(times) != 2:
        msg = f"no rollback-started/rollback-done pair in {repo}/.git/runner/runs"
        raise Failed(msg)
    return times["rollback-done"] - times["rollback-started"]


def _changed_files(repo: Path, env: dict[str, str], *, staged: bool = True) -> int:
    """Files the last commit changed (``staged``) or the working tree changes (a peer)."""
    args = ["diff", "--name-only", "HEAD~1", "HEAD"] if staged else ["diff", "--name-only"]
    out = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=False
    ).stdout
    return len(out.split())


def _imports_libcst(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> bool:
    """Whether ``cmd`` (a ``python -m runner`` command) imports LibCST, by ``-X importtime``."""
    full = [cmd[0], "-X", "importtime", *cmd[1:]]
    err = subprocess.run(full, cwd=cwd, env=env, capture_output=True, text=True, check=False).stderr
    return any(line.rstrip().endswith((" libcst", " libcst._parser")) for line in err.splitlines())


def _env(work: Path) -> dict[str, str]:
    config = work / "gitconfig"
    # No automatic gc: a background repack after a commit would land in some other timing.
    config.write_text("[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GIT_", "RUNNER_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env |= {
        "GIT_CONFIG_GLOBAL": str(config),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@runner.invalid",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@runner.invalid",
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])]),
    }
    return env


def run_bench(bench: Bench) -> None:
    """Build the repositories, then measure; the slow LibCST peer runs last for each size."""
    for n in bench.sizes:
        bench.say(f"building a {n}-file repository")
        start = time.perf_counter()
        info = build_repo(bench.work / "base" / str(n), n, bench.env)
        bench.repos[n] = bench.work / "base" / str(n)
        bench.raw[f"repo-{n}"] = {**info, "build_seconds": time.perf_counter() - start}
    largest = max(bench.sizes)
    subprocess.run([*RUNNER, "--help"], env=bench.env, capture_output=True, check=False)  # warm
    bench.say(f"engine overhead, rollback and rehearsal on {largest} files")
    status_repo = bench.engine_overhead(largest)
    bench.tidy(keep=status_repo)
    bench.startup(status_repo)
    bench.tidy()
    bench.rollback(largest)
    bench.tidy()
    bench.rehearsal(largest)
    bench.tidy()
    bench.rehearsal_setup(largest)
    bench.tidy()
    bench.sample_replay()
    bench.tidy()
    _bench_parallel().measure(bench, RUNNER)
    _bench_gates().measure(bench, RUNNER, quick=bench.quick)
    bench.say(f"culprit search on {largest} files")
    _bench_input()  # puts this folder on the path
    import bench_isolate  # noqa: PLC0415 - found only once the path holds this folder

    bench_isolate.measure(bench, largest, RUNNER)
    for n in bench.sizes:
        bench.tidy()
        bench.say(f"codemods on {n} files")
        bench.codemods(n)
    bench_input = _bench_input()
    for n in bench.sizes:
        bench.tidy()
        bench_input.measure_size(bench, n)
    bench.tidy()
    bench.say("large gate output and large modules")
    bench_input.measure(bench, RUNNER, quick=bench.quick)


def _bench_gates() -> Any:
    """``scripts/bench_gates.py`` (affected-only gates on the sample plan), loaded likewise."""
    _bench_input()  # puts this folder on the path
    import bench_gates  # noqa: PLC0415 - found only once the path holds this folder

    return bench_gates


def _bench_input() -> Any:
    """``scripts/bench_input.py`` (rows for large inputs), however this script was loaded."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import bench_input  # noqa: PLC0415 - found only once the path holds this folder

    return bench_input


def _bench_parallel() -> Any:
    """``scripts/bench_parallel.py`` (gates side by side on the sample plan)."""
    _bench_input()  # puts this folder on the path
    import bench_parallel  # noqa: PLC0415 - found only once the path holds this folder

    return bench_parallel


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=None, help="repository sizes (default 1000,10000)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="1000 files, one repetition, no LibCST peer on 10k (CI smoke)",
    )
    p.add_argument("--skip-peer", action="store_true", help="do not run LibCST's own codemod")
    p.add_argument(
        "--peer-timeout",
        type=float,
        default=None,
        help="seconds before the LibCST peer is stopped (default 600; quick: 90)",
    )
    p.add_argument("--reps", type=int, default=None, help="repetitions (default 3; quick: 1)")
    p.add_argument("--out", type=Path, help="also write the Markdown table here")
    p.add_argument("--json", type=Path, help="write the raw numbers here")
    p.add_argument("--workdir", type=Path, help="work here (kept) instead of a temp folder")
    p.add_argument("--floor", type=Path, help=argparse.SUPPRESS)  # the floor, as a process
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table; exit 1 if a measured command failed."""
    args = parse_args(argv)
    if args.floor:
        print(floor_grep_parse(args.floor))
        return 0
    sizes = tuple(
        int(s) for s in (args.sizes or ("1000" if args.quick else "1000,10000")).split(",")
    )
    reps = args.reps or (1 if args.quick else 3)
    keep = args.workdir is not None
    work = args.workdir or Path(tempfile.mkdtemp(prefix="runner-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    peer_timeout = args.peer_timeout or (90.0 if args.quick else 600.0)
    bench = Bench(
        sizes=sizes,
        reps=reps,
        quick=args.quick,
        peer=not args.skip_peer,
        peer_timeout=peer_timeout,
        peer_max_size=min(sizes) if args.quick else max(sizes),
        work=work,
        env=_env(work),
    )
    started = time.perf_counter()
    try:
        run_bench(bench)
    except Failed as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    header = (
        f"runner benchmark: sizes {', '.join(map(str, sizes))}; median of {reps}; "
        f"{os.cpu_count()} cores; {time.perf_counter() - started:.0f} s"
    )
    order = [r.format(n=max(sizes)) for r in ROWS_LARGEST]
    order += [r.format(n=n) for n in sizes for r in ROWS_PER_SIZE]
    bench_input = _bench_input()
    order += list(bench_input.ROWS_INPUT)
    order += list(_bench_gates().ROWS_GATES)
    order += [r.format(n=n) for n in sizes for r in bench_input.ROWS_INPUT_PER_SIZE]
    rows = sorted(bench.rows, key=lambda r: order.index(r.name) if r.name in order else len(order))
    table = render(rows, header)
    print(table)
    if args.out:
        args.out.write_text(table)
    if args.json:
        data = {
            "sizes": sizes,
            "reps": reps,
            "rows": [asdict(r) for r in bench.rows],
            "raw": bench.raw,
        }
        args.json.write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
