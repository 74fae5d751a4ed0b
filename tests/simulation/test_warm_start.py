"""The optimiser policy's weekly plans against plans made another way: with warm starts
(`engine.optimiser.warm`) and with the weekly loop's own settings (`weekly_engine`) every week's
plan has the objective of the same batch solved from scratch with the engine's defaults, the
simulation's tables match the cold ones in distribution (not row by row: tied optima), and a
replication gives the same allocation in this process and in workers."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

from allocator.engine import planning
from allocator.engine.columns import objective
from allocator.engine.params import EngineParams
from allocator.engine.result import Status
from allocator.simulation.examples import small
from allocator.simulation.results import outcome
from allocator.simulation.sampling import build_units, sample_households
from allocator.simulation.scenario import validate_scenario
from allocator.simulation.weekly import Allocation, allocate

GAP = 1e-4  # the engine's default relative gap (`allocator.choices.DEFAULT_GAP`)


def _scenario(weeks: int):
    """The small scenario with flats beside the hub rooms, so that weeks need the LP."""
    data = small(horizon_weeks=weeks)
    data["units"]["flats"] = {
        "count": 4,
        "capacity_mix": {2: 0.5, 3: 0.5},
        "operating_cost_per_unit_night": 15,
    }
    data["arrivals"]["weekly_rate"] = 4.0
    data["policy"] = {"horizon_weeks": 6}
    return validate_scenario(data)


def _run(weeks: int, seed: int, warm: bool) -> Allocation:
    scenario = _scenario(weeks)
    hh = sample_households(scenario, np.random.SeedSequence(seed))
    return allocate("solver", scenario, build_units(scenario), hh, warm_start=warm, time_limit=5)


def _same(a: Allocation, b: Allocation) -> bool:
    return np.array_equal(a.unit, b.unit) and np.array_equal(a.start, b.start, equal_nan=True)


def _each_week_against(monkeypatch, other: dict, seed: int, warm: bool) -> dict[str, int]:
    """Over two simulated years, each week's plan has the objective of the same week's batch
    decided again with ``other`` keyword arguments (both optimal; within the gap only where the
    LP was not integral). Returns the count of weeks, of weeks the LP ran and of same plans."""
    decide = planning.decide
    weeks = {"lp": 0, "same_plan": 0, "all": 0}

    def both(*args, **kwargs):
        mine = decide(*args, **kwargs)
        theirs = decide(*args, **{**kwargs, **other})
        ow, ot = (
            objective(mine.inst, mine.pool, mine.start),
            objective(theirs.inst, theirs.pool, theirs.start),
        )
        assert mine.status is theirs.status is Status.OPTIMAL
        integral = "integral" in (theirs.details.get("solver_detail") or "")
        tolerance = 1e-6 if integral else GAP
        assert abs(ow - ot) <= tolerance * max(1.0, abs(ot))
        weeks["all"] += 1
        weeks["lp"] += theirs.details.get("plan_source") != "greedy"
        weeks["same_plan"] += np.array_equal(mine.pool, theirs.pool) and np.array_equal(
            mine.start, theirs.start
        )
        return mine

    monkeypatch.setattr(planning, "decide", both)
    _run(104, seed, warm=warm)
    return weeks


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_warm_weekly_plans_have_the_cold_objective(monkeypatch, seed):
    """Warm-started, each week's plan has the objective of the batch solved from scratch."""
    weeks = _each_week_against(monkeypatch, {"warm": None}, seed, warm=True)
    assert weeks["lp"] > 10  # the LP ran in enough weeks for the warm start to matter
    assert weeks["same_plan"] >= 0.5 * weeks["all"]


@pytest.mark.parametrize("seed", [1, 2])
def test_weekly_settings_plan_at_the_defaults_objective(monkeypatch, seed):
    """With the weekly loop's settings (smaller column generation rounds, lean MIPs, breakpoint
    rows) each week's plan has the objective that the engine's default settings reach: they
    change how fast the optimum is found, not the optimum."""
    weeks = _each_week_against(monkeypatch, {"engine": EngineParams()}, seed, warm=False)
    assert weeks["lp"] > 10


def test_warm_simulation_tables_match_cold_in_distribution():
    """Row by row the tables differ once a week's batch has tied optima (the warm LP may end at
    another one, and the weeks after see other households waiting); over six replications of the
    small scenario the means of the simulation's table agree within 5%."""
    scenario = _scenario(52)
    units = build_units(scenario)
    means = []
    for warm in (True, False):
        rows = []
        for seed in range(1, 7):
            hh = sample_households(scenario, np.random.SeedSequence(seed))
            rows.append(outcome(scenario, units, hh, _run(52, seed, warm), "solver")[0])
        means.append(pd.DataFrame(rows)[["hotel_person_nights", "wait_mean", "served"]].mean())
    warm, cold = means
    assert np.allclose(warm, cold, rtol=0.05)


def test_warm_start_is_deterministic_in_workers():
    """A replication with warm starts allocates the same in this process and in two workers."""
    here = [_run(52, seed, True) for seed in (4, 5)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        there = list(pool.map(_run, [52, 52], [4, 5], [True, True]))
    assert all(_same(a, b) for a, b in zip(here, there, strict=True))
