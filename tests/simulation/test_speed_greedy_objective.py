"""The solver given greedy's objective by its caller (`solve_within_limits(...,
greedy_objective=)`, so that a weekly plan works it out once) returns what it returns when it
works it out itself."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pytest

from allocator.engine.columns import objective
from allocator.engine.greedy import solve_greedy
from allocator.engine.instance import Overrides, build_instance
from allocator.engine.optimiser.size import solve_within_limits
from allocator.engine.params import EngineParams
from allocator.engine.run import RunSettings
from allocator.examples import generate
from allocator.policy import Policy
from allocator.tables import validate_tables

START = dt.date(2026, 12, 7)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_same_outcome_with_greedy_objective_given(seed):
    """Same plan, objective, bound and details either way."""
    households, units, stays = generate(25, 10, seed=seed, start=START, horizon_weeks=6)
    inst = build_instance(
        validate_tables(households, units, stays), START, Policy(horizon_weeks=6), Overrides()
    )
    greedy = solve_greedy(inst)
    outcomes = []
    for given in (None, objective(inst, *greedy)):
        run = RunSettings(
            deadline=time.perf_counter() + 60,
            workers=1,
            seed=0,
            relative_gap=1e-4,
            engine=EngineParams(),
            stop=None,
            max_memory=2**33,
        )
        out, details = solve_within_limits(inst, greedy, run, greedy_objective=given)
        outcomes.append((out, details))
    (a, da), (b, db) = outcomes
    assert np.array_equal(a.pool, b.pool) and np.array_equal(a.start, b.start)
    fields = ("objective", "best_bound", "proven_optimal", "source", "detail", "columns")
    assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
    assert da == db
