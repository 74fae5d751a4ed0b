"""The LP relaxation by column generation equals the LP over every column, solved at once.

Column generation keeps only a few columns in GLOP and removes the ones that stay out of the
basis; neither may change the LP's value. The reference is the whole day-level model passed to
HiGHS in one piece, with support and mediation caps on some instances so every row kind is priced.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from allocator.engine.columns import Columns, build_columns, objective
from allocator.engine.greedy import solve_greedy
from allocator.engine.instance import Overrides, build_instance
from allocator.engine.optimiser import backend
from allocator.engine.optimiser.callbacks import SolveCallbacks
from allocator.engine.optimiser.column_generation import ColumnGeneration
from allocator.engine.optimiser.incumbents import cost_aware_plans, initial_columns
from allocator.engine.optimiser.model import base_model, build_model, column_entries, is_integral
from allocator.engine.optimiser.outcome import SolveOutcome, within_gap
from allocator.engine.optimiser.pricing import (
    column_finder,
    first_per_household,
    lagrangian_bound,
    lowest_per_household,
    per_household_minimum,
    reduced_costs,
)
from allocator.engine.optimiser.solve import lp_relaxation, solve_optimal
from allocator.engine.params import EngineParams
from allocator.examples import generate
from allocator.policy import Policy
from allocator.tables import validate_tables

START = dt.date(2026, 12, 7)
DEFAULTS = EngineParams()


def instance(n: int, m: int, seed: int, caps: bool, weeks: int = 8):
    households, units, stays = generate(n, m, seed=seed, start=START, horizon_weeks=weeks)
    policy = Policy(
        horizon_weeks=weeks,
        support_capacity=12 if caps else None,
        mediation_capacity=2 if caps else None,
    )
    return build_instance(validate_tables(households, units, stays), START, policy, Overrides())


@functools.cache
def full_lp(n: int, m: int, seed: int, caps: bool, weeks: int = 8) -> float:
    """The value of the LP over every column, solved by HiGHS at once (shared by the parameters)."""
    inst = instance(n, m, seed, caps, weeks)
    full = backend.solve(
        build_model(inst, build_columns(inst), integer=False), time_limit=60, threads=1, seed=0
    )
    assert full.optimal
    return full.objective


def follow_lp_columns(monkeypatch, cols, n0: int):
    """The restricted LP's columns (indices into ``cols``), followed through adds and removals.

    Column generation takes each batch of columns from ``cols`` just before adding it to GLOP;
    removals come as positions. Returns [the LP's columns now, the columns of every removal].
    """
    state = [np.zeros(0, dtype=np.int64), []]
    take, remove = cols.take, backend.IncrementalLP.remove

    def added(idx):
        state[0] = np.concatenate([state[0], idx])
        return take(idx)

    def removed(lp, positions):
        state[1].append(state[0][positions - n0])
        state[0] = np.delete(state[0], positions - n0)
        return remove(lp, positions)

    monkeypatch.setattr(cols, "take", added)
    monkeypatch.setattr(backend.IncrementalLP, "remove", removed)
    return state


def columns_from(inst, params: EngineParams) -> int:
    """The restricted LP's first column variable: after the unplaced flags, and after the
    running totals too unless the LP is on breakpoint rows."""
    return (
        inst.n_households
        if inst.n_households <= params.breakpoint_rows_up_to
        else len(base_model(inst).cost)
    )


def cost_aware(inst, cols):
    """The solver's cost-aware plans, its column finder and the first columns it builds."""
    plans = cost_aware_plans(inst, DEFAULTS.heuristic_stay_exponents)
    columns_of = column_finder(inst, cols)
    per_household = DEFAULTS.initial_columns_per_household
    return plans, columns_of, initial_columns(inst, cols, columns_of, plans, per_household)


def removals(state, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(every column removed, how often) after checking that `follow_lp_columns` kept up."""
    assert np.array_equal(state[0], kept)
    gone = np.concatenate([np.zeros(0, dtype=np.int64), *state[1]])
    return np.unique(gone, return_counts=True)


@pytest.mark.parametrize(
    ("n", "m", "weeks", "seed", "caps"),
    [(40, 20, 8, 1, False), (40, 20, 8, 2, True), (40, 20, 8, 3, False), (100, 60, 26, 1, False)],
)
@pytest.mark.parametrize("from_plan", [False, True])
@pytest.mark.parametrize("remove_once", [False, True])
def test_column_generation_reaches_the_full_lp(
    n, m, weeks, seed, caps, from_plan, remove_once, monkeypatch
):
    params = EngineParams(remove_once_from=0 if remove_once else 10**9)
    inst = instance(n, m, seed, caps, weeks)
    cols = build_columns(inst)
    full = full_lp(n, m, seed, caps, weeks)
    initial = np.zeros(len(cols), dtype=bool)
    cheapest = np.lexsort((cols.cost, cols.household))
    first = first_per_household(
        cols.household, cheapest, inst.n_households, params.initial_columns_per_household
    )
    initial[first] = True
    start_plan = None
    if from_plan:  # the LP starts from the best cost-aware plan's basis, as the solver does
        plans, columns_of, initial = cost_aware(inst, cols)
        best = min(plans, key=lambda plan: objective(inst, *plan))
        start_plan = np.sort(columns_of(*best))
    lp_columns = follow_lp_columns(monkeypatch, cols, columns_from(inst, params))
    cg = ColumnGeneration(inst, cols, initial, params, start_plan)
    lp = cg.run(time.perf_counter() + 60)
    answer, kept, n0, rc, bound = lp.answer, lp.columns, cg.n0, lp.reduced_costs, lp.bound
    converged, rounds = lp.converged, lp.rounds
    assert converged and answer.optimal
    gone, times = removals(lp_columns, kept)
    if remove_once:  # a column removed as idle that comes back stays
        assert (times == 1).all()
    if n >= 100:  # long enough to take several rounds and drop idle columns on the way
        assert rounds > 2 and gone.size > 0
        # some removed columns price out again and stay; without the rule some are removed again
        assert np.isin(kept, gone).any() and (times > 1).any() != remove_once
    assert answer.objective == pytest.approx(full, rel=1e-7, abs=1e-6)
    assert bound == pytest.approx(full, rel=1e-7, abs=1e-6)
    # the restricted LP's values sit on the columns it kept, in its variable order, and add up
    # to its objective
    assert len(answer.values) == n0 + kept.size
    base_cost = base_model(inst).cost
    value = base_cost[:n0] @ answer.values[:n0] + cols.cost[kept] @ answer.values[n0:]
    assert value == pytest.approx(full, rel=1e-7, abs=1e-6)
    # no column left out prices out (columns in the LP at their upper bound 1 may be negative)
    outside = np.ones(len(cols), dtype=bool)
    outside[kept] = False
    assert (rc[outside] >= -1e-6 * max(1.0, abs(full))).all()


@pytest.mark.parametrize(("seed", "caps"), [(1, False), (2, True)])
def test_the_lp_relaxation_alone_is_the_full_lp(seed, caps):
    """The benchmark's reference bound at city size, where HiGHS cannot hold the whole LP."""
    inst = instance(40, 20, seed, caps)
    full = backend.solve(
        build_model(inst, build_columns(inst), integer=False), time_limit=60, threads=1, seed=0
    )
    value, bound, converged, rounds = lp_relaxation(inst, time.perf_counter() + 60)
    assert converged and rounds >= 1
    assert value == pytest.approx(full.objective, rel=1e-7, abs=1e-6)
    assert bound == pytest.approx(full.objective, rel=1e-7, abs=1e-6)


@pytest.mark.parametrize("remove_once", [False, True])
@pytest.mark.parametrize("price_columns", [False, True])
def test_column_generation_resumed_after_a_dive_reaches_the_full_lp(
    remove_once, price_columns, monkeypatch
):
    """A city-size solve stops the LP unconverged, dives, then resumes it for a better bound.

    A dive that prices adds columns of its own, some of which the stopped round had priced too:
    the resumed LP must not take them twice.
    """
    params = EngineParams(
        remove_once_from=0 if remove_once else 10**9,
        # idle columns leave from the first resumed round on, so that some of them come back
        min_columns_to_remove=0,
    )
    inst = instance(60, 30, 4, False, 12)  # fractional after one round: the dive fixes bounds
    cols = build_columns(inst)
    full = full_lp(60, 30, 4, False, 12)
    _, _, initial = cost_aware(inst, cols)
    lp_columns = follow_lp_columns(monkeypatch, cols, columns_from(inst, params))
    cg = ColumnGeneration(inst, cols, initial, params)
    first = cg.run(time.perf_counter() + 60, growth=1e12)  # no second round fits
    answer, kept, n0, bound = first.answer, first.columns, cg.n0, first.bound
    converged, rounds = first.converged, first.rounds
    assert not converged and rounds == 1 and bound <= full + 1e-6 and first.divable
    assert not is_integral(answer.values[n0:])
    fix_at = params.unconverged_dive_fix_at
    values, dived, integral = cg.dive(answer, time.perf_counter() + 60, price_columns, fix_at)
    assert integral and values.size == n0 + dived.size
    lp = cg.run(time.perf_counter() + 60)  # rounds as usual
    answer, kept, bound = lp.answer, lp.columns, lp.bound
    converged, rounds = lp.converged, lp.rounds
    assert converged and rounds > 2
    assert np.unique(kept).size == kept.size
    assert answer.objective == pytest.approx(full, rel=1e-7, abs=1e-6)
    assert bound == pytest.approx(full, rel=1e-7, abs=1e-6)
    # the LP's basis is restored before the resumed rounds remove idle columns: some come back,
    # and with the rule none is removed twice (without it, some are)
    gone, times = removals(lp_columns, kept)
    assert np.isin(kept, gone).any() and (times > 1).any() != remove_once


def test_removing_idle_columns_keeps_the_optimum_and_the_basis():
    inst = instance(40, 20, 5, caps=True)
    cols = build_columns(inst)
    lp = backend.IncrementalLP(base_model(inst))
    rows, var, vals = column_entries(inst, cols, 0)
    lp.add_columns(cols.cost, rows, var, vals)
    first = lp.solve(60)
    assert first.optimal
    n0 = len(base_model(inst).cost)
    rc = reduced_costs(inst, cols, first.duals)
    idle = np.flatnonzero(lp.nonbasic_at_zero()[n0:] & (rc > 1e-9))
    assert idle.size > 0
    lp.remove(n0 + idle)
    again = lp.solve(60)
    assert again.optimal
    assert again.objective == pytest.approx(first.objective, rel=1e-9, abs=1e-9)
    kept = np.setdiff1d(np.arange(len(cols)), idle)
    np.testing.assert_allclose(again.values[n0:], first.values[n0:][kept], atol=1e-9)


def test_greedy_columns_are_feasible_in_the_lp():
    """Sanity of the fixture: greedy's plan is a point of the LP, so the LP value is below it."""
    inst = instance(40, 20, 6, caps=False)
    pool, start = solve_greedy(inst)
    cols = build_columns(inst)
    full = backend.solve(build_model(inst, cols, integer=False), time_limit=60, threads=1, seed=0)
    from allocator.engine.columns import objective

    assert full.objective <= objective(inst, pool, start) + 1e-6


@given(
    st.lists(st.tuples(st.integers(0, 6), st.floats(-1e6, 1e6)), max_size=40),
    st.integers(1, 8),
)
def test_per_household_minimum_matches_a_scatter(pairs, n):
    household = np.array([h % n for h, _ in pairs], dtype=np.int64)
    values = np.array([v for _, v in pairs], dtype=float)
    expected = np.full(n, np.inf)
    np.minimum.at(expected, household, values)
    np.testing.assert_array_equal(per_household_minimum(household, n)(values), expected)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 5), st.integers(0, 3), st.sampled_from([0.0, 1.0, 2.5, 7.0, np.inf])
        ),
        max_size=60,
    ),
    st.integers(1, 6),
    st.integers(1, 4),
    st.booleans(),
    st.data(),
)
def test_lowest_per_household_matches_a_full_sort(rows, n, k, grouped, data):
    # few distinct values, so ties are common; columns grouped by pool and household (as
    # build_columns makes them) or in any order, all of them or an ascending subset
    if grouped:
        rows = sorted(rows, key=lambda r: (r[1], r[0]))
    household = np.array([h % n for h, _, _ in rows], dtype=np.int64)
    pool = np.array([p for _, p, _ in rows], dtype=np.int64)
    values = np.array([v for _, _, v in rows], dtype=float)
    zero = np.zeros(len(rows), dtype=np.int64)
    cols = Columns(household, pool, zero, zero, zero, values)
    among = np.flatnonzero(
        data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    )
    for subset in (None, among):
        idx = np.arange(len(rows)) if subset is None else subset
        order = idx[np.lexsort((values[idx], household[idx]))]
        expected = first_per_household(household, order, n, k)
        got = lowest_per_household(cols, values, n, k, among=subset)
        np.testing.assert_array_equal(got, expected)


def after_one_round():
    """Column generation stopped after its first round (an LP that needs more), to resume:
    (the column generation, where its rounds stopped)."""
    inst = instance(60, 30, 4, False, 12)
    cols = build_columns(inst)
    _, _, initial = cost_aware(inst, cols)
    cg = ColumnGeneration(inst, cols, initial, DEFAULTS)
    return cg, cg.run(time.perf_counter() + 60, growth=1e12)  # no time for a second round


def solved(
    inst,
    relative_gap: float,
    workers: int = 1,
    params: EngineParams = DEFAULTS,
    callbacks: SolveCallbacks | None = None,
) -> SolveOutcome:
    """`solve_optimal` from greedy's plan, with a minute and seed 0."""
    return solve_optimal(
        inst,
        solve_greedy(inst),
        deadline=time.perf_counter() + 60,
        workers=workers,
        seed=0,
        relative_gap=relative_gap,
        params=params,
        callbacks=callbacks,
    )


class Watch(SolveCallbacks):
    """Records what the solver's stages report: the column generations built, where each run
    of rounds ended (and its seconds), each dive's LP (and whether in the main thread) and
    values."""

    def __init__(self) -> None:
        self.column_generations: list[ColumnGeneration] = []
        self.runs: list = []
        self.seconds: list[float] = []
        self.dived_on: list = []
        self.dived: list[np.ndarray] = []

    def column_generation(self, cg) -> None:
        self.column_generations.append(cg)

    def lp_solved(self, state, seconds: float) -> None:
        self.runs.append(state)
        self.seconds.append(seconds)

    def dive_started(self, lp) -> None:
        self.dived_on.append((lp, threading.current_thread() is threading.main_thread()))

    def dive_ended(self, values, integral: bool) -> None:
        self.dived.append(values.copy())


def test_a_resumed_lp_without_time_for_a_round_returns_at_once(monkeypatch):
    cg, lp = after_one_round()
    answer, kept, bound = lp.answer, lp.columns, lp.bound
    converged, rounds = lp.converged, lp.rounds
    assert not converged and rounds == 1
    solves = []
    solve = backend.IncrementalLP.solve
    monkeypatch.setattr(
        backend.IncrementalLP, "solve", lambda lp, *a, **k: solves.append(1) or solve(lp, *a, **k)
    )
    again = cg.run(time.perf_counter() + 1e-6)  # far less than the first round took
    assert not solves
    assert again.answer is answer and again.columns is kept and again.bound == bound
    assert again.converged is False and again.rounds == rounds and not again.divable
    resumed = cg.run(time.perf_counter() + 60)  # with time, it goes on to the optimum
    assert resumed.converged and solves


def test_a_resumed_lp_stops_when_its_bound_is_enough():
    cg, lp = after_one_round()
    rounds = lp.rounds
    asked = []
    again = cg.run(time.perf_counter() + 60, 1.0, lambda bound, value: asked.append(bound) or True)
    assert again.rounds == rounds + 1 and asked == [again.bound]  # one round, asked, stopped
    assert not again.converged  # not converged: it stopped because the bound was enough
    assert again.divable  # and can dive from that round
    final = cg.run(time.perf_counter() + 60, 1.0)  # without the question: to the optimum
    assert final.converged


@pytest.mark.parametrize("workers", [1, 2])
def test_an_unconverged_lp_too_large_for_a_mip_resumes_for_its_bound(monkeypatch, workers):
    """The city-size path: no restricted MIP, the time left goes to the LP; the bound holds.

    With two workers the dive runs on a copy of the LP in a second thread while the rounds
    resume on the original; with one it dives first and resumes after."""
    inst = instance(60, 30, 4, False, 12)
    cols = build_columns(inst)
    full = backend.solve(build_model(inst, cols, integer=False), time_limit=60, threads=1, seed=0)
    # one round before the LP stops (no second one fits; the resumed rounds have growth of
    # their own), then no MIP over any of its columns
    params = EngineParams(round_growth=1e12, max_unconverged_mip_columns=0)
    lps = []
    make_lp = backend.IncrementalLP.__init__

    def recording_lp(lp, model):
        lps.append(lp)
        make_lp(lp, model)

    monkeypatch.setattr(backend.IncrementalLP, "__init__", recording_lp)
    watch = Watch()
    out = solved(inst, 1e-9, workers, params, watch)
    assert watch.runs[0].rounds == 1 and not watch.runs[0].converged
    first_dive_lp, in_main_thread = watch.dived_on[0]
    if workers == 1:
        assert lps == [first_dive_lp] and in_main_thread
    else:  # a copy, dived in another thread
        assert len(lps) == 2 and first_dive_lp is lps[1] and not in_main_thread
    assert out.mip_seconds == 0.0 and "no MIP" in out.detail and "LP converged" in out.detail
    assert out.lp_bound == out.best_bound == pytest.approx(full.objective, rel=1e-7, abs=1e-6)
    assert out.objective == pytest.approx(objective(inst, out.pool, out.start), rel=1e-12)
    assert out.best_bound <= out.objective + 1e-6
    assert out.proven_optimal == (out.objective <= out.best_bound + 1e-6 * abs(out.objective))


def test_the_dive_beside_gives_what_the_dive_on_the_lp_gives(monkeypatch):
    """The copy (columns, order, basis) dives as the LP itself would: the same values. 100x60
    over 26 weeks after 4 rounds, where the LP is fractional and the copy is solved in the
    thread."""
    inst = instance(100, 60, 1, False, 26)
    run = ColumnGeneration.run

    def three_rounds_first(cg, deadline, growth=None, enough=None):
        if cg.rounds:  # resumed: as usual
            return run(cg, deadline, growth, enough)
        run(cg, deadline, 1e12)  # one round
        asked = []
        return run(cg, deadline, 1.0, lambda bound, value: asked.append(bound) or len(asked) >= 3)

    monkeypatch.setattr(ColumnGeneration, "run", three_rounds_first)
    params = EngineParams(max_unconverged_mip_columns=0)
    solve = backend.IncrementalLP.solve
    solved_beside = []

    def recording_solve(lp, *args, **kwargs):
        solved_beside.append(threading.current_thread() is not threading.main_thread())
        return solve(lp, *args, **kwargs)

    monkeypatch.setattr(backend.IncrementalLP, "solve", recording_solve)
    first = {}
    for workers in (1, 2):
        solved_beside.clear()
        watch = Watch()
        solved(inst, 1e-9, workers, params, watch)
        assert watch.runs[0].rounds == 4
        first[workers] = watch.dived[0]
    assert any(solved_beside)  # the copy was solved, not only handed back integral values
    np.testing.assert_allclose(first[1], first[2], atol=1e-9)


@functools.cache
def full_lp_with_duals(seed: int, caps: bool):
    """(instance, columns, HiGHS's answer with row duals) of the LP over every column.

    With caps that bind: support 25 and mediation 1 (`instance`'s support 12 is below the load
    of the existing stays, so it leaves no one a place)."""
    households, units, stays = generate(40, 20, seed=seed, start=START, horizon_weeks=8)
    policy = Policy(
        horizon_weeks=8,
        support_capacity=25 if caps else None,
        mediation_capacity=1 if caps else None,
    )
    tables = validate_tables(households, units, stays)
    inst = build_instance(tables, START, policy, Overrides())
    cols = build_columns(inst)
    full = backend.solve(
        build_model(inst, cols, integer=False), time_limit=60, threads=1, seed=0, want_duals=True
    )
    assert full.optimal and full.duals is not None
    if caps:  # they bind: the LP without them is cheaper
        assert full_lp(40, 20, seed, False) < full.objective - 1.0
        assert inst.support_free is not None and inst.mediation_free
    return inst, cols, full


def lagrangian_of(inst, cols, duals: np.ndarray) -> float:
    lowest = per_household_minimum(cols.household, inst.n_households)
    bound = lagrangian_bound(inst, base_model(inst))
    return bound(duals, lowest(reduced_costs(inst, cols, duals)))


@given(
    seed=st.sampled_from([1, 2]),
    noise=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([0.0, 0.1, 1.0, 10.0, 100.0]),
)
def test_the_lagrangian_bound_holds_for_any_duals(seed, noise, scale):
    """At the LP's own duals it is the LP's value; moved anywhere, it stays below it."""
    caps = seed == 2  # support and mediation rows priced too
    inst, cols, full = full_lp_with_duals(seed, caps)
    duals = full.duals + scale * np.random.default_rng(noise).standard_normal(full.duals.size)
    bound = lagrangian_of(inst, cols, duals)
    tol = 1e-7 * max(1.0, abs(full.objective))
    assert bound <= full.objective + tol
    if scale == 0.0:
        assert bound == pytest.approx(full.objective, rel=1e-7, abs=1e-6)


def test_the_lagrangian_bound_beats_the_textbook_one_before_convergence():
    """After one round the restricted LP has columns at their upper bound with a negative reduced
    cost: the textbook bound counts them twice, this one does not."""
    _, lp = after_one_round()
    answer, rc, bound, converged = lp.answer, lp.reduced_costs, lp.bound, lp.converged
    inst = instance(60, 30, 4, False, 12)
    cols = build_columns(inst)
    lowest = per_household_minimum(cols.household, inst.n_households)(rc)
    textbook = answer.objective + np.minimum(lowest, 0.0).sum()
    assert not converged
    assert bound == pytest.approx(lagrangian_of(inst, cols, answer.duals), rel=1e-12)
    assert textbook < bound <= full_lp(60, 30, 4, False, 12) + 1e-6


class SlowDives(Watch):
    def dive_started(self, lp) -> None:  # its time is not the LP's
        time.sleep(0.3)


def test_the_lp_stops_for_a_dive_once_its_bound_leaves_room_within_the_gap():
    """At a 2% gap the rounds stop before the LP converges, and the dive's plan settles it."""
    inst = instance(100, 60, 3, False, 26)
    full = full_lp(100, 60, 3, False, 26)
    converged_in = lp_relaxation(inst, time.perf_counter() + 60)[3]
    watch = SlowDives()
    runs, seconds = watch.runs, watch.seconds
    gap = 0.02
    out = solved(inst, gap, callbacks=watch)
    assert len(runs) == 1  # no resume
    lp = runs[0]
    answer, bound, converged, rounds = lp.answer, lp.bound, lp.converged, lp.rounds
    assert not converged and rounds < converged_in
    assert answer.objective - bound <= (gap - DEFAULTS.dive_excess) * answer.objective
    assert out.source == "dive" and "within the requested gap" in out.detail
    assert out.best_bound == bound <= full + 1e-6
    assert out.objective - out.best_bound <= gap * out.objective
    assert out.objective == pytest.approx(objective(inst, out.pool, out.start), rel=1e-12)
    assert seconds[0] <= out.lp_seconds < seconds[0] + 0.1


def test_an_early_dive_that_misses_the_gap_lets_the_lp_go_on():
    """A dive that does not settle the gap: the rounds resume to the LP optimum and the solve
    goes on as if they had not stopped. 100x60 seed 1, whose LP optimum is fractional: the
    restricted MIP and the proof need the converged LP's reduced costs."""
    inst = instance(100, 60, 1, False, 26)

    usual = solved(inst, 1e-4)
    watch = Watch()
    runs = watch.runs
    # every round is close enough
    out = solved(inst, 1e-4, params=EngineParams(dive_excess=-100.0), callbacks=watch)
    assert len(runs) == 2
    assert not runs[0].converged and runs[0].rounds == 1  # stopped after one round, for a dive
    assert runs[1].converged  # then resumed to convergence
    assert out.lp_bound == pytest.approx(full_lp(100, 60, 1, False, 26), rel=1e-7, abs=1e-6)
    for o in (usual, out):  # settled within the gap by the MIPs
        assert within_gap(o.objective, o.best_bound, 1e-4) and "MIP on" in o.detail
    assert out.objective == pytest.approx(usual.objective, rel=1e-4)
    assert out.best_bound <= out.objective + 1e-6


@pytest.mark.parametrize(
    ("n", "m", "weeks", "seed", "caps"),
    [(40, 20, 8, 2, True), (40, 20, 8, 3, False), (100, 60, 26, 1, False)],
)
@pytest.mark.parametrize("smoothing", [0.4, 0.9])
def test_smoothed_column_generation_reaches_the_full_lp(n, m, weeks, seed, caps, smoothing):
    inst = instance(n, m, seed, caps, weeks)
    cols = build_columns(inst)
    full = full_lp(n, m, seed, caps, weeks)
    plans, columns_of, initial = cost_aware(inst, cols)
    best = min(plans, key=lambda plan: objective(inst, *plan))
    cg = ColumnGeneration(
        inst, cols, initial, DEFAULTS, np.sort(columns_of(*best)), smoothing=smoothing
    )
    lp = cg.run(time.perf_counter() + 60)
    answer, kept, rc, bound = lp.answer, lp.columns, lp.reduced_costs, lp.bound
    converged = lp.converged
    assert converged and answer.optimal
    assert answer.objective == pytest.approx(full, rel=1e-7, abs=1e-6)
    assert bound == pytest.approx(full, rel=1e-7, abs=1e-6)
    outside = np.ones(len(cols), dtype=bool)
    outside[kept] = False
    assert (rc[outside] >= -1e-6 * max(1.0, abs(full))).all()


def test_smoothing_prices_between_the_best_bound_and_the_lp(monkeypatch):
    """Each round but the last prices at the LP's duals, then at alpha x the centre + (1 - alpha)
    x those, where the centre is the point of the best Lagrangian bound so far (the first
    round's duals to begin with). The columns it adds are, per household, those of lowest
    reduced cost at that point among the ones that price out at both."""
    inst = instance(100, 60, 1, False, 26)
    cols = build_columns(inst)
    _, _, initial = cost_aware(inst, cols)
    added, take = [], cols.take
    monkeypatch.setattr(cols, "take", lambda idx: added.append(idx) or take(idx))
    priced, answers, in_lp = [], [], []
    solve = backend.IncrementalLP.solve

    def recording_solve(lp, *args, **kwargs):
        answers.append(solve(lp, *args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(backend.IncrementalLP, "solve", recording_solve)
    alpha = 0.5
    # on running totals: the rounds this test follows, its duals' vertex each round, are theirs
    params = EngineParams(breakpoint_rows_up_to=0)
    cg = ColumnGeneration(inst, cols, initial, params, smoothing=alpha)
    price = cg.price

    def recording(duals):  # every pricing of the rounds, and the LP's columns then
        priced.append(duals.copy())
        in_lp.append(cg.lp_cols.copy())
        return price(duals)

    cg.price = recording
    bounds = []  # the bound before each further round
    lp = cg.run(
        time.perf_counter() + 60, enough=lambda bound, value: bounds.append(bound) and False
    )
    bound, converged, rounds = lp.bound, lp.converged, lp.rounds
    assert converged and rounds > 3 and len(answers) == rounds
    assert len(priced) == 2 * rounds - 1
    centre = answers[0].duals
    centre_bound = lagrangian_of(inst, cols, centre)
    moved = 0
    # each round's bound is the best of its duals' and of every point's before it; on this
    # instance some point's beats every round's own duals
    own = [lagrangian_of(inst, cols, priced[2 * k]) for k in range(rounds)]
    points = [lagrangian_of(inst, cols, priced[2 * k + 1]) for k in range(rounds - 1)]
    assert len(bounds) == rounds - 1
    for k in range(rounds - 1):
        expected = max(own[: k + 1] + points[:k])
        assert bounds[k] == pytest.approx(expected, rel=1e-12, abs=1e-9)
    assert any(max(points[:k]) > max(own[: k + 1]) + 1e-6 for k in range(1, rounds - 1))
    for k in range(rounds - 1):
        duals, point = priced[2 * k], priced[2 * k + 1]
        assert np.array_equal(duals, answers[k].duals)
        np.testing.assert_allclose(point, alpha * centre + (1 - alpha) * duals, rtol=0, atol=1e-9)
        here = points[k]
        assert here <= bound + 1e-9
        if here > centre_bound:  # the best bound so far becomes the centre
            centre, centre_bound, moved = point, here, moved + 1
        tol = 1e-9 * max(1.0, abs(answers[k].objective))
        outside = np.ones(len(cols), dtype=bool)
        outside[in_lp[2 * k]] = False
        at_lp, at_point = (reduced_costs(inst, cols, d) for d in (duals, point))
        both = np.flatnonzero((at_lp < -tol) & (at_point < -tol) & outside)
        assert both.size  # the point priced something out in every round of this instance
        per_household = min(
            DEFAULTS.columns_added_per_household,
            DEFAULTS.columns_added_per_round // inst.n_households,
        )
        expected = lowest_per_household(cols, at_point, inst.n_households, per_household, both)
        np.testing.assert_array_equal(np.sort(added[k + 1]), np.sort(expected))
    assert moved >= 2
    assert bound == pytest.approx(full_lp(100, 60, 1, False, 26), rel=1e-7, abs=1e-6)


@pytest.mark.parametrize("gap", [1e-4, 1e-3])
@pytest.mark.parametrize("smoothing_from", [40, 41])
def test_smoothing_serves_large_instances_at_gaps_that_leave_room_for_the_dive(gap, smoothing_from):
    inst = instance(40, 20, 1, False)
    params = EngineParams(smoothing_from=smoothing_from)
    watch = Watch()
    solved(inst, gap, params=params, callbacks=watch)
    smoothing = [cg.smoothing for cg in watch.column_generations]
    wanted = gap >= params.smoothing_from_gap and inst.n_households >= smoothing_from
    assert smoothing == [params.dual_smoothing if wanted else 0.0]
    assert params.dual_smoothing > 0
