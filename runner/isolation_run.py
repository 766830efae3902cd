"""``on-failure: isolate``: a failed step keeps what passes and holds back the files that broke it.

The engine calls :func:`isolate_step` from its failure path, with the step's starting
checkpoint and the tree of its whole change. The search itself is :mod:`runner.culprit`; this
module gives it its probe: build the tree of a subset of the changed paths on the checkpoint
(:class:`runner.gitsubset.SubsetOps`, in a private index), switch the working tree to it, and
run the step's gates through the engine's gate runner (so rehearsals record and real runs
replay as for any gate), the gate that failed first.

Nothing of the change can be lost on the way: before the first probe the whole change is saved
as a patch and the search is journaled (``isolate-started``, ``probe-started``,
``probe-done``), so a run killed mid-probe is recovered to the step's checkpoint like any
interrupted step, with the whole change in that patch; a Ctrl-C puts the whole change back in
the tree before the engine's own interrupted-step rollback saves it.

When a subset passes every gate, it becomes the step's checkpoint, marked partial (trailers
from :func:`partial_trailers`), the held-back files' change is saved as a patch and each file
is listed as a follow-up. Otherwise the whole change is back in the tree and the engine rolls
the step back as it would have, with one sentence saying what the search learned.
"""

from __future__ import annotations

import glob
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from runner.codemods import FollowUp
from runner.context import Runtime
from runner.culprit import BudgetSpent, Search, SearchOutcome, search_culprits
from runner.history import T_HELD_BACK, T_RESULT, DoneStep
from runner.isolated import HELD_BACK, Isolation, ProbeRecord, held_back_patch_name
from runner.isolation_untracked import UntrackedKept
from runner.journal import file_label
from runner.model import ApproveGate, Gate, Step
from runner.pathquote import quote_path
from runner.results import GateResult, StepResult, StepStatus
from runner.rollback import critical_section
from runner.selection import RunOptions

__all__ = ["Isolated", "isolate_step", "partial_trailers", "retry_reason", "units_of"]


@dataclass(frozen=True, slots=True)
class Isolated:
    """The step after its search: ``tree`` to commit as partial, or ``None`` to roll back."""

    result: StepResult
    tree: str | None


def units_of(paths: Sequence[str], *, by_folder: bool) -> dict[str, tuple[str, ...]]:
    """The units the search blames: each path alone, or each folder's changed paths together
    (``group: by-folder``: a new module and the files beside it that import it)."""
    units: dict[str, list[str]] = {}
    for path in sorted(paths):
        name = str(PurePosixPath(path).parent) if by_folder else path
        units.setdefault(name, []).append(path)
    return {name: tuple(members) for name, members in units.items()}


def partial_trailers(result: StepResult) -> list[str]:
    """``Runner-Result: partial`` and one ``Runner-Held-Back`` per path, for the checkpoint."""
    iso = result.isolation
    if iso is None or not iso.held_back:
        return []
    return [f"{T_RESULT}: partial", *(f"{T_HELD_BACK}: {quote_path(p)}" for p in iso.held_back)]


def retry_reason(
    done: DoneStep, step: Step, results: Sequence[StepResult], options: RunOptions
) -> str | None:
    """Why a partial step runs again for its held-back files, or ``None`` (it stays done).

    The plan was fixed (the step's own definition changed, or a step before it, a fix added
    ahead of it, committed in this run), or the user asks with ``--retry-held-back``. The
    step's action runs anew on the current tree: the files it kept are already changed.
    """
    if not done.held_back:
        return None
    committed = {StepStatus.PASSED, StepStatus.PARTIAL, StepStatus.FAILED}
    if options.retry_held_back:
        why = "as --retry-held-back asks"
    elif done.digest != step.digest:
        why = "its definition changed"
    elif any(r.commit and r.status in committed for r in results):
        why = "a step before it committed in this run"
    else:
        return None
    return (
        f"step {step.key} is partial ({len(done.held_back)} file(s) held back: "
        f"{_shown(done.held_back)}); running it again, {why}"
    )


#: After each probe's gates: what they moved of git's setup, the state folder or the index
#: entries the user marked (each put back), as the engine checks after any gate; ``None``: none.
Guard = Callable[[str], "str | None"]


class _Stopped(Exception):
    """A probe's gate moved what no gate may, or could not judge (a command not found, no
    test collected: no verdict to blame a file by): the search stops, the step rolls back."""


def isolate_step(
    rt: Runtime, step: Step, result: StepResult, checkpoint: str, tree: str, *, guard: Guard
) -> Isolated:
    """Search the files of ``step``'s change (``checkpoint`` → ``tree``) that fail its gates.

    ``guard`` runs after every probe, as after the step's own gates: a gate that commits,
    switches branches or marks files during a probe would otherwise leave HEAD, the branch
    the checkpoint is committed on, or the index as it made them.
    """
    failed = result.failed_gate
    if failed is not None and failed.kind == "approve":
        why = "a refused approval is no file's fault: nothing to search"
        return Isolated(replace(result, message=f"{result.message}; {why}"), None)
    search = _Probing(rt, step, result, checkpoint, tree, guard=guard)
    try:
        found = search.run()
        done = search.conclude(found)
    except _Stopped as e:
        done = search.abandon(str(e))
    except BaseException:
        # The whole change back, for the rollback's patch: every changed path as the step
        # left it (a merge would keep what the probe's gate wrote over the step's files).
        with critical_section():
            search.switch(tree)
        search.untracked.drop()
        raise
    finally:
        shutil.rmtree(search.pycache, ignore_errors=True)
    search.untracked.drop()
    return done


class _Probing:
    """One search: the changed paths, their units, and the probes' records."""

    def __init__(
        self,
        rt: Runtime,
        step: Step,
        result: StepResult,
        checkpoint: str,
        tree: str,
        *,
        guard: Guard,
    ) -> None:
        self.rt, self.step, self.result, self.guard = rt, step, result, guard
        self.checkpoint, self.tree = checkpoint, tree
        self.changes = rt.repo.path_changes(checkpoint, tree)
        self.units = units_of(list(self.changes), by_folder=step.isolate.by_folder)
        self.bound = step.isolate.max_gate_runs
        self.records: list[ProbeRecord] = []
        self.gate_runs = 0  # what ``max-gate-runs`` bounds: each gate a probe runs counts
        self.trees: dict[frozenset[str], tuple[str, tuple[GateResult, ...]]] = {}
        label = file_label(f"{step.key}-whole")
        self.whole = rt.ws.state.rollbacks / f"{rt.run_id}-{label}.patch"
        aside = rt.ws.state.rollbacks / f"{rt.run_id}-{file_label(f'{step.key}-untracked')}"
        self.untracked = UntrackedKept.capture(rt.repo.root, self.changes, aside)
        failed = result.failed_gate
        self.first = failed.name if failed else ""
        self.started = time.monotonic()
        self.pycache = rt.ws.state.tmp / f"{rt.run_id}-probe-pycache"
        self.applied = frozenset(self.changes)  # the paths of the change the tree holds
        self.index_tree = tree  # the tree the index holds
        # The gate that failed runs first: it is the one most likely to fail again. A person
        # is not asked to approve every subset: the approval given to the whole stands.
        probed = [g for g in step.gates if not isinstance(g.spec, ApproveGate)]
        self.gates: list[Gate] = sorted(probed, key=lambda g: g.name != self.first)

    def run(self) -> Search[str]:
        rt = self.rt
        with critical_section():
            rt.repo.tree_patch(self.checkpoint, self.tree, self.whole)
            rt.journal.write(
                "isolate-started", step=self.step.key, tree=self.tree, patch=str(self.whole),
                units=len(self.units),
            )  # fmt: skip
        rt.observer.notice(
            f"{self.step.key}: gate {self.first} failed; searching which of its "
            f"{len(self.changes)} changed file(s) make it fail (at most {self.bound} gate runs)"
        )
        if self.untracked.paths:
            rt.observer.notice(
                f"{self.step.key}: {len(self.untracked.paths)} file(s) the step un-tracked stay "
                f"on disk as it left them (a copy meanwhile: {self.untracked.folder})"
            )
        return search_culprits(
            list(self.units), self._probe, max_runs=self.bound, spent=lambda: self.gate_runs
        )

    def switch(self, tree: str, *, now: str | None = None) -> None:
        """The change's paths as in ``tree``; the files the step un-tracked as it left them."""
        self.rt.repo.switch_tree(tree, self.changes, now=now)
        self.untracked.put_back()

    def _forget_bytecode(self, paths: Sequence[str]) -> None:
        """Drop the cached bytecode of the files this probe switched.

        Python trusts a cached ``.pyc`` whose source has the same size and mtime second: a
        file switched back and forth within a second (``pkg.old`` -> ``pkg.new``, same
        length) would run its stale bytecode and blame the wrong file. The probes' gates
        keep their bytecode in a cache of the search's own (``PYTHONPYCACHEPREFIX``, never
        the user's ``__pycache__``), from which the switched files' entries are removed.
        With ``PYTHONDONTWRITEBYTECODE`` set no bytecode is written during the search, so
        none can go stale, and the gates keep the caches they have.
        """
        now = frozenset(paths)
        for path in self.applied ^ now:
            source = self.rt.repo.root / path
            if source.suffix == ".py":
                folder = self.pycache / source.parent.relative_to(source.parent.anchor)
                for cached in folder.glob(f"{glob.escape(source.stem)}.*.pyc"):
                    cached.unlink(missing_ok=True)
        self.applied = now

    def _paths(self, units: Sequence[str]) -> list[str]:
        return [p for u in units for p in self.units[u]]

    def _probe(self, units: tuple[str, ...]) -> bool:
        rt, step = self.rt, self.step
        number = len(self.records) + 1
        paths = self._paths(units)
        subset = rt.repo.subset_tree(self.checkpoint, {p: self.changes[p] for p in paths})
        with critical_section():
            rt.journal.write(
                "probe-started", step=step.key, number=number, files=len(paths), tree=subset
            )
            self.switch(subset, now=self.index_tree)
            self.index_tree = subset
        ctx = rt.gate_context(f"{step.key}-probe-{number}", phase=step.phase_id, step=step.id)
        if not ctx.env.get("PYTHONDONTWRITEBYTECODE"):  # else no .pyc is written meanwhile
            ctx = replace(ctx, env={**ctx.env, "PYTHONPYCACHEPREFIX": str(self.pycache)})
            self._forget_bytecode(paths)
        started = time.monotonic()
        gates: list[GateResult] = []
        for gate in self.gates:
            if self.gate_runs >= self.bound:  # the bound reached inside a probe: no verdict
                raise BudgetSpent
            self.gate_runs += 1
            gates.append(rt.ws.gates.run(rt, step, gate, ctx))
            if not gates[-1].passed:
                break
        if moved := self.guard(f"a gate in probe {number}"):
            raise _Stopped(moved)
        if gates and gates[-1].inconclusive and not gates[-1].report_only:
            raise _Stopped(
                f"gate {gates[-1].name} could not judge probe {number} ({len(paths)} file(s) of "
                f"the change): {gates[-1].summary}; no verdict to blame a file by"
            )
        passed = all(g.passed for g in gates)
        failed = "" if passed else gates[-1].name
        rt.journal.write("probe-done", step=step.key, number=number, passed=passed)
        seconds = time.monotonic() - started
        record = ProbeRecord(number, len(paths), passed, failed, seconds, self.gate_runs)
        self.records.append(record)
        self.trees[frozenset(units)] = (subset, tuple(gates))
        rt.observer.notice(f"{step.key}: {record.line(self.bound)}")
        return passed

    def _why(self, group: Sequence[str]) -> str:
        """The failing gate's last line when ``group`` alone was tried (else the step's)."""
        units = frozenset(u for u, paths in self.units.items() if set(paths) <= set(group))
        gates = self.trees.get(units, ("", ()))[1]
        failed = next((g for g in gates if not g.passed), self.result.failed_gate)
        name = failed.name if failed else self.first
        together = " together" if len(group) > 1 else ""
        last = _last_line(failed.output_tail if failed else "")
        return f"gate {name} fails with its change{together}{last}"

    def abandon(self, why: str) -> Isolated:
        """The search stopped by a probe's gate: the whole change back, for the rollback."""
        with critical_section():
            self.switch(self.tree)
            self.rt.journal.write("isolate-done", step=self.step.key, outcome="abandoned")
        self.whole.unlink(missing_ok=True)
        learned = f"{why}; the culprit search stopped there; rolled back whole"
        iso = Isolation(
            outcome="abandoned", max_gate_runs=self.bound, probes=tuple(self.records),
            learned=learned, seconds=time.monotonic() - self.started,
        )  # fmt: skip
        message = f"{self.result.message}; {learned}"
        whole = replace(self.result, message=message, isolation=iso)
        return Isolated(replace(whole, seconds=whole.seconds + iso.seconds), None)

    def conclude(self, found: Search[str]) -> Isolated:
        rt = self.rt
        culprits = tuple(tuple(sorted(self._paths(group))) for group in found.culprits)
        held = tuple(p for group in culprits for p in group)
        iso = Isolation(
            outcome=found.outcome.value,
            max_gate_runs=self.bound,
            probes=tuple(self.records),
            culprits=culprits,
            then="continue" if self.step.isolate.then_continue else "stop",
        )
        if found.outcome is not SearchOutcome.ISOLATED:
            with critical_section():
                # the rollback saves and takes back the whole change, as the step left it
                self.switch(self.tree)
                rt.journal.write("isolate-done", step=self.step.key, outcome=iso.outcome)
            self.whole.unlink(missing_ok=True)
            learned = _learned(found, culprits, self.bound, self.gate_runs)
            iso = replace(iso, learned=learned, seconds=time.monotonic() - self.started)
            message = f"{self.result.message}; {learned}"
            whole = replace(self.result, message=message, isolation=iso)
            return Isolated(replace(whole, seconds=whole.seconds + iso.seconds), None)
        kept_tree, gates = self.trees[frozenset(found.kept)]
        patch = rt.ws.state.rollbacks / f"{rt.run_id}-{held_back_patch_name(self.step.key)}"
        with critical_section():
            rt.repo.tree_patch(kept_tree, self.tree, patch)
            self.switch(kept_tree, now=self.index_tree)
            rt.journal.write("isolate-done", step=self.step.key, outcome=iso.outcome)
        self.whole.unlink(missing_ok=True)
        kept = self._paths(found.kept)
        learned = (
            f"held back {len(held)} file(s) whose change fails gate {self.first} "
            f"({_shown(held)}); kept {len(kept)}, after {self.gate_runs} gate run(s)"
        )
        iso = replace(iso, held_back=held, kept=len(kept), patch=str(patch), learned=learned)
        iso = replace(iso, seconds=time.monotonic() - self.started)
        failed = self.result.failed_gate
        followups = tuple(
            FollowUp(p, 1, f"{HELD_BACK}{self._why(group)}") for group in culprits for p in group
        )
        _, diffstat = rt.repo.tree_stat(self.checkpoint, kept_tree)
        partial = replace(
            self.result,
            gates=gates,
            changed=tuple(kept),
            diffstat=diffstat,
            followups=(*self.result.followups, *followups),
            output_tail=failed.output_tail if failed else "",
            message=learned,
            isolation=iso,
            seconds=self.result.seconds + iso.seconds,
        )
        return Isolated(partial, kept_tree)


def _learned(
    found: Search[str], culprits: tuple[tuple[str, ...], ...], bound: int, runs: int
) -> str:
    """One sentence on what a search that kept nothing found out."""
    named = (
        "; culprit(s) found so far: " + "; ".join(_shown(g) for g in culprits) if culprits else ""
    )
    if found.outcome is SearchOutcome.BUDGET:
        return (
            f"the culprit search stopped at its bound of {bound} gate runs{named} (raise "
            "isolate: {max-gate-runs: N} to search further); rolled back whole"
        )
    if found.outcome is SearchOutcome.BASELINE_FAILS:
        return (
            "the gates fail without any of the step's changes too (a gate broken before the "
            "step, or flaky): no file is to blame; rolled back whole"
        )
    if found.outcome is SearchOutcome.NOTHING_KEPT:
        return f"no part of the change passes the gates{named}, after {runs} gate run(s)"
    return f"the gate runs contradicted each other (a flaky gate?){named}; rolled back whole"


def _shown(paths: Sequence[str]) -> str:
    quoted = [quote_path(p) for p in paths]
    return ", ".join(quoted[:5]) + (f" and {len(quoted) - 5} more" if len(quoted) > 5 else "")


def _last_line(tail: str) -> str:
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return f" ({lines[-1][:160]})" if lines else ""
