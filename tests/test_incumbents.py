"""The solver's incumbents: the dive through the LP, and MIPs that search only below a cutoff.

The dive fixes the LP's fractional choices until the LP is integral; the plan it gives must obey
every rule. A MIP solved with a cutoff looks only for plans below it; the bound it reports must
still hold for every plan, or the solver would claim a gap it has not proven.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from allocator import Policy, plan, solve
from allocator import mathopt_backend as backend
from allocator.columns import build_columns
from allocator.examples import generate
from allocator.instance import Overrides, build_instance
from allocator.solve import build_model
from allocator.tables import validate_tables
from allocator.testing import check_plan, objective_of

START = dt.date(2026, 12, 7)


@pytest.mark.parametrize(
    ("n", "m", "weeks", "seed", "caps"),
    [(100, 60, 26, 1, False), (100, 45, 10, 1, True)],  # two whose LP is fractional (measured)
)
def test_the_dive_gives_a_valid_plan(n, m, weeks, seed, caps, monkeypatch) -> None:
    dives = []
    dive = solve._dive

    def recording(*args):
        dives.append(dive(*args))
        return dives[-1]

    # without the one-pass rounding, the dive is the incumbent to beat; a wide gap stops there
    monkeypatch.setattr(solve, "_dive", recording)
    monkeypatch.setattr(
        solve, "_round", lambda inst, cols, x: (np.full(inst.n_households, -1),) * 2
    )
    tables = generate(n, m, seed=seed, start=START, horizon_weeks=weeks)
    policy = Policy(
        horizon_weeks=weeks,
        support_capacity=40 if caps else None,
        mediation_capacity=2 if caps else None,
    )
    result = plan(*tables, start=START, policy=policy, relative_gap=0.5, time_limit=60)
    assert len(dives) == 1 and dives[0] is not None  # the LP was fractional, the dive finished
    assert result.details["plan_source"] == "dive"
    assert check_plan(result, *tables, START, policy) == []
    recomputed = objective_of(result, tables[0], tables[1], START, policy)
    assert recomputed == pytest.approx(result.objective, rel=1e-9)
    assert result.details["lp_bound"] <= result.objective <= result.details["greedy_objective"]


def small_mip(seed: int):
    households, units, stays = generate(30, 14, seed=seed, start=START, horizon_weeks=4)
    policy = Policy(horizon_weeks=4)
    inst = build_instance(validate_tables(households, units, stays), START, policy, Overrides())
    return build_model(inst, build_columns(inst), integer=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_cutoff_never_overstates_the_bound(seed) -> None:
    model = small_mip(seed)
    exact = backend.solve(model, time_limit=60, threads=1, seed=0, relative_gap=0.0)
    assert exact.optimal
    optimum = exact.objective

    above = backend.solve(
        model, time_limit=60, threads=1, seed=0, relative_gap=0.0, cutoff=optimum + 1
    )
    assert above.objective == pytest.approx(optimum, rel=1e-9)
    assert above.bound <= optimum + 1e-6

    below = backend.solve(
        model, time_limit=60, threads=1, seed=0, relative_gap=0.0, cutoff=optimum - 1
    )
    assert not below.optimal
    assert "cutoff" in below.reason
    assert not below.objective < optimum - 1e-6  # no plan can beat the optimum
    assert below.bound <= optimum + 1e-6  # HiGHS's own bound may lie above it: it must be cut
