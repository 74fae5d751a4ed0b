"""Near school and work: the district term of the objective, pools, greedy, reasons and summary."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocator.districts import MILAN_MUNICIPI, DistrictMap, distance_table
from allocator.engine.columns import build_columns
from allocator.engine.instance import build_instance
from allocator.engine.planning import plan
from allocator.engine.result import Status
from allocator.errors import InputError
from allocator.policy import Policy, validate_policy
from allocator.tables import validate_tables
from allocator.testing import (
    RawInstance,
    Scenario,
    brute_force_optimum,
    household_cost,
    placement_options,
    random_scenario,
)

START = dt.date(2027, 1, 4)
TOL = 1e-6
LINE = DistrictMap(names=["A", "B", "C", "D"], adjacent=[("A", "B"), ("B", "C"), ("C", "D")])


def with_districts(sc: Scenario, rng: np.random.Generator, weight: float) -> Scenario:
    """The scenario with units in districts A-D (some unknown) and anchors for some households."""
    names = np.array(LINE.names + [None], dtype=object)
    units = sc.units.assign(district=names[rng.integers(0, 5, len(sc.units))])
    anchors = names[rng.integers(0, 5, len(sc.households))]
    households = sc.households.assign(anchor_district=anchors)
    policy = sc.policy.model_copy(update={"district_weight": weight, "districts": LINE})
    return Scenario(
        households,
        units,
        sc.stays,
        sc.start,
        validate_policy(policy.model_dump()),
        sc.pins,
        sc.forbids,
    )


def district_term(sc: Scenario, hid: str, uid: str) -> float:
    """The district term written out from the rows: weight x borders crossed on the line."""
    anchor = sc.households.set_index("household_id").at[hid, "anchor_district"]
    district = sc.units.set_index("unit_id").at[uid, "district"]
    if pd.isna(anchor):
        return 0.0
    where = {n: k for k, n in enumerate(LINE.names)}
    away = 3 if pd.isna(district) else abs(where[anchor] - where[district])
    return sc.policy.district_weight * away


def best_with_districts(sc: Scenario) -> float:
    """The minimum objective, district term included, over every valid plan; on the way, each
    placement's district term in the independent objective is checked against this file's own
    (on the line)."""
    inst: RawInstance = sc.raw()
    flat = dataclasses.replace(inst, policy=inst.policy.model_copy(update={"district_weight": 0.0}))
    for hid in inst.households:
        for cost, p in placement_options(inst, hid):
            if p is not None:
                plain = household_cost(flat, hid, p)
                assert cost == pytest.approx(plain + district_term(sc, hid, p[0]), abs=1e-9)
    return brute_force_optimum(inst)[0]


def tiny(seed: int, weight: float) -> Scenario:
    rng = np.random.default_rng(70_000 + seed)
    sc = random_scenario(
        rng,
        n_households=int(rng.integers(2, 6)),
        n_units=int(rng.integers(1, 4)),
        horizon_weeks=1,
        max_stay_days=int(rng.choice([4, 8])),
        exit_dated_share=0.3 if seed % 3 == 0 else 0.0,
    )
    return with_districts(sc, rng, weight)


@pytest.mark.parametrize("seed", range(24))
def test_solver_reaches_the_brute_force_optimum_with_districts(seed: int) -> None:
    """With the district term in the objective, the solver's plan costs the brute-force optimum."""
    weight = [0.5, 3.0, 20.0][seed % 3]
    sc = tiny(seed, weight)
    optimum = best_with_districts(sc)
    result = sc.plan("solver", relative_gap=1e-9, time_limit=30)
    assert sc.check(result) == []
    assert result.status is Status.OPTIMAL
    assert result.objective == pytest.approx(optimum, abs=TOL)
    # the independent objective, district term included, agrees with the plan's
    assert result.objective == pytest.approx(sc.objective(result), abs=TOL)


def strip(sc: Scenario) -> Scenario:
    """The same scenario with no district columns and the default district policy."""
    policy = sc.policy.model_copy(update={"district_weight": 0.0, "districts": None})
    return Scenario(
        sc.households.drop(columns="anchor_district"),
        sc.units.drop(columns="district"),
        sc.stays,
        sc.start,
        policy,
        sc.pins,
        sc.forbids,
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), method=st.sampled_from(["solver", "greedy"]))
def test_weight_zero_plans_equal_todays(seed: int, method: str) -> None:
    """With district_weight 0, districts and anchors change no pool, column, objective or
    placement: the plan is the one the same rows give without any district."""
    rng = np.random.default_rng(seed)
    sc = with_districts(
        random_scenario(rng, n_households=int(rng.integers(1, 9)), n_units=int(rng.integers(1, 5))),
        rng,
        0.0,
    )
    plain = strip(sc)
    a = build_instance(
        validate_tables(sc.households, sc.units, sc.stays, start=sc.start), sc.start, sc.policy
    )
    b = build_instance(
        validate_tables(plain.households, plain.units, plain.stays, start=sc.start),
        sc.start,
        plain.policy,
    )
    assert [q.units for q in a.pools] == [q.units for q in b.pools]
    ca, cb = build_columns(a), build_columns(b)
    assert np.array_equal(ca.cost, cb.cost) and np.array_equal(ca.start, cb.start)
    with_d = sc.plan(method, seed=0)
    without = plain.plan(method, seed=0)
    assert with_d.objective == without.objective
    cols = ["household_id", "unit_id", "start", "status"]
    pd.testing.assert_frame_equal(with_d.placements[cols], without.placements[cols])


def test_pools_split_only_when_the_weight_and_an_anchor_both_exist() -> None:
    """Units alike but for their district share a pool unless districts enter the objective."""
    units = [
        {"unit_id": f"F{k}", "kind": "flat", "capacity": 2, "district": d}
        for k, d in enumerate(["M1", "M2", "M2"])
    ]
    anchored = [_household("A", anchor="M2")]
    plain = [_household("A")]
    policy = Policy(district_weight=5.0, districts="milan_municipi")
    assert len(_instance(anchored, units, Policy()).pools) == 1
    assert len(_instance(plain, units, policy).pools) == 1
    split = _instance(anchored, units, policy)
    assert sorted(q.units for q in split.pools) == [[0], [1, 2]]


def test_greedy_weighs_the_wait_against_the_distance() -> None:
    """Greedy takes a nearer unit that frees later only when the weight is worth the wait."""
    hh = [_household("A", size=2, urgency=3, anchor="M3")]
    units = [
        {"unit_id": "F1", "kind": "flat", "capacity": 2, "district": "M7"},
        {
            "unit_id": "F2",
            "kind": "flat",
            "capacity": 2,
            "district": "M3",
            "available_from": START + dt.timedelta(days=3),
        },
    ]
    # waiting 3 days costs 2 persons x weight 2 x 3 = 12; M7 is 2 districts from M3
    for weight, unit in [(0.0, "F1"), (5.0, "F1"), (6.5, "F2")]:
        policy = Policy(district_weight=weight, districts="milan_municipi")
        for method in ("greedy", "solver"):
            p = plan(hh, units, None, start=START, policy=policy, method=method)
            assert p.placements.unit_id.tolist() == [unit], (weight, method)


@pytest.mark.parametrize(
    ("weight", "unit"),
    [(0.05, "F2"), (0.1, "F1")],  # 2 districts x weight against 4 empty beds x 20 nights x 0.002
)
def test_greedy_counts_the_empty_beds_against_the_distance(weight: float, unit: str) -> None:
    """Greedy prices a household with an anchor as the objective does: a near unit two sizes
    too big wastes 0.16 of empty beds, worth more than 2 districts at weight 0.05, not at 0.1."""
    hh = [_household("A", size=2, anchor="M3")]
    units = [
        {"unit_id": "F1", "kind": "flat", "capacity": 6, "district": "M3"},
        {"unit_id": "F2", "kind": "flat", "capacity": 2, "district": "M7"},
    ]
    policy = Policy(district_weight=weight, districts="milan_municipi")
    for method in ("greedy", "solver"):
        p = plan(hh, units, None, start=START, policy=policy, method=method)
        assert p.placements.unit_id.tolist() == [unit], (weight, method)


@pytest.mark.parametrize(("weight", "unit"), [(0.0004, "F1"), (0.0006, "H1")])
def test_greedy_counts_the_unit_kind_against_the_distance(weight: float, unit: str) -> None:
    """A low-support household near a hub room pays the kind weight 0.001 there: greedy takes
    the flat 2 districts away when that costs less (0.0008), not when it costs more (0.0012)."""
    hh = [{**_household("A", size=2, anchor="M3"), "support": "low"}]
    units = [
        {"unit_id": "H1", "kind": "hub_room", "capacity": 2, "district": "M3"},
        {"unit_id": "F1", "kind": "flat", "capacity": 2, "district": "M7"},
    ]
    policy = Policy(district_weight=weight, districts="milan_municipi")
    for method in ("greedy", "solver"):
        p = plan(hh, units, None, start=START, policy=policy, method=method)
        assert p.placements.unit_id.tolist() == [unit], (weight, method)


def test_reasons_and_summary_name_the_distance() -> None:
    """The reason says how far the unit is from school or work; the summary gives the shares."""
    hh = [
        _household("A", anchor="M3"),
        _household("B", anchor="M1"),
        _household("C", anchor="M7"),
        _household("D"),
    ]
    units = [
        {"unit_id": "F1", "kind": "flat", "capacity": 2, "district": "M3"},
        {"unit_id": "F2", "kind": "flat", "capacity": 2, "district": "M2"},
        {"unit_id": "F3", "kind": "flat", "capacity": 2, "district": "M3"},
        {"unit_id": "F4", "kind": "flat", "capacity": 2},
    ]
    policy = Policy(district_weight=50.0, districts="milan_municipi")
    p = plan(hh, units, None, start=START, policy=policy)
    row = p.placements.set_index("household_id")
    assert row.at["A", "reason"].startswith(f"flat {row.at['A', 'unit_id']} (2 beds for 1), same")
    assert "next district to the school/work" in row.at["B", "reason"]
    assert "2 districts away from the school/work" in row.at["C", "reason"]
    assert "school/work" not in row.at["D", "reason"]
    assert row.at["C", "districts_away"] == 2 and row.at["A", "district"] == "M3"
    s = p.summary_dict()
    assert (s["anchored"], s["anchored_placed"]) == (3, 3)
    assert s["anchor_same_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert s["anchor_near_share"] == pytest.approx(2 / 3, abs=1e-4)
    assert "in it or next to it" in p.summary()


def test_a_plan_without_districts_has_todays_columns_and_summary() -> None:
    """No district anywhere: the plan table and summary have no district entries."""
    p = plan(
        [_household("A")], [{"unit_id": "F1", "kind": "flat", "capacity": 2}], None, start=START
    )
    assert "district" not in p.placements.columns
    assert "anchor_near_share" not in p.summary_dict()


def test_a_district_the_map_does_not_list_names_its_row() -> None:
    """A unit's district missing from the policy's map is refused, naming the unit and column."""
    units = [{"unit_id": "F1", "kind": "flat", "capacity": 2, "district": "Brera"}]
    policy = Policy(district_weight=1.0, districts="milan_municipi")
    with pytest.raises(InputError) as exc:
        plan([_household("A", anchor="M1")], units, None, start=START, policy=policy)
    assert exc.value.row == "F1" and exc.value.column == "district"
    assert "'Brera' is not in the policy's district map" in str(exc.value)


def test_milan_municipi_map() -> None:
    """Milan's 9 municipi: the centre borders all, the ring its neighbours, at most 2 apart."""
    hops = MILAN_MUNICIPI.hops()
    assert (hops == hops.T).all() and hops.max() == 2
    assert hops[0, 1:].tolist() == [1] * 8
    assert hops[2, 3] == 1 and hops[2, 6] == 2  # M3-M4 border; M3-M7 via the centre
    table, unknown = distance_table(None, ["x", "y"])
    assert unknown == [] and table.tolist() == [[0, 1, 1], [1, 0, 1]]


def test_policy_refuses_an_unknown_map_and_a_bad_pair() -> None:
    """A misspelt map name or a pair naming an unlisted district is one line naming the field."""
    with pytest.raises(InputError, match="no district map named 'milano'"):
        validate_policy({"districts": "milano"})
    with pytest.raises(InputError, match="'Z', which is not in names"):
        validate_policy({"districts": {"names": ["A"], "adjacent": [["A", "Z"]]}})
    with pytest.raises(InputError, match="district_weight"):
        validate_policy({"district_weight": -1})


def _household(hid: str, size: int = 1, urgency: int = 1, anchor: str | None = None) -> dict:
    return {
        "household_id": hid,
        "size": size,
        "urgency": urgency,
        "need_date": START,
        "expected_stay_days": 20,
        "anchor_district": anchor,
    }


def _instance(hh, units, policy):
    return build_instance(validate_tables(hh, units, None, start=START), START, policy)


@pytest.mark.parametrize(("frees_in", "unit"), [(3, "F2"), (5, "F1")])
def test_the_worked_example_of_the_docs(frees_in: int, unit: str) -> None:
    """docs/engine.md: weight 12, a family of 3 of urgency 3 anchored in M3 waits 3 days (cost
    18 < 24) for a flat in M3 rather than take one in M7 today, but not 5 days (30 > 24)."""
    hh = [_household("A", size=3, urgency=3, anchor="M3")]
    later = START + dt.timedelta(days=frees_in)
    units = [
        {"unit_id": "F1", "kind": "flat", "capacity": 3, "district": "M7"},
        {"unit_id": "F2", "kind": "flat", "capacity": 3, "district": "M3", "available_from": later},
    ]
    policy = Policy(district_weight=12.0, districts="milan_municipi")
    for method in ("solver", "greedy"):
        p = plan(hh, units, None, start=START, policy=policy, method=method)
        assert p.placements.unit_id.tolist() == [unit], method


def test_slices_and_heuristic_plans_carry_the_anchors() -> None:
    """A model too large for memory is planned in slices and by the cost-aware plans with the
    district term: each slice reads its own households' anchors, and the plan is valid."""
    from allocator.examples import generate

    households, units, stays = generate(160, 80, seed=2)
    rng = np.random.default_rng(2)
    names = np.array(MILAN_MUNICIPI.names + [None], dtype=object)
    households = households.assign(anchor_district=names[rng.integers(0, 10, len(households))])
    units = units.assign(district=names[rng.integers(0, 9, len(units))])
    policy = Policy(district_weight=5.0, districts="milan_municipi")
    kwargs = dict(start=START, policy=policy, time_limit=60, reasons=False)
    tiny = plan(households, units, stays, max_memory=1, **kwargs)
    estimate = tiny.details["model_bytes_estimate"]
    sliced = plan(households, units, stays, max_memory=estimate / 3, **kwargs)
    assert sliced.details["size_limit"].startswith("model too large")
    sc = Scenario(households, units, stays, START, policy)
    for result in (tiny, sliced):
        assert sc.check(result) == []
        assert result.objective <= tiny.details["greedy_objective"] + 1e-6
