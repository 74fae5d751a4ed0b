"""The fairness bound in the optimiser (#21 part 4): solver plans honour it, cost no less than the
unbounded optimum, are the bounded optimum over every column, and a bound that never binds
changes nothing.

The rows are checked against the lazy loop's own finder (`fairness.overtakings`); helper tests in
allocator.testing check plans against an independent reading of the raw tables.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import threading
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator import Policy
from allocator.engine.assign import assign_units
from allocator.engine.columns import build_columns, objective
from allocator.engine.greedy import solve_greedy
from allocator.engine.optimiser import backend
from allocator.engine.optimiser.fairness import (
    ColumnLookup,
    bounded_model,
    overtakings,
    plan_of,
    refill,
    repair,
    sweep,
)
from allocator.engine.params import EngineParams
from allocator.engine.result import Status
from allocator.testing import Scenario, brute_force_optimum, plan_table, random_scenario

SCALE = max(1, int(os.environ.get("ALLOCATOR_TEST_SCALE", "1")))
START = dt.date(2026, 12, 7)
TIGHT_GAP = 1e-9
TOL = 1e-6
FAST = settings(max_examples=25 * SCALE, deadline=None)


def day(d: int) -> dt.date:
    return START + dt.timedelta(days=d)


def two_households(bound: int | None) -> Scenario:
    """A household of urgency 1 waiting 10 days and one of urgency 5 waiting 2, one single
    room for a week: unbounded, the more urgent one takes it for longer than the week."""
    households = pd.DataFrame(
        [
            {
                "household_id": "EARLY",
                "size": 1,
                "urgency": 1,
                "need_date": day(-10),
                "expected_stay_days": 10,
            },
            {
                "household_id": "LATER",
                "size": 1,
                "urgency": 5,
                "need_date": day(-2),
                "expected_stay_days": 10,
            },
        ]
    )
    units = pd.DataFrame([{"unit_id": "R1", "kind": "hub_room", "capacity": 1}])
    stays = pd.DataFrame(columns=["household_id", "unit_id", "start", "expected_end"])
    return Scenario(households, units, stays, START, Policy(horizon_weeks=1, fair_wait_days=bound))


def greedy_overtakes(bound: int | None) -> Scenario:
    """Greedy's plan overtakes: PIN holds the room from day 3 to 6, so EARLY's 10 nights start
    on day 6, and LATER's 2 nights fit before PIN's, on day 0, a day EARLY could have taken."""
    rows = [("EARLY", -10, 10, 1), ("LATER", -2, 2, 1), ("PIN", 3, 3, 3)]
    households = pd.DataFrame(
        [
            {"household_id": h, "size": 1, "urgency": u, "need_date": day(n)}
            | {"expected_stay_days": stay}
            for h, n, stay, u in rows
        ]
    )
    units = pd.DataFrame([{"unit_id": "R1", "kind": "hub_room", "capacity": 1}])
    stays = pd.DataFrame(columns=["household_id", "unit_id", "start", "expected_end"])
    policy = Policy(horizon_weeks=2, turnover_days=0, fair_wait_days=bound)
    return Scenario(households, units, stays, START, policy, pins={"PIN": "R1"})


def with_bound(sc: Scenario, bound: int | None) -> Scenario:
    return dataclasses.replace(sc, policy=sc.policy.model_copy(update={"fair_wait_days": bound}))


def small(seed: int, **more) -> Scenario:
    """A random scenario of 2-7 households and 1-3 units over one or two weeks."""
    rng = np.random.default_rng(70_000 + seed)
    return random_scenario(
        rng,
        n_households=int(rng.integers(2, 8)),
        n_units=int(rng.integers(1, 4)),
        horizon_weeks=int(rng.integers(1, 3)),
        max_stay_days=int(rng.choice([4, 8, 20])),
        **more,
    )


def solved(sc: Scenario, **kwargs):
    return sc.decide("solver", relative_gap=TIGHT_GAP, time_limit=30, **kwargs)


def every_row(inst, cols) -> np.ndarray:
    """Every overtaking pair of the instance, whatever the plan: (h, g, p, t) for each column
    (g, p, t) that would overtake h if h had not started by t."""
    N = inst.policy.fair_wait_days
    lookup = ColumnLookup(inst, cols)
    rows = []
    free = inst.pinned_pool < 0
    for c in range(len(cols)):
        g, p, t = int(cols.household[c]), int(cols.pool[c]), int(cols.start[c])
        if not free[g]:
            continue
        for h in np.flatnonzero(free & (inst.need_day < inst.need_day[g])):
            if (
                inst.need_day[h] + N <= t
                and lookup.exists(np.array([h]), np.array([p]), np.array([t]))[0]
            ):
                rows.append((h, g, p, t))
    return np.array(rows, dtype=np.int64).reshape(-1, 4)


# --------------------------------------------------------------------------- hand-made


def test_the_bound_places_the_long_waiting_household_first() -> None:
    """Unbounded, the urgent later household takes the room; with the bound the one waiting
    10 days does, the record says the bound binds and the plan is proven optimal under it."""
    free = solved(two_households(None))
    assert free.pool.tolist() == [-1, 0] and free.fairness is None
    bound = solved(two_households(5))
    assert bound.pool.tolist() == [0, -1] and bound.start.tolist() == [0, -1]
    record = bound.fairness
    assert record is not None and record.binding and record.days == 5
    assert [0, 1, 0, 0] in record.rows.tolist()  # EARLY overtaken by LATER in R1 on day 0
    assert record.before_pool.tolist() == [-1, 0]
    assert bound.status is Status.OPTIMAL
    assert "fairness bound: 1 rows, binding" in bound.details["solver_detail"]


def test_a_bound_of_zero_protects_from_the_need_date_and_a_large_one_nobody() -> None:
    """Bound 0: the earlier household goes first; a bound longer than its wait: nothing changes."""
    assert solved(two_households(0)).pool.tolist() == [0, -1]
    large = solved(two_households(11))
    assert large.pool.tolist() == [-1, 0]
    assert large.fairness is not None and not large.fairness.binding
    assert "not binding" in large.details["solver_detail"]


def test_greedy_and_hotel_ignore_the_bound() -> None:
    """The bound is the optimiser's: greedy's and the hotel baseline's plans are unchanged."""
    for method in ("greedy", "hotel"):
        a = two_households(None).decide(method)
        b = two_households(3).decide(method)
        assert a.pool.tolist() == b.pool.tolist() and b.fairness is None


# --------------------------------------------------------------------------- properties


@FAST
@given(seed=st.integers(0, 10_000), bound=st.integers(0, 20))
def test_solver_plans_honour_the_bound_and_cost_no_less(seed: int, bound: int) -> None:
    """With the bound the plan has no overtaking, is valid, and costs at least the unbounded
    optimum; its bound stays below its objective."""
    sc = small(seed)
    free = solved(sc)
    fair = solved(with_bound(sc, bound))
    inst = fair.inst
    assert overtakings(inst, build_columns(inst), fair.pool, fair.start).size == 0
    assert overtakings(inst, None, fair.pool, fair.start).size == 0
    bounded = with_bound(sc, bound)
    table = bounded.plan("solver", relative_gap=TIGHT_GAP, time_limit=30, reasons=False)
    assert bounded.check(table) == []
    ours, unbounded = objective(inst, fair.pool, fair.start), objective(inst, free.pool, free.start)
    assert ours >= unbounded - TOL
    if fair.best_bound is not None:
        assert fair.best_bound <= ours + TOL
    record = fair.fairness
    assert record is not None and record.days == bound
    if not record.binding:
        assert fair.pool.tolist() == free.pool.tolist()
        assert fair.start.tolist() == free.start.tolist()


@FAST
@given(seed=st.integers(0, 10_000))
def test_a_bound_that_never_binds_changes_nothing(seed: int) -> None:
    """A bound longer than anyone can wait in the horizon: the same plan, the same objective."""
    sc = small(seed)
    free = solved(sc)
    fair = solved(with_bound(sc, 400))
    assert fair.pool.tolist() == free.pool.tolist()
    assert fair.start.tolist() == free.start.tolist()
    assert fair.fairness is not None and not fair.fairness.binding
    assert fair.fairness.rows.shape == (0, 4)


def crowded(seed: int) -> Scenario:
    """5-9 households for 1-2 units (some in connecting rooms, some exit-dated), a bound of 0-7
    days: the bound binds in about a third of them."""
    rng = np.random.default_rng(90_000 + seed)
    sc = random_scenario(
        rng,
        n_households=int(rng.integers(5, 10)),
        n_units=int(rng.integers(1, 3)),
        horizon_weeks=int(rng.integers(1, 3)),
        max_stay_days=int(rng.choice([4, 8, 20])),
        exit_dated_share=0.3 if seed % 2 else 0.0,
        groups=int(seed % 3 == 0),
    )
    return with_bound(sc, int(rng.integers(0, 8)))


def test_the_lazy_rows_reach_the_optimum_of_every_row_at_once() -> None:
    """Over every column, the lazy loop's plan costs what the MIP with every overtaking row of the
    instance costs, the bounded optimum, and is proven optimal."""
    binding = 0
    for seed in range(30 * SCALE):
        sc = crowded(seed)
        fair = solved(sc)
        inst = fair.inst
        cols = build_columns(inst)
        rows = every_row(inst, cols)
        model = bounded_model(inst, cols, rows)
        answer = backend.solve(model, time_limit=30, threads=1, seed=0, relative_gap=TIGHT_GAP)
        assert answer.optimal and answer.values is not None
        plan = plan_of(inst, cols, answer.values)
        assert overtakings(inst, cols, *plan).size == 0
        ours = objective(inst, fair.pool, fair.start)
        assert ours == pytest.approx(answer.objective, abs=TOL), f"seed {seed}"
        assert fair.status is Status.OPTIMAL
        assert fair.fairness is not None
        binding += fair.fairness.binding
    assert binding >= 5 * SCALE  # the bound decided in enough of them to test the loop


@FAST
@given(seed=st.integers(0, 10_000), bound=st.integers(0, 10))
def test_repair_leaves_no_overtaking(seed: int, bound: int) -> None:
    """Greedy's plan and the unbounded solver's, repaired, have no overtaking and only lose
    placements."""
    sc = with_bound(small(seed), bound)
    free = solved(with_bound(sc, None))
    inst = dataclasses.replace(free.inst, policy=sc.policy)
    cols = build_columns(inst)
    for pool, start in (solve_greedy(inst), (free.pool, free.start)):
        fixed = repair(inst, cols, pool, start)
        assert overtakings(inst, cols, *fixed).size == 0
        kept = fixed[0] >= 0
        assert np.array_equal(fixed[0][kept], pool[kept])
        assert np.array_equal(fixed[1][kept], start[kept])


@FAST
@given(seed=st.integers(0, 10_000), bound=st.integers(0, 10))
def test_refill_and_sweep_give_valid_compliant_plans(seed: int, bound: int) -> None:
    """A repaired plan refilled (and the empty plan filled) is a valid plan, honours the bound,
    keeps every placement it was given and costs no more than before; a sweep towards the
    unbounded plan is valid and honours the bound."""
    sc = with_bound(crowded(seed), bound)
    free = solved(with_bound(sc, None))
    inst = dataclasses.replace(free.inst, policy=sc.policy)
    empty = np.full(inst.n_households, -1, dtype=np.int64)
    for given_plan in (repair(inst, None, free.pool, free.start), (empty, empty.copy())):
        pool, start = refill(inst, given_plan, ColumnLookup(inst))
        assert overtakings(inst, None, pool, start).size == 0
        kept = given_plan[0] >= 0
        assert np.array_equal(pool[kept], given_plan[0][kept])
        assert np.array_equal(start[kept], given_plan[1][kept])
        assert objective(inst, pool, start) <= objective(inst, *given_plan) + TOL
        assert sc.check(table_of(sc, inst, pool, start)) == []
    swept = sweep(inst, (free.pool, free.start), ColumnLookup(inst))
    assert overtakings(inst, None, *swept).size == 0
    assert sc.check(table_of(sc, inst, *swept)) == []


def table_of(sc: Scenario, inst, pool: np.ndarray, start: np.ndarray) -> pd.DataFrame:
    """The plan's table for the independent checker, its units assigned as `plan` does."""
    unit, joined = assign_units(inst, pool, start)
    placements = {
        inst.household_ids[i]: (
            "+".join(inst.unit_ids[u] for u in [int(unit[i]), *joined.get(i, [])]),
            int(start[i]),
        )
        for i in np.flatnonzero(pool >= 0)
    }
    return plan_table(sc.raw(), placements)


@FAST
@given(seed=st.integers(0, 10_000), bound=st.integers(0, 10))
def test_both_column_lookups_agree(seed: int, bound: int) -> None:
    """The look-up by the columns' keys and the one by `build_columns`' tests agree on every
    (household, pool, day) triple."""
    inst = small(seed, exit_dated_share=0.3, groups=1).decide("greedy").inst
    cols = build_columns(inst)
    h, p, t = np.meshgrid(
        np.arange(inst.n_households), np.arange(len(inst.pools)), np.arange(inst.horizon)
    )
    h, p, t = h.ravel(), p.ravel(), t.ravel()
    by_keys = ColumnLookup(inst, cols).exists(h, p, t)
    assert by_keys.sum() == len(cols)
    assert np.array_equal(by_keys, ColumnLookup(inst).exists(h, p, t))


# --------------------------------------------------------------------------- every path


@pytest.mark.parametrize("seed", range(20 * SCALE))
def test_the_solver_meets_the_brute_force_optimum_under_the_bound(seed: int) -> None:
    """On tiny instances the bounded plan costs exactly the best plan that honours the bound,
    found by `allocator.testing.brute_force_optimum` from the raw tables."""
    rng = np.random.default_rng(123_000 + seed)
    sc = random_scenario(
        rng,
        n_households=int(rng.integers(4, 7)),
        n_units=int(rng.integers(1, 3)),
        horizon_weeks=1,
        max_stay_days=int(rng.choice([4, 8])),
        exit_dated_share=0.3 if seed % 2 else 0.0,
        groups=int(seed % 4 == 0),
    )
    sc = with_bound(sc, int(rng.integers(0, 6)))
    optimum, _, _ = brute_force_optimum(sc.raw(), fair=True)
    result = sc.plan("solver", relative_gap=TIGHT_GAP, time_limit=30, reasons=False)
    assert sc.check(result) == []
    assert result.objective == pytest.approx(optimum, abs=TOL)
    assert result.status is Status.OPTIMAL


def test_a_model_too_large_is_repaired() -> None:
    """Planned without the model (its memory over the limit), greedy's plan is repaired."""
    greedy = greedy_overtakes(5).decide("greedy")
    assert greedy.pool.tolist() == [0, 0, 0] and greedy.start.tolist() == [6, 0, 3]
    d = greedy_overtakes(5).decide("solver", max_memory=1)
    assert d.details["size_limit"] is not None
    assert overtakings(d.inst, None, d.pool, d.start).size == 0
    assert d.fairness is not None and d.fairness.binding
    assert d.fairness.rows.tolist() == [[0, 1, 0, 0]]
    assert d.start.tolist() == [6, -1, 3]


def test_the_solver_is_vetted_against_greedy_repaired() -> None:
    """Greedy's plan overtakes, the solver's does not: vetting never brings greedy's back."""
    d = solved(greedy_overtakes(5))
    assert overtakings(d.inst, None, d.pool, d.start).size == 0
    assert "warning" not in d.details
    assert d.status is Status.OPTIMAL


def test_no_time_for_a_mip_falls_back_to_a_repaired_plan() -> None:
    """No MIP round allowed: the repaired plans are the answer, and they honour the bound."""
    for seed in range(6):
        sc = with_bound(small(seed), 0)
        d = solved(sc, engine=EngineParams(fair_rounds=0))
        assert overtakings(d.inst, None, d.pool, d.start).size == 0


def test_a_stopped_search_returns_a_compliant_plan() -> None:
    """A stop set before the search: the plan still honours the bound."""
    stop = threading.Event()
    stop.set()
    for seed in range(6):
        d = solved(with_bound(small(seed), 0), stop=stop)
        assert overtakings(d.inst, None, d.pool, d.start).size == 0


def test_restricted_columns_still_honour_the_bound() -> None:
    """Over more than ``fair_all_columns`` columns the MIPs cover a subset: still compliant."""
    for seed in range(8):
        sc = with_bound(small(seed), 1)
        d = solved(sc, engine=EngineParams(fair_all_columns=0))
        assert overtakings(d.inst, None, d.pool, d.start).size == 0
        assert d.fairness is not None and (not d.fairness.binding or not d.fairness.all_columns)


def test_the_same_seed_gives_the_same_bounded_plan() -> None:
    """With the bound binding, two solves with one seed give one plan and one record."""
    for seed in range(4):
        sc = crowded(seed)
        a, b = solved(sc, seed=3), solved(sc, seed=3)
        assert a.pool.tolist() == b.pool.tolist() and a.start.tolist() == b.start.tolist()
        assert a.fairness is not None and b.fairness is not None
        assert np.array_equal(a.fairness.rows, b.fairness.rows)


def test_no_mip_starts_once_building_its_model_took_the_time_left(monkeypatch) -> None:
    """A model whose building passes the deadline is not solved: no solve starts late, and the
    plan is the best compliant fallback (a 2,000-household MIP overran a 30 s limit by 5 s)."""
    from allocator.engine.optimiser import fairness

    late = [0.0]
    clock = fairness.time.perf_counter
    monkeypatch.setattr(fairness, "time", SimpleNamespace(perf_counter=lambda: clock() + late[0]))
    build = fairness.bounded_model

    def slow_build(*args, **kwargs):
        late[0] = 1e6  # the deadline passes while the model is built
        return build(*args, **kwargs)

    solves = backend.solve
    after = []

    def spy(*args, **kwargs):
        after.append(late[0] > 0)
        return solves(*args, **kwargs)

    monkeypatch.setattr(fairness, "bounded_model", slow_build)
    monkeypatch.setattr(backend, "solve", spy)
    d = solved(two_households(5))
    assert not any(after)  # the usual stages solved; nothing after the model was built
    assert d.pool.tolist() == [0, -1] and overtakings(d.inst, None, d.pool, d.start).size == 0
    assert "no time for a MIP" in d.details["solver_detail"]


@FAST
@given(seed=st.integers(0, 10_000), bound=st.integers(0, 10), cut=st.integers(0, 40))
def test_refill_and_sweep_stopped_by_the_deadline_part_way_still_honour_the_bound(
    seed: int, bound: int, cut: int
) -> None:
    """A refill or a sweep that the deadline stops after ``cut`` steps (a clock that ticks once
    per look) returns what it has placed so far: valid, and no overtaking."""
    from allocator.engine.optimiser import fair_plans

    sc = with_bound(crowded(seed), bound)
    free = solved(with_bound(sc, None))
    inst = dataclasses.replace(free.inst, policy=sc.policy)
    repaired = repair(inst, None, free.pool, free.start)
    ticks = iter(range(10**9))
    real = fair_plans.clock
    fair_plans.clock = lambda: float(next(ticks))
    try:
        filled = refill(inst, repaired, ColumnLookup(inst), deadline=float(cut))
        ticks = iter(range(10**9))
        swept = sweep(inst, (free.pool, free.start), ColumnLookup(inst), deadline=float(cut))
    finally:
        fair_plans.clock = real
    for plan in (filled, swept):
        assert overtakings(inst, None, *plan).size == 0
        assert sc.check(table_of(sc, inst, *plan)) == []
    kept = repaired[0] >= 0
    assert np.array_equal(filled[0][kept], repaired[0][kept])
