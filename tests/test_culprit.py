"""The culprit search over plain sets: real probe functions, every shape of fault."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Collection

import pytest

from runner.culprit import Search, SearchOutcome, search_culprits
from runner.isolation_run import units_of


def fails_when_any(*groups: Collection[int]) -> Callable[[tuple[int, ...]], bool]:
    """A probe whose gates fail when the subset holds every unit of any group."""
    sets = [frozenset(g) for g in groups]
    return lambda units: not any(g <= set(units) for g in sets)


def run(n: int, probe: Callable[[tuple[int, ...]], bool], max_runs: int = 30) -> Search[int]:
    return search_culprits(list(range(n)), probe, max_runs=max_runs)


def test_one_culprit_among_64_is_found_in_log_probes() -> None:
    found = run(64, fails_when_any({41}))
    assert found.outcome is SearchOutcome.ISOLATED
    assert found.culprits == ((41,),)
    assert set(found.kept) == set(range(64)) - {41}
    assert len(found.probes) <= 1 + math.ceil(math.log2(64)) + 2


@pytest.mark.parametrize("pair", [(3, 60), (0, 63), (31, 32), (10, 11)])
def test_two_independent_culprits_within_the_acceptance_bound(pair: tuple[int, int]) -> None:
    found = run(64, fails_when_any({pair[0]}, {pair[1]}))
    assert found.outcome is SearchOutcome.ISOLATED
    assert sorted(found.held_back) == sorted(pair)
    assert len(found.kept) == 62
    assert len(found.probes) <= 2 * 2 * 6 + 2


@pytest.mark.parametrize("pair", [(3, 60), (0, 1), (62, 63), (17, 40)])
def test_a_pair_that_fails_only_together_is_found_as_a_pair(pair: tuple[int, int]) -> None:
    found = run(64, fails_when_any(set(pair)))
    assert found.outcome is SearchOutcome.ISOLATED
    assert [sorted(g) for g in found.culprits] == [sorted(pair)]
    assert len(found.kept) == 62


def test_a_pair_and_a_single_culprit_are_two_sets() -> None:
    found = run(64, fails_when_any({5, 50}, {20}), max_runs=60)
    assert found.outcome is SearchOutcome.ISOLATED
    assert sorted(sorted(g) for g in found.culprits) == [[5, 50], [20]]


def test_the_kept_subset_was_seen_passing_and_every_culprit_set_failing() -> None:
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(1, 40)
        groups = [
            set(rng.sample(range(n), rng.randint(1, min(3, n)))) for _ in range(rng.randint(1, 3))
        ]
        probe = fails_when_any(*groups)
        found = run(n, probe, max_runs=200)
        seen = {frozenset(p.units): p.passed for p in found.probes}
        if found.outcome is SearchOutcome.ISOLATED:
            assert seen[frozenset(found.kept)] is True
            assert probe(found.kept)
        else:
            assert found.outcome is SearchOutcome.NOTHING_KEPT
            assert found.kept == ()
        for group in found.culprits:
            assert not probe(group)
            # each unit of a culprit set is needed: without it the set passes
            for unit in group:
                assert probe(tuple(u for u in group if u != unit))
        assert set(found.kept) | set(found.held_back) == set(range(n))
        assert not set(found.kept) & set(found.held_back)


def test_no_subset_is_run_twice() -> None:
    found = run(64, fails_when_any({1}, {2}, {40, 41}), max_runs=100)
    subsets = [frozenset(p.units) for p in found.probes]
    assert len(subsets) == len(set(subsets))


def test_the_bound_stops_the_search_and_keeps_what_it_learned() -> None:
    calls: list[tuple[int, ...]] = []

    def probe(units: tuple[int, ...]) -> bool:
        calls.append(units)
        return fails_when_any({3}, {30}, {50})(units)

    found = run(64, probe, max_runs=10)
    assert found.outcome is SearchOutcome.BUDGET
    assert len(calls) == 10 == len(found.probes)
    assert found.kept == ()
    assert found.culprits == ((3,),)


def test_gates_failing_without_the_change_blame_no_unit() -> None:
    found = run(64, lambda units: False)
    assert found.outcome is SearchOutcome.BASELINE_FAILS
    assert found.culprits == ()
    assert len(found.probes) == 1
    assert found.probes[0].units == ()


def test_every_unit_at_fault_keeps_nothing() -> None:
    found = run(2, fails_when_any({0}, {1}))
    assert found.outcome is SearchOutcome.NOTHING_KEPT
    assert found.kept == ()
    assert sorted(found.held_back) == [0, 1]


def test_a_flaky_gate_never_yields_an_unseen_kept_subset() -> None:
    rng = random.Random(3)
    for _ in range(50):
        found = run(16, lambda units: rng.random() < 0.5, max_runs=40)
        seen = {frozenset(p.units) for p in found.probes if p.passed}
        if found.kept:
            assert frozenset(found.kept) in seen


def test_units_needed_together_for_passing_are_handled() -> None:
    # a new module (0) and its importer (1): the importer alone fails, both pass
    def probe(units: tuple[int, ...]) -> bool:
        s = set(units)
        return not ((1 in s and 0 not in s) or 9 in s)

    found = run(12, probe)
    if found.outcome is SearchOutcome.ISOLATED:
        assert probe(found.kept)
    assert 9 in found.held_back


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 100])
def test_every_single_culprit_position(n: int) -> None:
    for c in range(n):
        found = run(n, fails_when_any({c}))
        assert found.held_back == (c,)


def test_every_pair_position_in_small_sets() -> None:
    for a, b in itertools.combinations(range(9), 2):
        found = run(9, fails_when_any({a, b}))
        assert sorted(found.held_back) == [a, b]
        assert len(found.kept) == 7


def test_units_are_files_or_folders() -> None:
    paths = ["b/x.py", "a.py", "b/y.py", "b/c/z.py"]
    assert units_of(paths, by_folder=False) == {p: (p,) for p in sorted(paths)}
    assert units_of(paths, by_folder=True) == {
        ".": ("a.py",),
        "b": ("b/x.py", "b/y.py"),
        "b/c": ("b/c/z.py",),
    }
