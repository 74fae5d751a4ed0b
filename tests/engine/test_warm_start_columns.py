"""What the simulation's optimiser policy saves without changing a plan: a small model built
without counting its columns first plans as the counted one, values of the running totals are
not copied out of GLOP without changing any answer read, and `WarmStart` finds its columns again."""

from __future__ import annotations

import time

import numpy as np
import pytest

from allocator import Policy
from allocator.engine.columns import build_columns
from allocator.engine.optimiser import incumbents
from allocator.engine.optimiser.column_generation import ColumnGeneration
from allocator.engine.optimiser.pricing import column_finder
from allocator.engine.optimiser.size import bytes_per_column
from allocator.engine.optimiser.warm import WarmStart
from allocator.engine.params import EngineParams
from allocator.engine.planning import decide
from allocator.examples import generate

START = "2026-12-07"


def _week(seed: int, n_households: int = 14, n_units: int = 12):
    return generate(n_households, n_units, seed=seed, horizon_weeks=8)


def _plain(details: dict) -> dict:
    return {k: v for k, v in details.items() if "seconds" not in k and k != "max_memory"}


@pytest.mark.parametrize("seed", range(4))
def test_a_model_built_at_once_plans_as_one_counted_first(seed):
    """Without a memory limit the columns are built at once; with one that only the exact count
    fits, they are counted first: the same plan, bound and details either way."""
    households, units, stays = _week(seed)
    policy = Policy(horizon_weeks=8)
    at_once = decide(households, units, stays, start=START, policy=policy, workers=1)
    inst = at_once.inst
    cols = len(build_columns(inst))
    assert inst.n_households * len(inst.pools) * inst.horizon > cols  # so the limit counts
    exact = cols * bytes_per_column(inst, EngineParams())
    counted = decide(
        households, units, stays, start=START, policy=policy, workers=1, max_memory=exact
    )
    assert counted.details["size_limit"] is None and counted.details["max_memory"] == exact
    assert np.array_equal(at_once.pool, counted.pool)
    assert np.array_equal(at_once.start, counted.start)
    assert at_once.best_bound == counted.best_bound
    assert _plain(at_once.details) == _plain(counted.details)
    assert at_once.details["model_columns_estimate"] == cols


def _column_generation(seed: int) -> ColumnGeneration:
    households, units, stays = _week(seed)
    d = decide(
        households, units, stays, start=START, policy=Policy(horizon_weeks=8), method="greedy"
    )
    inst, params = d.inst, EngineParams()
    cols = build_columns(inst)
    columns_of = column_finder(inst, cols)
    plan = (d.pool, d.start)
    initial = incumbents.initial_columns(inst, cols, columns_of, [plan], 3)
    return ColumnGeneration(inst, cols, initial, params, np.sort(columns_of(*plan)))


@pytest.mark.parametrize("seed", range(3))
def test_unread_running_totals_change_no_value_read(seed):
    """The LP's answer with the running totals' values left in GLOP has the same objective,
    duals and values of every choice (unplaced flags and columns) as the full answer."""
    cg = _column_generation(seed)
    lp = cg.run(time.perf_counter() + 10)
    assert lp.answer.values is not None
    N, n0 = cg.inst.n_households, cg.n0
    filtered = cg.lp.solve(10.0)
    cg.lp.leave_values_out(0, 0)
    full = cg.lp.solve(10.0)
    assert filtered.values is not None and full.values is not None
    assert filtered.objective == full.objective
    assert np.array_equal(filtered.duals, full.duals)
    assert np.array_equal(filtered.values[:N], full.values[:N])
    assert np.array_equal(filtered.values[n0:], full.values[n0:])
    assert not filtered.values[N:n0].any()


@pytest.mark.parametrize("seed", range(3))
def test_warm_start_finds_the_columns_it_kept(seed):
    """Kept from a solve, the restricted LP's columns are found again on the same instance:
    each one (a column of a pool is found in the pool of its first unit, the same pool here)."""
    cg = _column_generation(seed)
    cg.run(time.perf_counter() + 10)
    warm = WarmStart()
    warm.keep(cg.inst, cg.cols, cg.lp_cols)
    found = warm.columns_in(cg.inst, cg.cols)
    assert np.array_equal(np.sort(found), np.unique(cg.lp_cols))
    assert warm.solves == 1 and warm.carried == found.size


def test_warm_start_drops_what_is_gone():
    """Columns of households no longer in the batch, or dated before the plan's start, are not
    carried; an empty `WarmStart` carries nothing."""
    cg = _column_generation(0)
    cg.run(time.perf_counter() + 10)
    warm = WarmStart()
    assert warm.columns_in(cg.inst, cg.cols).size == 0
    warm.keep(cg.inst, cg.cols, cg.lp_cols)
    warm.household = np.array([f"gone-{h}" for h in warm.household], dtype=object)
    assert warm.columns_in(cg.inst, cg.cols).size == 0
    warm.keep(cg.inst, cg.cols, cg.lp_cols)
    warm.start = warm.start - 10_000
    assert warm.columns_in(cg.inst, cg.cols).size == 0
