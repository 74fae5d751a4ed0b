"""Connecting rooms in the engine: the optimum, the rules and the policy, judged independently.

Households larger than every unit may take the rooms of one `Unit.group` together (#21 part 2,
`allocator.engine.rooms`). On tiny instances with a group of 2-4 rooms the
solver's objective equals the brute-force optimum of `allocator.testing`, which enumerates every
set of rooms of a group as it enumerates units; on random instances every method's plan passes
`allocator.testing.check_plan`; the hand-made cases pin down each policy (`never`,
`when_needed`, `comfort`), and plans for inputs without groups do not change.
"""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator import Method, Policy, plan
from allocator.engine.result import Status
from allocator.testing import (
    Scenario,
    brute_force_optimum,
    plan_table,
    random_scenario,
    rooms_of,
)

SCALE = max(1, int(os.environ.get("ALLOCATOR_TEST_SCALE", "1")))
START = dt.date(2026, 12, 7)
TOL = 1e-6
MODES = ["never", "when_needed", "comfort"]


def day(d: int) -> dt.date:
    return START + dt.timedelta(days=d)


def tiny(seed: int, exit_dated_share: float = 0.0) -> Scenario:
    """2-4 households, 2-4 units of at most 2, 3 or 4 beds, 2-4 of them in one group, some
    households larger than any unit, a random policy mode, and some current stays holding two
    rooms."""
    rng = np.random.default_rng((80_000 if exit_dated_share else 70_000) + seed)
    return random_scenario(
        rng,
        n_households=int(rng.integers(2, 5)),
        n_units=int(rng.integers(2, 5)),
        horizon_weeks=int(rng.integers(1, 3)),
        max_stay_days=int(rng.choice([4, 8, 20])),
        stays=bool(rng.random() < 0.6),
        windows=bool(rng.random() < 0.6),
        max_beds=int(rng.choice([2, 3, 4])),
        groups=1,
        large_share=0.4,
        connecting_rooms=str(rng.choice(MODES)),
        exit_dated_share=exit_dated_share,
    )


@pytest.mark.parametrize(
    ("seed", "share"), [(s, 0.0) for s in range(40 * SCALE)] + [(s, 0.5) for s in range(15 * SCALE)]
)
def test_solver_reaches_the_brute_force_optimum_with_connecting_rooms(seed: int, share) -> None:
    """The solver's plan at a gap of 1e-9 costs exactly the brute-force optimum, which may
    combine rooms (also with exit-dated households); greedy's plan and the solver's follow every
    rule."""
    sc = tiny(seed, share)
    inst = sc.raw()
    optimum, witness, _ = brute_force_optimum(inst)
    assert sc.check(plan_table(inst, witness)) == []

    result = sc.plan("solver", relative_gap=1e-9, time_limit=30)
    assert sc.check(result) == []
    assert sc.objective(result) == pytest.approx(result.objective, abs=TOL)
    assert result.objective == pytest.approx(optimum, abs=TOL), (
        f"solver {result.objective} vs brute force {optimum} (witness {witness})"
    )
    assert result.status is Status.OPTIMAL

    greedy = sc.plan("greedy")
    assert sc.check(greedy) == []
    assert sc.objective(greedy) == pytest.approx(greedy.objective, abs=TOL)
    assert greedy.objective >= optimum - TOL


def test_solver_reaches_the_brute_force_optimum_with_joined_stays() -> None:
    """With current stays holding two rooms, the solver still meets the brute-force optimum and
    every plan follows the rules (the first 15 such instances)."""
    tinies = map(tiny, range(100_000, 100_200))
    instances = [sc for sc in tinies if (sc.stays.joined_units != "").any()]
    assert len(instances) >= 15
    for sc in instances[:15]:
        optimum, _, _ = brute_force_optimum(sc.raw())
        result = sc.plan("solver", relative_gap=1e-9, time_limit=30)
        assert sc.check(result) == [] and sc.check(sc.plan("greedy")) == []
        assert result.objective == pytest.approx(optimum, abs=TOL)


def test_the_tiny_instances_combine_rooms() -> None:
    """The instances above exercise combinations: many optima combine rooms, some three."""
    rooms_taken = [
        len(rooms_of(p[0]))
        for seed in range(40)
        for p in brute_force_optimum(tiny(seed).raw())[1].values()
    ]
    assert sum(k > 1 for k in rooms_taken) >= 5 and 3 in rooms_taken


@st.composite
def scenarios_with_groups(draw) -> Scenario:
    """Random scenarios with every feature on or off, 1-2 groups of connecting rooms, large
    households, current stays holding two rooms, and any policy mode."""
    return random_scenario(
        draw(st.integers(0, 2**32 - 1)),
        n_households=draw(st.integers(1, 8)),
        n_units=draw(st.integers(2, 6)),
        horizon_weeks=draw(st.integers(1, 3)),
        max_stay_days=draw(st.sampled_from([5, 15, 40])),
        stays=draw(st.booleans()),
        windows=draw(st.booleans()),
        caps=draw(st.booleans()),
        overrides=draw(st.booleans()),
        exit_dated_share=draw(st.sampled_from([0.0, 0.5])),
        max_beds=draw(st.sampled_from([3, 4, 6])),
        groups=draw(st.integers(1, 2)),
        large_share=draw(st.sampled_from([0.2, 0.5])),
        connecting_rooms=draw(st.sampled_from(MODES)),
    )


@settings(max_examples=30 * SCALE)
@given(sc=scenarios_with_groups(), method=st.sampled_from([Method.SOLVER, Method.GREEDY]))
def test_plans_with_connecting_rooms_follow_every_rule(sc: Scenario, method: Method) -> None:
    """Never split, capacity, no overlap in any room, dates, policy: the checker finds nothing,
    and recomputes the plan's objective."""
    result = sc.plan(method, time_limit=30)
    assert sc.check(result) == []
    assert sc.objective(result) == pytest.approx(result.objective, rel=1e-9, abs=TOL)
    rows = result.placements
    assert (rows.joined_units[rows.status == "not_placed"].fillna("") == "").all()


# a household of 7; two connecting 4-bed hub rooms; a 3-bed flat of no group
SEVEN = pd.DataFrame(
    [
        {
            "household_id": "H7",
            "size": 7,
            "urgency": 3,
            "need_date": day(0),
            "expected_stay_days": 10,
        }
    ]
)


def rooms(group: str | None = "G") -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"unit_id": "R1", "kind": "hub_room", "capacity": 4, "group": group},
            {"unit_id": "R2", "kind": "hub_room", "capacity": 4, "group": group},
            {"unit_id": "F1", "kind": "flat", "capacity": 3, "group": None},
        ]
    )


def policy(mode: str = "when_needed") -> Policy:
    return Policy(horizon_weeks=2, turnover_days=1, connecting_rooms=mode)


@pytest.mark.parametrize("method", [Method.SOLVER, Method.GREEDY])
def test_a_household_larger_than_every_unit_gets_connecting_rooms(method: Method) -> None:
    """when_needed: a household of 7 with only 4-bed rooms takes both rooms of the group."""
    result = plan(SEVEN, rooms(), start=START, policy=policy(), method=method)
    row = result.placements.iloc[0]
    assert row.status == "placed" and row.start == START
    assert {row.unit_id, *rooms_of(row.joined_units)} == {"R1", "R2"}
    assert row.kind == "hub_room"
    assert result.placements.joined_units.tolist() in (["R1"], ["R2"])


@pytest.mark.parametrize("method", [Method.SOLVER, Method.GREEDY])
@pytest.mark.parametrize(("group", "mode"), [(None, "when_needed"), ("G", "never")])
def test_without_a_group_or_with_never_it_is_not_placed(method: Method, group, mode) -> None:
    """No group, or the policy `never`: the household of 7 waits in a hotel."""
    result = plan(SEVEN, rooms(group), start=START, policy=policy(mode), method=method)
    row = result.placements.iloc[0]
    assert row.status == "not_placed" and row.joined_units == ""


@pytest.mark.parametrize("method", [Method.SOLVER, Method.GREEDY])
def test_a_current_stay_in_connecting_rooms_blocks_every_room(method: Method) -> None:
    """A stay holding R1+R2 to day 5 keeps a household of 1 out of R2 until then too."""
    one = SEVEN.assign(household_id="H1", size=1, expected_stay_days=3)
    units = rooms().assign(capacity=1).iloc[:2]
    stays = pd.DataFrame(
        [
            {
                "household_id": "S1",
                "unit_id": "R1",
                "joined_units": "R2",
                "start": day(-5),
                "expected_end": day(5),
            }
        ]
    )
    result = plan(one, units, stays, start=START, policy=policy(), method=method)
    row = result.placements.iloc[0]
    assert row.status == "placed" and row.start == day(6)  # after a day of turnover


def small_world(flat_from: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A household of 3; connecting rooms of 2 and 2 beds free now; a 3-bed flat whose current
    stay keeps it busy until ``flat_from`` (turnover of 1 included)."""
    households = SEVEN.assign(household_id="H3", size=3)
    units = pd.DataFrame(
        [
            {"unit_id": "R1", "kind": "hub_room", "capacity": 2, "group": "G"},
            {"unit_id": "R2", "kind": "hub_room", "capacity": 2, "group": "G"},
            {"unit_id": "F1", "kind": "hub_room", "capacity": 3, "group": None},
        ]
    )
    stays = pd.DataFrame(
        [
            {
                "household_id": "S1",
                "unit_id": "F1",
                "start": day(-20),
                "expected_end": day(flat_from - 1),
            }
        ]
    )
    return households, units, stays


@pytest.mark.parametrize("method", [Method.SOLVER, Method.GREEDY])
@pytest.mark.parametrize("flat_from", [5, 40])
def test_when_needed_never_combines_a_household_one_unit_fits(method: Method, flat_from) -> None:
    """when_needed: a household of 3 waits for the 3-bed unit, or in a hotel, rather than
    take two 2-bed rooms, though they are free now."""
    households, units, stays = small_world(flat_from)
    result = plan(households, units, stays, start=START, policy=policy(), method=method)
    row = result.placements.iloc[0]
    assert row.joined_units == ""
    if flat_from == 5:
        assert row.status == "placed" and row.unit_id == "F1" and row.start == day(5)
    else:
        assert row.status == "not_placed"


@pytest.mark.parametrize("method", [Method.SOLVER, Method.GREEDY])
def test_comfort_combines_a_household_one_unit_fits_when_cheaper(method: Method) -> None:
    """comfort: the household of 3 takes both 2-bed rooms now (one empty bed) instead of
    waiting 5 days for the 3-bed unit; with the flat free now, it takes the flat."""
    households, units, stays = small_world(5)
    result = plan(households, units, stays, start=START, policy=policy("comfort"), method=method)
    row = result.placements.iloc[0]
    assert row.status == "placed" and row.start == START
    assert {row.unit_id, *rooms_of(row.joined_units)} == {"R1", "R2"}
    free = plan(households, units, start=START, policy=policy("comfort"), method=method)
    row = free.placements.iloc[0]
    assert row.unit_id == "F1" and row.joined_units == "" and row.start == START


@pytest.mark.parametrize("seed", range(8 * SCALE))
@pytest.mark.parametrize("method", [Method.SOLVER, Method.GREEDY])
def test_plans_without_groups_are_unchanged(seed: int, method: Method) -> None:
    """Without groups (no column, or a blank one) the plan equals that with `never`."""
    sc = random_scenario(seed, n_households=10, n_units=5, exit_dated_share=0.3)
    never = Policy(**{**sc.policy.model_dump(), "connecting_rooms": "never"})
    base = plan(
        sc.households,
        sc.units,
        sc.stays,
        start=sc.start,
        policy=never,
        method=method,
        pins=sc.pins,
        forbids=sc.forbids,
    )
    for units in (sc.units, sc.units.assign(group=None)):
        for mode in ("when_needed", "comfort"):
            pol = Policy(**{**sc.policy.model_dump(), "connecting_rooms": mode})
            other = plan(
                sc.households,
                units,
                sc.stays,
                start=sc.start,
                policy=pol,
                method=method,
                pins=sc.pins,
                forbids=sc.forbids,
            )
            assert other.objective == pytest.approx(base.objective, abs=TOL)
            cols = ["household_id", "unit_id", "start", "expected_end", "status"]
            pd.testing.assert_frame_equal(other.placements[cols], base.placements[cols])
            assert (other.placements.joined_units == "").all()
