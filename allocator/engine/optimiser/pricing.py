"""Pricing: every candidate column's reduced cost under the LP's duals, the Lagrangian bound those
duals give, and the per-household selections that the column generation and the MIPs make from
reduced costs.

Column generation prices millions of columns at every round, so each of these is built once per
solve (positions, sort orders) and returns a function that is cheap to call.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from allocator.engine import rooms
from allocator.engine.columns import Columns
from allocator.engine.instance import Instance
from allocator.engine.optimiser import backend
from allocator.engine.optimiser.model import ColumnIndex, layout_of
from allocator.engine.params import EngineParams

Pricer = Callable[[np.ndarray], np.ndarray]  # row duals -> every column's reduced cost
Lowest = Callable[[np.ndarray], np.ndarray]  # per-column values -> each household's lowest
Bound = Callable[[np.ndarray, np.ndarray], float]  # duals, lowest reduced costs -> a bound


def reduced_costs(inst: Instance, cols: Columns, duals: np.ndarray) -> np.ndarray:
    """Reduced cost of every candidate column under the row duals of the model's rows."""
    return pricer(inst, cols)(duals)


def pricer(inst: Instance, cols: Columns) -> Pricer:
    """A function from row duals to the reduced cost of every column.

    Column generation prices millions of columns at every round: the positions each column reads
    in the dual vector are computed once here, and each round only gathers (see docs/engine.md).
    """
    lay = layout_of(inst)
    H = lay.H
    n_chains = lay.P + lay.S + lay.M  # running-total rows, H per chain, from row f0 on
    # a chain's dual on each day, plus a zero for "ends after the horizon", as one flat vector
    padded = np.zeros((n_chains, H + 1))

    def at(chain: np.ndarray | int, day: np.ndarray) -> np.ndarray:
        return chain * (H + 1) + np.minimum(day, H)

    household = cols.household
    flow_end = at(cols.pool, cols.occupancy_end)
    flow_start = at(cols.pool, cols.start)
    # connecting rooms: a column prices each of its rooms' pools, times its rooms in each
    flows = []
    if inst.has_combinations:
        where, count = rooms.footprint(inst.pools)
        flows = [
            (
                count[cols.pool, j].astype(float),
                at(where[cols.pool, j], cols.start),
                at(where[cols.pool, j], cols.occupancy_end),
            )
            for j in range(where.shape[1])
        ]
    if lay.S:
        load = inst.load[household].astype(float)
        support_dep = at(lay.P, cols.departure)
        support_start = at(lay.P, cols.start)
    mediation = []
    for k, j in enumerate(lay.capped):
        mine = np.flatnonzero(inst.language[household] == j)
        chain = lay.P + lay.S + k
        mediation.append((mine, at(chain, cols.departure[mine]), at(chain, cols.start[mine])))

    def price(duals: np.ndarray) -> np.ndarray:
        padded[:, :H] = duals[lay.f0 : lay.f0 + n_chains * H].reshape(n_chains, H)
        flat = padded.ravel()
        # in place, with take: a quarter quicker than fancy indexing into temporaries
        rc = cols.cost - duals.take(household)
        if flows:
            for k, start, end in flows:
                rc += k * (flat.take(start) - flat.take(end))
        elif lay.P:
            rc += flat.take(flow_start)
            rc -= flat.take(flow_end)
        if lay.S:
            rc -= load * (flat.take(support_dep) - flat.take(support_start))
        for mine, dep, start in mediation:
            rc[mine] -= flat.take(dep) - flat.take(start)
        return rc

    return price


def columns_added_per_household(n_households: int, params: EngineParams) -> int:
    """How many columns a pricing round adds per household, at most
    ``params.columns_added_per_round`` in all."""
    return max(
        1,
        min(
            params.columns_added_per_household,
            params.columns_added_per_round // n_households,
        ),
    )


def lagrangian_bound(inst: Instance, base: backend.SparseModel) -> Bound:
    """A function from row duals, and each household's lowest reduced cost under them, to a lower
    bound on the LP over every column.

    The bound holds for any duals, optimal or not: the household rows are kept (each household
    takes its cheapest column or stays unplaced) and every other row is priced by its dual, so
    running totals at their upper bound (a pool full that day) count as the model allows. The
    textbook form, the restricted LP's value plus every household's most negative reduced cost,
    also counts the negative reduced cost of columns at their upper bound 1 in the restricted LP,
    once in that value and once in the sum, and stays below the LP optimum where this one
    reaches it.
    """
    lay = layout_of(inst)
    N, H = lay.N, lay.H
    n_chains = lay.P + lay.S + lay.M
    unplaced = base.cost[:N]
    chain_ub = base.var_ub[N : N + n_chains * H].reshape(n_chains, H)

    def bound(duals: np.ndarray, lowest_rc: np.ndarray) -> float:
        running = duals[lay.f0 : lay.f0 + n_chains * H].reshape(n_chains, H)
        # a running total is +1 on its day's row and -1 on the next day's (none after the last),
        # at no cost: its reduced cost is the next day's dual minus its own day's (`np.diff`
        # with a 0 appended, without its copies)
        chain_rc = np.empty_like(running)
        if H:
            np.subtract(running[:, 1:], running[:, :-1], out=chain_rc[:, :-1])
            np.subtract(0.0, running[:, -1], out=chain_rc[:, -1])
        households = household_shares(unplaced, duals, lowest_rc).sum()
        return float(households + (np.minimum(chain_rc, 0.0) * chain_ub).sum())

    return bound


def household_shares(unplaced: np.ndarray, duals: np.ndarray, lowest_rc: np.ndarray):
    """Each household's share of the Lagrangian bound: its cheapest column (its dual plus its
    lowest reduced cost) or staying unplaced."""
    return np.minimum(unplaced, duals[: unplaced.size] + lowest_rc)


def per_household_minimum(household: np.ndarray, n: int) -> Lowest:
    """A function from per-column values to each household's lowest (inf without columns).

    Columns come in runs of one household (`build_columns`: pool by pool, each pool's by
    household, then start), so each call is one `reduceat` over the runs, in place, and a
    minimum over the few runs per household: no sort, no gather (the column generation calls
    it every round). Where runs are short (columns in another order) the columns are sorted by
    household once and each call is one `reduceat` over them: `np.minimum.at` over as many
    entries as columns took 0.6 s over a run at 1000 households.
    """
    if household.size:
        new_run = np.empty(household.size, dtype=bool)
        new_run[0] = True
        np.not_equal(household[1:], household[:-1], out=new_run[1:])
        starts = np.flatnonzero(new_run)
    else:
        starts = np.zeros(0, dtype=np.int64)
    if starts.size * MIN_RUN_LENGTH > household.size:
        return _sorted_minimum(household, n)
    run_household = household[starts]

    def lowest(values: np.ndarray) -> np.ndarray:
        out = np.full(n, np.inf)
        if starts.size:
            np.minimum.at(out, run_household, np.minimum.reduceat(values, starts))
        return out

    return lowest


MIN_RUN_LENGTH = 8  # columns per run on average, for the runs' way to be the quicker


def _sorted_minimum(household: np.ndarray, n: int) -> Lowest:
    by_household = np.argsort(household, kind="stable")
    first = np.searchsorted(household[by_household], np.arange(n))
    has = np.bincount(household, minlength=n) > 0

    def lowest(values: np.ndarray) -> np.ndarray:
        out = np.full(n, np.inf)
        if has.any():
            out[has] = np.minimum.reduceat(values[by_household], first[has])
        return out

    return lowest


def first_per_household(household: np.ndarray, order: np.ndarray, n: int, k: int) -> np.ndarray:
    """Indices (into ``order``'s array) of the first k entries of each household in ``order``."""
    sorted_hh = household[order]
    first = np.searchsorted(sorted_hh, np.arange(n))
    rank = np.arange(order.size) - first[sorted_hh]
    return order[rank < k]


def lowest_per_household(
    cols: Columns, values: np.ndarray, n: int, k: int, among: np.ndarray | None = None
) -> np.ndarray:
    """Each household's k columns of lowest ``values`` (ties by index), household by household.

    The same as `first_per_household` over ``np.lexsort((values, household))`` (of the
    ascending indices ``among``, or of all columns), which is how up to `SORTED_UP_TO` columns
    are chosen. More are not all sorted: at city size that sort of millions of columns takes
    seconds, and each round sorts the columns that price out. Columns come in runs of one
    household and pool; the k lowest run minima of a household are the values of k of its
    columns, so its k-th lowest value is at most the largest of them, and only the columns at
    or below that bound are sorted.
    """
    if among is None:  # every column: no copies
        household, v, pool = cols.household, values, cols.pool
    else:
        household, v, pool = cols.household[among], values[among], cols.pool[among]
    if household.size == 0:
        return np.zeros(0, dtype=np.int64) if among is None else among
    if household.size <= SORTED_UP_TO:
        chosen = first_per_household(household, np.lexsort((v, household)), n, k)
        return chosen if among is None else among[chosen]
    new_run = np.empty(household.size, dtype=bool)
    new_run[0] = True
    np.not_equal(household[1:], household[:-1], out=new_run[1:])
    new_run[1:] |= pool[1:] != pool[:-1]
    starts = np.flatnonzero(new_run)
    run_min, run_household = np.minimum.reduceat(v, starts), household[starts]
    best_runs = first_per_household(run_household, np.lexsort((run_min, run_household)), n, k)
    bound = np.full(n, -np.inf)
    np.maximum.at(bound, run_household[best_runs], run_min[best_runs])
    bound[np.bincount(run_household[best_runs], minlength=n) < k] = np.inf  # fewer runs than k
    candidates = np.flatnonzero(v <= bound[household])
    order = candidates[np.lexsort((v[candidates], household[candidates]))]
    chosen = first_per_household(household, order, n, k)
    return chosen if among is None else among[chosen]


# up to this many columns, sorting them all is quicker than bounding by runs first (a weekly
# LP's rounds price a few hundred columns out)
SORTED_UP_TO = 2000


def column_finder(inst: Instance, cols: Columns) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A function from a plan (pool and start per household) to the indices of its columns.

    Columns as `build_columns` lists them (pool by pool, then household, then start) are
    already in the order of a (pool, household, start) key: it is looked up as it stands, with
    no sort (a `model.ColumnIndex` sorts them otherwise)."""
    N, H = inst.n_households, inst.horizon
    keys = (cols.pool * N + cols.household) * H + cols.start
    if keys.size and bool((keys[1:] > keys[:-1]).all()):

        def columns_of(pool: np.ndarray, start: np.ndarray) -> np.ndarray:
            placed = np.flatnonzero(pool >= 0)
            wanted = (pool[placed] * N + placed) * H + start[placed]
            at = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
            assert (keys[at] == wanted).all(), "a plan uses a start that is no column"
            return at

        return columns_of
    index = ColumnIndex(inst, cols)

    def columns_of_any(pool: np.ndarray, start: np.ndarray) -> np.ndarray:
        placed = pool >= 0
        at = index.index(np.flatnonzero(placed), pool[placed], start[placed])
        assert (at >= 0).all(), "a plan uses a start that is no column"
        return at

    return columns_of_any
