"""On tiny instances with announcements, the solver's plan costs exactly the brute-force optimum
of the objective with the announcement weight in it, and keeps or changes each announcement as
an optimal plan does.

The brute force is independent of the engine: each household's cost is the independent
checker's (`allocator.testing.household_cost`) plus the weight when an announced household is
anywhere but its announced unit and date (or unplaced); the valid plans are those the checker's
rules accept. Announcements are drawn among placements valid on their own, so no hard rule
breaks them and the weight always applies.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from allocator.testing import (
    RawInstance,
    assignment_violations,
    brute_force_optimum,
    objective_of,
    random_scenario,
)

TOL = 1e-6


def _best(inst: RawInstance, told: dict, weight: float) -> float:
    """The minimum weighted objective over all valid plans: the weight on each announced household
    anywhere but its announced unit and date (or unplaced)."""

    def moved(hid: str, p) -> float:
        return 0.0 if hid not in told or p == told[hid] else weight

    return brute_force_optimum(inst, moved)[0]


@pytest.mark.parametrize("seed", range(30))
def test_the_solver_meets_the_brute_force_optimum_with_announcements(seed: int) -> None:
    """Solver at gap 1e-9 == brute force with the weight in the objective; the plan's objective
    is the checker's plus the weight on each announcement it changes."""
    rng = np.random.default_rng(70_000 + seed)
    valid: list = []
    while not valid:  # a tiny random instance may have no placement valid on its own: redraw
        sc = random_scenario(
            rng,
            n_households=int(rng.integers(2, 5)),
            n_units=int(rng.integers(1, 3)),
            horizon_weeks=1,
            max_stay_days=int(rng.choice([4, 8])),
            exit_dated_share=float(rng.choice([0.0, 0.5])),
        )
        inst = sc.raw()
        valid = [
            (h, (u, d))
            for h in inst.households
            for u in inst.units
            for d in range(inst.horizon)
            if not assignment_violations(inst, {h: (u, d)})
        ]
    told: dict[str, tuple[str, int]] = {}
    for k in rng.permutation(len(valid))[: int(rng.integers(1, 3))]:
        h, p = valid[int(k)]
        told.setdefault(h, p)
    weight = float(rng.choice([0.5, 5.0, 50.0, 1e4]))
    sc.policy = sc.policy.model_copy(update={"announcement_weight": weight})
    announced = {h: (u, sc.start + dt.timedelta(days=d)) for h, (u, d) in told.items()}
    optimum = _best(inst, told, weight)
    # the independent checker's own announcement term gives the same optimum
    checker = dataclasses.replace(inst, policy=sc.policy, announced=told)
    assert brute_force_optimum(checker)[0] == pytest.approx(optimum, abs=TOL)

    result = sc.plan("solver", announced=announced, relative_gap=1e-9, time_limit=30)
    assert sc.check(result) == []
    assert result.objective == pytest.approx(optimum, abs=TOL)
    placed = result.placements.set_index("household_id")
    changed = sum(
        not (placed.loc[h, "unit_id"] == u and placed.loc[h, "start"] == day)
        for h, (u, day) in announced.items()
    )
    assert result.objective == pytest.approx(sc.objective(result) + weight * changed, abs=TOL)
    assert result.objective == pytest.approx(
        objective_of(
            result, sc.households, sc.units, sc.start, sc.policy, pins=sc.pins, announced=announced
        ),
        abs=TOL,
    )
    assert len(result.changes) == changed
