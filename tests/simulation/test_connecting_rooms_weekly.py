"""The weekly loop with connecting rooms: a combined placement holds every room for its stay,
the next weeks see them busy, and the results count the families no single unit fits."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocator.simulation import simulate, validate_scenario, vary
from allocator.simulation.announcing import Announcing
from allocator.simulation.examples import small
from allocator.simulation.results import household_records, outcome
from allocator.simulation.sampling import build_units, sample_households
from allocator.simulation.scenario import Scenario
from allocator.simulation.weekly import _believed_stays, _Committed, _stay_maker, allocate

ROOM = {"kind": "hub_room", "capacity": 4, "operating_cost_per_unit_night": 10}
UNITS = {
    "explicit": [
        {"unit_id": "R1", **ROOM, "group": "G"},
        {"unit_id": "R2", **ROOM, "group": "G"},
        {"unit_id": "R3", **ROOM},
        {"unit_id": "R4", **ROOM, "capacity": 2},
    ]
}


def _scenario(size_mix: dict[int, float] | None = None, **changes) -> Scenario:
    arrivals = {"weekly_rate": 2.0, "size_mix": size_mix or {1: 0.4, 2: 0.3, 7: 0.3}}
    data = small(units=UNITS, arrivals=arrivals, horizon_weeks=16, **changes)
    data["costs"] = {"hotel_per_person_night": 38.5, "accompaniment_per_household_night": 5.0}
    return validate_scenario(data)


def _overlaps(scenario: Scenario, units, hh, alloc) -> list[str]:
    """Rooms held by two stays at once (turnover included), counting every joined room."""
    turn = scenario.policy.turnover_days
    held: dict[int, list[tuple[int, int]]] = {}
    for i in np.flatnonzero(alloc.unit >= 0):
        a = int(alloc.start[i])
        b = a + int(hh.length(np.array([i]), np.array([a]))[0]) + turn
        for u in (alloc.unit[i], *alloc.joined.get(int(i), ())):
            held.setdefault(int(u), []).append((a, b))
    bad = []
    for u, spans in held.items():
        spans.sort()
        bad += [units.unit_id[u] for (_, b), (c, _) in pairwise(spans) if c < b]
    return bad


@pytest.mark.parametrize("policy", ["greedy", "solver"])
def test_a_family_of_seven_takes_both_connecting_rooms_for_its_stay(policy):
    """Families of 7 are placed in R1+R2 together; no room ever holds two stays at once."""
    scn = _scenario()
    units = build_units(scn)
    hh = sample_households(scn, np.random.SeedSequence(3))
    alloc = allocate(policy, scn, units, hh, time_limit=5)
    big = np.flatnonzero((hh.size == 7) & (alloc.unit >= 0))
    assert big.size > 0
    for i in big:
        rooms = {units.unit_id[u] for u in (alloc.unit[i], *alloc.joined[int(i)])}
        assert rooms == {"R1", "R2"}
    assert set(alloc.joined) == set(big.tolist())
    assert (alloc.rooms()[big] == 2).all()
    assert _overlaps(scn, units, hh, alloc) == []
    records = household_records(scn, units, hh, alloc, policy).set_index("household")
    assert (records.loc[big, "unit_capacity"] == 8).all()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), share=st.sampled_from([0.1, 0.3, 0.6]))
def test_no_room_is_held_twice(seed, share):
    """Whatever the households, a combined stay and any other stay never share a room."""
    scn = _scenario({1: 0.5 - share / 2, 3: 0.5 - share / 2, 8: share}, exit_notice_days=3)
    units = build_units(scn)
    hh = sample_households(scn, np.random.SeedSequence(seed))
    alloc = allocate("greedy", scn, units, hh)
    assert _overlaps(scn, units, hh, alloc) == []


def test_the_next_week_sees_every_connecting_room_busy():
    """A committed combined placement reaches the engine as one stay with ``joined_units``."""
    scn = _scenario()
    units = build_units(scn)
    hh = sample_households(scn, np.random.SeedSequence(3))
    i = int(np.flatnonzero(hh.size == 7)[0])
    placed = _Committed.empty(len(hh), len(units))
    placed.unit[i], placed.start[i] = 0, 0.0
    placed.joined[i] = (1,)
    placed.last[[0, 1]] = i
    ids = np.array([f"H{k:06d}" for k in range(len(hh))], dtype=object)
    support = np.array(["medium"] * len(hh), dtype=object)
    stay_of = _stay_maker(hh, units, ids, support, placed, dt.date(2027, 1, 4))
    stays = _believed_stays(scn, hh, placed, stay_of, today=0)
    assert stays is not None and len(stays) == 1
    assert stays[0].units == ("R1", "R2")


def test_results_count_families_no_unit_fits_housed_and_in_hotels():
    """With groups the families of 7 are housed; with ``connecting_rooms: never``, or under the
    fast policies, every one of them stays in a hotel."""
    scn = _scenario()
    never = vary(scn, {"policy.connecting_rooms": "never"})
    policies = ["greedy", "fcfs_fast"]
    rows = simulate(scn, replications=2, seed=4, policies=policies).replications
    base = simulate(never, replications=2, seed=4, policies=policies).replications
    rows, base = (
        rows.set_index(["replication", "policy"]),
        base.set_index(["replication", "policy"]),
    )
    assert (rows["oversized"] > 0).all() and (rows["oversized"] == base["oversized"]).all()
    assert (rows["oversized_housed"] + rows["oversized_hotel"] == rows["oversized"]).all()
    greedy = rows.xs("greedy", level="policy")
    assert (greedy["oversized_housed"] > 0).all()
    assert (greedy["in_connecting_rooms"] >= greedy["oversized_housed"]).all()
    for other in (base, rows.xs("fcfs_fast", level="policy", drop_level=False)):
        assert (other["oversized_housed"] == 0).all()
        assert (other["in_connecting_rooms"] == 0).all()
    assert (rows.xs("hotel", level="policy")["oversized_hotel"] == greedy["oversized"]).all()


def test_occupancy_counts_every_room_and_accompaniment_each_household_once():
    """A household in two rooms adds two unit-nights to occupancy and one household-night to
    the accompaniment cost."""
    scn = _scenario()
    units = build_units(scn)
    hh = sample_households(scn, np.random.SeedSequence(3))
    alloc = allocate("greedy", scn, units, hh)
    row, weekly = outcome(scn, units, hh, alloc, "greedy")
    H = scn.horizon_days
    placed = np.flatnonzero((alloc.unit >= 0) & (alloc.start < H))
    start = alloc.start[placed].astype(np.int64)
    nights = np.minimum(start + hh.length(placed, start), H) - start
    rooms = alloc.rooms()[placed]
    assert rooms.max() == 2
    assert row["occupancy"] == pytest.approx((nights * rooms).sum() / (len(units) * H))
    assert row["cost_accompaniment"] == pytest.approx(nights.sum() * 5.0)
    assert weekly["occupied_units_end"].max() <= len(units)


def test_combined_placements_are_not_announced():
    """Announcing skips a placement in connecting rooms and tells a single-unit one."""
    told = Announcing(weeks=4, unit_ids=["R1", "R2", "R3"], start_date=dt.date(2027, 1, 4))
    batch = SimpleNamespace(
        inst=SimpleNamespace(announcements=None, household_ids=["H0", "H1"]),
        unit=np.array([0, 2]),
        start=np.array([14, 14]),
        joined={0: [1]},
    )
    todo = np.array([0, 1])
    told.after_week(0, todo, batch, np.arange(3), np.full(2, -1), np.full(2, np.nan))  # type: ignore[arg-type]
    assert told.told == {1: (2, 14)} and told.made == 1


@pytest.mark.parametrize(
    ("size", "changes", "policy"),
    [
        (9, {}, "greedy"),  # larger than the group's 4 + 4 beds
        (7, {"policy.connecting_rooms": "never"}, "greedy"),
        (7, {}, "fcfs_fast"),  # the fast policies place in one unit only
    ],
)
def test_a_family_no_policy_can_place_stays_in_the_hotel_as_under_the_baseline(
    size, changes, policy
):
    """It waits for no unit: the hotel from its need day for its drawn duration, on a placement
    clock too, so its hotel nights are the baseline's, not those to the run's end."""
    scn = vary(_scenario({size: 1.0}), changes)
    reps = simulate(scn, replications=1, seed=2, policies=[policy]).replications
    row = reps.set_index("policy")
    assert row.loc[policy, "served"] == 0
    assert row.loc[policy, "oversized_hotel"] == row.loc[policy, "oversized"] > 0
    assert row.loc[policy, "hotel_person_nights"] == row.loc["hotel", "hotel_person_nights"]
