"""Households with an expected exit date: placed later, they stay shorter; past it, never placed.

A household gives either ``expected_stay_days`` (nights from move-in) or ``expected_exit_date``
(its stay ends on that day, whenever it moved in, but lasts at most ``policy.max_stay_days`` from
move-in). The property tests mix both kinds in `allocator.testing.random_scenario`s and judge
every method's plan with `allocator.testing.check_plan` and `objective_of`, which read the raw
tables; the hand-made cases pin down each behaviour the issue names (#19).
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from allocator import Method, Policy, Status, plan
from allocator.engine.columns import build_columns, count_columns, objective
from allocator.engine.greedy import solve_greedy
from allocator.engine.instance import Overrides, build_instance
from allocator.engine.occupancy import Occupancy
from allocator.engine.optimiser import backend
from allocator.engine.optimiser.model import build_model
from allocator.engine.optimiser.solve import lp_relaxation
from allocator.errors import InputError
from allocator.examples import generate
from allocator.tables import validate_tables
from allocator.testing import (
    Scenario,
    check_plan,
    objective_of,
    parse_instance,
    plan_table,
    random_scenario,
)

START = dt.date(2026, 12, 7)
METHODS = [Method.SOLVER, Method.GREEDY, Method.HOTEL]


def day(d: int) -> dt.date:
    return START + dt.timedelta(days=d)


def instance_of(sc: Scenario):
    tables = validate_tables(
        sc.households, sc.units, sc.stays, start=sc.start, turnover_days=sc.policy.turnover_days
    )
    return build_instance(tables, sc.start, sc.policy, Overrides.of(sc.pins, sc.forbids))


@st.composite
def mixed_scenarios(draw) -> Scenario:
    """Random scenarios, every feature on or off, with a share of exit-dated households."""
    sc = random_scenario(
        draw(st.integers(0, 2**32 - 1)),
        n_households=draw(st.integers(1, 10)),
        n_units=draw(st.integers(1, 5)),
        horizon_weeks=draw(st.integers(1, 3)),
        max_stay_days=draw(st.sampled_from([5, 15, 30])),
        stays=draw(st.booleans()),
        windows=draw(st.booleans()),
        caps=draw(st.booleans()),
        overrides=draw(st.booleans()),
        exit_dated_share=draw(st.sampled_from([0.3, 0.6, 1.0])),
    )
    try:
        instance_of(sc)
    except InputError:  # a draw the tables refuse (the tables' tests' concern)
        assume(False)
    return sc


def one_unit(**unit) -> pd.DataFrame:
    return pd.DataFrame([{"unit_id": "U", "kind": "flat", "capacity": 4, **unit}])


def households(*rows: dict) -> pd.DataFrame:
    """Households of 2 persons, urgency 3, needed on day 0, unless a row says otherwise."""
    base = {"size": 2, "urgency": 3, "need_date": day(0), "support": "medium"}
    return pd.DataFrame([{**base, **r} for r in rows])


def placed_row(result, hid: str) -> dict:
    return result.placements.set_index("household_id").loc[hid].to_dict()


# --- every method, every rule ----------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(mixed_scenarios())
def test_every_rule_holds_with_exit_dated_households_for_every_method(sc: Scenario) -> None:
    """Each method's plan breaks no rule, its objective is the checker's, and the solver's plan
    is no worse than greedy's, with a bound below it."""
    results = {m: sc.plan(m, time_limit=20) for m in METHODS}
    for m, result in results.items():
        assert sc.check(result) == [], m
        assert sc.objective(result) == pytest.approx(result.objective, rel=1e-9, abs=1e-6), m
    solver = results[Method.SOLVER]
    assert solver.objective <= results[Method.GREEDY].objective + 1e-6
    if solver.best_bound is not None:
        assert solver.best_bound <= solver.objective + 1e-6


@settings(max_examples=60, deadline=None)
@given(mixed_scenarios())
def test_exit_dated_households_are_counted_exactly(sc: Scenario) -> None:
    """The model's size estimate counts each household's columns exactly, exit-dated or not."""
    inst = instance_of(sc)
    built = np.bincount(build_columns(inst).household, minlength=inst.n_households)
    assert np.array_equal(count_columns(inst), built)


@settings(max_examples=40, deadline=None)
@given(mixed_scenarios())
def test_first_starts_agree_with_each_pools_earliest_start(sc: Scenario) -> None:
    """The explanations' batch question (first start in any fitting pool) gives what asking
    pool by pool gives, once greedy's plan is loaded, exit-dated households included."""
    inst = instance_of(sc)
    pool, start = solve_greedy(inst)
    occupancy = Occupancy(inst)
    placed = np.flatnonzero(pool >= 0)
    occupancy.add_all(placed, pool[placed], start[placed])
    every = np.arange(len(inst.pools))
    fit = np.array(
        [[inst.fits(i, p) for p in every] for i in range(inst.n_households)], dtype=bool
    ).reshape(inst.n_households, len(inst.pools))
    first = occupancy.first_starts(np.arange(inst.n_households), fit)
    for i in range(inst.n_households):
        pools = np.flatnonzero(fit[i])
        each = occupancy.earliest_starts(i, pools, support=False, mediation=False)
        expected = int(each[each >= 0].min()) if (each >= 0).any() else -1
        assert first[i] == expected


# --- the behaviours of issue #19 -------------------------------------------------------------


@pytest.mark.parametrize("method", [Method.SOLVER, Method.GREEDY])
def test_a_household_whose_exit_comes_before_any_feasible_start_is_not_placed(method) -> None:
    """The only unit is busy until day 10 (+3 turnover): a household leaving on day 12 cannot
    start before it goes, one leaving on day 14 gets one night, and one whose exit date is
    before the plan start never could; the waiting cost runs to the exit only."""
    stays = pd.DataFrame(
        [{"household_id": "S", "unit_id": "U", "start": day(-20), "expected_end": day(10)}]
    )
    hh = households(
        {"household_id": "late", "expected_exit_date": day(12)},
        {"household_id": "past", "need_date": day(-9), "expected_exit_date": day(-2)},
    )
    policy = Policy(horizon_weeks=4)
    result = plan(hh, one_unit(), stays, start=START, policy=policy, method=method)
    assert check_plan(result, hh, one_unit(), stays, START, policy) == []
    assert (result.placements["status"] == "not_placed").all()
    # hotel nights to the exit, not to the horizon's end plus the terminal wait
    assert result.objective == pytest.approx(2.0 * 2 * 12 + 0)
    assert result.hotel_person_nights == 2 * 12
    assert placed_row(result, "late")["wait_days"] == 12

    one_night = households({"household_id": "late", "expected_exit_date": day(14)})
    result = plan(one_night, one_unit(), stays, start=START, policy=policy, method=method)
    row = placed_row(result, "late")
    assert (row["start"], row["expected_end"]) == (day(13), day(14))


@pytest.mark.parametrize("method", [Method.SOLVER, Method.GREEDY])
def test_a_later_start_gives_a_shorter_stay(method) -> None:
    """Alone, a household leaving on day 30 moves in on day 0 for 30 nights; behind an urgent
    household in the only unit until day 10 (+3 turnover), it moves in on day 13 and still
    leaves on day 30: 17 nights, and 17 nights of empty beds in the objective."""
    policy = Policy(horizon_weeks=4)
    dated = {"household_id": "D", "urgency": 1, "expected_exit_date": day(30)}
    alone = plan(households(dated), one_unit(), start=START, policy=policy, method=method)
    row = placed_row(alone, "D")
    assert (row["start"], row["expected_end"]) == (day(0), day(30))
    assert alone.wasted_bed_nights == 2 * 30

    urgent = {"household_id": "A", "urgency": 5, "expected_stay_days": 10}
    hh = households(urgent, dated)
    both = plan(hh, one_unit(), start=START, policy=policy, method=method)
    assert check_plan(both, hh, one_unit(), None, START, policy) == []
    row = placed_row(both, "D")
    assert (row["start"], row["expected_end"]) == (day(13), day(30))
    assert both.wasted_bed_nights == 2 * 10 + 2 * 17
    weight = policy.urgency_weights
    expected = weight[1] * 2 * 13 + policy.wasted_bed_night_weight * (2 * 10 + 2 * 17)
    assert both.objective == pytest.approx(expected)
    assert objective_of(both, hh, one_unit(), START, policy) == pytest.approx(both.objective)


def test_max_stay_days_caps_an_exit_dated_stay_from_move_in() -> None:
    """With a maximum stay of 10 nights, a household leaving on day 40 stays 10 nights from a
    move-in on day 0; in a unit that opens on day 35 it stays the 5 nights to its exit."""
    policy = Policy(horizon_weeks=6, max_stay_days=10)
    hh = households({"household_id": "D", "expected_exit_date": day(40)})
    for method in (Method.SOLVER, Method.GREEDY):
        now = plan(hh, one_unit(), start=START, policy=policy, method=method)
        row = placed_row(now, "D")
        assert (row["start"], row["expected_end"]) == (day(0), day(10))
        late_unit = one_unit(available_from=day(35))
        late = plan(hh, late_unit, start=START, policy=policy, method=method)
        assert check_plan(late, hh, late_unit, None, START, policy) == []
        row = placed_row(late, "D")
        assert (row["start"], row["expected_end"]) == (day(35), day(40))


def test_the_checker_holds_exit_dated_stays_to_their_exit() -> None:
    """A plan table that starts a household on its exit date, ends a stay anywhere but at its
    exit (or the maximum stay from move-in), or overlaps the next stay by its real length, is
    refused."""
    policy = Policy(horizon_weeks=4, max_stay_days=20, turnover_days=0)
    hh = households(
        {"household_id": "D", "expected_exit_date": day(9)},
        {"household_id": "E", "expected_exit_date": day(27)},
        {"household_id": "F", "expected_stay_days": 3},
    )
    units = pd.DataFrame([{"unit_id": u, "kind": "flat", "capacity": 4} for u in ("U", "V", "W")])
    raw = parse_instance(hh, units, None, START, policy)
    good = plan_table(raw, {"D": ("U", 2), "E": ("V", 1), "F": ("U", 9)})
    assert list(good["expected_end"]) == [day(9), day(21), day(12)]  # E capped at 20 nights
    assert check_plan(good, hh, units, None, START, policy) == []

    on_exit = plan_table(raw, {"D": ("U", 9)})
    assert any(
        "on or after its expected exit date" in p
        for p in check_plan(on_exit, hh, units, None, START, policy)
    )
    wrong_end = good.copy()
    wrong_end.loc[1, "expected_end"] = day(27)  # the exit, past the maximum stay
    assert any("expected_end" in p for p in check_plan(wrong_end, hh, units, None, START, policy))
    overlap = plan_table(raw, {"D": ("U", 2), "F": ("U", 8)})
    assert any("overlaps" in p for p in check_plan(overlap, hh, units, None, START, policy))


# --- the bound --------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(mixed_scenarios())
def test_the_lp_bound_is_below_the_optimum_with_mixed_households(sc: Scenario) -> None:
    """The LP relaxation over every column, and the solver's own bound, stay below the optimum
    (the solver's plan at a gap of 1e-9, proven optimal)."""
    inst = instance_of(sc)
    value, bound, converged, _ = lp_relaxation(inst, time.perf_counter() + 30)
    optimum = sc.plan("solver", relative_gap=1e-9, time_limit=30)
    assert optimum.status is Status.OPTIMAL
    tol = 1e-6 * max(1.0, abs(optimum.objective))
    assert converged
    assert bound <= value + tol
    assert value <= optimum.objective + tol
    assert optimum.best_bound is not None and optimum.best_bound <= optimum.objective + tol


def test_column_generation_reaches_the_full_lp_with_mixed_households() -> None:
    """On a generated week where half the households give an exit date, the solver's LP stage
    ends at the value HiGHS gives for the LP over every column, below the solver's plan."""
    weeks = 8
    hh, units, stays = generate(40, 20, seed=3, horizon_weeks=weeks, exit_dated_share=0.5)
    assert hh["expected_exit_date"].notna().sum() > 10
    policy = Policy(horizon_weeks=weeks)
    inst = build_instance(validate_tables(hh, units, stays), START, policy)
    cols = build_columns(inst)
    full = backend.solve(build_model(inst, cols, integer=False), time_limit=60, threads=1, seed=0)
    assert full.optimal
    value, bound, converged, _ = lp_relaxation(inst, time.perf_counter() + 60, cols)
    assert converged
    assert value == pytest.approx(full.objective, rel=1e-7, abs=1e-6)
    assert bound == pytest.approx(full.objective, rel=1e-7, abs=1e-6)
    result = plan(hh, units, stays, start=START, policy=policy, time_limit=60, reasons=False)
    assert check_plan(result, hh, units, stays, START, policy) == []
    assert full.objective <= result.objective + 1e-6 * result.objective
    assert result.objective <= objective(inst, *solve_greedy(inst)) + 1e-6
