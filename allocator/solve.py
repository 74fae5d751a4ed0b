"""The optimiser: a day-level time-indexed model over pools, solved LP first, then a small MIP.

Why this shape (measured, see the README): one binary per (household, pool, start day) gives an LP
relaxation that is integral or nearly so on every instance we tried, so the LP optimum is both a
strong lower bound and almost a plan. Unit occupancy is written in difference form (a pool's
occupancy on day d is that of d-1 plus starts minus ends), so each column has at most 7 non-zeros.
The MIP then runs over the LP's non-zero columns, the greedy plan's columns and the columns of
lowest reduced cost. A column left out of that MIP cannot improve a plan by more than its reduced
cost, which turns the MIP's result into a bound for the whole model.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from allocator import mathopt_backend as backend
from allocator.columns import Columns, build_columns, objective, unplaced_cost
from allocator.instance import Instance

log = logging.getLogger("allocator")

INITIAL_COLUMNS_PER_HOUSEHOLD = 3
COLUMNS_ADDED_PER_HOUSEHOLD = 5
EXTRA_COLUMNS_PER_HOUSEHOLD = 4
EXTRA_COLUMNS_PER_DAY = 10


@dataclass
class SolveOutcome:
    pool: np.ndarray
    start: np.ndarray
    objective: float
    best_bound: float
    proven_optimal: bool
    source: str  # which stage produced the plan: "lp", "mip" or "greedy"
    detail: str
    columns: int
    mip_columns: int
    lp_seconds: float
    mip_seconds: float


def _chain(n_steps: int, n_chains: int, first_var: int, first_row: int):
    """Entries of the running-total variables: +1 on their day's row, -1 on the next day's."""
    var = first_var + np.arange(n_chains * n_steps)
    row = first_row + np.arange(n_chains * n_steps)
    nxt = np.arange(n_chains * n_steps) % n_steps < n_steps - 1
    rows = np.concatenate([row, row[nxt] + 1])
    cols = np.concatenate([var, var[nxt]])
    vals = np.concatenate([np.ones(var.size), -np.ones(int(nxt.sum()))])
    return rows, cols, vals


def _event_entries(rows_base, day_start, day_end, weight, col_idx, H, mask=None):
    """-weight on the start day's row, +weight on the end day's row when it lies in the horizon."""
    if mask is None:
        mask = np.ones(col_idx.size, dtype=bool)
    s = mask
    e = mask & (day_end < H)
    rows = np.concatenate([rows_base[s] + day_start[s], rows_base[e] + day_end[e]])
    cols = np.concatenate([col_idx[s], col_idx[e]])
    vals = np.concatenate([-weight[s], weight[e]])
    return rows, cols, vals


def build_model(inst: Instance, cols: Columns, integer: bool) -> backend.SparseModel:
    N, P, H, C = inst.n_households, len(inst.pools), inst.horizon, len(cols)
    capped = sorted(inst.mediation_free)
    S = 1 if inst.support_free is not None else 0
    M = len(capped)
    # variable blocks: x (columns), u (unplaced), o (pool occupancy), l (support), m (mediation)
    u0 = C
    o0 = u0 + N
    l0 = o0 + P * H
    m0 = l0 + S * H
    n_var = m0 + M * H
    # row blocks: households, pool flows, support flow, mediation flows
    f0 = N
    s0 = f0 + P * H
    md0 = s0 + S * H
    n_row = md0 + M * H

    col_idx = np.arange(C)
    parts = [
        (cols.household, col_idx, np.ones(C)),
        (np.arange(N), u0 + np.arange(N), np.ones(N)),
        _event_entries(
            f0 + cols.pool * H, cols.start, cols.occupancy_end, np.ones(C), col_idx, H
        ),
        _chain(H, P, o0, f0),
    ]
    var_ub = np.ones(n_var)
    if P:
        var_ub[o0 : o0 + P * H] = np.concatenate([q.free for q in inst.pools])
    if S:
        load = inst.load[cols.household].astype(float)
        parts.append(
            _event_entries(np.full(C, s0), cols.start, cols.departure, load, col_idx, H, load > 0)
        )
        parts.append(_chain(H, 1, l0, s0))
        var_ub[l0 : l0 + H] = np.maximum(inst.support_free, 0)
    for k, j in enumerate(capped):
        mine = inst.language[cols.household] == j
        parts.append(
            _event_entries(
                np.full(C, md0 + k * H), cols.start, cols.departure, np.ones(C), col_idx, H, mine
            )
        )
        var_ub[m0 + k * H : m0 + (k + 1) * H] = np.maximum(inst.mediation_free[j], 0)
    if M:
        parts.append(_chain(H, M, m0, md0))
    rows, cols_, vals = (np.concatenate(x) for x in zip(*parts, strict=True))
    cost = np.zeros(n_var)
    cost[:C] = cols.cost
    cost[u0 : u0 + N] = unplaced_cost(inst)
    integer_mask = np.zeros(n_var, dtype=bool)
    if integer:
        integer_mask[: C + N] = True
    row_bound = np.zeros(n_row)
    row_bound[:N] = 1.0
    return backend.SparseModel(
        cost=cost,
        var_lb=np.zeros(n_var),
        var_ub=var_ub,
        integer=integer_mask,
        rows=rows.astype(np.int64),
        cols=cols_.astype(np.int64),
        vals=vals,
        row_lb=row_bound,
        row_ub=row_bound.copy(),
    )


def _column_keys(inst: Instance, household, pool, start) -> np.ndarray:
    return (household.astype(np.int64) * len(inst.pools) + pool) * inst.horizon + start


def _plan_from(cols: Columns, x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    pool = np.full(n, -1, dtype=np.int64)
    start = np.full(n, -1, dtype=np.int64)
    chosen = np.flatnonzero(x > 0.5)
    pool[cols.household[chosen]] = cols.pool[chosen]
    start[cols.household[chosen]] = cols.start[chosen]
    return pool, start


def _is_integral(x: np.ndarray) -> bool:
    return bool(np.all(np.minimum(np.abs(x), np.abs(1 - x)) < 1e-6))


def reduced_costs(inst: Instance, cols: Columns, duals: np.ndarray) -> np.ndarray:
    """Reduced cost of every candidate column under the row duals of `build_model`'s rows."""
    N, P, H = inst.n_households, len(inst.pools), inst.horizon
    capped = sorted(inst.mediation_free)
    S = 1 if inst.support_free is not None else 0
    f0, s0 = N, N + P * H
    md0 = s0 + S * H
    flow = duals[f0 : f0 + P * H].reshape(max(P, 1), H) if P else np.zeros((1, H))
    flow = np.concatenate([flow, np.zeros((flow.shape[0], 1))], axis=1)  # day H: no row
    end = np.minimum(cols.occupancy_end, H)
    dep = np.minimum(cols.departure, H)
    price = duals[cols.household] - flow[cols.pool, cols.start] + flow[cols.pool, end]
    if S:
        sup = np.append(duals[s0 : s0 + H], 0.0)
        price += inst.load[cols.household] * (sup[dep] - sup[cols.start])
    for k, j in enumerate(capped):
        med = np.append(duals[md0 + k * H : md0 + (k + 1) * H], 0.0)
        mine = inst.language[cols.household] == j
        price += np.where(mine, med[dep] - med[cols.start], 0.0)
    return cols.cost - price


def _first_per_household(household: np.ndarray, order: np.ndarray, n: int, k: int) -> np.ndarray:
    """Indices (into ``order``'s array) of the first k entries of each household in ``order``."""
    sorted_hh = household[order]
    first = np.searchsorted(sorted_hh, np.arange(n))
    rank = np.arange(order.size) - first[sorted_hh]
    return order[rank < k]


def _lp_by_column_generation(inst, cols, initial, deadline, seed):
    """Solve the LP over all columns, keeping only a few in the solver at a time.

    Returns (answer over the kept columns, kept mask, reduced costs of all columns, Lagrangian
    bound, converged). Each household takes at most one column, so the LP optimum is at least the
    restricted LP's value plus every household's most negative reduced cost: a valid bound at every
    iteration, and the exact LP value once no column prices out.
    """
    N = inst.n_households
    kept = initial.copy()
    bound = -np.inf
    answer = None
    rc = np.zeros(len(cols))
    while True:
        sub_idx = np.flatnonzero(kept)
        answer = backend.solve(
            build_model(inst, cols.take(sub_idx), integer=False),
            time_limit=deadline - time.perf_counter(),
            threads=1,
            seed=seed,
            want_duals=True,
        )
        if not (answer.optimal and answer.duals is not None):
            return answer, kept, rc, bound, False
        rc = reduced_costs(inst, cols, answer.duals)
        best = np.zeros(N)
        np.minimum.at(best, cols.household, rc)
        bound = max(bound, answer.objective + best.sum())
        tol = 1e-7 * max(1.0, abs(answer.objective)) / max(N, 1)
        negative = np.flatnonzero((rc < -tol) & ~kept)
        if negative.size == 0:
            return answer, kept, rc, answer.objective, True
        order = negative[np.lexsort((rc[negative], cols.household[negative]))]
        kept[_first_per_household(cols.household, order, N, COLUMNS_ADDED_PER_HOUSEHOLD)] = True
        if time.perf_counter() >= deadline:
            return answer, kept, rc, bound, False


def solve_optimal(
    inst: Instance,
    greedy_plan: tuple[np.ndarray, np.ndarray],
    *,
    deadline: float,
    workers: int,
    seed: int,
    relative_gap: float,
) -> SolveOutcome:
    """Best plan found by the deadline; greedy's plan when the solver finds nothing better."""
    N = inst.n_households
    g_pool, g_start = greedy_plan
    g_obj = objective(inst, g_pool, g_start)
    cols = build_columns(inst)
    C = len(cols)
    outcome = SolveOutcome(g_pool, g_start, g_obj, -np.inf, False, "greedy", "", C, 0, 0.0, 0.0)
    if C == 0:  # nobody can be placed anywhere: the empty plan is optimal
        outcome.best_bound, outcome.proven_optimal, outcome.source = g_obj, True, "lp"
        return outcome

    keys = _column_keys(inst, cols.household, cols.pool, cols.start)
    by_key = np.argsort(keys)
    placed = g_pool >= 0
    g_keys = _column_keys(inst, np.flatnonzero(placed), g_pool[placed], g_start[placed])
    greedy_cols = by_key[np.searchsorted(keys[by_key], g_keys)]
    initial = np.zeros(C, dtype=bool)
    initial[greedy_cols] = True
    cheapest = np.lexsort((cols.cost, cols.household))
    initial[_first_per_household(cols.household, cheapest, N, INITIAL_COLUMNS_PER_HOUSEHOLD)] = True

    t_lp = time.perf_counter()
    lp, kept, rc, lp_bound, converged = _lp_by_column_generation(
        inst, cols, initial, deadline, seed
    )
    outcome.lp_seconds = time.perf_counter() - t_lp
    if np.isfinite(lp_bound):
        outcome.best_bound = lp_bound
    if not (lp.optimal and lp.values is not None):
        outcome.detail = f"LP stopped: {lp.reason}; greedy plan kept"
        return outcome
    sub_idx = np.flatnonzero(kept)
    x = np.zeros(C)
    x[sub_idx] = lp.values[: sub_idx.size]
    if converged and _is_integral(lp.values[: sub_idx.size + N]):
        pool, start = _plan_from(cols, x, N)
        obj = objective(inst, pool, start)
        if obj <= g_obj + 1e-9:
            outcome.pool, outcome.start, outcome.objective, outcome.source = pool, start, obj, "lp"
        outcome.proven_optimal = obj <= g_obj + 1e-9
        outcome.detail = f"LP relaxation integral ({sub_idx.size} of {C} columns generated)"
        return outcome

    # restricted MIP: LP support, greedy's columns, lowest reduced costs
    keep = x > 1e-9
    keep[greedy_cols] = True
    keep[_first_per_household(cols.household, np.lexsort((rc, cols.household)), N, EXTRA_COLUMNS_PER_HOUSEHOLD)] = True
    extra = min(C, EXTRA_COLUMNS_PER_DAY * inst.horizon)
    keep[np.argpartition(rc, extra - 1)[:extra]] = True
    sub = cols.take(np.flatnonzero(keep))
    outcome.mip_columns = len(sub)
    excluded_rc = rc[~keep]
    min_rc_out = float(excluded_rc.min()) if excluded_rc.size else np.inf

    mip = backend.solve(
        build_model(inst, sub, integer=True),
        time_limit=deadline - time.perf_counter(),
        threads=workers,
        seed=seed,
        relative_gap=relative_gap,
    )
    outcome.mip_seconds = mip.seconds
    if mip.ok and mip.values is not None:
        pool, start = _plan_from(sub, mip.values[: len(sub)], N)
        obj = objective(inst, pool, start)
        if obj <= g_obj + 1e-9:
            outcome.pool, outcome.start, outcome.objective, outcome.source = pool, start, obj, "mip"
    if converged:
        restricted_bound = mip.bound if np.isfinite(mip.bound) else lp_bound
        outcome.best_bound = max(lp_bound, min(restricted_bound, lp_bound + min_rc_out))
        outcome.proven_optimal = mip.optimal and lp_bound + min_rc_out >= outcome.objective - 1e-6
    outcome.detail = f"MIP on {len(sub)} of {C} columns: {mip.reason}"
    return outcome
