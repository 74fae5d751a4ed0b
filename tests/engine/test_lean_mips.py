"""Lean MIPs (no HiGHS restarts, no primal heuristics) and the simulation's staging of them (no
larger restricted MIP before the proof, no fixing at the centre) prove the same optimum."""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator import plan
from allocator.engine.optimiser import backend
from allocator.engine.params import MAX_THRESHOLD, EngineParams
from allocator.engine.result import Status
from allocator.examples import generate
from allocator.simulation.weekly import weekly_engine
from allocator.testing import brute_force_optimum, check_plan, random_scenario

START = dt.date(2026, 1, 5)
# the weekly loop's settings, MIPs included
WEEKLY = weekly_engine()


def test_lean_mips_are_off_by_default() -> None:
    """``lean_mips`` is off by default: plans outside the simulation keep HiGHS's own search."""
    assert EngineParams().lean_mips is False
    assert WEEKLY.lean_mips is True
    assert WEEKLY.grow_before_proof == math.inf  # the proof follows the first MIP
    assert WEEKLY.central_fixing_from == MAX_THRESHOLD  # never fixed at the centre


def _knapsack_cover(values: list[int], weights: list[int], capacity: int) -> backend.SparseModel:
    """max sum v x with sum w x <= capacity, x binary, written as a minimisation."""
    n = len(values)
    return backend.SparseModel(
        cost=-np.asarray(values, dtype=float),
        var_lb=np.zeros(n),
        var_ub=np.ones(n),
        integer=np.ones(n, dtype=bool),
        rows=np.zeros(n, dtype=np.int64),
        cols=np.arange(n, dtype=np.int64),
        vals=np.asarray(weights, dtype=float),
        row_lb=np.array([-np.inf]),
        row_ub=np.array([float(capacity)]),
    )


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 30), st.integers(1, 20)), min_size=1, max_size=10),
    st.integers(0, 60),
)
def test_a_lean_mip_has_the_brute_force_optimum(items, capacity) -> None:
    """A small knapsack solved lean and not: both give the enumerated optimum."""
    values, weights = [v for v, _ in items], [w for _, w in items]
    best = max(
        sum(v for v, w, b in zip(values, weights, bits, strict=True) if b)
        for mask in range(1 << len(items))
        for bits in [[(mask >> k) & 1 for k in range(len(items))]]
        if sum(w for w, b in zip(weights, bits, strict=True) if b) <= capacity
    )
    model = _knapsack_cover(values, weights, capacity)
    for lean in (False, True):
        answer = backend.solve(
            model, time_limit=30, threads=1, seed=0, relative_gap=1e-9, lean=lean
        )
        assert answer.optimal
        assert -answer.objective == pytest.approx(best, abs=1e-6)


@pytest.mark.parametrize("seed", range(12))
def test_weekly_mip_settings_reach_the_brute_force_optimum(seed: int) -> None:
    """On tiny instances the simulation's MIP settings give the brute-force optimum."""
    rng = np.random.default_rng(70_000 + seed)
    sc = random_scenario(
        rng,
        n_households=int(rng.integers(2, 6)),
        n_units=int(rng.integers(1, 4)),
        horizon_weeks=int(rng.integers(1, 3)),
        max_stay_days=int(rng.choice([4, 8, 20])),
        stays=bool(rng.random() < 0.6),
        windows=bool(rng.random() < 0.6),
    )
    optimum, _, _ = brute_force_optimum(sc.raw())
    result = sc.plan("solver", relative_gap=1e-9, time_limit=30, engine=WEEKLY)
    assert sc.check(result) == []
    assert result.status is Status.OPTIMAL
    assert result.objective == pytest.approx(optimum, abs=1e-6)


def test_weekly_mip_settings_prove_the_same_optimum_with_one_proof() -> None:
    """100x60 seed 1 needs a MIP to prove its optimum: with the simulation's settings the proof
    follows the first restricted MIP directly, unfixed at the centre, and proves the same
    objective as the defaults."""
    households, units, stays = generate(100, 60, seed=1, start=START)
    results = {}
    for name, engine in (("default", EngineParams()), ("weekly", WEEKLY)):
        result = plan(
            households,
            units,
            stays,
            start=START,
            time_limit=120,
            seed=0,
            relative_gap=1e-7,
            engine=engine,
        )
        assert result.status.value == "optimal"
        assert check_plan(result, households, units, stays, START) == []
        results[name] = result
    detail = results["weekly"].details["solver_detail"]
    assert "MIP on" in detail and "after fixing at the centre" not in detail
    assert len(re.findall(r"MIP on", detail)) <= 2
    assert results["weekly"].objective == pytest.approx(results["default"].objective, rel=1e-7)


# tiny instances whose LP is fractional: the solver runs a lean MIP on each (seeds found by
# search; the tiny instances above never get as far as a MIP)
MIP_SEEDS = [21, 67, 79, 205, 792]


@pytest.mark.parametrize("seed", MIP_SEEDS)
def test_a_weekly_lean_mip_reaches_the_brute_force_optimum(seed: int) -> None:
    """Where a lean MIP runs (to prove the incumbent or to find a better plan), the simulation's
    settings give the brute-force optimum."""
    rng = np.random.default_rng(seed)
    sc = random_scenario(
        rng,
        n_households=int(rng.integers(4, 8)),
        n_units=int(rng.integers(1, 4)),
        horizon_weeks=1,
        max_stay_days=int(rng.choice([4, 8])),
        stays=bool(rng.random() < 0.6),
        windows=bool(rng.random() < 0.6),
    )
    optimum, _, _ = brute_force_optimum(sc.raw())
    result = sc.plan("solver", relative_gap=1e-9, time_limit=30, engine=WEEKLY)
    assert "MIP on" in result.details["solver_detail"]
    assert sc.check(result) == []
    assert result.status is Status.OPTIMAL
    assert result.objective == pytest.approx(optimum, abs=1e-6)
