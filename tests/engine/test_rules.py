"""Every method's plan follows the rules, on random instances; and the rule checker catches breaks.

The property tests draw small instances with every feature the rules cover (sizes 1-6, step-free
needs, availability windows, current stays, support and mediation caps, pins and forbidden pairs,
short horizons), plan them with the solver, greedy and hotel-only, and judge each plan with
`allocator.testing.check_plan`, which works from the raw tables. The objective is recomputed with
`allocator.testing.objective_of`. The second half checks the checker itself on hand-made plans.
"""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from allocator import Method, Policy, Status, plan
from allocator.testing import (
    Scenario,
    check_plan,
    free_days,
    objective_of,
    parse_instance,
    plan_table,
)
from allocator.testing._scenarios import following_the_rules

SCALE = max(1, int(os.environ.get("ALLOCATOR_TEST_SCALE", "1")))
START = dt.date(2026, 12, 7)
LANGUAGES = ["arabic", "tigrinya"]
METHODS = [Method.SOLVER, Method.GREEDY, Method.HOTEL]


def day(d: int) -> dt.date:
    return START + dt.timedelta(days=d)


@st.composite
def scenarios(
    draw,
    max_households: int = 8,
    max_units: int = 4,
    max_stay: int = 40,
    exit_dates: bool = False,
) -> Scenario:
    weeks = draw(st.integers(2, 4))
    H = 7 * weeks
    n_units = draw(st.integers(1, max_units))
    units, stays = [], []
    for k in range(n_units):
        frm = draw(st.none() | st.integers(-3, H))
        until = draw(st.none() | st.integers(1, H + 30))
        if frm is not None and until is not None and until <= frm:
            until = frm + 1 + until
        units.append(
            {
                "unit_id": f"U{k}",
                "kind": draw(st.sampled_from(["flat", "hub_room"])),
                "capacity": draw(st.integers(1, 6)),
                "accessible": draw(st.booleans()),
                "available_from": None if frm is None else day(frm),
                "available_until": None if until is None else day(until),
            }
        )
        # current stays, one after the other (they may not overlap), some before the plan start
        cursor = draw(st.integers(-60, H))
        for _ in range(draw(st.integers(0, 2))):
            s = cursor + draw(st.integers(0, 20))
            e = s + draw(st.integers(1, 50))
            # a current stay starting when its unit leaves the programme is not realistic input
            if until is not None and s >= until:
                break
            stays.append(
                {
                    "household_id": f"S{len(stays)}",
                    "unit_id": f"U{k}",
                    "start": day(s),
                    "expected_end": day(e),
                    "support": draw(st.none() | st.sampled_from(["low", "medium", "high"])),
                    "language": draw(st.none() | st.sampled_from(LANGUAGES)),
                }
            )
            cursor = e
    n = draw(st.integers(1, max_households))
    households = [
        {
            "household_id": f"H{k}",
            "size": draw(st.integers(1, 6)),
            "urgency": draw(st.integers(1, 5)),
            "need_date": day(draw(st.integers(-14, H + 3))),
            "expected_stay_days": draw(st.integers(1, max_stay)),
            "support": draw(st.sampled_from(["low", "medium", "high"])),
            "accessible": draw(st.booleans()) and draw(st.booleans()),
            "language": draw(st.none() | st.none() | st.sampled_from(LANGUAGES)),
        }
        for k in range(n)
    ]
    if exit_dates:  # some households give an exit date instead, before, in or after the horizon
        for h in households:
            if draw(st.booleans()):
                h["expected_exit_date"] = h["need_date"] + dt.timedelta(
                    days=draw(st.integers(1, max_stay))
                )
                h["expected_stay_days"] = None
    policy = Policy(
        horizon_weeks=weeks,
        turnover_days=draw(st.integers(0, 4)),
        support_capacity=draw(st.none() | st.integers(0, 14)),
        support_loads=draw(
            st.just({"low": 1, "medium": 2, "high": 3})
            | st.fixed_dictionaries({s: st.integers(0, 3) for s in ("low", "medium", "high")})
        ),
        existing_stay_support=draw(st.sampled_from(["low", "medium", "high"])),
        mediation_capacity=draw(st.none() | st.integers(0, 3)),
        mediation_capacity_by_language=draw(
            st.dictionaries(st.sampled_from(LANGUAGES), st.integers(0, 2), max_size=1)
        ),
        kind_mismatch_weight=draw(st.sampled_from([0.0, 0.5, 5.0])),
        terminal_wait_days=draw(st.sampled_from([0, 28])),
        max_stay_days=draw(st.integers(1, max_stay)) if exit_dates else 548,
    )
    pins, forbids = {}, []
    for k in range(n):
        choice = draw(st.sampled_from(["none"] * 5 + ["pin", "forbid"]))
        unit = f"U{draw(st.integers(0, n_units - 1))}"
        if choice == "pin":
            pins[f"H{k}"] = unit
        elif choice == "forbid":
            forbids.append((f"H{k}", unit))
    stay_columns = ["household_id", "unit_id", "start", "expected_end", "support", "language"]
    stays = following_the_rules(stays, units, policy.turnover_days)
    sc = Scenario(
        households=pd.DataFrame(households),
        units=pd.DataFrame(units),
        stays=pd.DataFrame(stays, columns=stay_columns),
        start=START,
        policy=policy,
        pins=pins,
        forbids=forbids,
    )
    return sc


def check_all_methods(sc: Scenario) -> None:
    plans = {m: sc.plan(m) for m in METHODS}
    objectives = {}
    for m, p in plans.items():
        assert len(p.placements) == len(sc.households), m
        assert list(p.placements["household_id"]) == list(sc.households["household_id"]), m
        assert sc.check(p) == [], m
        objectives[m] = sc.objective(p)
        assert p.objective == pytest.approx(objectives[m], rel=1e-9, abs=1e-6), m
    assert plans[Method.SOLVER].status in (Status.OPTIMAL, Status.FEASIBLE)
    assert plans[Method.GREEDY].status is Status.HEURISTIC
    assert plans[Method.HOTEL].status is Status.HEURISTIC
    assert (plans[Method.HOTEL].placements["status"] == "not_placed").all()
    assert objectives[Method.SOLVER] <= objectives[Method.GREEDY] + 1e-6
    # what the examples covered (pytest --hypothesis-show-statistics)
    placed = (plans[Method.SOLVER].placements["status"] == "placed").sum()
    event(
        f"solver placed {'none' if placed == 0 else 'some' if placed < len(sc.households) else 'all'}"
    )
    if objectives[Method.SOLVER] < objectives[Method.GREEDY] - 1e-6:
        event("solver beat greedy")
    event(f"solver plan from {plans[Method.SOLVER].details.get('plan_source')}")
    if len(sc.stays):
        event("current stays")
    if sc.policy.support_capacity is not None:
        event("support cap")
    if sc.pins or sc.forbids:
        event("pins or forbids")
    inst = sc.raw()
    if not any(free_days(inst, u) for u in inst.units):
        event("no unit free in the horizon")
    if plans[Method.SOLVER].status is Status.OPTIMAL:
        # the empty plan is a valid plan too
        slack = 1e-4 * abs(objectives[Method.SOLVER]) + 1e-6
        assert objectives[Method.SOLVER] <= objectives[Method.HOTEL] + slack


@settings(max_examples=200 * SCALE, deadline=None)
@given(sc=scenarios())
def test_every_method_follows_the_rules(sc: Scenario) -> None:
    check_all_methods(sc)


@settings(max_examples=60 * SCALE, deadline=None)
@given(sc=scenarios(max_households=25, max_units=8, max_stay=25))
def test_every_method_follows_the_rules_on_busier_instances(sc: Scenario) -> None:
    check_all_methods(sc)


@settings(max_examples=100 * SCALE, deadline=None)
@given(sc=scenarios(exit_dates=True) | scenarios(max_households=20, max_units=6, exit_dates=True))
def test_every_method_follows_the_rules_with_exit_dated_households(sc: Scenario) -> None:
    """Some households give an exit date, some a length; the maximum stay caps some stays."""
    check_all_methods(sc)


@pytest.mark.parametrize("method", [m.value for m in METHODS])
def test_no_unit_free_in_the_horizon(method: str) -> None:
    """Regression: no unit free on any day of the horizon (no pools) crashed every method.

    `columns.placement_cost` indexed an empty 1-D array with two indices (fixed in a6c4d73).
    """
    households = [
        {
            "household_id": "H0",
            "size": 1,
            "urgency": 1,
            "need_date": START,
            "expected_stay_days": 5,
        }
    ]
    units = [{"unit_id": "U0", "kind": "flat", "capacity": 2}]
    stays = [{"household_id": "S0", "unit_id": "U0", "start": day(-6), "expected_end": day(54)}]
    policy = Policy(horizon_weeks=1)
    result = plan(households, units, stays, start=START, policy=policy, method=method)
    assert check_plan(result, households, units, stays, START, policy) == []
    waiting = policy.urgency_weights[1] * 1 * (7 + policy.terminal_wait_days)
    assert result.objective == pytest.approx(waiting)
    assert (result.placements["status"] == "not_placed").all()


# --------------------------------------------------------------------------- the checker itself

HOUSEHOLDS = pd.DataFrame(
    [
        # id, size, urgency, need date, stay, support, step-free, language
        ("H1", 2, 3, day(-6), 5, "medium", False, None),
        ("H2", 3, 1, day(1), 10, "low", True, "arabic"),
        ("H3", 1, 2, day(0), 3, "low", False, None),
    ],
    columns=[
        "household_id",
        "size",
        "urgency",
        "need_date",
        "expected_stay_days",
        "support",
        "accessible",
        "language",
    ],
)
UNITS = pd.DataFrame(
    [
        ("U1", "flat", 2, False, None, None),
        ("U2", "hub_room", 4, True, day(3), day(18)),
        ("U3", "flat", 1, False, None, None),
        ("U4", "flat", 1, False, None, None),
    ],
    columns=["unit_id", "kind", "capacity", "accessible", "available_from", "available_until"],
)
STAYS = pd.DataFrame(
    [
        ("S1", "U1", day(-30), day(2), "high", "arabic"),
        ("S2", "U4", day(-5), day(5), "low", "arabic"),
    ],
    columns=["household_id", "unit_id", "start", "expected_end", "support", "language"],
)
# every weight the hand-made numbers below use is set here, not taken from the defaults
POLICY = Policy(
    horizon_weeks=2,
    turnover_days=2,
    urgency_weights={1: 1.0, 2: 1.5, 3: 2.0, 4: 3.0, 5: 5.0},
    wasted_bed_night_weight=0.002,
    kind_mismatch_weight=0.5,
    terminal_wait_days=28,
    pin_weight=1000.0,
    support_loads={"low": 1, "medium": 2, "high": 3},
)
VALID = {"H1": ("U1", 4), "H2": ("U2", 3), "H3": ("U3", 0)}


def problems(placements=None, *, policy=POLICY, table=None, **overrides) -> list[str]:
    inst = parse_instance(HOUSEHOLDS, UNITS, STAYS, START, policy, **overrides)
    table = (
        plan_table(inst, VALID if placements is None else placements) if table is None else table
    )
    return check_plan(table, HOUSEHOLDS, UNITS, STAYS, START, policy, **overrides)


def test_a_valid_hand_made_plan_passes() -> None:
    assert problems() == []
    assert problems({}) == []  # nobody placed is always valid


def test_hand_made_objective() -> None:
    inst = parse_instance(HOUSEHOLDS, UNITS, STAYS, START, POLICY)
    table = plan_table(inst, VALID)
    # H1: weight 2 x 2 persons x 4 days; no empty bed; medium support: no mismatch
    # H2: weight 1 x 3 x (3 - 1) days + 0.002 x 1 empty bed x 10 nights + low support in a hub
    # H3: placed on its need date in a 1-bed flat: nothing
    assert objective_of(table, HOUSEHOLDS, UNITS, START, POLICY) == pytest.approx(16 + 6.52)
    # H2 not placed: weight 1 x 3 x (14 - 1 + 28); pinned: times 1000
    partial = plan_table(inst, {"H1": ("U1", 4), "H3": ("U3", 0)})
    assert objective_of(partial, HOUSEHOLDS, UNITS, START, POLICY) == pytest.approx(16 + 123)
    pinned = objective_of(partial, HOUSEHOLDS, UNITS, START, POLICY, pins={"H2": "U2"})
    assert pinned == pytest.approx(16 + 123_000)


@pytest.mark.parametrize(
    ("placements", "words"),
    [
        ({**VALID, "H1": ("U1", 3)}, "current stay S1"),  # in S1's turnover
        ({**VALID, "H2": ("U1", 7)}, "only 2 beds"),
        ({**VALID, "H2": ("U1", 7)}, "step-free"),
        ({**VALID, "H2": ("U2", 2)}, "before the unit is available"),
        ({**VALID, "H2": ("U2", 9)}, "after the unit leaves the programme"),
        ({**VALID, "H2": ("U2", 0)}, "before its need date"),
        ({**VALID, "H1": ("U1", 14)}, "after the horizon"),
        ({**VALID, "H1": ("U1", -1)}, "before the plan start"),
        ({**VALID, "H3": ("U1", 6)}, "overlaps household H3"),  # H1: days 4-8, +2 turnover
        ({**VALID, "H3": ("U1", 10)}, "overlaps household H3"),
        ({**VALID, "H3": ("U4", 6)}, "current stay S2"),
        ({**VALID, "H3": ("U9", 0)}, "not in the units table"),
    ],
)
def test_the_checker_catches_broken_rules(placements, words) -> None:
    found = problems(placements)
    assert any(words in p for p in found), found


def test_turnover_ends_when_the_unit_leaves() -> None:
    # U2 leaves the programme on day 18: a stay may depart exactly then, turnover or not
    assert problems({"H2": ("U2", 8)}) == []
    assert problems({**VALID, "H3": ("U1", 11)}) == []  # right after H1's turnover
    assert problems({"H3": ("U4", 7)}) == []  # right after S2's turnover
    assert problems({"H3": ("U3", 13)}) == []  # starts on the horizon's last day


def test_the_checker_catches_a_busy_accompaniment_team() -> None:
    # loads 1/2/3: S1 (high, 3) is present on days 0-1, S2 (low, 1) on days 0-4; in VALID,
    # H1 (medium, 2) on days 4-8, H2 (low, 1) on days 3-12, H3 (low, 1) on days 0-2
    tight = POLICY.model_copy(update={"support_capacity": 4})
    assert any("support load 5 (4 from current stays)" in p for p in problems(policy=tight))
    assert problems(policy=tight.model_copy(update={"support_capacity": 5})) == []
    # the current stays alone over the cap: nothing new may be present those days
    over = POLICY.model_copy(update={"support_capacity": 2})
    assert problems({"H2": ("U2", 3)}, policy=over) == []
    assert problems({"H3": ("U3", 1)}, policy=over) != []


def test_the_checker_catches_mediation_over_the_cap() -> None:
    # S1 needs arabic mediation on days 0-1, S2 on days 0-4, H2 in VALID on days 3-12
    assert problems(policy=POLICY.model_copy(update={"mediation_capacity": 2})) == []
    one = POLICY.model_copy(update={"mediation_capacity": 1})
    assert any("2 households need arabic mediation" in p for p in problems(policy=one))
    assert problems({"H2": ("U2", 5)}, policy=one) == []
    none = POLICY.model_copy(update={"mediation_capacity_by_language": {"arabic": 0}})
    assert any("arabic mediation" in p for p in problems(policy=none))
    assert problems({"H1": ("U1", 4)}, policy=none) == []


def test_the_checker_catches_pins_and_forbids() -> None:
    assert any("pinned to unit U2" in p for p in problems(pins={"H1": "U2"}))
    assert problems(pins={"H1": "U1"}) == []
    assert problems({"H2": ("U2", 3)}, pins={"H1": "U1"}) == []  # a pin may go unplaced
    assert any("forbade" in p for p in problems(forbids=[("H2", "U2")]))


def test_the_checker_catches_broken_tables() -> None:
    inst = parse_instance(HOUSEHOLDS, UNITS, STAYS, START, POLICY)
    good = plan_table(inst, VALID)
    assert any("missing" in p for p in problems(table=good.iloc[1:]))
    assert any("2 times" in p for p in problems(table=pd.concat([good, good.iloc[:1]])))
    wrong_end = good.copy()
    wrong_end.loc[0, "expected_end"] = day(20)
    assert any("expected_end" in p for p in problems(table=wrong_end))
    wrong_kind = good.copy()
    wrong_kind.loc[0, "kind"] = "hub_room"
    assert any("is a flat" in p for p in problems(table=wrong_kind))
    no_unit = good.copy()
    no_unit.loc[0, "unit_id"] = None
    assert any("no unit" in p for p in problems(table=no_unit))
    stranger = pd.concat([good, good.iloc[:1].assign(household_id="H9")])
    assert any("H9" in p for p in problems(table=stranger))


def test_the_checker_reads_an_engine_plan_and_records(plan_start) -> None:
    # the same tables as lists of dicts give the same verdict as DataFrames
    result = plan(HOUSEHOLDS, UNITS, STAYS, start=plan_start, policy=POLICY)
    args = (HOUSEHOLDS, UNITS, STAYS)
    records = [t.to_dict(orient="records") for t in args]
    assert check_plan(result, *args, plan_start, POLICY) == []
    assert check_plan(result, *records, plan_start.isoformat(), POLICY) == []
    assert objective_of(result, *records[:2], plan_start, POLICY) == pytest.approx(result.objective)
