"""The restricted LP on breakpoint rows is the running-total LP: same optimum, and duals that,
translated to the full model's layout, price columns and bound the LP as the full model's do.

Random instances from `allocator.testing.random_instance` (support and mediation caps, connecting
rooms, pins and forbidden pairs); the reference is `backend.IncrementalLP` over the whole base
model with the same columns, and `solve_optimal` without breakpoint rows.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.engine.columns import build_columns
from allocator.engine.greedy import solve_greedy
from allocator.engine.optimiser import backend, cuts
from allocator.engine.optimiser.breakpoint_lp import BreakpointLP
from allocator.engine.optimiser.callbacks import SolveCallbacks
from allocator.engine.optimiser.model import base_model, build_model, column_entries, layout_of
from allocator.engine.optimiser.pricing import lagrangian_bound, per_household_minimum, pricer
from allocator.engine.optimiser.solve import solve_optimal
from allocator.engine.params import EngineParams
from allocator.testing import random_instance

RUNNING_TOTALS = EngineParams(breakpoint_rows_up_to=0)


def full_dual_value(model: backend.SparseModel, duals: np.ndarray) -> float:
    """The Lagrangian dual value of ``min c x, A x = b, 0 <= x <= u`` at row duals y:
    b y + sum of min(0, (c - A'y) u), a lower bound on the LP for any y, its value at an
    optimal y."""
    rc = model.cost - np.bincount(
        model.cols, weights=model.vals * duals[model.rows], minlength=len(model.cost)
    )
    return float(model.row_lb @ duals + (np.minimum(rc, 0.0) * model.var_ub).sum())


def both_lps(inst, cols, batches):
    """The running-total LP and the breakpoint LP, the same columns added batch by batch with a
    solve after each (new breakpoint rows then join a solved LP)."""
    base = base_model(inst)
    full, bp = backend.IncrementalLP(base), BreakpointLP(inst, base)
    answers = []
    for idx in batches:
        sub = cols.take(idx)
        rows, var, vals = column_entries(inst, sub, 0)
        full.add_columns(sub.cost, rows, var, vals)
        bp.add_columns(sub.cost, rows, var, vals)
        answers.append((full.solve(10.0), bp.solve(10.0)))
    return full, bp, answers


instances = st.builds(
    random_instance,
    seed=st.integers(0, 10**6),
    n=st.integers(2, 14),
    m=st.integers(1, 8),
    weeks=st.integers(1, 4),
    rooms=st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(inst=instances, data=st.data())
def test_the_breakpoint_lp_has_the_running_total_lps_optimum_and_duals(inst, data):
    """Same optimum after every batch; the translated duals price every column as the full
    model's reduced costs under them, give the full restricted LP's value (dual feasible and
    optimal there) and the same Lagrangian bound."""
    cols = build_columns(inst)
    if len(cols) == 0:
        return
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(cols))
    cuts_at = np.sort(
        rng.choice(np.arange(1, len(cols) + 1), size=min(3, len(cols)), replace=False)
    )
    batches = np.split(order, cuts_at[:-1])
    _, bp, answers = both_lps(inst, cols, batches)
    base = base_model(inst)
    price = pricer(inst, cols)
    lag = lagrangian_bound(inst, base)
    held = np.zeros(0, dtype=np.int64)
    for idx, (full, mine) in zip(batches, answers, strict=True):
        held = np.concatenate([held, idx])
        assert full.optimal and mine.optimal
        tol = 1e-9 * max(1.0, abs(full.objective))
        assert mine.objective == pytest.approx(full.objective, abs=tol)
        assert mine.duals is not None and mine.duals.size == len(base.row_lb)
        model = build_model(inst, cols.take(held), integer=False)
        assert full_dual_value(model, mine.duals) == pytest.approx(full.objective, abs=tol)
        rc = model.cost - np.bincount(
            model.cols, weights=model.vals * mine.duals[model.rows], minlength=len(model.cost)
        )
        n0 = len(base.cost)
        np.testing.assert_allclose(price(mine.duals)[held], rc[n0:], rtol=0, atol=1e-9)
        # the Lagrangian bound over the LP's own columns (running totals priced too) is its value
        sub = cols.take(held)
        own_rc = pricer(inst, sub)(mine.duals)
        own_lowest = per_household_minimum(sub.household, inst.n_households)(own_rc)
        assert lag(mine.duals, own_lowest) == pytest.approx(full.objective, abs=tol)
        values = mine.values
        assert values is not None and values.size == inst.n_households + held.size
        assert cols.cost[held] @ values[inst.n_households :] + base.cost[
            : inst.n_households
        ] @ values[: inst.n_households] == pytest.approx(full.objective, abs=1e-6)
    assert bp.n_rows == len(base.row_lb)


@pytest.mark.parametrize("seed", range(6))
def test_removals_cut_rows_and_a_copy_keep_the_lp(seed):
    """Columns removed, clique-like rows added through `add_rows`, columns then added with
    entries in them, and a copy handed the basis: each LP stays the running-total LP."""
    inst = random_instance(seed, 12, 6, 3, seed % 2 == 1)
    cols = build_columns(inst)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(cols))
    half = order.size // 2
    full, bp, _ = both_lps(inst, cols, [order[: half // 2], order[half // 2 : half]])
    held = order[:half]
    # remove what is non-basic at zero in the breakpoint LP, from both
    out = np.flatnonzero(bp.nonbasic_at_zero()[inst.n_households :])[::2]
    n0 = len(base_model(inst).cost)
    full.solve(10.0)  # the full LP's basis, for its own removal check
    out_full = out[full.nonbasic_at_zero()[n0 + out]]
    bp.remove(inst.n_households + out_full)
    full.remove(n0 + out_full)
    held = np.delete(held, out_full)
    # a row over every third column held: at most one of them
    members = np.arange(0, held.size, 3)
    for lp, first in ((full, n0), (bp, inst.n_households)):
        lp.add_rows(first + members, np.zeros(members.size, dtype=np.int64), np.ones(1))
    a_full, a_bp = full.solve(10.0, dual=True), bp.solve(10.0, dual=True)
    assert a_bp.objective == pytest.approx(a_full.objective, abs=1e-9 * abs(a_full.objective))
    assert a_bp.duals is not None and a_bp.duals.size == full.n_rows == bp.n_rows
    # more columns, each entering the added row when its index is a multiple of 5
    new = order[half:]
    sub = cols.take(new)
    rows, var, vals = column_entries(inst, sub, 0)
    in_cut = np.flatnonzero(new % 5 == 0)
    rows = np.concatenate([rows, np.full(in_cut.size, full.n_rows - 1)])
    var, vals = np.concatenate([var, in_cut]), np.concatenate([vals, np.ones(in_cut.size)])
    for lp in (full, bp):
        lp.add_columns(sub.cost, rows, var, vals)
    a_full, a_bp = full.solve(10.0), bp.solve(10.0)
    assert a_bp.objective == pytest.approx(a_full.objective, abs=1e-9 * abs(a_full.objective))
    twin = bp.copy()
    basis = bp.basis()
    assert basis is not None
    twin.set_basis(*basis)
    a_twin = twin.solve(10.0)
    assert a_twin.objective == pytest.approx(a_bp.objective, abs=1e-9 * abs(a_bp.objective))
    assert a_twin.values is not None and a_bp.values is not None
    np.testing.assert_allclose(a_twin.values, a_bp.values, atol=1e-9)


class Reached(SolveCallbacks):
    """Counts the dives the solver starts."""

    def __init__(self) -> None:
        self.dives = 0

    def dive_started(self, lp) -> None:
        self.dives += 1


def solved(inst, params: EngineParams, callbacks: SolveCallbacks | None = None):
    return solve_optimal(
        inst,
        solve_greedy(inst),
        deadline=time.perf_counter() + 60,
        workers=1,
        seed=0,
        relative_gap=1e-9,
        params=params,
        callbacks=callbacks,
    )


# dives that price, and cuts, from the smallest instances on
FORCED = {"pricing_dive_from": 0, "heuristic_plans_from": 0}


def test_solve_optimal_reaches_the_same_objective_on_either_lp(monkeypatch):
    """Breakpoint rows or running totals: the same optimal objective on 40 random instances
    (caps, connecting rooms, pins), with dives and clique cuts reached on the way."""
    found = []
    with_cliques = cuts.lp_with_cliques

    def counting(*args, **kwargs):
        out = with_cliques(*args, **kwargs)
        found.append(len(out[2]))
        return out

    monkeypatch.setattr(cuts, "lp_with_cliques", counting)
    reached = Reached()
    for seed in range(40):
        inst = random_instance(seed, 8 + seed % 12, 3 + seed % 5, 2 + seed % 3, seed % 3 == 0)
        new = solved(inst, EngineParams(breakpoint_rows_up_to=10**6, **FORCED), reached)
        old = solved(inst, EngineParams(breakpoint_rows_up_to=0, **FORCED))
        assert new.proven_optimal and old.proven_optimal
        assert new.objective == pytest.approx(old.objective, rel=1e-9, abs=1e-9)
        assert new.best_bound <= new.objective + 1e-6 * max(1.0, abs(new.objective))
    assert reached.dives > 0 and sum(found) > 0


def capped(inst, mode: int, rng: np.random.Generator) -> backend.SparseModel:
    """The base model with adversarial caps on every chain: as built (mode 0), each day's cap
    cut to a random 0..3 (1), or random 0..2 days (2): zeros, drops and rises a day apart."""
    base = base_model(inst)
    lay = layout_of(inst)
    caps = base.var_ub[lay.N : lay.n_base_vars]
    if mode == 1:
        caps[:] = np.minimum(caps, rng.integers(0, 4, caps.size))
    elif mode == 2:
        caps[:] = rng.integers(0, 3, caps.size)
    return base


@settings(max_examples=80, deadline=None)
@given(inst=instances, mode=st.integers(0, 2), seed=st.integers(0, 2**32 - 1))
def test_zero_dropping_and_rising_caps_through_removals_cuts_re_adds_and_fixes(inst, mode, seed):
    """Caps of 0, drops and rises on every chain; columns removed and added again, a cut row
    their re-added copies enter, a copy handed the basis then columns fixed at 0 and 1 and more
    columns priced in, then the basis from before the fixes: after each step the breakpoint LP
    has the running-total LP's value, and (before the cut) its translated duals are optimal for
    the running-total LP."""
    cols = build_columns(inst)
    if len(cols) < 4:
        return
    rng = np.random.default_rng(seed)
    base = capped(inst, mode, rng)
    N, n0 = inst.n_households, len(base.cost)
    full, bp = backend.IncrementalLP(base), BreakpointLP(inst, base)
    held: list[int] = []  # the column of each LP variable after the base ones

    def add(idx: np.ndarray, cut_row: int | None = None) -> None:
        sub = cols.take(idx)
        rows, var, vals = column_entries(inst, sub, 0)
        if cut_row is not None:  # every other new column enters the cut row
            hit = np.arange(0, idx.size, 2)
            rows = np.concatenate([rows, np.full(hit.size, cut_row)])
            var, vals = np.concatenate([var, hit]), np.concatenate([vals, np.ones(hit.size)])
        full.add_columns(sub.cost, rows, var, vals)
        bp.add_columns(sub.cost, rows, var, vals)
        held.extend(idx.tolist())

    def same(a: backend.SolverAnswer, b: backend.SolverAnswer) -> None:
        assert a.optimal and b.optimal
        assert b.objective == pytest.approx(a.objective, abs=1e-7 * max(1.0, abs(a.objective)))

    parts = np.array_split(rng.permutation(len(cols)), 4)
    add(parts[0])
    same(full.solve(10.0), bp.solve(10.0))
    add(parts[1])
    a, b = full.solve(10.0), bp.solve(10.0)
    same(a, b)
    model = build_model(inst, cols.take(np.array(held)), integer=False)
    model.var_ub[:n0] = base.var_ub
    assert b.duals is not None
    assert full_dual_value(model, b.duals) == pytest.approx(
        a.objective, abs=1e-7 * max(1.0, abs(a.objective))
    )
    # remove every other column non-basic at zero in both, then a cut over some of the rest
    out = np.flatnonzero(bp.nonbasic_at_zero()[N:] & full.nonbasic_at_zero()[n0:])[::2]
    bp.remove(N + out)
    full.remove(n0 + out)
    removed = [held[k] for k in out.tolist()]
    held = [h for k, h in enumerate(held) if k not in set(out.tolist())]
    members = np.flatnonzero(rng.random(len(held)) < 0.4)
    cut_row = None
    if members.size:
        for lp, first in ((full, n0), (bp, N)):
            lp.add_rows(first + members, np.zeros(members.size, dtype=np.int64), np.ones(1))
        cut_row = full.n_rows - 1
        same(full.solve(10.0, dual=True), bp.solve(10.0, dual=True))
    # the removed columns again, with new ones, entering the cut row
    again = np.concatenate([np.array(removed, dtype=np.int64), parts[2]])
    if again.size:
        add(again, cut_row)
    a, b = full.solve(10.0), bp.solve(10.0)
    same(a, b)
    # a copy from this basis, then fixes as a dive makes them, then columns priced in
    basis = bp.basis()
    twin = bp.copy()
    assert basis is not None
    twin.set_basis(*basis)
    same(a, twin.solve(10.0))
    before_dive = twin.basis()
    assert before_dive is not None
    fixed = np.flatnonzero(rng.random(len(held)) < 0.3)
    for lp, first in ((full, n0), (twin, N)):
        lp.set_bounds(first + fixed[1:], upper=0.0)
        lp.set_bounds(first + fixed[:1], lower=1.0)
    a, t = full.solve(10.0, dual=True), twin.solve(10.0, dual=True)
    assert a.optimal == t.optimal
    if a.optimal:
        same(a, t)
    sub = cols.take(parts[3])
    rows, var, vals = column_entries(inst, sub, 0)
    for lp in (full, twin):
        lp.add_columns(sub.cost, rows, var, vals)
    a, t = full.solve(10.0), twin.solve(10.0)
    assert a.optimal == t.optimal
    if a.optimal:
        same(a, t)
    # the dive undone: bounds back, and the basis from before it, with the rows made since
    for lp, first in ((full, n0), (twin, N)):
        lp.set_bounds(first + fixed, lower=0.0, upper=1.0)
    var_status, row_status = before_dive
    added = np.full(twin.n_vars - var_status.size, backend.AT_LOWER)
    twin.set_basis(np.concatenate([var_status, added]), row_status)
    same(full.solve(10.0), twin.solve(10.0))
