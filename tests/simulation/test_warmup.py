"""Warm-up: the weeks before the start are simulated but never counted, and the same seed gives
the same numbers whatever the number of workers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from allocator.errors import InputError
from allocator.simulation import simulate, validate_scenario
from allocator.simulation.examples import small
from allocator.simulation.sampling import build_units, sample_households
from allocator.simulation.weekly import allocate

WARM = validate_scenario(
    small(
        warmup_weeks=10,
        horizon_weeks=12,
        arrivals={"weekly_rate": 3.0, "size_mix": {1: 0.7, 2: 0.3}, "minors_share": 0.5},
        baseline={"shelter_share": 0.4},
        pathways={
            "family": {"share": 0.5, "stay": {"dist": "exponential", "mean": 10}},
            "private": {
                "share": 0.5,
                "stay": {"dist": "lognormal", "mean": 14, "sd": 5},
                "clock": "exit_date",
            },
        },
    )
)
POLICIES = ["fcfs_fast", "greedy"]


@pytest.fixture(scope="module")
def serial():
    return simulate(WARM, replications=3, seed=8, policies=POLICIES, workers=1)


def _overlap(a: np.ndarray, b: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Nights of [a, b) within [lo, hi)."""
    return np.clip(np.minimum(b, hi) - np.maximum(a, lo), 0, None)


def test_nothing_before_the_start_is_counted(serial):
    """Households, nights, costs and placements count only the measured weeks, checked against
    the drawn households and the allocation directly."""
    W, T = WARM.warmup_days, WARM.run_days
    units = build_units(WARM)
    seeds = np.random.SeedSequence(8).spawn(3)
    for r in range(3):
        hh = sample_households(WARM, seeds[r])
        assert (hh.need_day < W).any()  # the warm-up had arrivals
        rows = serial.replications.query("replication == @r").set_index("policy")
        in_shelter = hh.minors & (hh.shelter_draw < WARM.baseline.shelter_share)
        cohort = hh.need_day >= W
        hotel = _overlap(hh.need_day, hh.need_day + hh.stay, W, T)
        assert rows.loc["hotel", "households"] == cohort.sum()
        assert rows.loc["hotel", "hotel_person_nights"] == (hotel * hh.size)[~in_shelter].sum()
        assert rows.loc["hotel", "shelter_person_nights"] == (hotel * hh.size)[in_shelter].sum()
        alloc = allocate("fcfs_fast", WARM, units, hh)
        placed = np.flatnonzero(alloc.unit >= 0)
        s = alloc.start[placed].astype(np.int64)
        nights = _overlap(s, s + hh.length(placed, s), W, T).sum()
        assert rows.loc["fcfs_fast", "occupancy"] == pytest.approx(
            nights / (len(units) * WARM.horizon_days)
        )
        assert rows.loc["fcfs_fast", "served"] == (cohort[placed] & (s < T)).sum()
        assert rows.loc["fcfs_fast", "cost_units"] == pytest.approx(
            units.cost_per_night.sum() * WARM.horizon_days
        )
    weekly = serial.weekly
    assert sorted(weekly["week"].unique()) == list(range(WARM.horizon_weeks))
    per_run = weekly.groupby(["replication", "policy"], sort=False)
    reps = serial.replications.set_index(["replication", "policy"])
    assert (per_run["arrivals"].sum() == reps["households"]).all()
    assert np.allclose(per_run["cost"].sum(), reps["total_cost"])
    assert np.allclose(per_run["hotel_person_nights"].sum(), reps["hotel_person_nights"])


def test_the_measured_weeks_start_with_a_running_programme():
    """With a warm-up, stays begun before the start still run on the first measured day (their
    nights after it count); without one, nothing starts before day 0."""
    W = WARM.warmup_days
    units = build_units(WARM)
    for seed in np.random.SeedSequence(8).spawn(3):
        hh = sample_households(WARM, seed)
        alloc = allocate("fcfs_fast", WARM, units, hh)
        placed = np.flatnonzero(alloc.unit >= 0)
        s = alloc.start[placed].astype(np.int64)
        running = (s < W) & (s + hh.length(placed, s) > W)
        assert running.any()
    cold = validate_scenario(WARM.model_dump(mode="json") | {"warmup_weeks": 0})
    assert cold.run_days == cold.horizon_days and cold.run_start.isoformat() == cold.start
    hh = sample_households(cold, np.random.SeedSequence(8).spawn(3)[0])
    assert (hh.need_day >= 0).all()


def test_same_seed_same_numbers_with_warmup_whatever_the_workers(serial):
    """Two worker processes, and a second serial run, give exactly the serial tables."""
    par = simulate(WARM, replications=3, seed=8, policies=POLICIES, workers=2)
    again = simulate(WARM, replications=3, seed=8, policies=POLICIES, workers=1)
    for other in (par, again):
        pd.testing.assert_frame_equal(
            serial.replications.drop(columns="seconds"), other.replications.drop(columns="seconds")
        )
        pd.testing.assert_frame_equal(serial.weekly, other.weekly)
        pd.testing.assert_frame_equal(serial.summary, other.summary)


def test_the_summary_says_the_warmup_is_not_counted(serial):
    """The printed summary names the warm-up; a run without one says it starts empty."""
    assert "after a 10-week warm-up that is not counted" in serial.summary_text()
    cold = simulate(validate_scenario(small()), replications=1, seed=0, policies=["fcfs_fast"])
    assert "no warm-up" in cold.measured


@pytest.mark.parametrize("value", [-1, 521, 2.5, "a year"])
def test_a_bad_warmup_is_refused_naming_the_field(value):
    """warmup_weeks is a whole number of weeks from 0 to 520."""
    with pytest.raises(InputError) as err:
        validate_scenario(small(warmup_weeks=value))
    assert err.value.field == "warmup_weeks"
