"""The written-out paths of the weekly plan's bookkeeping give what the general code gives: a
unit with one stay (`instance._free_gaps` without its sort, against the stay listed twice, which
sorts), units of equal cost
(`assign.assign_units`, against sorting them by cost), and a stay in a pool no combination
shares (`occupancy.Occupancy.add`, against taking rooms part by part)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.domain import Unit
from allocator.engine import instance as instance_module
from allocator.engine.assign import assign_units
from allocator.engine.greedy import solve_greedy
from allocator.engine.occupancy import Occupancy
from allocator.policy import validate_policy
from allocator.testing import random_instance

START = dt.date(2026, 12, 7)

units_with_a_stay = st.lists(
    st.tuples(
        st.integers(1, 3),  # beds
        st.one_of(st.none(), st.integers(-10, 20)),  # available from (day)
        st.one_of(st.none(), st.integers(-5, 30)),  # available until (day)
        st.one_of(st.none(), st.tuples(st.integers(-20, 25), st.integers(1, 25))),  # stay
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(units_with_a_stay, st.integers(0, 3), st.integers(1, 2), st.sets(st.integers(0, 5)))
def test_a_unit_with_one_stay_has_the_pools_its_free_gaps_give(specs, turn, weeks, special):
    """Each unit's one stay, and the same stay listed twice (which `_free_gaps` sorts): the
    same pools and the same pool per unit."""
    policy = validate_policy({"turnover_days": turn, "horizon_weeks": weeks}, source="policy")
    units, once = [], {}
    for k, (beds, first, until, stay) in enumerate(specs):
        available_from = None if first is None else START + dt.timedelta(days=first)
        available_until = None if until is None else START + dt.timedelta(days=until)
        if available_from and available_until and available_until <= available_from:
            available_until = None
        units.append(
            Unit(
                unit_id=f"U{k}",
                kind="flat",
                capacity=beds,
                available_from=available_from,
                available_until=available_until,
            )
        )
        if stay is not None:
            once[k] = [(stay[0], stay[0] + stay[1] + turn)]
    twice = {k: spans * 2 for k, spans in once.items()}
    special = {k for k in special if k < len(units)}
    pools, unit_pool = instance_module._pools(units, once, special, START, policy)
    general, general_pool = instance_module._pools(units, twice, special, START, policy)
    np.testing.assert_array_equal(unit_pool, general_pool)
    assert len(pools) == len(general)
    for ours, theirs in zip(pools, general, strict=True):
        for field in dataclasses.fields(ours):
            a, b = getattr(ours, field.name), getattr(theirs, field.name)
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, b, err_msg=field.name)
            else:
                assert a == b, field.name


instances = st.builds(
    random_instance,
    seed=st.integers(0, 10**6),
    n=st.integers(2, 14),
    m=st.integers(1, 8),
    weeks=st.integers(1, 3),
    rooms=st.booleans(),
)


@settings(max_examples=40, deadline=None)
@given(instances)
def test_units_of_equal_cost_are_given_as_sorting_by_cost_gives(inst):
    """Every cost the same (none given), and costs rising with the units' order (sorted by
    cost, the same order): the same unit and rooms per household."""
    pool, start = solve_greedy(inst)
    equal = dataclasses.replace(inst, unit_cost=np.full(len(inst.unit_ids), np.nan))
    rising = dataclasses.replace(inst, unit_cost=np.arange(len(inst.unit_ids), dtype=float))
    unit, rooms = assign_units(equal, pool, start)
    sorted_unit, sorted_rooms = assign_units(rising, pool, start)
    np.testing.assert_array_equal(unit, sorted_unit)
    assert rooms == sorted_rooms


@settings(max_examples=40, deadline=None)
@given(instances)
def test_a_stay_in_a_pool_of_its_own_counts_as_taking_its_rooms(inst):
    """Greedy's plan added stay by stay to the occupancy, and to one that takes every pool's
    units part by part (`_take_rooms`): the same free units, free runs and longest stays."""
    if not inst.has_combinations:
        return
    pool, start = solve_greedy(inst)
    quick, by_parts = Occupancy(inst), Occupancy(inst)
    for p in range(len(inst.pools)):
        by_parts._users.setdefault(p, [])  # a user list, empty: no combination more to count
    for i in np.flatnonzero(pool >= 0).tolist():
        quick.add(i, int(pool[i]), int(start[i]))
        by_parts.add(i, int(pool[i]), int(start[i]))
        for name in ("room", "next_full", "longest"):
            np.testing.assert_array_equal(getattr(quick, name), getattr(by_parts, name))
