"""What a rehearsal proved, reused by the real run (``runner run --replay``).

Codemods are deterministic: when the real run reaches a step from the same starting commit,
with the same step digest, and the step leaves the same tree as a recent rehearsal's did,
the rehearsal's verdict on that tree is valid evidence, provided what the gate depends on is
the same too: its definition, the settings gates read (``env``, ``exclude``,
``source-roots``, ``timeout``), the whole environment but for :data:`VOLATILE` names (a
script may read any variable), the interpreter it runs, and the ignored files the
rehearsal copied in (``settings.rehearsal-include``: ``.env``'s content, a venv's
``pyvenv.cfg`` and ``site-packages`` listing), fingerprinted in the user's tree.
A rehearsal records that per step and gate (:class:`Recorder`); a replaying run records the
rehearsal's passes instead of running those gates again (:class:`Replayer`) and says why
wherever a gate runs anyway. ``approve`` asks a person and ``metric`` measures the moment,
so both always run. A plain run only checks that the last
rehearsal was of this plan, these settings and this starting commit (:class:`GateRunner`).

The engine calls :meth:`GateRunner.begin` once and :meth:`GateRunner.run` for each gate; the
workspace carries the runner, so the engine holds no replay logic.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.gates import GateContext, run_gate
from runner.includes import fingerprint, list_includes
from runner.journal import write_atomically
from runner.model import ApproveGate, Gate, MetricGate, Phase, Plan, Step
from runner.rehearsals import describe_age, latest_rehearsal, rehearsals_dir
from runner.results import GateResult, GateStatus

if TYPE_CHECKING:
    from runner.context import Runtime
    from runner.git import Repository

__all__ = [
    "DEFAULT_MAX_AGE",
    "EVIDENCE",
    "VOLATILE",
    "GateRunner",
    "Recorder",
    "Replayer",
    "depends_on",
    "environ_hashes",
    "gate_runner",
    "plan_digest",
    "run_depends",
    "settings_digests",
    "stale",
]

#: ``--replay`` without ``settings.replay``: a rehearsal up to two hours old counts.
DEFAULT_MAX_AGE = 2 * 3600.0
#: The evidence file in a rehearsal's record folder.
EVIDENCE = "evidence.json"

#: Variables left out of a gate's recorded environment: they differ between two shells or
#: between the rehearsal and the real run by design (``RUNNER_*``: the rehearsal's own
#: repository, pid and ``RUNNER_DRY_RUN``), and no gate's verdict should rest on them.
VOLATILE = frozenset({
    "PWD", "OLDPWD", "SHLVL", "_", "COLUMNS", "LINES", "TERM", "TERM_PROGRAM",
    "TERM_PROGRAM_VERSION", "TERM_SESSION_ID", "COLORTERM", "WINDOWID", "WINDOW", "STY",
    "TMUX", "TMUX_PANE", "SSH_AUTH_SOCK", "SSH_AGENT_PID", "SSH_CLIENT", "SSH_CONNECTION",
    "SSH_TTY", "GPG_TTY", "DBUS_SESSION_BUS_ADDRESS", "XDG_SESSION_ID", "XDG_SESSION_TYPE",
    "XDG_SESSION_CLASS", "XDG_VTNR", "PS1", "PS2", "PROMPT_COMMAND", "HISTFILE",
})  # fmt: skip
_ALWAYS_RUN = (ApproveGate, MetricGate)


def plan_digest(plan: Plan) -> str:
    """What the plan does, as one digest: its steps' digests and its phase gates."""
    parts = [plan.name, *(f"{s.key}={s.digest}" for s in plan.steps)]
    parts += [f"{p.id}:{_gate_digest(g)}" for p in plan.phases for g in p.gates]
    return "sha256:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


class GateRunner:
    """Runs every gate (a plain real run); warns when the last rehearsal is stale."""

    def __init__(self, rehearsals: Path | None = None) -> None:
        self.rehearsals = rehearsals

    def begin(self, rt: Runtime, start: str) -> None:
        """The run starts from ``start`` (after preflight, branch switch and recovery)."""
        if self.rehearsals is None:
            return
        found = latest_rehearsal(self.rehearsals, rt.plan.name)
        if found is None:
            return
        rid, summary = found
        why = stale(summary, rt.plan, start)
        if why:
            rt.observer.notice(f"the last rehearsal ({rid}) is stale: {why}")

    def run(self, rt: Runtime, owner: Step | Phase, gate: Gate, ctx: GateContext) -> GateResult:
        """Run ``gate`` for ``owner`` (a step, or a phase for its gates)."""
        del rt, owner
        return run_gate(gate, ctx)


class Recorder(GateRunner):
    """A rehearsal: runs every gate and records the evidence a replaying run may reuse."""

    def __init__(self, records: Path, rehearsal_id: str, included: Mapping[str, str]) -> None:
        """``included``: the fingerprints of the user's files the rehearsal copied in."""
        super().__init__(None)
        self.path = records / EVIDENCE
        self.data: dict[str, Any] = {"rehearsal": rehearsal_id, "steps": {}}
        self.included = dict(included)
        self.run_deps: dict[str, str] = {}

    def begin(self, rt: Runtime, start: str) -> None:
        """Record where the rehearsed run starts."""
        self.run_deps = run_depends(rt.plan, self.included)
        self.data |= {"plan": rt.plan.name, "plan_digest": plan_digest(rt.plan), "start": start}
        self._save()

    def run(self, rt: Runtime, owner: Step | Phase, gate: Gate, ctx: GateContext) -> GateResult:
        """Run the gate, then record its verdict beside the tree it judged."""
        result = run_gate(gate, ctx)
        key, digest = _owner(owner)
        entry = self.data["steps"].setdefault(key, {"digest": digest, "gates": {}})
        entry["tree"] = rt.repo.write_tree()
        entry["gates"][_gate_key(gate)] = {
            "status": result.status.value,
            "seconds": result.seconds,
            "summary": result.summary,
            "counts": [list(c) for c in result.counts],
            "depends": {**self.run_deps, **depends_on(gate, ctx)},
        }
        self.data["environ"] = environ_hashes(ctx)
        self._save()
        return result

    def _save(self) -> None:
        data = json.dumps(self.data, indent=1, sort_keys=True) + "\n"
        write_atomically(self.path, data.encode())


class Replayer(GateRunner):
    """A real run that reuses a recent rehearsal's passes where everything matches."""

    def __init__(self, rehearsals: Path, max_age: float) -> None:
        super().__init__(rehearsals)
        self.max_age = max_age
        self.evidence: dict[str, Any] | None = None
        self.told: set[tuple[str, str]] = set()
        self.run_deps: dict[str, str] = {}

    def begin(self, rt: Runtime, start: str) -> None:
        """Choose the rehearsal to replay, or say why there is none."""
        rt.observer.notice(self._choose(rt.plan, start))
        if self.evidence is not None:
            root = rt.repo.root
            rt.ws.state.tmp.mkdir(parents=True, exist_ok=True)
            log = rt.ws.state.tmp / "includes.log"
            wanted = list_includes(root, rt.plan.settings.rehearsal_include, log)
            self.run_deps = run_depends(rt.plan, fingerprint(root, wanted))

    def _choose(self, plan: Plan, start: str) -> str:
        assert self.rehearsals is not None
        found = latest_rehearsal(self.rehearsals, plan.name)
        if found is None:
            return "no rehearsal of this plan was found; every gate runs"
        rid, summary = found
        age = time.time() - float(summary.get("finished", 0) or 0)
        if age > self.max_age:
            return (
                f"the last rehearsal ({rid}) is {describe_age(age)} old, older than "
                f"{describe_age(self.max_age)}; every gate runs"
            )
        evidence = _read(self.rehearsals / rid / EVIDENCE)
        if evidence.get("start") != start:
            return (
                f"the last rehearsal ({rid}) started from {str(evidence.get('start'))[:10]}, "
                f"this run from {start[:10]}; every gate runs"
            )
        self.evidence = evidence
        return f"replaying the passed gates of rehearsal {rid} where the tree matches"

    def run(self, rt: Runtime, owner: Step | Phase, gate: Gate, ctx: GateContext) -> GateResult:
        """The rehearsal's pass, or the gate run anew (with the reason, said once a step)."""
        if self.evidence is None or isinstance(gate.spec, _ALWAYS_RUN):
            return run_gate(gate, ctx)
        key, digest = _owner(owner)
        recorded, why = self._match(key, digest, gate, ctx, rt.repo.write_tree())
        if recorded is None:
            if why and (key, why) not in self.told:
                self.told.add((key, why))
                rt.observer.notice(f"{key}: gate {gate.name} is run, not replayed: {why}")
            return run_gate(gate, ctx)
        counts = tuple((str(k), int(n)) for k, n in recorded.get("counts", []))
        return GateResult(
            name=gate.name,
            kind=gate.kind,
            status=GateStatus.PASSED,
            seconds=0.0,
            summary=str(recorded.get("summary", "")),
            counts=counts,
            replayed=str(self.evidence.get("rehearsal")),
            report_only=gate.report_only,
        )

    def _match(
        self, key: str, digest: str, gate: Gate, ctx: GateContext, tree: str
    ) -> tuple[Mapping[str, Any] | None, str]:
        assert self.evidence is not None
        step = self.evidence.get("steps", {}).get(key)
        if step is None:
            return None, "the rehearsal did not reach it"
        if step.get("digest") != digest:
            return None, "its definition changed since the rehearsal"
        if step.get("tree") != tree:
            return None, "the tree after the action differs from the rehearsal's"
        recorded = step.get("gates", {}).get(_gate_key(gate))
        if recorded is None:
            return None, "it did not run in the rehearsal"
        if recorded.get("status") != GateStatus.PASSED.value:  # inconclusive is no pass either
            said = recorded.get("status")
            return None, f"it {'was ' * (said == 'inconclusive')}{said} in the rehearsal"
        now = {**self.run_deps, **depends_on(gate, ctx)}
        then = recorded.get("depends", {})
        changed = [k for k in sorted({*now, *then}) if now.get(k) != then.get(k)]
        if changed:
            names = [self._which(ctx) if k == "environment" else k for k in changed]
            return None, f"its {', '.join(names)} changed since the rehearsal"
        return recorded, ""

    def _which(self, ctx: GateContext) -> str:
        """``environment ($A, $B)``: the variables set, unset or changed since."""
        assert self.evidence is not None
        then, now = self.evidence.get("environ", {}), environ_hashes(ctx)
        names = sorted(k for k in {*then, *now} if then.get(k) != now.get(k))
        shown = ", ".join(f"${n}" for n in names[:5]) + (", ..." if len(names) > 5 else "")
        return f"environment ({shown})" if names else "environment"


def depends_on(gate: Gate, ctx: GateContext) -> dict[str, str]:
    """What a gate's verdict depends on besides the tree, with the tree's own path taken out
    (the rehearsal's tree and the user's are the same tree in two places)."""
    root = str(ctx.root)
    python = shutil.which("python", path=ctx.env.get("PATH")) or ""
    return {
        "definition": _gate_digest(gate),
        "environment": _digest(environ_hashes(ctx)),
        "interpreter": f"{python.replace(root, '<root>')} {_version(python)}",
    }


def environ_hashes(ctx: GateContext) -> dict[str, str]:
    """The gate's environment but for :data:`VOLATILE` and ``RUNNER_*`` names, each value
    hashed (evidence files hold no secrets) with the tree's path taken out."""
    root = str(ctx.root)
    return {
        k: hashlib.sha256(v.replace(root, "<root>").encode()).hexdigest()[:16]
        for k, v in sorted(ctx.env.items())
        if k not in VOLATILE and not k.startswith("RUNNER_")
    }


def run_depends(plan: Plan, included: Mapping[str, str]) -> dict[str, str]:
    """What every gate of a run depends on: the settings gates read, and the fingerprints
    of the ignored files a rehearsal copies in (one key each: ``include .env``)."""
    deps = settings_digests(plan)
    deps |= {f"include {rel}": digest for rel, digest in included.items()}
    return deps


def settings_digests(plan: Plan) -> dict[str, str]:
    """``settings.env``, ``settings.exclude`` and the other settings a gate reads."""
    s = plan.settings
    values = {"env": s.env, "exclude": s.exclude, "source-roots": s.source_roots,
              "timeout": s.timeout}  # fmt: skip
    return {f"settings.{k}": _digest(v) for k, v in values.items()}


_VERSIONS: dict[str, str] = {}


def _version(python: str) -> str:
    """The interpreter's version (asked once per path and process)."""
    if not python:
        return ""
    if python not in _VERSIONS:
        _VERSIONS[python] = _read_version(python)
    return _VERSIONS[python]


def _read_version(python: str) -> str:
    """``pyvenv.cfg``'s version for a venv's interpreter, else the resolved binary's name
    and size: cheap, and different whenever the interpreter is."""
    exe = Path(python)
    cfg = exe.parent.parent / "pyvenv.cfg"
    if cfg.is_file():
        for line in cfg.read_text(errors="replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip() in ("version", "version_info"):
                return value.strip()
    real = exe.resolve()
    try:
        return f"{real.name} {real.stat().st_size}"
    except OSError:
        return real.name


def gate_runner(plan: Plan, repo: Repository, *, replay: bool) -> GateRunner:
    """The gate runner of a real run: replaying (``--replay`` or ``settings.replay``), or
    plain, watching for a stale rehearsal."""
    folder = rehearsals_dir(repo.git_dir)
    if replay or plan.settings.replay is not None:
        return Replayer(folder, plan.settings.replay or DEFAULT_MAX_AGE)
    return GateRunner(folder)


def stale(summary: Mapping[str, Any], plan: Plan, start: str) -> str:
    """Why a rehearsal's summary no longer predicts this run, or ``""``."""
    if summary.get("plan_digest") != plan_digest(plan):
        return "the plan changed since"
    then = summary.get("settings")
    changed = [
        k for k, v in settings_digests(plan).items() if isinstance(then, dict) and then.get(k) != v
    ]
    if changed:
        return f"its {', '.join(changed)} changed since"
    if summary.get("start") != start:
        return f"it started from {str(summary.get('start'))[:10]}, this run from {start[:10]}"
    return ""


def _owner(owner: Step | Phase) -> tuple[str, str]:
    if isinstance(owner, Step):
        return owner.key, owner.digest
    return f"phase {owner.id}", _digest({g.name: _gate_digest(g) for g in owner.gates})


def _gate_key(gate: Gate) -> str:
    """Inline gates are named after their kind: two ``run`` gates of a step differ here."""
    return f"{gate.name}@{_gate_digest(gate).removeprefix('sha256:')[:16]}"


def _gate_digest(gate: Gate) -> str:
    # A key at its default is left out, so a rehearsal recorded before it existed still counts.
    return _digest({k: v for k, v in dataclasses.asdict(gate).items() if k != "report_only" or v})


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
