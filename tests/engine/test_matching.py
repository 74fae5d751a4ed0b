"""When every unit is free now and every stay outlasts the horizon, planning is a matching.

With no current stays and no availability windows, every household already in need (need date on
or before the plan start) and every stay longer than the horizon, a unit takes at most one new
household within the horizon, and starting on day 0 is never worse than later. The optimal plan is
then a minimum-cost assignment of households to units, where a household may also stay out (a
dummy column per household): placed costs the placement's cost on day 0, not placed the waiting
cost. `scipy.optimize.linear_sum_assignment` gives that optimum independently of the engine.

The same holds when some households give an exit date after the horizon instead of a length, and
the programme's maximum stay is longer than the horizon: a stay from any day of the horizon still
outlasts it, and a later start saves fewer wasted bed-nights than it costs in hotel nights.
"""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment

from allocator import Policy, Status
from allocator.testing import Scenario, household_cost, placement_violations

SCALE = max(1, int(os.environ.get("ALLOCATOR_TEST_SCALE", "1")))
START = dt.date(2026, 12, 7)


def matching_scenario(
    seed: int, n_households: int, n_units: int, overrides: bool, exit_dates: bool = False
) -> Scenario:
    rng = np.random.default_rng(seed)
    weeks = int(rng.integers(1, 5))
    H = 7 * weeks
    units = pd.DataFrame(
        {
            "unit_id": [f"U{k}" for k in range(n_units)],
            "kind": rng.choice(["flat", "hub_room"], n_units),
            "capacity": rng.integers(1, 7, n_units),
            "accessible": rng.random(n_units) < 0.3,
        }
    )
    households = pd.DataFrame(
        {
            "household_id": [f"H{k}" for k in range(n_households)],
            "size": rng.integers(1, 7, n_households),
            "urgency": rng.integers(1, 6, n_households),
            "need_date": [
                START - dt.timedelta(days=int(d)) for d in rng.integers(0, 30, n_households)
            ],
            "expected_stay_days": rng.integers(H + 1, H + 200, n_households),
            "support": rng.choice(["low", "medium", "high"], n_households),
            "accessible": rng.random(n_households) < 0.15,
        }
    )
    pins: dict[str, str] = {}
    forbids: list[tuple[str, str]] = []
    if overrides:
        for k in range(n_households):
            r = rng.random()
            if r < 0.1:
                pins[f"H{k}"] = f"U{int(rng.integers(0, n_units))}"
            elif r < 0.4:
                forbids.append((f"H{k}", f"U{int(rng.integers(0, n_units))}"))
    policy = Policy(
        horizon_weeks=weeks,
        turnover_days=int(rng.integers(0, 5)),
        kind_mismatch_weight=float(rng.choice([0.0, 0.5, 3.0])),
    )
    if exit_dates:  # drawn last: the scenarios without exit dates are those they always were
        dated = rng.random(n_households) < 0.5
        exits = [
            START + dt.timedelta(days=int(d)) for d in rng.integers(H + 1, H + 200, n_households)
        ]
        households["expected_exit_date"] = [
            e if d else None for e, d in zip(exits, dated, strict=True)
        ]
        households["expected_stay_days"] = households["expected_stay_days"].where(~dated)
        if rng.random() < 0.5:  # a maximum stay that caps some of them, still past the horizon
            policy = policy.model_copy(update={"max_stay_days": H + int(rng.integers(1, 30))})
    return Scenario(
        households=households,
        units=units,
        stays=pd.DataFrame(),
        start=START,
        policy=policy,
        pins=pins,
        forbids=forbids,
    )


def matching_optimum(sc: Scenario) -> float:
    inst = sc.raw()
    hids, uids = list(inst.households), list(inst.units)
    n, m = len(hids), len(uids)
    out = np.array([household_cost(inst, h, None) for h in hids])
    cost = np.empty((n, m + n))
    cost[:, m:] = out[:, None]  # "not placed": any dummy column
    for i, h in enumerate(hids):
        for j, u in enumerate(uids):
            fits = not placement_violations(inst, h, u, 0)
            cost[i, j] = household_cost(inst, h, (u, 0)) if fits else out[i]
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].sum())


CASES = [
    # seed, households, units, pins and forbids
    (1, 5, 3, False),
    (2, 8, 8, False),
    (3, 12, 6, True),
    (4, 15, 20, False),
    (5, 20, 10, True),
    (6, 25, 25, True),
    (7, 30, 12, False),
    (8, 30, 30, True),
    (9, 30, 5, True),
    (10, 10, 30, False),
    (11, 18, 18, False),
    (12, 28, 22, True),
]


@pytest.mark.parametrize("exit_dates", [False, True])
@pytest.mark.parametrize(
    ("seed", "n_households", "n_units", "overrides"),
    [(s + 100 * r, n, m, o) for r in range(SCALE) for s, n, m, o in CASES],
)
def test_solver_finds_the_optimal_matching(
    seed, n_households, n_units, overrides, exit_dates
) -> None:
    """The solver's plan costs the optimal assignment's, every household starting on day 0;
    greedy's costs no less."""
    sc = matching_scenario(seed, n_households, n_units, overrides, exit_dates)
    if exit_dates:
        assert sc.households["expected_exit_date"].notna().any()
    optimum = matching_optimum(sc)

    result = sc.plan("solver", relative_gap=1e-9)
    assert sc.check(result) == []
    assert sc.objective(result) == pytest.approx(result.objective, abs=1e-6)
    assert result.objective == pytest.approx(optimum, abs=1e-6)
    assert result.status is Status.OPTIMAL
    placed = result.placed
    assert (pd.to_datetime(placed["start"]).dt.date == START).all()  # nobody waits for a free unit

    default = sc.plan("solver")
    assert sc.check(default) == []
    assert optimum - 1e-6 <= default.objective <= optimum + 1e-4 * optimum + 1e-6

    greedy = sc.plan("greedy")
    assert sc.check(greedy) == []
    assert greedy.objective >= optimum - 1e-6
