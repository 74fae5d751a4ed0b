"""Clique cuts: every cut is a clique of placements that exclude one another, so no plan breaks
it; the LP with cuts stays a relaxation; and a proof settled by cuts settles the same optimum."""

from __future__ import annotations

import datetime as dt
import functools
import re
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator import Policy, plan
from allocator.engine.columns import build_columns, objective
from allocator.engine.instance import Overrides, build_instance
from allocator.engine.optimiser import backend, cliques
from allocator.engine.optimiser.column_generation import ColumnGeneration
from allocator.engine.optimiser.cuts import lp_with_cliques, priced_with_cuts
from allocator.engine.optimiser.incumbents import initial_columns
from allocator.engine.optimiser.model import base_model, build_model
from allocator.engine.optimiser.pricing import (
    column_finder,
    lagrangian_bound,
    per_household_minimum,
    pricer,
)
from allocator.engine.params import EngineParams
from allocator.examples import generate
from allocator.tables import validate_tables
from allocator.testing import check_plan, random_scenario

START = dt.date(2026, 12, 7)
DEFAULTS = EngineParams()
ROUNDS = DEFAULTS.clique_rounds


@functools.cache
def instance(n: int, m: int, weeks: int, seed: int):
    tables = generate(n, m, seed=seed, start=START, horizon_weeks=weeks)
    inst = build_instance(validate_tables(*tables), START, Policy(horizon_weeks=weeks), Overrides())
    return inst, build_columns(inst)


@functools.cache
def scenario(seed: int):
    sc = random_scenario(seed, n_households=25, n_units=8, horizon_weeks=6, max_stay_days=20)
    sc.policy = Policy(horizon_weeks=6, turnover_days=sc.policy.turnover_days)  # no caps
    inst = build_instance(
        validate_tables(sc.households, sc.units, sc.stays), sc.start, sc.policy, Overrides()
    )
    return inst, build_columns(inst)


def exclude_one_another(inst, cols, members: np.ndarray) -> np.ndarray:
    """Per pair of the placements: whether no plan holds both. One household, or one pool on a
    day with at most one free unit (from the days each occupies, not from the cut's rule)."""
    household, pool = cols.household[members], cols.pool[members]
    start = cols.start[members]
    end = np.minimum(cols.occupancy_end[members], inst.horizon)
    first = np.maximum(start[:, None], start[None, :])
    last = np.minimum(end[:, None], end[None, :])  # exclusive
    tight = np.zeros((len(members), len(members)), dtype=bool)
    for p in np.unique(pool):
        scarce = np.concatenate([[0], np.cumsum(inst.pools[p].free <= 1)])
        days = scarce[np.maximum(last, first)] - scarce[first]
        tight |= (pool[:, None] == p) & (pool[None, :] == p) & (days > 0)
    return (household[:, None] == household[None, :]) | tight


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(1, 40),
    fraction=st.floats(0.01, 0.1),
    draw=st.integers(0, 2**32 - 1),
)
def test_every_cut_is_a_clique_that_the_solution_breaks(seed, fraction, draw) -> None:
    """Any values, not only an LP's: each cut found has members that pairwise exclude one
    another, and they sum above 1 in the values it was found from. Units come and go (windows,
    current stays), so a pool's free units go up and down over the horizon."""
    inst, cols = scenario(seed)
    rng = np.random.default_rng(draw)
    x = np.where(rng.random(len(cols)) < fraction, rng.random(len(cols)), 0.0)
    found = cliques.violated(inst, cols, x)
    for cut in found:
        members = np.flatnonzero(cliques.members(inst, cols, cut))
        assert x[members].sum() > 1 + cliques.VIOLATION
        assert exclude_one_another(inst, cols, members).all(), cut


def test_an_integral_solution_breaks_no_cut() -> None:
    """The exact optimum, with a trace on one more placement per pool so that every pool is
    looked at (an all-integral pool is skipped)."""
    inst, cols = instance(40, 12, 8, 15)
    exact = backend.solve(build_model(inst, cols, integer=True), time_limit=60, threads=1, seed=0)
    x = exact.values[-len(cols) :].copy()
    for p in np.unique(cols.pool):
        x[np.flatnonzero((cols.pool == p) & (x < 0.5))[0]] = 1e-7
    assert not cliques.violated(inst, cols, x)


def converged_lp(inst, cols):
    columns_of = column_finder(inst, cols)
    initial = initial_columns(inst, cols, columns_of, [], DEFAULTS.initial_columns_per_household)
    cg = ColumnGeneration(inst, cols, initial, DEFAULTS)
    lp = cg.run(time.perf_counter() + 60)
    answer, kept, n0, converged = lp.answer, lp.columns, cg.n0, lp.converged
    assert converged
    x = np.zeros(len(cols))
    x[kept] = answer.values[n0:]
    return answer.objective, x, cg.at_optimum


def lp_over_every_column(inst, cols, cuts, want_duals=False):
    """The LP over every column with these clique cuts as rows, by HiGHS: its value (and its
    row duals and the columns' values)."""
    model = build_model(inst, cols, integer=False)
    n0, n_rows = len(model.cost) - len(cols), len(model.row_lb)
    members = [np.flatnonzero(cliques.members(inst, cols, cut)) for cut in cuts]
    rows = np.repeat(n_rows + np.arange(len(cuts)), [m.size for m in members])
    model.rows = np.concatenate([model.rows, rows])
    model.cols = np.concatenate([model.cols, n0 + np.concatenate(members)])
    model.vals = np.concatenate([model.vals, np.ones(rows.size)])
    model.row_lb = np.concatenate([model.row_lb, np.zeros(len(cuts))])
    model.row_ub = np.concatenate([model.row_ub, np.ones(len(cuts))])
    answer = backend.solve(model, time_limit=60, threads=1, seed=0, want_duals=want_duals)
    assert answer.optimal
    if want_duals:
        return answer.objective, answer.duals, answer.values[n0:]
    return answer.objective


@pytest.mark.parametrize(("n", "m", "weeks", "seed"), [(40, 12, 8, 15), (60, 30, 12, 29)])
def test_cut_duals_price_every_column(n, m, weeks, seed) -> None:
    """At the optimum of the LP over every column with the cuts (HiGHS), the reduced costs
    priced with the cuts' duals are those of an optimum (at least 0 where a column is at 0, 0
    where it lies between its bounds), and the Lagrangian bound with the cuts' terms is the
    LP's value: a cut's dual with the wrong sign, or left out, breaks one or the other."""
    inst, cols = instance(n, m, weeks, seed)
    _, x, at_optimum = converged_lp(inst, cols)
    _, _, cuts, _ = lp_with_cliques(
        inst, cols, x, at_optimum, np.inf, time.perf_counter() + 60, ROUNDS
    )
    value, duals, x = lp_over_every_column(inst, cols, cuts, want_duals=True)
    members = [cliques.members(inst, cols, cut) for cut in cuts]
    assert np.any(duals[-len(cuts) :] < -1e-6)  # some cut binds
    base = base_model(inst)
    rc, bound = priced_with_cuts(
        pricer(inst, cols),
        per_household_minimum(cols.household, inst.n_households),
        lagrangian_bound(inst, base),
        duals,
        members,
    )
    assert rc[x < 1e-9].min() >= -1e-6
    between = (x > 1e-6) & (x < 1 - 1e-6)
    assert np.abs(rc[between]).max(initial=0.0) <= 1e-6
    assert bound == pytest.approx(value, rel=1e-7, abs=1e-6)


# the only two of 236 generated instances (20-60 households, 6-12 weeks, seeds 1-59) whose LP
# breaks a clique (found by search)
@pytest.mark.parametrize(("n", "m", "weeks", "seed"), [(40, 12, 8, 15), (60, 30, 12, 29)])
def test_the_lp_with_cuts_lies_between_the_lp_and_the_optimum(n, m, weeks, seed) -> None:
    inst, cols = instance(n, m, weeks, seed)
    value, x, at_optimum = converged_lp(inst, cols)
    assert cliques.violated(inst, cols, x)
    exact = backend.solve(build_model(inst, cols, integer=True), time_limit=60, threads=1, seed=0)
    bound, found, cuts, _ = lp_with_cliques(  # no cutoff: until nothing is broken
        inst, cols, x, at_optimum, np.inf, time.perf_counter() + 60, ROUNDS
    )
    assert cuts
    assert value + 1e-6 < bound <= exact.objective + 1e-6
    # the cut LP priced its columns in: its value is that of the LP over every column with
    # the same cuts (a column that should have priced out and did not would make it higher)
    assert bound == pytest.approx(lp_over_every_column(inst, cols, cuts), rel=1e-7, abs=1e-6)
    if found is not None:  # an integral LP with cuts is the optimum
        assert objective(inst, *found) == pytest.approx(exact.objective, rel=1e-9)


def test_columns_priced_into_the_cut_lp_carry_their_cut_entries() -> None:
    """100x60 seed 98 (26 weeks), one round of cuts: the columns that price into the LP with
    cuts include members of its cuts, and its value is that of HiGHS's LP over all 107k columns
    with the same cuts (12,210.73). An added column without its entries in the cut rows, or
    with them in the wrong cut's row, leaves that LP lower (12,207.73 when they are left out):
    with more rounds the next cuts would cover it up."""
    inst, cols = instance(100, 60, 26, 98)
    _, x, at_optimum = converged_lp(inst, cols)
    bound, found, cuts, _ = lp_with_cliques(  # one round of cuts
        inst, cols, x, at_optimum, np.inf, time.perf_counter() + 120, 1
    )
    assert len(cuts) >= 2 and found is None
    assert bound == pytest.approx(lp_over_every_column(inst, cols, cuts), rel=1e-7, abs=1e-6)


def test_an_integral_lp_at_the_cutoff_is_no_plan_to_take() -> None:
    """On 40x12 seed 15 the LP with cuts rises to 13,365, 13,383, then turns integral at the
    optimum, 13,387.502 (measured). With the cutoff just below that, it stops at the cutoff and
    offers no plan: its integral plan is no better than what the cutoff came from."""
    inst, cols = instance(40, 12, 8, 15)
    value, x, at_optimum = converged_lp(inst, cols)
    bound, found, _, _ = lp_with_cliques(
        inst, cols, x, at_optimum, 13_387.0, time.perf_counter() + 60, ROUNDS
    )
    assert found is None and bound >= 13_387.0


def test_the_cut_loop_stops_at_the_cutoff() -> None:
    """Once the LP with cuts reaches the cutoff it stops: no plan below it, nothing more to do."""
    inst, cols = instance(40, 12, 8, 15)
    value, x, at_optimum = converged_lp(inst, cols)
    bound, found, _, _ = lp_with_cliques(
        inst, cols, x, at_optimum, value + 1.0, time.perf_counter() + 60, ROUNDS
    )
    assert bound >= value + 1.0 and found is None


@functools.cache
def hundred_by_sixty(seed: int, rounds: int):
    """100 x 60 with or without clique cuts."""
    tables = generate(100, 60, seed=seed, start=START, horizon_weeks=26)
    engine = EngineParams(clique_rounds=rounds)
    policy = Policy(horizon_weeks=26)
    return tables, plan(*tables, start=START, policy=policy, time_limit=60, engine=engine)


# seed 26: the cuts settle the proof that HiGHS needed an interior point and a MIP for; seed 98:
# its LP 0.3% below the optimum, the cuts make it integral at the optimum, where without them
# no proof MIP fits (65k columns below the cutoff) and larger and larger MIPs take 8 s
@pytest.mark.parametrize("seed", [26, 98])
def test_cuts_settle_the_optimum_that_mips_settle(seed) -> None:
    tables, by_cuts = hundred_by_sixty(seed, ROUNDS)
    _, by_mips = hundred_by_sixty(seed, 0)
    assert "clique cuts" in by_cuts.details["solver_detail"]
    assert "MIP on" not in by_cuts.details["solver_detail"]  # no MIP was needed
    # the cut LP priced its columns in rather than taking every one below the gap (50-120k)
    n_columns = int(
        re.search(r"clique cuts over (\d+) columns", by_cuts.details["solver_detail"])[1]
    )
    assert n_columns < by_cuts.details["columns"] / 10
    assert "clique cuts" not in by_mips.details["solver_detail"]
    assert by_cuts.status.value == by_mips.status.value == "optimal"
    assert check_plan(by_cuts, *tables, START, Policy(horizon_weeks=26)) == []
    assert by_cuts.objective == pytest.approx(by_mips.objective, rel=1e-4)
    for a, b in ((by_cuts, by_mips), (by_mips, by_cuts)):  # each bound holds for the other
        assert a.objective >= b.best_bound - 1e-6
