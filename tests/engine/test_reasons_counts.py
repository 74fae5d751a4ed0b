"""The reasons' counting shortcuts give what a unit-by-unit look at the plan gives.

`allocator.engine.explain_free.FreeTime` counts the units free for a stay per capacity, kind and
day once, and searches for the smallest ones in growing parts, so that a reason costs the same
with fifty thousand units as with five. Here every placed household of random plans (mixed
exit-dated and duration households, every method) is looked at both ways.
"""

from __future__ import annotations

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from allocator import Method
from allocator.domain import UnitKind
from allocator.engine.explain import _PlanFacts
from allocator.engine.explain_days import taken_table
from allocator.engine.planning import decide
from allocator.testing import Scenario, random_scenario


@st.composite
def scenarios(draw, households=(1, 16), units=(1, 8)):
    return random_scenario(
        draw(st.integers(0, 2**32 - 1)),
        n_households=draw(st.integers(*households)),
        n_units=draw(st.integers(*units)),
        horizon_weeks=draw(st.integers(1, 3)),
        max_stay_days=draw(st.sampled_from([5, 15, 30])),
        caps=draw(st.booleans()),
        overrides=draw(st.booleans()),
        exit_dated_share=draw(st.sampled_from([0.0, 0.5, 1.0])),
    )


def same(a, b) -> bool:
    return (a.first, a.passed, a.n_taken) == (b.first, b.passed, b.n_taken) and all(
        np.array_equal(x, y) for x, y in ((a.taken, b.taken), (a.forbidden, b.forbidden))
    )


def looks_both_ways(sc: Scenario, method: Method) -> list[str]:
    d = sc.decide(method, time_limit=20)
    inst = d.inst
    facts = _PlanFacts(inst, d.pool, d.start, d.unit, method)
    wrong = []
    for i in np.flatnonzero(d.pool >= 0).tolist():
        u, t = int(d.unit[i]), int(d.start[i])
        flat = inst.unit_kind[u] is not UnitKind.FLAT  # the other kind
        for units, passed in (
            (facts._sized_units(i, below=int(inst.unit_capacity[u])), False),
            (facts._sized_units(i, flat=flat), True),
        ):
            fast = facts._look(i, t, units, passed)
            slow = facts._look_at_every_unit(i, t, units, passed)
            if not same(fast, slow):
                wrong.append(f"{inst.household_ids[i]} on day {t}: {fast} against {slow}")
        for day in range(int(inst.release[i]), t):
            L = inst.stay_length_at(i, day)
            if L < 1:
                continue
            _, count = facts._taken_units(i, day, 3)
            allowed = facts._allowed_mask(i)
            free_before = allowed & (facts.before_s[day] >= L)
            free_after = free_before & facts._after_ok(i, day, 0, allowed.size, L)
            expected = int(free_before.sum() - free_after.sum())
            if count != expected:
                wrong.append(f"{inst.household_ids[i]} on day {day}: {count} taken, not {expected}")
    return wrong


def counts_both_ways(sc: Scenario) -> list[str]:
    d = decide(
        sc.households,
        sc.units,
        sc.stays,
        start=sc.start,
        policy=sc.policy,
        method=Method.GREEDY,
        pins=sc.pins,
        forbids=sc.forbids,
    )
    inst = d.inst
    facts = _PlanFacts(inst, d.pool, d.start, d.unit, Method.GREEDY)
    wrong = []
    sets = {
        units[1:]: units
        for i in range(inst.n_households)
        for flat in (None, True, False)
        for below in (None, *sorted(set(inst.unit_capacity.tolist())))
        for units in [facts._sized_units(i, flat=flat, below=below)]
    }
    for units in sets.values():
        for day in range(inst.horizon):
            for L in range(1, facts._top):  # every stay a household may have
                by_day = facts._count_by_day(units, day, L)
                one_by_one = facts._count_units(units, day, L)
                if by_day != one_by_one:
                    wrong.append(f"{units[1:]} on day {day}, {L} nights: {by_day}, {one_by_one}")
    return wrong


@settings(max_examples=30, deadline=None)
@given(sc=scenarios())
def test_the_counts_per_day_are_the_units_counted_one_by_one(sc: Scenario) -> None:
    """How many units of a set are free for a stay, before the plan and in it, read from the
    counts kept per capacity group and day: the same as counting the units one by one."""
    assert counts_both_ways(sc) == []


@settings(max_examples=60, deadline=None)
@given(
    sc=scenarios(households=(6, 16), units=(1, 4)),
    method=st.sampled_from([Method.GREEDY, Method.SOLVER]),
)
def test_the_taken_units_of_every_waiting_household_at_once(sc: Scenario, method) -> None:
    """The first units taken from each waiting household, and how many, read for every
    household at once (as for many units): the same as for one household at a time."""
    d = decide(
        sc.households,
        sc.units,
        sc.stays,
        start=sc.start,
        policy=sc.policy,
        method=method,
        pins=sc.pins,
        forbids=sc.forbids,
        time_limit=20,
    )
    facts = _PlanFacts(d.inst, d.pool, d.start, d.unit, method)
    taken = np.array([facts._days(i).taken for i in range(d.inst.n_households)])
    table = taken_table(facts, taken)
    read = [i for i in range(d.inst.n_households) if table.get(i, int(taken[i])) is not None]
    event(f"households read at once: {min(len(read), 3)}+")
    for i in read:
        assert table.get(i, int(taken[i])) == facts._taken_units(i, int(taken[i]), 3), i


@settings(max_examples=80, deadline=None)
@given(sc=scenarios())
def test_counted_as_a_unit_by_unit_look_finds(sc: Scenario) -> None:
    """Smaller units, units of the other kind and units taken on each day of a wait: the same
    smallest units and counts from the shortcuts as from every unit in turn."""
    for method in (Method.GREEDY, Method.SOLVER):
        assert looks_both_ways(sc, method) == [], method
