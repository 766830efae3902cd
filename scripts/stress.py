"""Stress containment: random SIGKILLs of runner, of its pool workers and of a gate.

    python scripts/stress.py [--kills 200] [--files 3000] [--seed N] [--dir DIR]

The plan: a ``move-import`` codemod over ``--files`` files (one in ten a candidate, parsed on
the process pool), then a ``run`` step whose gate starts an in-session background job and
a daemon that double-forks out of its session, both writing into the tree. Runs follow
each other on one repository; in turn, a run is SIGKILLed at a random moment, or one of its
pool workers or gate processes is. After every kill:

- the next command proceeds: the lock is free within 2 s of the killed runner's end, and no
  run is refused;
- nothing started by the plan is still running once a run has ended on its own (a killed
  runner's leftovers are ended by the next run's recovery);
- nothing is lost: each time the plan completes, its tree equals an uninterrupted run's,
  and every file content seen right after a kill is in that tree, a saved patch or history.

Then the branch goes back to the start and the runs go on. Prints one summary line; exits 1
if anything failed.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from runner.journal import Lock, StateDir  # noqa: E402 - after the path is set

PLAN = """\
version: 1
name: stress
settings: {{timeout: 120s}}
gates:
  contained: {{run: "{python} {gate} {mark}"}}
phases:
  - id: migrate
    steps:
      - id: imports
        move-import: {{from: pkg.old, to: pkg.new}}
      - id: bridge
        run: "rm pkg/old.py && echo 'VALUE = 2' > pkg/new.py"
        gate: [contained]
"""

#: A gate that leaves work behind: a background job in its session that writes later, and a
#: daemon that leaves the session; its argv carries the mark, so they can be found.
GATE = """\
import os, sys, time
if os.fork() == 0:
    time.sleep(0.3)
    with open("stress-late.txt", "w") as f:
        f.write("late\\n")
    time.sleep(60)
    os._exit(0)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(0.05)
        with open("stress-daemon.txt", "w") as f:
            f.write("daemon\\n")
        time.sleep(60)
        os._exit(0)
    os._exit(0)
time.sleep(0.15)
"""

TARGETS = ("runner", "pool worker", "gate")


@dataclass
class Tally:
    """What the stress run counted and found."""

    kills: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TARGETS, 0))
    runs: int = 0
    completions: int = 0
    lock_wait: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.kills.values())


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=_git_env()
    )
    return done.stdout.strip()


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    for key in ("AUTHOR", "COMMITTER"):
        env.setdefault(f"GIT_{key}_NAME", "runner stress")
        env.setdefault(f"GIT_{key}_EMAIL", "stress@runner.invalid")
    return env


def make_repo(path: Path, files: int) -> Path:
    """``files`` modules, one in ten importing ``pkg.old``."""
    for i in range(files):
        folder = path / f"pkg{i % 20}"
        folder.mkdir(parents=True, exist_ok=True)
        head = "import pkg.old\n\n" if i % 10 == 0 else "import os\n\n"
        use = "pkg.old.VALUE" if i % 10 == 0 else "os.sep"
        (folder / f"m{i}.py").write_text(f"{head}def f{i}(x):\n    return {use}, x * {i}\n")
    (path / "pkg").mkdir(exist_ok=True)
    for name, text in {"__init__.py": "", "old.py": "VALUE = 1\n", "new.py": "VALUE = 1\n"}.items():
        (path / "pkg" / name).write_text(text)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "base")
    return path


def processes_matching(marker: str) -> list[int]:
    """Live pids whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if int(entry.name) == os.getpid():
                continue
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X") and marker.encode() in cmdline:
            found.append(int(entry.name))
    return found


def pool_workers(runner: int) -> list[int]:
    """The runner's forked pool workers: children running its own command line."""
    try:
        me = Path(f"/proc/{runner}/cmdline").read_bytes()
    except OSError:
        return []
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            if ppid == runner and (entry / "cmdline").read_bytes() == me:
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def start_run(plan: Path, repo: Path) -> subprocess.Popen[bytes]:
    env = {**_git_env(), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "runner", "run", str(plan)],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


def finish(proc: subprocess.Popen[bytes]) -> str:
    """Wait for a run; its output (a killed runner's surviving helpers must not hold the
    pipe open: if they did, this would hang, and the stress run with it)."""
    out, _ = proc.communicate(timeout=300)
    return out.decode(errors="replace")


def working_files(repo: Path) -> dict[str, bytes]:
    files = {}
    for path in repo.rglob("*"):
        rel = path.relative_to(repo)
        if rel.parts[0] != ".git" and path.is_file():
            files[rel.as_posix()] = path.read_bytes()
    return files


def lost(repo: Path, seen: set[tuple[str, bytes]]) -> list[str]:
    """Contents seen after a kill that are neither in the tree nor recoverable."""
    final = working_files(repo)
    missing = {(p, d) for p, d in seen if final.get(p) != d}
    if not missing:
        return []
    saved: set[str] = set()
    for patch in (repo / ".git/runner/rollbacks").glob("*.patch"):
        saved |= set(re.findall(r"^index [0-9a-f]+\.\.([0-9a-f]{40})", patch.read_text(), re.M))
    saved |= {line.split()[0] for line in git(repo, "rev-list", "--objects", "--all").splitlines()}
    out = []
    for path, data in sorted(missing):
        blob = subprocess.run(
            ["git", "hash-object", "--stdin"], input=data, cwd=repo, capture_output=True, check=True
        ).stdout.decode()
        if blob.strip() not in saved:
            out.append(path)
    return out


def lock_free_after(repo: Path) -> float:
    """Seconds until the run lock is free (10 s at most)."""
    state = StateDir(repo / ".git")
    start = time.monotonic()
    while Lock(state, command="").is_held_elsewhere() and time.monotonic() - start < 10:
        time.sleep(0.01)
    return time.monotonic() - start


def kill_one(proc: subprocess.Popen[bytes], target: str, delay: float, mark: str) -> bool:
    """SIGKILL ``target`` of the run ``proc``; ``False`` if it ended before one was there."""
    start = time.monotonic()
    before: set[int] = set()
    while proc.poll() is None:
        if target == "runner":
            if time.monotonic() - start >= delay:
                proc.kill()
                return True
        else:
            found = pool_workers(proc.pid) if target == "pool worker" else processes_matching(mark)
            # Seen twice: a child forked to run git has the runner's command line too, for
            # the moment before its exec; that is a git process, not a pool worker.
            pids, before = [p for p in found if p in before], set(found)
            if pids and time.monotonic() - start >= delay:
                try:
                    os.kill(random.choice(pids), signal.SIGKILL)
                except ProcessLookupError:
                    continue
                return True
        time.sleep(0.005)
    return False


def stress(kills: int, files: int, seed: int, workdir: Path) -> Tally:
    random.seed(seed)
    mark = f"stress-gate-{os.getpid()}-{seed}"
    repo = make_repo(workdir / "repo", files)
    gate = workdir / "gate.py"
    gate.write_text(GATE)
    plan = workdir / "phases.yaml"
    plan.write_text(PLAN.format(python=sys.executable, gate=gate, mark=mark))
    base = git(repo, "rev-parse", "HEAD")
    tally = Tally()

    started = time.monotonic()
    reference = start_run(plan, repo)
    out = finish(reference)
    full = time.monotonic() - started
    if reference.returncode != 0:
        tally.failures.append(f"the uninterrupted run failed: {out[-2000:]}")
        return tally
    expected = git(repo, "rev-parse", "HEAD^{tree}")

    def restart() -> None:
        git(repo, "reset", "-q", "--hard", base)
        git(repo, "clean", "-fdq")

    restart()
    start_files = set(working_files(repo).items())
    seen: set[tuple[str, bytes]] = set()
    attempts = 0
    while tally.total < kills and attempts < kills * 5 and not tally.failures:
        attempts += 1
        # In turn; a pool worker exists only while the codemod step runs: a run that finds
        # none completes the plan, and the next one, from the start, has workers to kill.
        target = TARGETS[tally.total % len(TARGETS)]
        delay = random.uniform(0, full) if target == "runner" else random.uniform(0, 0.1)
        proc = start_run(plan, repo)
        tally.runs += 1
        hit = kill_one(proc, target, delay, mark)
        out = finish(proc)
        code = proc.returncode
        if hit:
            tally.kills[target] += 1
            waited = lock_free_after(repo)
            tally.lock_wait = max(tally.lock_wait, waited)
            if waited > 2:
                tally.failures.append(f"kill {tally.total} ({target}): lock held {waited:.1f}s")
            seen |= set(working_files(repo).items()) - start_files
        if code not in (0, 1, -signal.SIGKILL) or "Traceback" in out:
            tally.failures.append(f"run {tally.runs} ({target} killed: {hit}) exit {code}: {out}")
            break
        if code != -signal.SIGKILL and (left := processes_matching(mark) + pool_workers(proc.pid)):
            tally.failures.append(f"run {tally.runs} ended with {len(left)} process(es) left")
        if code == 0:
            tally.completions += 1
            check(repo, expected, seen, tally)
            seen = set()
            restart()
    final = start_run(plan, repo)
    out = finish(final)
    if final.returncode != 0:
        tally.failures.append(f"the last run exited {final.returncode}: {out[-2000:]}")
    else:
        check(repo, expected, seen, tally)
    if left := processes_matching(mark):
        tally.failures.append(f"{len(left)} process(es) left at the end")
    return tally


def check(repo: Path, expected: str, seen: set[tuple[str, bytes]], tally: Tally) -> None:
    if (tree := git(repo, "rev-parse", "HEAD^{tree}")) != expected:
        tally.failures.append(f"tree {tree[:12]} differs from the uninterrupted {expected[:12]}")
    if status := git(repo, "status", "--porcelain"):
        tally.failures.append(f"dirty tree after a complete run: {status[:200]}")
    if gone := lost(repo, seen):
        tally.failures.append(f"lost: {', '.join(gone[:5])}")


def summary(tally: Tally, files: int, seconds: float) -> str:
    kinds = ", ".join(f"{n} {k}" for k, n in tally.kills.items())
    verdict = (
        "0 stuck locks, 0 processes left, 0 lost, every completed tree as uninterrupted"
        if not tally.failures
        else f"{len(tally.failures)} FAILED (listed above)"
    )
    return (
        f"stress: {tally.total} SIGKILLs ({kinds}) over {tally.runs} runs of a {files}-file "
        f"plan, {tally.completions} completed; lock free at most {tally.lock_wait:.2f}s after "
        f"a kill; {verdict}; {seconds:.0f}s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=None, help="keep the repository here")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="runner-stress-") as tmp:
        workdir = args.dir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        tally = stress(args.kills, args.files, args.seed, workdir)
    for failure in tally.failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    print(summary(tally, args.files, time.monotonic() - started))
    return 1 if tally.failures or tally.total < args.kills else 0


if __name__ == "__main__":
    sys.exit(main())
