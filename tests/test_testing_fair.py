"""The independent checker and brute force know the fairness bound (#21 part 4).

Hand-made plans on one small programme: each condition of an overtaking (`allocator.testing`'s
docstring) is met once and caught, and missed once and let pass. F1 is a 3-bed
flat; F2 a step-free 2-bed flat that leaves the programme on day 10; F3 a 4-bed flat with a stay
booked from day 9 (free again on day 11, after 2 turnover days); A1 and A2 are 4-bed connecting
hub rooms. H1 asked on day -10 (it has waited 10 days on the plan start) and later households
overtake it or not. The bound is 7 days.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from allocator.engine.result import Method, Plan, Status
from allocator.policy import Policy
from allocator.tables import validate_tables
from allocator.testing import (
    assignment_objective,
    assignment_violations,
    brute_force_optimum,
    check_plan,
    could_hold,
    objective_of,
    overtakings,
    parse_instance,
    plan_table,
    random_scenario,
)

START = dt.date(2026, 12, 7)
POLICY = Policy(horizon_weeks=2, turnover_days=2, fair_wait_days=7)


def day(d: int) -> dt.date:
    return START + dt.timedelta(days=d)


def unit(uid, beds, kind="flat", group=None, accessible=False, until=None):
    return {
        "unit_id": uid,
        "kind": kind,
        "capacity": beds,
        "accessible": accessible,
        "available_from": None,
        "available_until": None if until is None else day(until),
        "group": group,
    }


def household(hid, size, need, stay=5, exit=None, accessible=False, support="medium"):
    return {
        "household_id": hid,
        "size": size,
        "urgency": 3,
        "need_date": day(need),
        "expected_stay_days": None if exit is not None else stay,
        "expected_exit_date": None if exit is None else day(exit),
        "support": support,
        "accessible": accessible,
        "language": None,
    }


UNITS = pd.DataFrame(
    [
        unit("F1", 3),
        unit("F2", 2, accessible=True, until=10),
        unit("F3", 4),
        unit("A1", 4, kind="hub_room", group="A"),
        unit("A2", 4, kind="hub_room", group="A"),
    ]
)
STAYS = pd.DataFrame(
    [
        {
            "household_id": "S1",
            "unit_id": "F3",
            "start": day(9),
            "expected_end": day(20),
            "support": None,
            "language": None,
            "joined_units": "",
        }
    ]
)


def found(rows, placements, policy=POLICY, **overrides) -> list[tuple[str, str, str, int]]:
    """The overtakings of ``placements`` among households ``rows``."""
    inst = parse_instance(pd.DataFrame(rows), UNITS, STAYS, START, policy, **overrides)
    return overtakings(inst, placements)


def problems(rows, placements, policy=POLICY, fair=True, **overrides) -> list[str]:
    households = pd.DataFrame(rows)
    inst = parse_instance(households, UNITS, STAYS, START, policy, **overrides)
    table = plan_table(inst, placements)
    return check_plan(table, households, UNITS, STAYS, START, policy, fair=fair, **overrides)


H1 = household("H1", 2, -10)  # 2 persons, 5 nights, waited 10 days on day 0
H2 = household("H2", 2, -2)  # asked later


def test_the_tables_are_valid_input() -> None:
    """The programme above is one `allocator.plan` accepts."""
    tables = validate_tables(pd.DataFrame([H1, H2]), UNITS, STAYS, start=START, turnover_days=2)
    assert len(tables.units) == 5


def test_an_overtaking_plan_is_caught_and_a_fair_one_passes() -> None:
    """H2 moving into F1 while H1 waits is an overtaking, named in a sentence; H1 first passes."""
    unfair = {"H2": ("F1", 0)}
    assert found([H1, H2], unfair) == [("H1", "H2", "F1", 0)]
    [sentence] = problems([H1, H2], unfair)
    assert "household H2 moves into unit F1 on 2026-12-07 ahead of household H1" in sentence
    assert "waited 10 days" in sentence and "fairness bound 7 days" in sentence
    # H1 first; H2 after H1's 5 nights and 2 turnover days, or elsewhere on the same day
    assert problems([H1, H2], {"H1": ("F1", 0), "H2": ("F1", 7)}) == []
    assert problems([H1, H2], {"H1": ("F1", 0), "H2": ("F3", 0)}) == []
    assert problems([H1, H2], {}) == []  # nobody placed: nobody overtaken


def test_the_wait_counts_from_the_need_date_to_the_day_of_the_move() -> None:
    """Protected once need date + N <= the day: on the boundary day, not the day before."""
    at = {"H2": ("F1", 3)}
    assert found([H1, H2], at, POLICY.model_copy(update={"fair_wait_days": 13})) != []
    assert found([H1, H2], at, POLICY.model_copy(update={"fair_wait_days": 14})) == []
    assert found([H1, H2], at, POLICY.model_copy(update={"fair_wait_days": 0})) != []
    assert found([H1, H2], at, POLICY.model_copy(update={"fair_wait_days": None})) == []


def test_only_a_household_that_asked_strictly_later_overtakes() -> None:
    """The same need date is not later; an earlier one is the other way round."""
    same = household("H2", 2, -10)
    assert found([H1, same], {"H2": ("F1", 0)}) == []
    earlier = household("H2", 2, -12)
    assert found([H1, earlier], {"H2": ("F1", 0)}) == []
    assert found([H1, earlier], {"H1": ("F1", 0)}) == [("H2", "H1", "F1", 0)]


def test_a_household_that_moved_in_by_that_day_is_not_overtaken() -> None:
    """Moving in on the same day elsewhere protects; moving in a day later does not."""
    assert found([H1, H2], {"H1": ("F3", 0), "H2": ("F1", 0)}) == []
    assert found([H1, H2], {"H1": ("F3", 1), "H2": ("F1", 0)}) == [("H1", "H2", "F1", 0)]


@pytest.mark.parametrize(
    ("waiting", "unit_id", "overrides"),
    [
        (household("H1", 4, -10), "F1", {}),  # 4 persons, 3 beds
        (household("H1", 2, -10, accessible=True), "F1", {}),  # F1 is not step-free
        (H1, "F1", {"forbids": [("H1", "F1")]}),
        (H1, "F1", {"pins": {"H1": "F3"}}),  # a pinned household is never protected
        (H1, "F1", {"pins": {"H1": "F1"}}),
        (H1, "F1", {"pins": {"H2": "F1"}}),  # a pinned household never overtakes
        (household("H1", 2, -10, stay=11), "F2", {}),  # departs on day 11, F2 leaves on day 10
        (household("H1", 2, -10, stay=8), "F3", {}),  # day 8: into the turnover before S1
        (household("H1", 2, -10, exit=11), "F2", {}),  # to its exit on day 11, after day 10
    ],
)
def test_a_unit_the_waiting_household_could_not_hold_does_not_count(
    waiting, unit_id, overrides
) -> None:
    """Beds, step-free access, forbids, pins and the stay's end against the unit's window and
    its next booked stay: "unless that is infeasible"."""
    later = {"H2": (unit_id, 0)}
    assert found([waiting, H2], later, **overrides) == []


@pytest.mark.parametrize(
    ("waiting", "unit_id"),
    [
        (household("H1", 3, -10), "F1"),  # as many persons as beds
        (household("H1", 2, -10, accessible=True), "F2"),
        (household("H1", 2, -10, stay=10), "F2"),  # departs on day 10, as F2 leaves
        (household("H1", 2, -10, stay=7), "F3"),  # departs on day 7, S1's turnover starts
        (household("H1", 2, -10, exit=10), "F2"),
        (household("H1", 2, -10, exit=40), "F2"),  # its exit is far: max_stay_days caps it
        (household("H1", 1, -10, support="high"), "F3"),  # a kind mismatch is a cost, no rule
    ],
)
def test_a_unit_the_waiting_household_could_hold_counts(waiting, unit_id) -> None:
    """The same conditions, just met: the overtaking is caught."""
    policy = POLICY.model_copy(update={"max_stay_days": 10})
    assert found([waiting, H2], {"H2": (unit_id, 0)}, policy) == [("H1", "H2", unit_id, 0)]


def test_the_unit_is_judged_on_its_own() -> None:
    """Other households of the plan do not make the unit unfit: H3 (pinned there) moving into
    F1 on day 4 would cut H1's stay short, and H1 is overtaken all the same; nor does a support
    cap that H1 would break on day 0."""
    h3 = household("H3", 1, -1, stay=3)
    plan = {"H2": ("F1", 0), "H3": ("F1", 4)}
    assert found([H1, H2, h3], plan, pins={"H3": "F1"}) == [("H1", "H2", "F1", 0)]
    inst = parse_instance(pd.DataFrame([H1]), UNITS, STAYS, START, POLICY)
    assert could_hold(inst, "H1", "F1", 0)
    capped = POLICY.model_copy(update={"support_capacity": 1})  # H1 alone carries load 2
    assert found([H1, H2], {"H2": ("F1", 0)}, capped) == [("H1", "H2", "F1", 0)]


def test_the_unit_must_be_free_of_current_stays_from_that_day() -> None:
    """A current stay holding the unit on that day (or its turnover) makes it unfit."""
    inst = parse_instance(pd.DataFrame([H1]), UNITS, STAYS, START, POLICY)
    assert could_hold(inst, "H1", "F3", 0) and could_hold(inst, "H1", "F3", 2)
    assert not could_hold(inst, "H1", "F3", 3)  # would depart on day 8, into S1's turnover
    # S1 holds F3 from day 9 to day 22, its turnover included
    assert not any(could_hold(inst, "H1", "F3", d) for d in (9, 10, 11))


def test_connecting_rooms_count_only_for_a_household_that_could_take_them() -> None:
    """A family of 7 waiting is overtaken by a later family of 8 in rooms A1+A2, not by a couple
    in room A1 alone; a waiting couple is overtaken in A1, not by the family of 8 in A1+A2
    (under ``when_needed`` a couple may not combine rooms)."""
    big = household("H1", 7, -10)
    bigger = household("H2", 8, -2)
    assert found([big, bigger], {"H2": ("A1+A2", 0)}) == [("H1", "H2", "A1+A2", 0)]
    [sentence] = problems([big, bigger], {"H2": ("A1+A2", 0)})
    assert "moves into rooms A1+A2" in sentence
    assert found([big, H2], {"H2": ("A1", 0)}) == []
    assert found([H1, bigger], {"H2": ("A1+A2", 0)}) == []
    assert found([H1, H2], {"H2": ("A1", 0)}) == [("H1", "H2", "A1", 0)]
    comfort = POLICY.model_copy(update={"connecting_rooms": "comfort"})
    four = household("H1", 5, -10)  # 5 persons: 4 + 4 beds is minimal, so it could combine
    assert found([four, bigger], {"H2": ("A1+A2", 0)}, comfort) == [("H1", "H2", "A1+A2", 0)]
    never = POLICY.model_copy(update={"connecting_rooms": "never"})
    assert found([big, bigger], {"H2": ("A1+A2", 0)}, never) == []


def test_which_plans_are_checked_for_the_bound() -> None:
    """A solver `Plan` is checked with the policy's bound; greedy's and the hotel baseline's are
    not, nor a bare table unless ``fair=True``."""
    households = pd.DataFrame([H1, H2])
    inst = parse_instance(households, UNITS, STAYS, START, POLICY)
    table = plan_table(inst, {"H2": ("F1", 0)})

    def made_by(method: Method) -> Plan:
        return Plan(table, Status.FEASIBLE, method, 0.0, None, 0.0, 0, 1, str(START), 2, 0, 0)

    def check(plan, **kw):
        return check_plan(plan, households, UNITS, STAYS, START, POLICY, **kw)

    assert len(check(made_by(Method.SOLVER))) == 1
    assert check(made_by(Method.GREEDY)) == [] and check(made_by(Method.HOTEL)) == []
    assert check(table) == [] and len(check(table, fair=True)) == 1
    assert check(made_by(Method.SOLVER), fair=False) == []


def test_brute_force_finds_the_bounded_optimum() -> None:
    """The unbounded optimum puts the shorter, later household first; the bounded one does not,
    costs more, and its plan passes the checker with the bound."""
    # H2: 3 persons for 2 nights, H1: 3 persons for 9 nights; one 3-bed flat fits either
    rows = [household("H1", 3, -10, stay=9), household("H2", 3, -2, stay=2)]
    households = pd.DataFrame(rows)
    units = UNITS[UNITS.unit_id == "F1"]
    inst = parse_instance(households, units, None, START, POLICY)
    free, plain, _ = brute_force_optimum(inst)
    bounded, fair, _ = brute_force_optimum(inst, fair=True)
    assert overtakings(inst, plain) != [] and overtakings(inst, fair) == []
    assert bounded > free
    table = plan_table(inst, fair)
    assert check_plan(table, households, units, None, START, POLICY, fair=True) == []
    assert objective_of(table, households, units, START, POLICY) == pytest.approx(bounded)
    # without a bound in the policy, or without ``fair``, the optimum is the unbounded one
    off = POLICY.model_copy(update={"fair_wait_days": None})
    assert brute_force_optimum(inst)[0] == pytest.approx(free)
    inst_off = parse_instance(households, units, None, START, off)
    assert brute_force_optimum(inst_off, fair=True)[0] == pytest.approx(free)


def exhaustive_fair_best(sc) -> float:
    """No pruning: every combination of options, judged by the rules and the bound
    (`assignment_violations`, `overtakings`) and costed by `assignment_objective`."""
    inst = sc.raw()
    hids = list(inst.households)
    choices = [[None] + [(u, d) for u in inst.units for d in range(inst.horizon)] for _ in hids]
    best = math.inf
    for combo in itertools.product(*choices):
        placements = {h: p for h, p in zip(hids, combo, strict=True) if p is not None}
        if not assignment_violations(inst, placements) and not overtakings(inst, placements):
            best = min(best, assignment_objective(inst, placements))
    return best


BINDING = (0, 18, 23, 25)  # seeds below whose bounded optimum costs more than the unbounded one


@pytest.mark.parametrize("seed", [*BINDING, 1, 2])
def test_the_pruned_fair_search_matches_full_enumeration(seed: int) -> None:
    """The brute force that prunes partial plans with an overtaking finds the bounded optimum
    that every combination of options gives (three households, one unit, one week)."""
    rng = np.random.default_rng(31_000 + seed)
    sc = random_scenario(
        rng,
        n_households=3,
        n_units=1,
        horizon_weeks=1,
        max_stay_days=6,
        caps=False,
        overrides=False,
    )
    sc.policy = sc.policy.model_copy(update={"fair_wait_days": int(rng.choice([0, 2]))})
    optimum, witness, _ = brute_force_optimum(sc.raw(), fair=True)
    assert overtakings(sc.raw(), witness) == []
    assert exhaustive_fair_best(sc) == pytest.approx(optimum, abs=1e-6)
    free = brute_force_optimum(sc.raw())[0]
    assert (optimum > free + 1e-6) == (seed in BINDING)
