"""Stay clocks: exit-dated households leave on their date wherever they are, the baseline counts
the same nights, the queueing theory still holds, and an overloaded programme stays bounded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from allocator.cli import app
from allocator.errors import InputError
from allocator.simulation import (
    clock_table,
    load_scenario,
    mean_interval,
    mmc_mean_wait,
    simulate,
    switch_clocks,
    validate_scenario,
)
from allocator.simulation.examples import small
from allocator.simulation.sampling import build_units, sample_households
from allocator.simulation.weekly import allocate


def _write(tmp_path: Path, data: dict, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _households(scenario, seed: int, replications: int):
    """The households `simulate` drew in each replication (the same seed tree)."""
    seeds = np.random.SeedSequence(seed).spawn(replications)
    return [sample_households(scenario, s) for s in seeds]


def _mmc(c: int, mean: float, load: float, clock: str, **changes) -> dict:
    """An M/M/c scenario: Poisson arrivals, exponential stays, ``c`` one-bed units."""
    data = {
        "name": "mmc",
        "horizon_weeks": 1300,
        "units": {
            "explicit": [{"unit_id": f"U{k}", "kind": "hub_room", "capacity": 1} for k in range(c)]
        },
        "arrivals": {"weekly_rate": 7 * load / mean, "notice_days": 0},
        "pathways": {
            "other": {"share": 1.0, "stay": {"dist": "exponential", "mean": mean}, "clock": clock}
        },
        "policy": {"max_stay_days": 3650, "turnover_days": 0},
        "costs": {"hotel_per_person_night": 1.0},
    }
    data.update(changes)
    return data


def _all_exit_dated(data: dict) -> dict:
    for p in data["pathways"].values():
        p["clock"] = "exit_date"
    return data


# --- the scenario file ---------------------------------------------------------------------------


def test_a_clock_other_than_the_two_is_refused_naming_file_and_field(tmp_path):
    """`clock: exitdate` is one error naming the file and pathways.<name>.clock."""
    data = small()
    data["pathways"]["family"]["clock"] = "exitdate"
    path = _write(tmp_path, data)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert err.value.field == "pathways.family.clock"
    assert str(path) in str(err.value) and "exit_date or placement" in str(err.value)


def test_switch_clocks_puts_every_pathway_on_the_other_clock():
    """The sensitivity variant flips each pathway and changes nothing else."""
    base = validate_scenario(_mark(small(), family="exit_date"))
    other = switch_clocks(base)
    assert {k: p.clock for k, p in other.pathways.items()} == {
        "family": "placement",
        "private": "exit_date",
    }
    assert other.arrivals == base.arrivals and other.units == base.units
    assert switch_clocks(other).pathways == base.pathways


def _mark(data: dict, **clocks: str) -> dict:
    for name, clock in clocks.items():
        data["pathways"][name]["clock"] = clock
    return data


# --- M/M/c through a scenario file ---------------------------------------------------------------


def test_exit_date_clock_with_nobody_placed_counts_every_duration_in_the_hotel(tmp_path):
    """Nobody fits a unit (all need step-free access, no unit has it): on an exit-date clock the
    programme's and the baseline's hotel nights both equal the sum of the drawn durations (cut at
    the horizon), and every household that left did so while waiting."""
    data = _all_exit_dated(_mmc(3, 20.0, 2.0, "exit_date", horizon_weeks=52))
    data["arrivals"]["accessible_share"] = 1.0
    scenario = load_scenario(_write(tmp_path, data))
    res = simulate(scenario, replications=3, seed=4, policies=["fcfs_event", "greedy"])
    H = scenario.horizon_days
    for r, hh in enumerate(_households(scenario, 4, 3)):
        durations = np.minimum(hh.need_day + hh.stay, H) - hh.need_day
        rows = res.replications[res.replications["replication"] == r].set_index("policy")
        for policy in ("hotel", "fcfs_event", "greedy"):
            assert rows.loc[policy, "hotel_person_nights"] == durations.sum()
            assert rows.loc[policy, "served"] == 0
        for policy in ("fcfs_event", "greedy"):
            left = (hh.need_day + hh.stay < H).sum()
            assert rows.loc[policy, "exited_waiting"] == left
            assert rows.loc[policy, "still_waiting"] == len(hh) - left


def test_placement_clock_through_a_scenario_file_meets_erlang_c(tmp_path):
    """Three one-bed units, offered load 2, exponential stays of 100 days, a placement clock: the
    mean wait is within the replications' 95% interval of Erlang C, the occupancy of a / c.

    Times are whole days (need days floored, stays rounded up), a bias of about half a day on a
    44-day wait, well inside the interval.
    """
    c, mean, load = 3, 100.0, 2.0
    scenario = load_scenario(_write(tmp_path, _mmc(c, mean, load, "placement", warmup_weeks=104)))
    res = simulate(scenario, replications=120, seed=1, policies=["fcfs_event"])
    g = res.replications.query("policy == 'fcfs_event'")
    m, low, high = mean_interval(g["wait_mean"])
    theory = mmc_mean_wait(load / mean, 1 / mean, c)
    assert low <= theory <= high, (m, low, high, theory)
    assert high - low < 0.3 * theory  # tight enough to mean something
    m, low, high = mean_interval(g["occupancy"])
    assert low <= load / c <= high + 0.01, (m, low, high)  # +1%: stays rounded up to whole days


# --- demand above capacity on exit-date clocks ---------------------------------------------------


def _overloaded(rate: float, warmup: int) -> dict:
    """Four small rooms, stays of about three weeks, `rate` a week: far more than they turn over."""
    return _all_exit_dated(
        small(
            horizon_weeks=20,
            warmup_weeks=warmup,
            units={
                "hub_rooms": {
                    "count": 4,
                    "capacity_mix": {1: 0.5, 2: 0.5},
                    "operating_cost_per_unit_night": 10,
                }
            },
            arrivals={"weekly_rate": rate, "size_mix": {1: 0.6, 2: 0.4}, "minors_share": 0.5},
            pathways={
                "family": {"share": 0.5, "stay": {"dist": "exponential", "mean": 18}},
                "private": {"share": 0.5, "stay": {"dist": "gamma", "mean": 25, "sd": 10}},
            },
            baseline={"shelter_share": 0.3},
        )
    )


def _check_bounded(scenario, res, seed: int, replications: int) -> None:
    """Every week the waiting list is at most the households whose exit lies ahead (the hotel
    baseline's count, the arrivals within one stay length), and in every replication the
    programme spends at most the baseline's hotel and shelter nights."""
    W, T = scenario.warmup_days, scenario.run_days
    week_ends = np.arange(W + 6, T, 7)
    for r, hh in enumerate(_households(scenario, seed, replications)):
        longest = int(hh.stay.max())
        within = np.array(
            [((hh.need_day <= t) & (hh.need_day > t - longest)).sum() for t in week_ends]
        )
        weekly = res.weekly[res.weekly["replication"] == r]
        hotel = weekly.query("policy == 'hotel'")["waiting_end"].to_numpy()
        rows = res.replications[res.replications["replication"] == r].set_index("policy")
        for policy in res.policies:
            waiting = weekly.query("policy == @policy")["waiting_end"].to_numpy()
            assert (waiting <= hotel).all() and (waiting <= within).all(), policy
            for nights in ("hotel_person_nights", "shelter_person_nights"):
                assert rows.loc[policy, nights] <= rows.loc["hotel", nights], (policy, nights)
            assert rows.loc[policy, "separations"] <= rows.loc["hotel", "separations"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    rate=st.floats(3.0, 12.0),
    warmup=st.integers(0, 8),
)
def test_overloaded_exit_date_programme_stays_bounded_and_never_adds_hotel_nights(
    seed, rate, warmup
):
    """Demand above capacity, every pathway on an exit-date clock, the fast policies: bounded
    waiting list, and no more hotel nights than hotels alone, replication by replication."""
    scenario = validate_scenario(_overloaded(rate, warmup))
    res = simulate(scenario, replications=2, seed=seed, policies=["fcfs_fast", "fcfs_event"])
    _check_bounded(scenario, res, seed, 2)


def test_overloaded_exit_date_engine_policies_stay_bounded():
    """The same holds for the engine's weekly greedy and optimiser."""
    scenario = validate_scenario(_overloaded(8.0, 4))
    res = simulate(scenario, replications=2, seed=3, policies=["greedy", "solver"], time_limit=5)
    _check_bounded(scenario, res, 3, 2)
    assert (res.replications.query("policy != 'hotel'")["served"] > 0).all()


def test_the_same_overload_on_placement_clocks_outgrows_that_bound():
    """The contrast the issue reports: from move-in, the same overload's list keeps growing."""
    data = _overloaded(8.0, 0)
    for p in data["pathways"].values():
        p["clock"] = "placement"
    scenario = validate_scenario(data)
    res = simulate(scenario, replications=2, seed=3, policies=["fcfs_fast"])
    w = res.weekly.pivot_table(index="week", columns="policy", values="waiting_end")
    assert w["fcfs_fast"].iloc[-1] > w["hotel"].iloc[-1]
    assert w["fcfs_fast"].iloc[-1] > 2 * w["fcfs_fast"].iloc[4]


# --- stays on an exit-date clock -----------------------------------------------------------------


@pytest.mark.parametrize("policy", ["fcfs_fast", "fcfs_event", "greedy"])
def test_a_placed_exit_dated_household_stays_to_its_exit_date_and_no_longer(policy):
    """Placed before its exit date, the stay ends on it (shorter the later it starts); units
    never hold two households at once; a placement-clock stay keeps its full length."""
    data = _mark(_overloaded(6.0, 2), private="placement")
    scenario = validate_scenario(data)
    units = build_units(scenario)
    hh = sample_households(scenario, np.random.SeedSequence(11))
    alloc = allocate(policy, scenario, units, hh)
    placed = np.flatnonzero(alloc.unit >= 0)
    start = alloc.start[placed].astype(np.int64)
    ex = hh.exit_dated[placed]
    assert ex.any() and (~ex).any()
    assert (start[ex] < hh.leave[placed][ex]).all()  # placed before it leaves
    end = start + hh.length(placed, start)
    assert (end[ex] == hh.leave[placed][ex]).all()
    assert (end[~ex] == start[~ex] + hh.stay[placed][~ex]).all()
    turnover = scenario.policy.turnover_days
    for u in np.unique(alloc.unit[placed]):
        k = np.flatnonzero(alloc.unit[placed] == u)
        order = np.argsort(start[k])
        assert (start[k][order][1:] >= end[k][order][:-1] + turnover).all()


def test_fast_fcfs_equals_the_engine_greedy_on_exit_date_clocks_with_full_notice():
    """With exit dates known in time, the one-pass FCFS places everyone as weekly plan() does on
    exit-date clocks too (the engine gets ``expected_exit_date``)."""
    pathways = {
        "family": {"share": 0.5, "stay": {"dist": "fixed", "mean": 10}, "clock": "exit_date"},
        "private": {"share": 0.5, "stay": {"dist": "fixed", "mean": 17}, "clock": "exit_date"},
    }
    scenario = validate_scenario(
        small(
            exit_notice_days=365,
            horizon_weeks=20,
            arrivals={"weekly_rate": 4.0, "size_mix": {1: 0.7, 2: 0.3}},
            pathways=pathways,
        )
    )
    units = build_units(scenario)
    hh = sample_households(scenario, np.random.SeedSequence(21))
    eng = allocate("greedy", scenario, units, hh)
    fast = allocate("fcfs_fast", scenario, units, hh)
    np.testing.assert_array_equal(eng.start, fast.start)
    both = eng.unit >= 0
    np.testing.assert_array_equal(units.capacity[eng.unit[both]], units.capacity[fast.unit[both]])


# --- the clock sensitivity ----------------------------------------------------------------------


def test_clock_table_sets_the_savings_beside_the_switched_run():
    """One row per clocks, policy and metric; the switched half is the switched scenario's."""
    base = validate_scenario(_mark(small(), family="exit_date"))
    a = simulate(base, replications=3, seed=2, policies=["fcfs_fast"])
    b = simulate(switch_clocks(base), replications=3, seed=2, policies=["fcfs_fast"])
    t = clock_table(a, b)
    assert set(t["policy"]) == {"fcfs_fast"}
    got = t.query("metric == 'savings'").set_index("clocks")["mean"]
    for result, label in ((a, "as in the scenario"), (b, "every pathway switched")):
        reps = result.replications.query("policy == 'fcfs_fast'")
        assert got[label] == pytest.approx(reps["savings"].mean())
    assert set(t["exit_date_pathways"]) == {"family", "private"}


def test_simulate_command_prints_the_clock_sensitivity_and_writes_it(tmp_path):
    """`allocator simulate` prints the switched savings and the warm-up, and writes clocks.parquet."""
    scn = _write(tmp_path, _mark(small(warmup_weeks=4), family="exit_date"), "s.yaml")
    out = tmp_path / "res"
    args = ["simulate", str(scn), "--replications", "2", "--workers", "1"]
    res = CliRunner().invoke(app, [*args, "--policies", "fcfs_fast", "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "4-week warm-up that is not counted" in text
    assert "every pathway switched" in text and "exit_date for family" in text
    clocks = pd.read_parquet(out / "clocks.parquet")
    assert set(clocks["clocks"]) == {"as in the scenario", "every pathway switched"}
    res = CliRunner().invoke(app, [*args, "--policies", "fcfs_fast", "--no-clock-sensitivity"])
    assert res.exit_code == 0 and "every pathway switched" not in res.output
