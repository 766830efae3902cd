"""The plan as frozen records: what ``phases.yaml`` says, after validation, and nothing more.

Loading and validation live in :mod:`runner.plan`; this module only names the shapes so that
the engine, the gates and the codemods share one vocabulary without importing the YAML
loader. Every record is frozen and holds tuples, so a loaded plan cannot drift while it runs.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

__all__ = [
    "Action",
    "ApproveGate",
    "CallRewrite",
    "CallTemplate",
    "Command",
    "Delete",
    "ForbidImportsGate",
    "Gate",
    "GateSpec",
    "ImportMove",
    "IsolateSettings",
    "MetricGate",
    "MoveImport",
    "OnFailure",
    "OnInconclusive",
    "OnRollback",
    "ParamKind",
    "Phase",
    "Plan",
    "PytestGate",
    "RewriteCall",
    "Rollback",
    "RollbackMode",
    "RunAction",
    "RunGate",
    "Settings",
    "Step",
    "TemplateArg",
    "TemplateParam",
]

#: A command as the plan wrote it: a string runs through the shell, a tuple runs as argv.
Command = str | tuple[str, ...]


class Rollback(enum.Enum):
    """How far an automatic rollback reaches."""

    STEP = "step"
    PHASE = "phase"
    PLAN = "plan"


class RollbackMode(enum.Enum):
    """``reset`` moves the branch back; ``revert`` adds revert commits (shared branches)."""

    RESET = "reset"
    REVERT = "revert"


class OnFailure(enum.Enum):
    """What a failed step does: roll back (default), stop with the tree as is, or go on."""

    ROLLBACK = "rollback"
    STOP = "stop"
    CONTINUE = "continue"
    ISOLATE = "isolate"  # search the files that broke the gates; keep the rest (runner.culprit)


class OnInconclusive(enum.Enum):
    """What a step does when a gate could not judge it: roll back (default) or stop.

    There is no ``continue``: a change no gate judged is never committed as a checkpoint.
    """

    ROLLBACK = "rollback"
    STOP = "stop"


# --- gates -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunGate:
    """Passes when the command exits 0."""

    command: Command


@dataclass(frozen=True, slots=True)
class PytestGate:
    """Runs ``python -m pytest ARGS``; counts come from the JUnit XML pytest writes.

    ``baseline``: ``"start"`` judges only failures absent from the plan's starting commit;
    ``retries``: re-runs of the failed tests; ``flaky``: ``"fail"`` when a test that passed
    only on a re-run fails the gate (see :mod:`runner.gates.baseline`). ``None``: not set.
    ``affected``: only the test files the changes reach (:mod:`runner.gates.affected`);
    ``workers``: ``"auto"`` or a count for pytest-xdist's ``-n``.
    """

    #: Left out of step digests: they change how a gate judges a failure it sees, not what
    #: the step does, so adding ``retries`` after a flaky rollback leaves the steps already
    #: committed done rather than "changed since their checkpoint" (replay evidence, which
    #: must tell them apart, digests the whole gate). ``affected`` and ``workers`` change
    #: which tests run and where, not what the step does, so they stay out too.
    _not_digested: ClassVar[tuple[str, ...]] = (
        "baseline",
        "retries",
        "flaky",
        "affected",
        "workers",
    )

    args: tuple[str, ...]
    baseline: str | None = None
    retries: int | None = None
    flaky: str | None = None
    affected: bool = False
    workers: str | None = None


@dataclass(frozen=True, slots=True)
class ForbidImportsGate:
    """Counts import sites and attribute uses of ``names``; passes under ``max``/``max_ratio``."""

    names: tuple[str, ...]
    max: int | None = None
    max_ratio: float | None = None


@dataclass(frozen=True, slots=True)
class MetricGate:
    """Runs a command and compares the last number it prints against ``max``/``min``."""

    command: Command
    max: float | None = None
    min: float | None = None


@dataclass(frozen=True, slots=True)
class ApproveGate:
    """A person answers yes or no; a non-interactive run fails it unless ``--yes``."""

    question: str


GateSpec = RunGate | PytestGate | ForbidImportsGate | MetricGate | ApproveGate


@dataclass(frozen=True, slots=True)
class Gate:
    """A gate as a step or phase uses it: the named gate's definition, or an inline one.

    ``name`` is the key under ``gates:`` for named gates, and the kind (``run``, ``pytest``,
    ...) for inline ones; ``timeout`` is in seconds (``None``: the plan's default).
    """

    name: str
    spec: GateSpec
    timeout: float | None = None
    #: ``report-only: true``: run and recorded, never blocks (see :mod:`runner.verdicts`).
    report_only: bool = False

    #: Digested only when set, so a gate's digest stays what it was before ``report-only``.
    #: ``exclusive: true``: never runs beside another gate (``settings.parallel-gates``).
    exclusive: bool = False

    _digest_when_set: ClassVar[tuple[str, ...]] = ("report_only",)
    #: How gates are scheduled is not what a step does: not part of its digest.
    _not_digested: ClassVar[tuple[str, ...]] = ("exclusive",)

    @property
    def kind(self) -> str:
        """The gate kind as the plan spells it."""
        return _GATE_KINDS[type(self.spec)]


_GATE_KINDS: dict[type, str] = {
    RunGate: "run",
    PytestGate: "pytest",
    ForbidImportsGate: "forbid-imports",
    MetricGate: "metric",
    ApproveGate: "approve",
}


# --- actions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunAction:
    """Any command, run at the repository root."""

    command: Command


@dataclass(frozen=True, slots=True)
class ImportMove:
    """One ``move-import`` mapping: ``from`` → ``to``, optionally keeping local name ``as_``."""

    from_: str
    to: str
    as_: str | None = None
    #: ``exact``: also rewrite string literals naming the old path (``patch("pkg.old.X")``).
    strings: str | None = None

    #: Digested only when set, so a mapping's digest stays what it was before ``strings``.
    _digest_when_set: ClassVar[tuple[str, ...]] = ("strings",)


@dataclass(frozen=True, slots=True)
class MoveImport:
    """Move symbols or whole modules; every mapping is applied in one pass."""

    moves: tuple[ImportMove, ...]


class ParamKind(enum.Enum):
    """How a parameter of a call template may be passed, as in a ``def``."""

    POSITIONAL_ONLY = "positional-only"
    POSITIONAL = "positional-or-keyword"
    KEYWORD_ONLY = "keyword-only"


@dataclass(frozen=True, slots=True)
class TemplateParam:
    """One parameter of a template's ``from``; a default means a site may leave it out."""

    name: str
    kind: ParamKind = ParamKind.POSITIONAL
    has_default: bool = False


@dataclass(frozen=True, slots=True)
class TemplateArg:
    """One argument of a template's ``to``: the parameter it carries, by keyword or position."""

    param: str
    keyword: str | None = None


@dataclass(frozen=True, slots=True)
class CallTemplate:
    """The signature of ``from`` and the arguments of ``to`` in a templated ``rewrite-call``."""

    params: tuple[TemplateParam, ...]
    args: tuple[TemplateArg, ...]


@dataclass(frozen=True, slots=True)
class CallRewrite:
    """One ``rewrite-call`` mapping: calls of ``from_`` become calls of ``to``.

    ``from_`` and ``to`` are the callables' dotted names; ``template`` maps the arguments when
    the plan wrote ``from``/``to`` as calls (``pkg.old.f(a, b)`` → ``pkg.new.g(x=a, y=b)``).
    """

    from_: str
    to: str
    await_: bool = False
    template: CallTemplate | None = None

    #: Digested only when set, so a plain rewrite's digest stays what it was before templates.
    _digest_when_set: ClassVar[tuple[str, ...]] = ("template",)


@dataclass(frozen=True, slots=True)
class RewriteCall:
    """Rename calls of callables, adding ``await`` inside ``async def`` when asked."""

    rewrites: tuple[CallRewrite, ...]


@dataclass(frozen=True, slots=True)
class Delete:
    """Delete files, folders (``pkg/old.py``) or definitions (``pkg/new.py::Cls.method``)."""

    targets: tuple[str, ...]


Action = RunAction | MoveImport | RewriteCall | Delete

_ACTION_KINDS: dict[type, str] = {
    RunAction: "run",
    MoveImport: "move-import",
    RewriteCall: "rewrite-call",
    Delete: "delete",
}


def action_kind(action: Action | None) -> str:
    """The action's key in the plan (``run``, ``move-import``, ...), or ``gates only``."""
    return "gates only" if action is None else _ACTION_KINDS[type(action)]


# --- structure ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IsolateSettings:
    """``isolate:`` of a step with ``on-failure: isolate`` (see :mod:`runner.isolation_run`)."""

    by_folder: bool = False  # ``group: by-folder``: a folder's changed files are one unit
    then_continue: bool = False  # ``then: continue``: the run goes on after a partial step
    max_gate_runs: int = 30


@dataclass(frozen=True, slots=True)
class Step:
    """One step: at most one action, then its gates; a pass is one checkpoint commit."""

    phase_id: str
    id: str
    title: str
    action: Action | None
    gates: tuple[Gate, ...] = ()
    timeout: float | None = None
    on_failure: OnFailure = OnFailure.ROLLBACK
    line: int = 0
    isolate: IsolateSettings = IsolateSettings()
    on_inconclusive: OnInconclusive = OnInconclusive.ROLLBACK
    #: ``run-all-gates``: every gate runs even after one failed (``None``: the setting's).
    run_all_gates: bool | None = None

    @property
    def key(self) -> str:
        """The address users type and trailers record: ``PHASE/STEP``."""
        return f"{self.phase_id}/{self.id}"

    @property
    def digest(self) -> str:
        """``sha256:`` of what the step does (action, gates, timeout), not of its title.

        Recorded in the checkpoint commit, so resume can tell a done step from one whose
        definition changed since it was committed.
        """
        payload = json.dumps(
            {
                "action": _canonical(self.action),
                "gates": [_canonical(g) for g in self.gates],
                "timeout": self.timeout,
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Phase:
    """An ordered group of steps; its gates run once after its last step."""

    id: str
    title: str
    steps: tuple[Step, ...]
    gates: tuple[Gate, ...] = ()


@dataclass(frozen=True, slots=True)
class Settings:
    """``settings:``; every key optional, defaults as the contract states."""

    branch: str | None = None
    rollback: Rollback = Rollback.STEP
    rollback_mode: RollbackMode = RollbackMode.RESET
    timeout: float | None = 15 * 60.0
    env: tuple[tuple[str, str], ...] = ()
    exclude: tuple[str, ...] = ()
    source_roots: tuple[str, ...] = (".", "src")
    #: Ignored files and folders a rehearsal copies in for its gates (globs).
    rehearsal_include: tuple[str, ...] = (".venv", "venv", ".env", "node_modules")
    #: Replay a rehearsal at most this old on every run (seconds; ``None``: only ``--replay``).
    replay: float | None = None
    #: Codemods leave larger files unchanged and say so: LibCST needs ~1 s and ~600 MB per
    #: MB of module (a 5 MB one took 60 s and 4.2 GB), and files that large are generated
    #: code, not code to migrate. 512 KB keeps one file under ~400 MB and a few seconds.
    max_file_size: int = 512 * 1024
    #: How many of a step's (or phase's) gates run at once: a number, or ``"auto"`` (the
    #: machine's cores); 1 runs them one after another, as before the setting existed.
    parallel_gates: int | Literal["auto"] = 1
    #: Every gate runs even after one failed, so the report has every verdict.
    run_all_gates: bool = False


@dataclass(frozen=True, slots=True)
class OnRollback:
    """Hooks after every rollback: commands to run, then gates that must pass."""

    run: tuple[Command, ...] = ()
    verify: tuple[Gate, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """A validated plan. ``path`` is where it was read from, for messages."""

    version: int
    name: str
    description: str
    settings: Settings
    gates: tuple[tuple[str, Gate], ...]
    phases: tuple[Phase, ...]
    on_rollback: OnRollback = field(default_factory=OnRollback)
    path: str = "phases.yaml"

    @property
    def steps(self) -> tuple[Step, ...]:
        """Every step in run order."""
        return tuple(step for phase in self.phases for step in phase.steps)

    def find_step(self, key: str) -> Step | None:
        """A step by ``PHASE/STEP``, or by a bare step id when that is unambiguous."""
        matches = [s for s in self.steps if key in (s.key, s.id)]
        exact = [s for s in matches if s.key == key]
        if exact:
            return exact[0]
        return matches[0] if len(matches) == 1 else None

    def find_phase(self, phase_id: str) -> Phase | None:
        """A phase by id."""
        return next((p for p in self.phases if p.id == phase_id), None)


def _canonical(value: Any) -> Any:  # noqa: ANN401 - walks any record of this module
    """A JSON-able form of a record, stable across runs, for digests."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_canonical(v) for v in value]
    fields = getattr(value, "__dataclass_fields__", None)
    if fields is None:
        msg = f"cannot digest {type(value).__name__}"
        raise TypeError(msg)
    optional = getattr(value, "_digest_when_set", ())
    never = getattr(value, "_not_digested", ())
    fields_ = [f for f in dataclasses.fields(value) if f.name not in never]  # no class vars
    kept = [
        f.name
        for f in fields_
        if f.name not in optional or getattr(value, f.name) not in (None, f.default)
    ]
    return {"type": type(value).__name__} | {f: _canonical(getattr(value, f)) for f in kept}
