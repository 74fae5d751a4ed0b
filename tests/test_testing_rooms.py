"""The independent checker, objective and brute force know connecting rooms (#21 part 2).

Hand-made plans on one small programme: each rule of a combined placement (`allocator.testing`'s
docstring) is broken once and caught, and a valid combined plan passes. Group A has four hub
rooms (4, 4, 2 and 1 beds), group B two 4-bed flats that a current stay holds together, group C
five 1-bed rooms; F1 is a 3-bed flat of no group. No unit has more than 4 beds.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from allocator.domain import Stay
from allocator.policy import Policy
from allocator.tables import validate_tables
from allocator.testing import (
    brute_force_optimum,
    check_plan,
    free_days,
    may_combine,
    objective_of,
    parse_instance,
    placement_options,
    placements_of,
    plan_table,
    random_scenario,
    room_choices,
    rooms_of,
)

START = dt.date(2026, 12, 7)


def day(d: int) -> dt.date:
    return START + dt.timedelta(days=d)


def unit(uid, kind, beds, group=None, accessible=False, until=None):
    return {
        "unit_id": uid,
        "kind": kind,
        "capacity": beds,
        "accessible": accessible,
        "available_from": None,
        "available_until": None if until is None else day(until),
        "group": group,
    }


UNITS = pd.DataFrame(
    [
        unit("A1", "hub_room", 4, "A", accessible=True),
        unit("A2", "hub_room", 4, "A"),
        unit("A3", "hub_room", 2, "A", accessible=True, until=12),
        unit("A4", "hub_room", 1, "A"),
        unit("B1", "flat", 4, "B"),
        unit("B2", "flat", 4, "B"),
        *[unit(f"C{k}", "hub_room", 1, "C") for k in range(1, 6)],
        unit("F1", "flat", 3),
    ]
)
HOUSEHOLDS = pd.DataFrame(
    [
        {"household_id": "H7", "size": 7, "need_date": day(0), "expected_stay_days": 5},
        {"household_id": "H5", "size": 5, "need_date": day(0), "expected_stay_days": 3},
        {"household_id": "H3", "size": 3, "need_date": day(0), "expected_stay_days": 4},
    ]
).assign(urgency=3, support="medium", accessible=[False, True, False], language=None)
# S1 holds B1 and B2 together up to day 3 (free again on day 5, after 2 turnover days)
STAYS = pd.DataFrame(
    [
        {
            "household_id": "S1",
            "unit_id": "B1",
            "joined_units": "B2",
            "start": day(-5),
            "expected_end": day(3),
            "support": None,
            "language": None,
        }
    ]
)
POLICY = Policy(horizon_weeks=2, turnover_days=2, terminal_wait_days=28)
# H5 (5 persons, step-free) takes the step-free A1+A3 once H7 has left A1 and its turnover passed
VALID = {"H7": ("A1+A2", 0), "H5": ("A1+A3", 7), "H3": ("F1", 0)}


def problems(placements=None, *, policy=POLICY, table=None, **overrides) -> list[str]:
    inst = parse_instance(HOUSEHOLDS, UNITS, STAYS, START, policy, **overrides)
    table = (
        plan_table(inst, VALID if placements is None else placements) if table is None else table
    )
    return check_plan(table, HOUSEHOLDS, UNITS, STAYS, START, policy, **overrides)


def test_the_tables_are_valid_input() -> None:
    """The programme above is one `allocator.plan` accepts (groups of one kind, a joined stay)."""
    tables = validate_tables(HOUSEHOLDS, UNITS, STAYS, start=START, turnover_days=2)
    assert tables.stays[0].units == ("B1", "B2")


def test_a_valid_combined_plan_passes() -> None:
    """Rooms of one group, minimal, step-free where needed, free and allowed: no problem."""
    assert problems() == []
    assert problems({"H7": ("B1+B2", 5)}) == []  # right after S1's turnover, in both rooms
    assert problems({"H7": ("A2+A1", 0)}) == []  # the rooms in any order
    # A1+A3 departs on day 10, free again on 12, the day A3 leaves the programme
    assert problems({"H5": ("A1+A3", 7)}) == []


@pytest.mark.parametrize(
    ("placements", "words"),
    [
        ({"H7": ("A1+B1", 0)}, "not connecting rooms of one group"),
        ({"H7": ("A1+F1", 0)}, "not connecting rooms of one group"),
        ({"H7": ("A1+A2+A3", 0)}, "would be spare"),  # 10 beds, 8 without A3
        ({"H7": ("A3+A4", 0)}, "have only 3 beds"),
        ({"H5": ("A1+A2", 0)}, "step-free"),
        ({"H5": ("C1+C2+C3+C4+C5", 0)}, "at most 4"),
        ({"H7": ("A1+A1", 0)}, "repeat a room"),
        ({"H7": ("A1+A9", 0)}, "not in the units table"),
        ({"H7": ("B1+B2", 0)}, "current stay S1"),  # S1 holds both rooms
        ({"H7": ("B1+B2", 4)}, "current stay S1"),  # in S1's turnover
        ({"H3": ("B2", 3)}, "current stay S1"),  # a single unit a stay holds as a joined room
        ({"H7": ("A1+A2", 0), "H5": ("A1+A3", 0)}, "overlaps household"),
        ({"H7": ("A1+A2", 0), "H3": ("A2", 6)}, "overlaps household H3"),  # A2 busy to day 7
        ({"H5": ("A1+A3", 8)}, "before room A3 leaves the programme"),  # 8+3+2 > 12
        ({"H7": ("A1+A2", -1)}, "before the plan start"),
        ({"H7": ("A1+A2", 14)}, "after the horizon"),
    ],
)
def test_the_checker_catches_broken_rules_of_connecting_rooms(placements, words) -> None:
    """Each rule of a combined placement, broken once, is named."""
    found = problems(placements)
    assert any(words in p for p in found), found


def test_the_policy_decides_who_may_combine() -> None:
    """never: nobody; when_needed: only households larger than every unit; comfort: anyone."""
    never = Policy(**{**POLICY.model_dump(), "connecting_rooms": "never"})
    comfort = Policy(**{**POLICY.model_dump(), "connecting_rooms": "comfort"})
    small = {"H3": ("A3+A4", 0)}  # 3 persons in 2+1 beds: minimal, but F1 has 3 beds
    assert any("does not allow" in p for p in problems({"H7": ("A1+A2", 0)}, policy=never))
    assert any("does not allow" in p for p in problems(small))
    assert problems(small, policy=comfort) == []
    assert any("would be spare" in p for p in problems({"H3": ("A2+A4", 0)}, policy=comfort))
    inst = parse_instance(HOUSEHOLDS, UNITS, STAYS, START, POLICY)
    assert [may_combine(inst, h) for h in inst.households] == [True, True, False]


def test_when_needed_compares_with_step_free_units_for_a_step_free_household() -> None:
    """A step-free household of 4 may combine when no step-free unit has 4 beds."""
    units = UNITS[UNITS.unit_id != "A1"]
    households = HOUSEHOLDS.assign(size=[7, 4, 3])
    plan = {"H5": ("A3+A4", 0)}  # 3 beds: too few, but the policy allows it
    inst = parse_instance(households, units, STAYS, START, POLICY)
    assert may_combine(inst, "H5") and not may_combine(inst, "H3")
    found = check_plan(plan_table(inst, plan), households, units, STAYS, START, POLICY)
    assert not any("does not allow" in p for p in found) and any("3 beds" in p for p in found)


def test_pins_and_forbids_on_connecting_rooms() -> None:
    """A pinned household is never combined; a forbidden room forbids its combinations."""
    pinned = problems({"H7": ("A1+A2", 0)}, pins={"H7": "A1"})
    assert any("pinned to unit A1" in p for p in pinned)
    forbidden = problems({"H7": ("A1+A2", 0)}, forbids=[("H7", "A2")])
    assert any("forbade room A2" in p for p in forbidden)
    assert problems({"H7": ("A1+A2", 0)}, forbids=[("H7", "B1")]) == []


def test_support_and_mediation_count_a_combined_household_once() -> None:
    """A household in two rooms adds its load once, not once per room."""
    # S1 (medium by default, load 2) is present to day 3: room for one more medium household
    capped = POLICY.model_copy(update={"support_capacity": 4})
    assert problems({"H7": ("A1+A2", 0)}, policy=capped) == []
    assert problems({"H7": ("A1+A2", 0), "H3": ("F1", 0)}, policy=capped) != []
    households = HOUSEHOLDS.assign(language=["arabic", None, None])
    one = POLICY.model_copy(update={"mediation_capacity": 1})
    inst = parse_instance(households, UNITS, STAYS, START, one)
    table = plan_table(inst, {"H7": ("A1+A2", 0)})
    assert check_plan(table, households, UNITS, STAYS, START, one) == []


def test_the_objective_counts_the_combined_beds() -> None:
    """Wasted bed-nights of connecting rooms: all their beds less the persons, times the nights."""
    inst = parse_instance(HOUSEHOLDS, UNITS, STAYS, START, POLICY)
    table = plan_table(inst, {"H7": ("A1+A2", 2), "H3": ("F1", 0)})
    w = POLICY.urgency_weights[3]
    hotel_h5 = w * 5 * (14 + 28)
    expected = w * 7 * 2 + POLICY.wasted_bed_night_weight * (8 - 7) * 5 + hotel_h5
    assert objective_of(table, HOUSEHOLDS, UNITS, START, POLICY) == pytest.approx(expected)
    # a combination of flats for a high-support household is a kind mismatch, as one flat is
    high = HOUSEHOLDS.assign(support=["high", "medium", "medium"])
    flats = plan_table(inst, {"H7": ("B1+B2", 5), "H3": ("F1", 0)})
    extra = objective_of(flats, high, UNITS, START, POLICY) - objective_of(
        flats, HOUSEHOLDS, UNITS, START, POLICY
    )
    assert extra == pytest.approx(POLICY.kind_mismatch_weight)


def test_plan_tables_carry_the_joined_rooms() -> None:
    """A plan table gives the first room in unit_id and the others in joined_units, and reads
    back; a not-placed row with joined rooms is a problem."""
    inst = parse_instance(HOUSEHOLDS, UNITS, STAYS, START, POLICY)
    table = plan_table(inst, {"H7": ("A1+A2", 0), "H3": ("F1", 0)})
    assert list(table.joined_units) == ["A2", "", ""]
    assert table.unit_id[0] == "A1" and pd.isna(table.unit_id[1]) and table.unit_id[2] == "F1"
    placed, found = placements_of(inst, table)
    assert found == [] and placed == {"H7": ("A1+A2", 0), "H3": ("F1", 0)}
    broken = table.copy()
    broken.loc[1, "joined_units"] = "A3"
    assert any("not placed but has a unit" in p for p in problems(table=broken))
    as_list = table.assign(joined_units=[("A2",), (), ()])  # a list of ids reads the same
    assert placements_of(inst, as_list)[0] == placed


def test_stays_as_records_hold_every_room() -> None:
    """Stays given as domain records (their dump joins the rooms) block every room they hold."""
    stays = [
        Stay(household_id="S1", unit_id="B1", joined_units="B2", start=day(-5), expected_end=day(3))
    ]
    inst = parse_instance(HOUSEHOLDS, UNITS, stays, START, POLICY)
    assert inst.stays[0].units == ("B1", "B2")
    assert free_days(inst, "B2")[0] == 5 and free_days(inst, "B1")[0] == 5
    assert free_days(inst, "A2")[0] == 0


def test_brute_force_enumerates_connecting_rooms() -> None:
    """Every set of 2-4 rooms of one group is a choice; the optimum combines the household of 7
    at once."""
    inst = parse_instance(HOUSEHOLDS, UNITS, STAYS, START, POLICY)
    choices = room_choices(inst)
    assert choices[: len(UNITS)] == list(UNITS.unit_id)
    combos = [c for c in choices if "+" in c]
    # group A: 6 pairs, 4 triples, 1 quadruple; B: 1 pair; C: 10 pairs, 10 triples, 5 quadruples
    assert len(combos) == 11 + 1 + 25
    assert all(len(rooms_of(c)) <= 4 for c in combos)
    options = placement_options(inst, "H7")
    # minimal sets of 7 beds or more: 4+4, 4+2+1 (either 4-bed room), and B's pair
    assert {p[0] for _, p in options if p is not None} == {
        "A1+A2",
        "A1+A3+A4",
        "A2+A3+A4",
        "B1+B2",
    }
    optimum, best, _ = brute_force_optimum(inst)
    assert "+" in best["H7"][0] and best["H7"][1] == 0
    assert check_plan(plan_table(inst, best), HOUSEHOLDS, UNITS, STAYS, START, POLICY) == []
    assert objective_of(plan_table(inst, best), HOUSEHOLDS, UNITS, START, POLICY) == (
        pytest.approx(optimum)
    )


@pytest.mark.parametrize("seed", range(20))
def test_random_scenarios_with_groups_are_valid_input(seed: int) -> None:
    """Generated groups have 2-4 rooms of one kind, joined stays follow the rules, and some
    households are larger than every unit."""
    sc = random_scenario(
        seed, n_households=8, n_units=6, groups=2, large_share=0.5, connecting_rooms="comfort"
    )
    tables = validate_tables(
        sc.households, sc.units, sc.stays, start=sc.start, turnover_days=sc.policy.turnover_days
    )
    sizes = sc.units.groupby("group").size()
    assert sizes.between(2, 4).all() and 1 <= len(sizes) <= 2
    assert (sc.units.dropna(subset=["group"]).groupby("group").kind.nunique() == 1).all()
    assert all(s.joined_units == () or len(s.units) == 2 for s in tables.stays)
    assert sc.policy.connecting_rooms.value == "comfort"


def test_without_groups_the_scenarios_are_as_before() -> None:
    """No groups asked: no group or joined_units column, and the same draws as before."""
    sc = random_scenario(3, n_households=5, n_units=3)
    assert "group" not in sc.units.columns and "joined_units" not in sc.stays.columns
    again = random_scenario(np.random.default_rng(3), n_households=5, n_units=3, max_beds=6)
    pd.testing.assert_frame_equal(sc.households, again.households)
    pd.testing.assert_frame_equal(sc.units, again.units)
