"""The optimiser: a day-level time-indexed model over pools, solved LP first, then a small MIP.

Why this shape (measured, see the README): one column per (household, pool, start day) gives an LP
relaxation that is integral or nearly so, so the LP optimum is both a strong lower bound and almost
a plan. Pool occupancy is written in difference form (a pool's occupancy on day d is that of d-1
plus starts minus ends), so a column has at most 3 non-zeros (7 with support and mediation caps).

The full model has millions of columns at city size, so the LP is solved by column generation on
a GLOP model kept alive between rounds (warm basis); every column is priced with numpy each round.
If the LP is integral, that is the plan. Otherwise the LP is rounded (LP-guided greedy, quick) and
dived (its fractional choices fixed round by round, nearly optimal) for an incumbent, and HiGHS
solves a MIP over the LP's support, greedy's columns and the columns of lowest reduced cost,
searching only below the incumbent minus the requested gap. A left-out column cannot improve a
plan by more than its reduced cost, which makes the restricted MIP's result a bound for the whole
model and, once the gap to the LP is known, lets a MIP over every column with a smaller reduced
cost settle the gap. An LP that has not converged in its time is dived all the same; when its
restricted LP is too large for a MIP (city size), the time left goes to more rounds of column
generation instead, for a tighter bound.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np

from allocator.engine.optimiser import cliques
from allocator.engine.optimiser import backend
from allocator.engine.columns import Columns, build_columns, objective, unplaced_cost
from allocator.engine.greedy import place_in_order, solve_guided
from allocator.engine.instance import Instance

log = logging.getLogger("allocator")

INITIAL_COLUMNS_PER_HOUSEHOLD = 3
# with idle columns removed the restricted LP stays small, so adding more columns per round is
# cheap and saves rounds and time (1000 households: 44 rounds with 20 a round, 100 with 5)
COLUMNS_ADDED_PER_HOUSEHOLD = 20
# but not more than this many a round: at 5000 households 20 each made rounds of 15-23 s, 10 each
# reached 0.2% of the LP optimum in 72 s where 20 took 90 s and 5 took 79 s (measured)
COLUMNS_ADDED_PER_ROUND = 50_000
# households from which a column removed as idle and priced back in stays: at 100x60 seed 1 the
# rule ended the degenerate LP at another optimal vertex, whose reduced costs let 17.7k columns
# into the proof MIP (4 s) instead of 9.7k (2 s)
REMOVE_ONCE_FROM = 500
IDLE_ROUNDS_BEFORE_REMOVAL = 1  # 2 made half the rounds but cost 5-13% more time (measured)
# below this many columns in the LP, removing columns costs more than it saves (a simulation's
# small weekly LPs: handing GLOP the basis back made them slower)
MIN_COLUMNS_TO_REMOVE = 2_000
EXTRA_COLUMNS_PER_HOUSEHOLD = 4
# the restricted MIP's columns of lowest reduced cost, per day of the horizon. The proof MIP after
# it is smaller and quicker when the restricted one has found the optimum already: at 100x60 seeds
# 1 and 8 the optimum used columns just outside 10 a day (proof MIPs of 9.7-10.9k columns after
# them, 5.5-6.0k with the optimum known); over 8 seeds with MIPs both MIPs took 6.4 s with 10 a
# day, 5.3 s with 15 or 20 and 5.9 s with 25 (measured, the same models)
EXTRA_COLUMNS_PER_DAY = 15
LP_SHARE_OF_TIME = 0.75
# a round may take this much longer than the last (5000 households: 11 -> 12.5 s)
ROUND_GROWTH = 1.5
# but the LP resumed after the dive, which nothing follows, tries a round whenever the last one
# would fit: at 5000x2500 in a slow hour 18 s were left after the dive, for rounds of 13-15 s
RESUMED_GROWTH = 1.0
# a GLOP solve is given this share less than the time left: it looks at its clock now and then
# and stops a little after its limit (a 120 s city solve once ended at 120.1 s)
GLOP_STOP_MARGIN = 0.01
DIVE_SHARE_OF_TIME = 0.5  # of what the LP leaves
# with no MIP to follow (see MAX_UNCONVERGED_MIP_COLUMNS), the dive gets most of what the LP leaves
UNCONVERGED_DIVE_SHARE = 0.8  # 5000x2500: the dive needs 9-25 s of the 30-40 s left
# a pricing dive is worth a few dozen rounds (1000x500: 17 rounds, 4 s after a 13 s LP, saved a
# 5 s MIP); a limit in rounds, not seconds, keeps plans the same on a busy machine
PRICING_DIVE_ROUNDS = 40
# below this many households the MIPs are quick (100x60: 1.1-1.3 s for restricted MIP and proof)
# and the pricing dive ran out of its share without a plan (0.3-0.4 s lost)
PRICING_DIVE_FROM = 500
DIVE_FIX_AT = 0.75  # fixing every choice above 0.5 at once made the LP infeasible (two halves)
# an unconverged LP is dived against the clock, in fewer and larger steps: 5000x2500, 4 LP rounds:
# 6 solves and 22 s to 0.09% above the restricted LP, where 0.75 took 81 solves, 74 s and ended
# 0.16% above (at 1000x500, converged, 0.55 ended 0.15% above where 0.75 was 0.03%)
UNCONVERGED_DIVE_FIX_AT = 0.55
# a converged LP at 1000x500 is often half-integral over 50-70 households linked through full
# pool-days, and fixing one of them per round took 21 and 32 re-solves (seeds 2 and 4, 2.0-2.6
# s); a tenth of them per round took 2 and 12 (0.3 and 1.5 s), plans at most 0.003% higher
# (seed 2's lower). Larger shares cost plan quality: a fifth ended 0.013% above the LP bound on
# seed 2 (a tenth: 0.008%), 0.3-0.5 ended 0.03-0.06% above, beyond the default gap.
# Below 500 households a dive takes 2-6 re-solves and its plan sets the MIPs' sizes: unchanged
DIVE_FIX_SHARE = 0.1
DIVE_FIX_SHARE_FROM = 500
# a proof MIP larger than this costs more than it settles (1000x500: 228k columns, no proof in
# 33 s; 100x60: 6-14k columns, 0.4-3 s). Going straight to it, without a restricted MIP first,
# was slower at 100x60 (4.1 s against 3.3 s in all), except where it is only a few times larger:
MAX_PROOF_COLUMNS = 50_000
# where a proof would exceed it, each further restricted MIP has this many times the columns of
# the last, up to MAX_PROOF_COLUMNS, while time is left
RESTRICTED_GROWTH = 4.0
# the same growth where the proof would have more than this many times the restricted MIP's
# columns: a better plan lowers the cutoff and shrinks the proof. 100x60 seed 41 (LP 0.062% below
# the optimum), unsmoothed: at --gap 1e-3 the dive's plan is 0.31% above the LP, the restricted
# MIP over 2.8k columns has nothing better, and the proof at that cutoff took 25.7k columns and
# 3.3 s, where a MIP over 11.3k finds a plan within the gap (1.3 s in all against 3.9-4.8 s); at
# the default gap the restricted MIP ends 0.19% above the optimum, and the proof then took 30k
# columns and 4.3 s, where 11.3k find a plan 0.016% above it and the proof shrinks to 14k
# (2.3-3.6 s in all against 4.6-4.9 s). 300x150 seed 5: the proof of 43k columns took 14 s,
# the grown MIP of 13k found the optimum and settled it in 2.8 s. Where the restricted MIP had
# the optimum already, growing only adds a MIP: 300x150 seed 1, proof 5.8 times the restricted
# MIP, 5.4-6.7 s against 4.2-4.6 s with the rule at 4
GROW_BEFORE_PROOF = 8.0
# the proof MIP straight away when it has at most this many times the restricted MIP's columns.
# At 100x60 (8 seeds with MIPs, the same captured models, two runs each), straight was quicker at
# ratios 1.7-3.3 (0.4-0.6 s against 0.4-0.85 s for both MIPs) and 2-7 times slower at 4.6-12
# (seeds whose dive ends further from the LP bound)
STRAIGHT_TO_PROOF_RATIO = 4.0
# the LP's rounds stop for a dive once their bound leaves room for this much above the restricted
# LP's value within the requested gap (see `solve_optimal`). A dive from a converged or nearly
# converged LP at 1000x500 ended 0-0.023% above the LP bound (4 seeds). With smoothed duals the
# rounds get there less converged: at --gap 1e-3 over seeds 1-8, dives from 0.003-0.039% below
# the value settled the gap on 7 and missed on seed 2 (from 0.036%; the LP then goes on); with
# 3e-4 seed 4 also tried, from 0.058%, and missed. At the default gap (1e-4) it never stops them:
# a dive from 0.005% was tried and missed (seed 2: 6 solves and 5k pivots more)
DIVE_EXCESS = 6e-4
# columns are priced at duals smoothed towards those of the best Lagrangian bound so far
# (Wentges): alpha x those + (1 - alpha) x the restricted LP's. The restricted LP's own duals
# swing from round to round and price in columns it soon drops. At 1000x500, --gap 1e-3, seeds
# 1-8 (benchmarks/mip_work.py): 315k GLOP pivots against 345k for the version without smoothing
# and early dives, and 94 s against 110 s in all, in back-to-back blocks of 4 seeds. Alpha 0.2
# gave 4% fewer pivots than none on seeds 1-4, 0.3-0.5 10-11%, 0.7 3% (seeds 1-2)
DUAL_SMOOTHING = 0.4
# but the LP then converges at another optimal vertex, from which the dive ends further above the
# bound: at --gap 1e-4 two seeds of four missed the gap and needed MIPs (13-25 s against 11-16 s),
# and at 100x60 the proof MIPs grew 2-3 times; smoothing only in the early rounds did the same.
# So it serves only a caller whose gap leaves room for such a dive
SMOOTHING_FROM_GAP = 1e-3
# and only from this many households: at 100x60, --gap 1e-3, it took seed 1's LP to 49 GLOP
# solves against 20, and its MIPs grew (2.3-3.1 s in all against 1.1-1.5 s; seeds 7, 8, 43 and 73
# also lost 0.1-0.7 s); without it seed 41's restricted MIP found nothing below the cutoff, which
# GROW_BEFORE_PROOF mends (seeds 1-100: at most 1.6 s)
SMOOTHING_FROM = 500
# no restricted MIP over an unconverged LP with more columns than this (5000x2500: 31-64k,
# and MIPs over them found no plan at all in 10-51 s)
MAX_UNCONVERGED_MIP_COLUMNS = 20_000
# a MIP that settles the gap over this many columns or more first fixes columns by duals from an
# interior point: that costs about as much as HiGHS's own root LP, so it pays only where it
# halves a large MIP (100x60, 6 repeats interleaved: 5-10% quicker on seeds 1, 7, 8 and 12)
CENTRAL_FIXING_FROM = 5_000
# rounds of clique cuts before the MIPs (100x60, with every column below the gap in the LP rather
# than priced: 2, 10 and 5 on seeds 26, 51 and 98)
CLIQUE_ROUNDS = 20
CUT_SHARE_OF_TIME = 0.5  # of the time left: with all of it, a 2 s limit left no time for a MIP
# column generation starts from the columns of a few cost-aware greedy plans (households by
# weight x size / stay^a, each taking its cheapest start: 0.44-0.48 above the LP at 1000x500,
# first-come-first-served is 2.8x it) and from the best of them as its first basis: 25-33% fewer
# pivots than the 3 cheapest columns and FCFS's plan (measured, 1000x500 and 2000x1000)
HEURISTIC_STAY_EXPONENTS = (0.0, 0.25, 0.5, 1.0)
# below this many households four more greedy runs cost more than they save (the Milan
# simulation's weekly solves: 587 s against 489 s for 100 replications); 100x60: LP 0.65 s
# against 0.85 s with them
HEURISTIC_PLANS_FROM = 100


@dataclass
class SolveOutcome:
    pool: np.ndarray
    start: np.ndarray
    objective: float
    best_bound: float
    proven_optimal: bool
    # the stage whose plan it is: greedy, heuristic, lp, rounding, dive, lp with cuts or mip
    source: str
    detail: str
    columns: int
    mip_columns: int  # columns the last MIP covered (before any fixing at the centre)
    lp_seconds: float
    mip_seconds: float
    lp_bound: float = -np.inf  # the LP relaxation's value (a Lagrangian bound if not converged)


@dataclass(frozen=True)
class Layout:
    """Where each block of variables and rows sits in the model.

    Variables: unplaced flags (one per household), pool occupancy per day, support load per day,
    mediation load per capped language and day, then the placement columns, last, so that columns
    can be appended while the solver keeps its basis. Rows: one per household, then the running-
    total rows of pools, support and mediation (one per day each).
    """

    N: int
    P: int
    H: int
    S: int
    capped: tuple[int, ...]

    @property
    def M(self) -> int:
        return len(self.capped)

    @property
    def n_base_vars(self) -> int:
        return self.N + (self.P + self.S + self.M) * self.H

    @property
    def n_rows(self) -> int:
        return self.N + (self.P + self.S + self.M) * self.H

    # variable offsets
    @property
    def o0(self) -> int:
        return self.N

    @property
    def l0(self) -> int:
        return self.N + self.P * self.H

    @property
    def m0(self) -> int:
        return self.l0 + self.S * self.H

    # row offsets
    @property
    def f0(self) -> int:
        return self.N

    @property
    def s0(self) -> int:
        return self.N + self.P * self.H

    @property
    def md0(self) -> int:
        return self.s0 + self.S * self.H


def layout_of(inst: Instance) -> Layout:
    return Layout(
        N=inst.n_households,
        P=len(inst.pools),
        H=inst.horizon,
        S=1 if inst.support_free is not None else 0,
        capped=tuple(sorted(inst.mediation_free)),
    )


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


def base_model(inst: Instance) -> backend.SparseModel:
    """Every row, and every variable except the placement columns."""
    lay = layout_of(inst)
    N, H = lay.N, lay.H
    parts = [(np.arange(N), np.arange(N), np.ones(N)), _chain(H, lay.P, lay.o0, lay.f0)]
    var_ub = np.ones(lay.n_base_vars)
    if lay.P:
        var_ub[lay.o0 : lay.l0] = np.concatenate([q.free for q in inst.pools])
    if lay.S:
        parts.append(_chain(H, 1, lay.l0, lay.s0))
        var_ub[lay.l0 : lay.m0] = np.maximum(inst.support_free, 0)
    for k, j in enumerate(lay.capped):
        var_ub[lay.m0 + k * H : lay.m0 + (k + 1) * H] = np.maximum(inst.mediation_free[j], 0)
    if lay.M:
        parts.append(_chain(H, lay.M, lay.m0, lay.md0))
    rows, cols_, vals = (np.concatenate(x) for x in zip(*parts, strict=True))
    cost = np.zeros(lay.n_base_vars)
    cost[:N] = unplaced_cost(inst)
    row_bound = np.zeros(lay.n_rows)
    row_bound[:N] = 1.0
    return backend.SparseModel(
        cost=cost,
        var_lb=np.zeros(lay.n_base_vars),
        var_ub=var_ub,
        integer=np.zeros(lay.n_base_vars, dtype=bool),
        rows=rows.astype(np.int64),
        cols=cols_.astype(np.int64),
        vals=vals,
        row_lb=row_bound,
        row_ub=row_bound.copy(),
    )


def column_entries(inst: Instance, cols: Columns, first_var: int):
    """Matrix entries (rows, variables, values) of placement columns numbered from first_var."""
    lay = layout_of(inst)
    H, C = lay.H, len(cols)
    col_idx = first_var + np.arange(C)
    parts = [
        (cols.household, col_idx, np.ones(C)),
        _event_entries(
            lay.f0 + cols.pool * H, cols.start, cols.occupancy_end, np.ones(C), col_idx, H
        ),
    ]
    if lay.S:
        load = inst.load[cols.household].astype(float)
        parts.append(
            _event_entries(
                np.full(C, lay.s0), cols.start, cols.departure, load, col_idx, H, load > 0
            )
        )
    for k, j in enumerate(lay.capped):
        mine = inst.language[cols.household] == j
        parts.append(
            _event_entries(
                np.full(C, lay.md0 + k * H),
                cols.start,
                cols.departure,
                np.ones(C),
                col_idx,
                H,
                mine,
            )
        )
    rows, var, vals = (np.concatenate(x) for x in zip(*parts, strict=True))
    return rows.astype(np.int64), var.astype(np.int64), vals


def build_model(inst: Instance, cols: Columns, integer: bool) -> backend.SparseModel:
    """The whole model over the given columns (placed after the base variables)."""
    base = base_model(inst)
    n0 = len(base.cost)
    rows, var, vals = column_entries(inst, cols, n0)
    integer_mask = np.concatenate([np.zeros(n0, dtype=bool), np.full(len(cols), integer)])
    if integer:
        integer_mask[: inst.n_households] = True
    return backend.SparseModel(
        cost=np.concatenate([base.cost, cols.cost]),
        var_lb=np.zeros(n0 + len(cols)),
        var_ub=np.concatenate([base.var_ub, np.ones(len(cols))]),
        integer=integer_mask,
        rows=np.concatenate([base.rows, rows]),
        cols=np.concatenate([base.cols, var]),
        vals=np.concatenate([base.vals, vals]),
        row_lb=base.row_lb,
        row_ub=base.row_ub,
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
    """Reduced cost of every candidate column under the row duals of the model's rows."""
    return _pricer(inst, cols)(duals)


def _pricer(inst: Instance, cols: Columns):
    """A function from row duals to the reduced cost of every column.

    Column generation prices millions of columns at every round: the positions each column reads
    in the dual vector are computed once here (this halves the time of a pricing round).
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
        if lay.P:
            rc += flat.take(flow_start)
            rc -= flat.take(flow_end)
        if lay.S:
            rc -= load * (flat.take(support_dep) - flat.take(support_start))
        for mine, dep, start in mediation:
            rc[mine] -= flat.take(dep) - flat.take(start)
        return rc

    return price


def _columns_added_per_household(n_households: int) -> int:
    """How many columns a pricing round adds per household, at most COLUMNS_ADDED_PER_ROUND."""
    return max(1, min(COLUMNS_ADDED_PER_HOUSEHOLD, COLUMNS_ADDED_PER_ROUND // n_households))


def _lagrangian_bound(inst: Instance, base: backend.SparseModel):
    """A function from row duals, and each household's lowest reduced cost under them, to a lower
    bound on the LP over every column.

    The bound holds for any duals, optimal or not: the household rows are kept (each household
    takes its cheapest column or stays unplaced) and every other row is priced by its dual, so
    running totals at their upper bound (a pool full that day) count as the model allows. The
    textbook form, the restricted LP's value plus every household's most negative reduced cost,
    also counts the negative reduced cost of columns at their upper bound 1 in the restricted LP,
    once in that value and once in the sum: at 1000x500 it stayed 0.13% below the LP optimum
    where this one reached it (measured round by round).
    """
    lay = layout_of(inst)
    N, H = lay.N, lay.H
    n_chains = lay.P + lay.S + lay.M
    unplaced = base.cost[:N]
    chain_ub = base.var_ub[N : N + n_chains * H].reshape(n_chains, H)

    def bound(duals: np.ndarray, lowest_rc: np.ndarray) -> float:
        running = duals[lay.f0 : lay.f0 + n_chains * H].reshape(n_chains, H)
        # a running total is +1 on its day's row and -1 on the next day's (none after the last),
        # at no cost: its reduced cost is the next day's dual minus its own day's
        chain_rc = np.diff(running, axis=1, append=0.0)
        households = _household_shares(unplaced, duals, lowest_rc).sum()
        return float(households + (np.minimum(chain_rc, 0.0) * chain_ub).sum())

    return bound


def _household_shares(unplaced: np.ndarray, duals: np.ndarray, lowest_rc: np.ndarray):
    """Each household's share of the Lagrangian bound: its cheapest column (its dual plus its
    lowest reduced cost) or staying unplaced."""
    return np.minimum(unplaced, duals[: unplaced.size] + lowest_rc)


def _per_household_minimum(household: np.ndarray, n: int):
    """A function from per-column values to each household's lowest (inf without columns).

    Sorting the columns by household once makes each call one `reduceat` (the column generation
    calls it every round; `np.minimum.at` took 0.6 s over a run at 1000 households).
    """
    by_household = np.argsort(household, kind="stable")
    first = np.searchsorted(household[by_household], np.arange(n))
    has = np.bincount(household, minlength=n) > 0

    def lowest(values: np.ndarray) -> np.ndarray:
        out = np.full(n, np.inf)
        if has.any():
            out[has] = np.minimum.reduceat(values[by_household], first[has])
        return out

    return lowest


def _first_per_household(household: np.ndarray, order: np.ndarray, n: int, k: int) -> np.ndarray:
    """Indices (into ``order``'s array) of the first k entries of each household in ``order``."""
    sorted_hh = household[order]
    first = np.searchsorted(sorted_hh, np.arange(n))
    rank = np.arange(order.size) - first[sorted_hh]
    return order[rank < k]


def _lowest_per_household(
    cols: Columns, values: np.ndarray, n: int, k: int, among: np.ndarray | None = None
) -> np.ndarray:
    """Each household's k columns of lowest ``values`` (ties by index), household by household.

    The same as `_first_per_household` over ``np.lexsort((values, household))`` (of the
    ascending indices ``among``, or of all columns), without sorting them all: at 5000x2500 that
    sort of 8.7M columns took 2.5 s, and each round sorts the columns that price out. Columns
    come in runs of one household and pool; the k lowest run minima of a household are the
    values of k of its columns, so its k-th lowest value is at most the largest of them, and only
    the columns at or below that bound are sorted.
    """
    idx = np.arange(len(cols)) if among is None else among
    if idx.size == 0:
        return idx
    household, v, pool = cols.household[idx], values[idx], cols.pool[idx]
    starts = np.flatnonzero(
        np.r_[True, (household[1:] != household[:-1]) | (pool[1:] != pool[:-1])]
    )
    run_min, run_household = np.minimum.reduceat(v, starts), household[starts]
    best_runs = _first_per_household(run_household, np.lexsort((run_min, run_household)), n, k)
    bound = np.full(n, -np.inf)
    np.maximum.at(bound, run_household[best_runs], run_min[best_runs])
    bound[np.bincount(run_household[best_runs], minlength=n) < k] = np.inf  # fewer runs than k
    candidates = np.flatnonzero(v <= bound[household])
    order = candidates[np.lexsort((v[candidates], household[candidates]))]
    return idx[_first_per_household(household, order, n, k)]


def _column_finder(inst: Instance, cols: Columns):
    """A function from a plan (pool and start per household) to the indices of its columns."""
    keys = _column_keys(inst, cols.household, cols.pool, cols.start)
    by_key = np.argsort(keys)
    sorted_keys = keys[by_key]

    def columns_of(pool: np.ndarray, start: np.ndarray) -> np.ndarray:
        placed = pool >= 0
        wanted = _column_keys(inst, np.flatnonzero(placed), pool[placed], start[placed])
        at = np.minimum(np.searchsorted(sorted_keys, wanted), max(len(sorted_keys) - 1, 0))
        assert np.array_equal(sorted_keys[at], wanted), "a plan uses a start that is no column"
        return by_key[at]

    return columns_of


def _cost_aware_plans(inst: Instance) -> list[tuple[np.ndarray, np.ndarray]]:
    """Greedy plans with households by weight x size / (stay + turnover)^a (a in
    HEURISTIC_STAY_EXPONENTS, a = 1 is Smith's rule), pins first, each at its earliest start."""
    ws = inst.weight * inst.size
    p = (inst.stay_days + inst.policy.turnover_days).astype(float)
    unpinned = inst.pinned_pool < 0
    ids = np.arange(inst.n_households)
    return [
        place_in_order(inst, np.lexsort((ids, -ws / p**a, unpinned)))
        for a in HEURISTIC_STAY_EXPONENTS
    ]


def _initial_columns(inst: Instance, cols: Columns, columns_of, plans) -> np.ndarray:
    """The first columns of column generation: every plan's, and each household's cheapest."""
    initial = np.zeros(len(cols), dtype=bool)
    for plan in plans:
        initial[columns_of(*plan)] = True
    initial[
        _lowest_per_household(cols, cols.cost, inst.n_households, INITIAL_COLUMNS_PER_HOUSEHOLD)
    ] = True
    return initial


def _lp_by_column_generation(
    inst, cols, initial, deadline, start_plan=None, enough=None, smoothing: float = 0.0
):
    """Solve the LP over all columns, keeping only a few in the solver at a time.

    Returns (answer, the columns of the restricted LP in the order of its variables, n0, reduced
    costs of all columns, bound, converged, rounds, dive, resume, at_optimum).
    ``resume(deadline, growth)`` goes on with the rounds from where they stopped (from the LP's
    basis before any dive) and returns the same tuple (for ``enough``, here and in
    ``resume(deadline, growth, enough)``, see ``run``); with less time left than ``growth`` times
    the last round it returns the last answer at once.
    ``dive(deadline, price_columns, fix_at, fix_share=0)`` dives from the answer (see `_dive`)
    and returns (values, the LP's columns then, integral); with ``on_copy=True`` it copies the
    LP and returns a function that dives on the copy (no pricing) and returns the same, for
    another thread to run while this LP goes on. It is None itself when the answer is that of an
    earlier round than the LP's current columns, which an interrupted round leaves behind, and
    when a resume returned at once. ``at_optimum()``, given only when the LP converged, puts the
    LP back at its optimal basis and returns it with what the rounds price by, for cuts. The
    bound is the Lagrangian one of each round's duals (see `_lagrangian_bound`): valid at every
    round, and the exact LP value once no column prices out.

    With ``smoothing`` (alpha, see DUAL_SMOOTHING) the columns that price out under the LP's duals
    are ranked, per household, by their reduced cost at alpha x the centre + (1 - alpha) x the
    LP's duals, among those that price out there too. The centre is the first smoothed round's
    duals, then each such point whose Lagrangian bound beats the centre's (Wentges: the LP's own
    duals never become the centre); every point's bound counts. Convergence is still decided by
    the LP's own duals.

    A column that stays out of the basis with a positive reduced cost for
    IDLE_ROUNDS_BEFORE_REMOVAL rounds leaves the restricted LP (a restricted LP of all the columns
    ever generated grew to 85,000 columns at 1000 households and made every round slow); it is
    priced with all the others and comes back if it prices out again, so the result is unchanged.
    From REMOVE_ONCE_FROM households a column that came back stays: each column leaves at most
    once, so removals cannot make the rounds cycle.
    """
    N = inst.n_households
    base = base_model(inst)
    n0 = len(base.cost)
    lp = backend.IncrementalLP(base)
    lp_cols = np.zeros(0, dtype=np.int64)  # the column of each LP variable after the base ones
    idle = np.zeros(0, dtype=np.int64)  # rounds each has spent non-basic with a positive rc
    lp_basis = None  # the LP's basis before the first dive, to resume from
    in_lp = np.zeros(len(cols), dtype=bool)
    # without the rule removed columns came back round after round (1000x500 seed 1: 41 rounds,
    # the last 17 degenerate; 17 with it); the README's "Measured figures" say what it costs
    remove_once = N >= REMOVE_ONCE_FROM
    removed = np.zeros(len(cols), dtype=bool)
    price = _pricer(inst, cols)
    lowest = _per_household_minimum(cols.household, N)
    lagrangian = _lagrangian_bound(inst, base)
    per_household = _columns_added_per_household(N)

    def add(idx: np.ndarray) -> None:
        nonlocal lp_cols, idle
        sub = cols.take(idx)
        rows, var, vals = column_entries(inst, sub, 0)
        lp.add_columns(sub.cost, rows, var, vals)
        lp_cols = np.concatenate([lp_cols, idx])
        idle = np.concatenate([idle, np.zeros(idx.size, dtype=np.int64)])
        in_lp[idx] = True

    def remove_idle() -> None:
        nonlocal lp_cols, idle
        if lp_cols.size < MIN_COLUMNS_TO_REMOVE:
            return
        idle = np.where(lp.nonbasic_at_zero()[n0:] & (rc[lp_cols] > 0), idle + 1, 0)
        out = idle >= IDLE_ROUNDS_BEFORE_REMOVAL
        if remove_once:
            out &= ~removed[lp_cols]
        if out.any():
            lp.remove(n0 + np.flatnonzero(out))
            in_lp[lp_cols[out]] = False
            removed[lp_cols[out]] = True
            lp_cols, idle = lp_cols[~out], idle[~out]

    def grow(answer, settled: np.ndarray) -> np.ndarray:
        """Add the columns that price out for unsettled households; return their households."""
        rc = price(answer.duals)
        tol = 1e-9 * max(1.0, abs(answer.objective))
        negative = np.flatnonzero((rc < -tol) & ~in_lp & ~settled[cols.household])
        return cols.household[add_lowest(negative, rc)]

    def add_lowest(candidates: np.ndarray, reduced: np.ndarray) -> np.ndarray:
        """Add each household's lowest-``reduced`` candidates (per_household of them); return them."""
        new = _lowest_per_household(cols, reduced, N, per_household, among=candidates)
        add(new)
        return new

    def dive(
        answer,
        deadline: float,
        price_columns: bool,
        fix_at: float,
        fix_share: float = 0.0,
        on_copy: bool = False,
    ):
        nonlocal lp_basis
        owner = np.concatenate([np.arange(N), cols.household[lp_cols]])
        start = np.zeros(n0 + lp_cols.size)  # columns a pricing dive added are at 0
        start[: answer.values.size] = answer.values
        if on_copy:
            return dive_on_a_copy(start, owner, deadline, fix_at)
        if lp_basis is None:
            lp_basis = lp.basis()
        if price_columns:
            values, integral = _dive(
                lp,
                start,
                owner,
                n0,
                deadline,
                grow,
                PRICING_DIVE_ROUNDS,
                fix_at=fix_at,
                fix_share=fix_share,
            )
        else:
            values, integral = _dive(
                lp, start, owner, n0, deadline, fix_at=fix_at, fix_share=fix_share
            )
        # a round that priced columns in and then ran out of time left them out of its values
        values = np.pad(values, (0, n0 + lp_cols.size - values.size))
        return values, lp_cols, integral

    def dive_on_a_copy(start, owner, deadline: float, fix_at: float):
        """The LP as it stands copied into a second GLOP, and a function that dives on the copy
        (without pricing): another thread can run it while this LP goes on with its rounds."""
        copy = backend.IncrementalLP(base)
        sub = cols.take(lp_cols)
        rows, var, vals = column_entries(inst, sub, 0)
        copy.add_columns(sub.cost, rows, var, vals)
        basis = lp.basis()
        if basis is not None:
            copy.set_basis(*basis)
        columns = lp_cols.copy()

        def run_dive():
            values, integral = _dive(copy, start, owner, n0, deadline, fix_at=fix_at)
            return values, columns, integral

        return run_dive

    add(np.flatnonzero(initial))
    if start_plan is not None:
        # a plan (its columns, sorted, all among the initial ones) as the first basis: per
        # household its column or unplaced flag, and every running total (triangular, so a
        # basis; primal feasible as the plan is): the first solve starts from the plan's cost
        chosen = np.searchsorted(lp_cols, start_plan)
        assert np.array_equal(lp_cols[chosen], start_plan)
        status = np.full(lp.n_vars, backend.AT_LOWER)
        status[N:n0] = backend.BASIC
        status[:N] = backend.BASIC
        status[cols.household[start_plan]] = backend.AT_LOWER
        status[n0 + chosen] = backend.BASIC
        lp.set_basis(status, np.full(lp.n_rows, backend.FIXED_VALUE))
    bound = -np.inf
    rc = np.zeros(len(cols))
    iterations = 0
    last = None  # the last restricted LP solved to optimality, and its columns
    took = 0.0  # seconds its solve took
    pending = None  # the columns that priced out in the last round, when it stopped for time
    centre, centre_bound = None, -np.inf  # the point of the best smoothed bound (see smoothing)

    def extend(negative: np.ndarray, ranking: np.ndarray) -> None:
        remove_idle()
        add_lowest(negative, ranking)

    def smoothed(duals: np.ndarray, own_bound: float) -> np.ndarray:
        """Reduced costs at the smoothed duals; the bound and the centre follow them."""
        nonlocal bound, centre, centre_bound
        if centre is None:  # the first smoothed round starts from its own duals
            centre, centre_bound = duals, own_bound
        point = smoothing * centre + (1.0 - smoothing) * duals
        ranking = price(point)
        here = lagrangian(point, lowest(ranking))
        bound = max(bound, here)
        if here > centre_bound:
            centre, centre_bound = point, here
        return ranking

    def restore_basis() -> None:
        """After dives: back to the LP's own optimal basis, not the last dive's."""
        nonlocal lp_basis
        if lp_basis is not None:
            var_status, row_status = lp_basis
            added = np.full(lp.n_vars - var_status.size, backend.AT_LOWER)
            lp.set_basis(np.concatenate([var_status, added]), row_status)
            lp_basis = None

    def at_optimum():
        """The converged LP, back at its optimal basis: (the LP, the column of each of its
        variables after the base ones, and the rounds' `_pricer`, `_per_household_minimum` and
        `_lagrangian_bound`). For cuts: the LP is neither resumed nor dived after it (its rows
        would price with the cuts' duals)."""
        restore_basis()
        return lp, lp_cols, price, lowest, lagrangian

    def answered(answer, kept, converged: bool, dive_from):
        """What the rounds return (see above), as they stand."""
        cuts_from = at_optimum if converged else None
        return answer, kept, n0, rc, bound, converged, iterations, dive_from, run, cuts_from

    def run(deadline: float, growth: float | None = None, enough=None):
        """Rounds until no column prices out or the next round would not finish in time.

        A round may take ``growth`` times the last one (ROUND_GROWTH unless given): an LP that
        nothing follows can afford to try a round that may not finish. ``enough(bound, value)``,
        when given, is asked before each further round whether the bound so far and the
        restricted LP's value are enough; it stops the rounds as running out of time would.
        """
        nonlocal bound, rc, iterations, last, pending, took
        growth = ROUND_GROWTH if growth is None else growth
        if last is not None and time.perf_counter() + growth * took >= deadline:
            # resumed with less time left than a round takes: the round would be cut off at the
            # deadline and give nothing
            answer, kept = last
            return answered(answer, kept, False, None)
        restore_basis()
        if pending is not None:  # re-solving the stopped round's LP would only repeat it
            extend(pending[~in_lp[pending]], rc)  # a pricing dive may have added some since
            pending = None
        while True:
            iterations += 1
            began = time.perf_counter()
            # GLOP looks at its clock now and then: stopped a little early, it ends in time
            answer = lp.solve((deadline - began) * (1.0 - GLOP_STOP_MARGIN))
            seconds = time.perf_counter() - began
            kept = lp_cols
            if not (answer.optimal and answer.duals is not None):
                if last is not None:  # out of time mid-round: the previous round's LP counts
                    answer, kept = last
                return answered(answer, kept, False, None)
            last, took = (answer, kept), seconds
            rc = price(answer.duals)
            own_bound = lagrangian(answer.duals, lowest(rc))
            bound = max(bound, own_bound)
            tol = 1e-9 * max(1.0, abs(answer.objective))
            negative = np.flatnonzero((rc < -tol) & ~in_lp)
            if negative.size == 0:
                bound = answer.objective
                return answered(answer, kept, True, partial(dive, answer))
            # a round that would not finish in time is not started: an interrupted round is
            # time lost to the MIP, and it leaves the LP's columns out of step with its answer
            if time.perf_counter() + growth * took >= deadline or (
                enough and enough(bound, answer.objective)
            ):
                pending = negative
                return answered(answer, kept, False, partial(dive, answer))
            ranking = rc
            if smoothing > 0:
                at_point = smoothed(answer.duals, own_bound)
                both = negative[at_point[negative] < -tol]
                if both.size:  # else the smoothed point prices out nothing new: the LP's own
                    negative, ranking = both, at_point
            extend(negative, ranking)

    return run(deadline, enough=enough)


def _dive(
    lp,
    values: np.ndarray,
    owner: np.ndarray,
    n0: int,
    deadline: float,
    grow=None,
    max_rounds: float = np.inf,
    fix_at: float = DIVE_FIX_AT,
    fix_share: float = 0.0,
):
    """A solution of the restricted LP made integral by fixing its fractional choices.

    Each round fixes, per household left fractional, its highest choice (a column, or staying
    unplaced) at 1 when that value is at least ``fix_at``, or else the single highest choice of
    all, and re-solves from the last basis with dual simplex (a few pivots; primal simplex took
    twice the time at 1000x500). A fixing that makes the LP infeasible is undone; a single one is
    then forbidden instead. The LP is nearly integral, so the dive changes little: measured at
    1000x500 it ended 0.04-0.06% above the LP bound, where rounding the LP in one pass was 3-20%.

    With ``fix_share`` a round that finds no firm choice fixes the highest choices of that share
    of the fractional households (at least one) together, not the single highest. At 1000x500
    the LP is often half-integral over 50-70 households that all touch one another through full
    pool-days, and one fixing per round took 21-32 re-solves (2-2.6 s). When such a joint fixing
    is infeasible it is undone, the single highest is fixed instead, and the rest of the dive
    fixes one at a time.

    With ``grow`` the dive also prices: after each round, ``grow(answer, settled)`` appends to
    the LP the columns that the round's duals price out for households not yet settled and
    returns their households, and the LP is re-solved with them. A dive over the restricted LP's
    columns only can just pick among what the LP needed before anything was fixed; pricing found
    the optimum at 100x60 and 0.01% above the LP bound at 1000x500 (3.7 s there, against 0.5 s).

    ``owner`` gives the household of each choice: the unplaced flags (variables 0..N-1), then the
    restricted LP's columns (from variable n0 on). Returns the LP's last values and whether they
    are integral: out of time or rounds (a limit in rounds, unlike one in seconds, gives the same
    plan on a busy machine) the values of its last round still hold most households fixed, and
    rounding them beats rounding the LP (5000x2500: the dive needs 9-25 s, at times more than
    is left). The bounds it changed are restored either way, so the LP can be dived again.
    """
    N = int(owner.size - (values.size - n0))
    settled = np.zeros(N, dtype=bool)
    changed: list[tuple[np.ndarray, str]] = []

    def solve():
        return lp.solve(deadline - time.perf_counter(), dual=True)

    x = values
    rounds = 0
    several = fix_share > 0
    try:
        while time.perf_counter() < deadline and rounds < max_rounds:
            rounds += 1
            choice = np.concatenate([np.arange(N), n0 + np.arange(owner.size - N)])
            v = x[choice]
            fractional = np.flatnonzero((v > 1e-6) & (v < 1 - 1e-6))
            if fractional.size == 0:
                return x, True
            by_owner = fractional[np.lexsort((-v[fractional], owner[fractional]))]
            highest = by_owner[np.unique(owner[by_owner], return_index=True)[1]]
            firm = highest[v[highest] >= fix_at]
            single = highest[np.argmax(v[highest])]
            if firm.size:
                fix = firm
            elif several:
                by_value = highest[np.argsort(-v[highest], kind="stable")]
                fix = by_value[: max(1, int(np.ceil(fix_share * highest.size)))]
            else:
                fix = np.array([single])
            lp.set_bounds(choice[fix], lower=1.0)
            answer = solve()
            if answer.infeasible and fix.size > 1:  # fixed together, they clash: the highest alone
                several = several and firm.size > 0  # a share that clashed: one at a time now
                lp.set_bounds(choice[fix], lower=0.0)
                fix = np.array([single])
                lp.set_bounds(choice[fix], lower=1.0)
                answer = solve()
            if answer.infeasible:  # the highest alone cannot be: forbid it
                lp.set_bounds(choice[fix], lower=0.0)
                lp.set_bounds(choice[fix], upper=0.0)
                changed.append((choice[fix], "upper"))
                fix = fix[:0]
                answer = solve()
            else:
                changed.append((choice[fix], "lower"))
            settled[owner[fix]] = True
            if answer.optimal and grow is not None:
                added = grow(answer, settled)
                if added.size:
                    owner = np.concatenate([owner, added])
                    answer = lp.solve(deadline - time.perf_counter())
            if not answer.optimal:  # out of time mid-solve: the last round's values stand
                break
            x = answer.values
        return x, False
    finally:
        for positions, kind in changed:
            lp.set_bounds(positions, **{kind: 0.0 if kind == "lower" else 1.0})


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
    # each household's best option as if it were alone is a bound; in a quiet week greedy meets
    # it and no LP is needed (most weeks of a simulation)
    alone = _per_household_minimum(cols.household, N)(cols.cost)
    independent = float(np.minimum(alone, unplaced_cost(inst)).sum())
    if g_obj <= independent + 1e-9 * max(1.0, abs(g_obj)):
        outcome.best_bound, outcome.proven_optimal = independent, True
        outcome.detail = "greedy meets the bound of every household planned alone"
        return outcome

    def consider(source: str, plan: tuple[np.ndarray, np.ndarray]) -> None:
        obj = objective(inst, *plan)
        log.debug("incumbent candidate %s: %.6f (best so far %.6f)", source, obj, outcome.objective)
        if obj < outcome.objective - 1e-9:
            outcome.pool, outcome.start = plan
            outcome.objective, outcome.source = obj, source

    columns_of = _column_finder(inst, cols)
    greedy_cols = columns_of(g_pool, g_start)
    # plans ordered by cost rather than arrival are far closer to the optimum (1000x500: 1.2-1.3x
    # the LP bound, first come first served 2.8x): incumbents, and where the LP starts from
    plans = _cost_aware_plans(inst) if N >= HEURISTIC_PLANS_FROM else []
    for plan in plans:
        consider("heuristic", plan)
    initial = _initial_columns(inst, cols, columns_of, [greedy_plan, *plans])
    start_plan = np.sort(columns_of(outcome.pool, outcome.start))  # the best of them

    def consider_dived(values, dived_cols, integral) -> None:
        x_dived, dived_cols = values[n0:], cols.take(dived_cols)
        plan = _plan_from(dived_cols, x_dived, N) if integral else _round(inst, dived_cols, x_dived)
        consider("dive", plan)

    def dive_for_a_plan(dive_from, until: float, price_columns: bool, fix_at: float, share=0.0):
        consider_dived(*dive_from(until, price_columns, fix_at, share))

    fix_share = DIVE_FIX_SHARE if N >= DIVE_FIX_SHARE_FROM else 0.0

    def near(bound: float, value: float) -> bool:
        """The bound is close enough to the restricted LP's value for a dive to settle the gap."""
        return value - bound <= (relative_gap - DIVE_EXCESS) * max(abs(value), 1e-9)

    t_lp = time.perf_counter()
    # the LP gets most of the time, the MIP the rest: a plan from a restricted MIP beats greedy
    lp_deadline = t_lp + LP_SHARE_OF_TIME * max(deadline - t_lp, 0.0)
    smoothing = (
        DUAL_SMOOTHING if relative_gap >= SMOOTHING_FROM_GAP and N >= SMOOTHING_FROM else 0.0
    )
    lp, kept, n0, rc, lp_bound, converged, iterations, dive, resume, at_optimum = (
        _lp_by_column_generation(inst, cols, initial, lp_deadline, start_plan, near, smoothing)
    )
    early_dive = 0.0  # seconds of a dive before the LP converged
    if (
        not converged
        and dive is not None
        and kept.size <= MAX_UNCONVERGED_MIP_COLUMNS  # a MIP may follow: see no_mip below
        and near(lp_bound, lp.objective)
    ):
        # the rounds stopped with their bound within part of the gap of the restricted LP's
        # value: a dive now may settle the gap without the last rounds (1000x500, --gap 1e-3:
        # it did on 7 of seeds 1-8; on seeds 1, 3 and 4, 7-9 rounds early); if not, they go on
        # within the LP's share of the time, which the rounds need if the dive misses (the
        # dive is as for a converged LP even if the rounds had also run out of time; then
        # nothing resumes and no other dive follows)
        began = time.perf_counter()
        dive_for_a_plan(
            dive, began + DIVE_SHARE_OF_TIME * (lp_deadline - began), False, DIVE_FIX_AT, fix_share
        )
        early_dive = time.perf_counter() - began
        if not within_gap(outcome.objective, lp_bound, relative_gap):
            lp, kept, n0, rc, lp_bound, converged, iterations, dive, resume, at_optimum = resume(
                lp_deadline
            )
    outcome.lp_seconds = time.perf_counter() - t_lp - early_dive
    outcome.lp_bound = lp_bound
    if np.isfinite(lp_bound):
        outcome.best_bound = lp_bound
    if not (lp.optimal and lp.values is not None):
        outcome.detail = f"LP stopped: {lp.reason}; plan from {outcome.source}"
        return outcome
    x = np.zeros(C)
    x[kept] = lp.values[n0:]
    generated = f"{kept.size} of {C} columns generated in {iterations} rounds"
    # the restricted LP's columns and unplaced flags: every other column is zero (1.7M of them at
    # 1000x500, about 20 ms to check)
    if converged and _is_integral(np.concatenate([lp.values[n0:], lp.values[:N]])):
        pool, start = _plan_from(cols, x, N)
        obj = objective(inst, pool, start)
        if obj <= g_obj + 1e-9:
            outcome.pool, outcome.start, outcome.objective, outcome.source = pool, start, obj, "lp"
        outcome.proven_optimal = obj <= g_obj + 1e-9
        outcome.detail = f"LP relaxation integral ({generated})"
        return outcome

    def settled() -> bool:  # the bound holds whether or not the LP converged
        return within_gap(outcome.objective, lp_bound, relative_gap)

    # incumbents for the MIP to beat: the LP rounded in one pass (quick), then dived (nearly
    # optimal), first over the LP's columns (quick), then pricing new ones as it goes (closer)
    if not settled():
        consider("rounding", _round(inst, cols, x))
    # an unconverged LP dives too: it cannot dive below its own value, but that value comes
    # within a fraction of a percent of the LP optimum long before the last columns are priced
    # (5000x2500: 0.2% after 7 of its rounds), where rounding it in one pass was 3% above. It
    # does not price (that would be column generation again), and when no MIP follows it gets
    # most of what is left
    dives = (False, True) if converged and N >= PRICING_DIVE_FROM else (False,)
    no_mip = not converged and kept.size > MAX_UNCONVERGED_MIP_COLUMNS  # see below
    share = UNCONVERGED_DIVE_SHARE if no_mip else DIVE_SHARE_OF_TIME
    fix_at = DIVE_FIX_AT if converged else UNCONVERGED_DIVE_FIX_AT

    # without a MIP to follow, the dive runs on a copy of the LP on a second core while the LP's
    # rounds resume on this one, when the caller allows two workers: the LP keeps working through
    # the dive's 17-21 s. 5000x2500, 120 s, --gap 0.01, seed 1: own gap 0.71% (8 LP rounds) and
    # 1.05% in two runs, against 2.62% (5 rounds) for the sequential order in the same hour and
    # 0.91-2.62% in its runs on other days; seed 2 0.27-0.31% against 0.50%; plans alike. GLOP
    # releases the GIL: an LP with a second GLOP solving beside it took no longer (1000x500:
    # 13.8 s against 15.2-15.5 s alone; 300x150: 2.96 s against 2.99-3.02 s)
    dive_beside = no_mip and workers >= 2
    if dive is not None and not dive_beside:
        for price_columns in dives:
            if settled():
                break
            now = time.perf_counter()
            dive_for_a_plan(
                dive,
                now + share * (deadline - now),
                price_columns,
                fix_at,
                fix_share if converged else 0.0,  # unconverged: fewer, larger steps already
            )
    if settled():
        outcome.proven_optimal = _proven(outcome)
        outcome.detail = f"plan from {outcome.source} within the requested gap ({generated})"
        return outcome

    if no_mip:
        # such a MIP found no plan at all where it was tried: the time left goes to more rounds
        # of the LP instead, which tighten the bound; an LP that converges with time left over
        # is dived once more, as a converged one would have been
        beside = None
        if dive_beside and dive is not None:
            now = time.perf_counter()
            beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dive")
            dived = beside.submit(dive(now + share * (deadline - now), False, fix_at, on_copy=True))

        taken = []  # the dive beside, once its plan has been considered

        def take_the_dive() -> None:
            if beside is not None and not taken:
                taken.append(dived.result())
                consider_dived(*taken[0])

        def enough(bound: float, value: float) -> bool:  # the dive beside ended close enough
            if not dived.done():
                return False
            take_the_dive()
            return within_gap(outcome.objective, bound, relative_gap)

        t_more = time.perf_counter()
        try:
            _, _, _, _, lp_bound, converged, iterations, dive, _, _ = resume(
                deadline, RESUMED_GROWTH, enough if beside is not None else None
            )
            outcome.lp_seconds += time.perf_counter() - t_more
            take_the_dive()
        finally:
            if beside is not None:
                beside.shutdown()
        if converged and dive is not None and not settled():
            dive_for_a_plan(dive, deadline, False, DIVE_FIX_AT, fix_share)
        outcome.lp_bound = outcome.best_bound = lp_bound
        outcome.proven_optimal = _proven(outcome)  # the bound holds converged or not
        state = "converged" if converged else "not converged"
        outcome.detail = (
            f"plan from {outcome.source}; LP {state} after {iterations} rounds (no MIP over"
            f" its {kept.size} columns)"
        )
        return outcome

    # restricted MIP: LP support, greedy's columns, lowest reduced costs
    keep = x > 1e-9
    keep[greedy_cols] = True
    if not converged:  # reduced costs are stale: take every column of the restricted LP
        keep[kept] = True
    keep[_lowest_per_household(cols, rc, N, EXTRA_COLUMNS_PER_HOUSEHOLD)] = True
    extra = min(C, EXTRA_COLUMNS_PER_DAY * inst.horizon)
    keep[np.argpartition(rc, extra - 1)[:extra]] = True
    if converged:
        # when the incumbent is close enough to the LP bound that the proof MIP would be only a
        # few times the restricted one, the restricted MIP is skipped: the proof finds what it
        # would have found
        proof = keep | (rc < _cutoff(outcome.objective, relative_gap) - lp_bound)
        if proof.sum() <= min(STRAIGHT_TO_PROOF_RATIO * keep.sum(), MAX_PROOF_COLUMNS):
            keep = proof
    stages = []
    if at_optimum is not None and CLIQUE_ROUNDS:  # CLIQUE_ROUNDS = 0 turns the cuts off
        note = _settle_by_cliques(
            inst, cols, x, lp_bound, at_optimum, outcome, relative_gap, deadline
        )
        if note is not None:
            stages.append(note)
            outcome.proven_optimal = _proven(outcome)
            if within_gap(outcome.objective, outcome.best_bound, relative_gap):
                outcome.detail = f"LP: {generated}; {note}"
                return outcome
    while True:
        # a MIP that settles the gap (no left-out column can be in a plan below the cutoff)
        settles = converged and not np.any(
            ~keep & (rc < _cutoff(outcome.objective, relative_gap) - lp_bound)
        )
        began = time.perf_counter()
        mip, bound, fixing = _restricted_mip(
            inst, cols, keep, rc, lp_bound, outcome, deadline, workers, seed, relative_gap, settles
        )
        took = time.perf_counter() - began
        stages.append(f"MIP on {int(keep.sum())} columns{fixing}: {mip.reason}")
        if converged:
            outcome.best_bound = max(outcome.best_bound, bound)
        outcome.proven_optimal = converged and _proven(outcome)
        close_enough = converged and within_gap(outcome.objective, outcome.best_bound, relative_gap)
        # reduced-cost fixing: a column whose reduced cost is at least the gap from the LP bound
        # to the cutoff cannot be in a plan below the cutoff, so a MIP over all the others
        # settles whether the plan is within the gap
        threshold = _cutoff(outcome.objective, relative_gap) - lp_bound
        wider = keep | (rc < threshold)
        more = int(wider.sum() - keep.sum())
        if (
            outcome.proven_optimal
            or close_enough  # the caller's gap is met: no proof MIP to run
            or not converged
            or more == 0
            or time.perf_counter() >= deadline
        ):
            break
        too_large = wider.sum() > MAX_PROOF_COLUMNS
        if too_large or wider.sum() > GROW_BEFORE_PROOF * keep.sum():
            # no proof fits, but time is left: a larger restricted MIP, over the columns of
            # lowest reduced cost, finds better plans and lifts the bound (every column left
            # out costs its reduced cost). 100x60 seed 51, whose LP is 3% below the optimum:
            # the first restricted MIP ended 2.1% above it, and nothing followed. The same
            # where the proof would be many times larger (see GROW_BEFORE_PROOF)
            size = min(MAX_PROOF_COLUMNS, int(RESTRICTED_GROWTH * keep.sum()))
            # HiGHS's presolve of a large MIP does not look at the clock: one started with too
            # little time left overshot a 2 s limit by 3 s (seed 51, 45k columns)
            left = deadline - time.perf_counter()
            if size > keep.sum() and left >= RESTRICTED_GROWTH * took:
                out = np.flatnonzero(~keep)
                n_extra = size - int(keep.sum())
                wider = keep.copy()
                wider[out[np.argpartition(rc[out], n_extra - 1)[:n_extra]]] = True
            elif too_large:
                break
            # else the proof runs in the time left, as it did before this rule: it is the only
            # MIP that can settle the gap
        keep = wider
    outcome.mip_columns = int(keep.sum())
    outcome.detail = f"LP: {generated}; " + "; ".join(stages)
    return outcome


def lp_relaxation(
    inst: Instance, deadline: float, cols: Columns | None = None
) -> tuple[float, float, bool, int]:
    """The LP relaxation over every column: (value, bound, converged, rounds).

    The solver's own LP stage run alone to its end: the reference bound of the benchmark where the
    whole LP does not fit (5000x2500: 8.7M columns, 7.9 GB in HiGHS and no answer in 300 s). The
    value is the LP optimum when converged; the bound holds either way. ``cols`` are the
    instance's columns (`build_columns`) when the caller has them already.
    """
    cols = build_columns(inst) if cols is None else cols
    if len(cols) == 0:
        value = float(unplaced_cost(inst).sum())
        return value, value, True, 0
    columns_of = _column_finder(inst, cols)
    plans = _cost_aware_plans(inst)
    best = min(plans, key=lambda plan: objective(inst, *plan))
    initial = _initial_columns(inst, cols, columns_of, plans)
    answer, _, _, _, bound, converged, rounds, _, _, _ = _lp_by_column_generation(
        inst, cols, initial, deadline, np.sort(columns_of(*best))
    )
    return float(answer.objective), float(bound), converged, rounds


def within_gap(objective: float, bound: float, relative_gap: float) -> bool:
    """The caller's test of a plan against a bound: the solver stops, and a plan counts as optimal."""
    return objective - bound <= relative_gap * max(abs(objective), 1e-9)


def _proven(outcome: SolveOutcome) -> bool:
    """The bound reaches the plan, up to the solvers' tolerance."""
    return outcome.best_bound >= outcome.objective - 1e-6 * max(1.0, abs(outcome.objective))


def _round(inst: Instance, cols: Columns, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LP-guided greedy: each household's highest LP column, households by how firm it is."""
    N = inst.n_households
    firm = np.zeros(N)
    x_pool = np.full(N, -1, dtype=np.int64)
    x_start = np.full(N, -1, dtype=np.int64)
    by_value = np.argsort(-x, kind="stable")
    top = by_value[x[by_value] > 1e-9]
    first = np.unique(cols.household[top], return_index=True)[1]
    hh = cols.household[top[first]]
    firm[hh], x_pool[hh], x_start[hh] = x[top[first]], cols.pool[top[first]], cols.start[top[first]]
    return solve_guided(inst, x_pool, x_start, firm)


def _cutoff(incumbent: float, relative_gap: float) -> float:
    """Only plans below this are worth finding: anything else is within the gap of the incumbent.

    Nudged up to the float at which ``incumbent - cutoff`` does not exceed the gap, so that a
    bound equal to the cutoff passes the gap tests exactly (half of random cases failed them by
    one rounding step).
    """
    allowed = max(relative_gap * abs(incumbent), 1e-6 * max(1.0, abs(incumbent)))
    cutoff = incumbent - allowed
    while incumbent - cutoff > allowed:
        cutoff = np.nextafter(cutoff, np.inf)
    return float(cutoff)


def _restricted_mip(
    inst, cols, keep, rc, lp_bound, outcome, deadline, workers, seed, relative_gap, settles=False
):
    """Solve the MIP over the kept columns; improve the outcome's plan; return (answer, bound, a
    note on the columns fixed at the centre).

    The bound holds for the whole model: a plan either uses kept columns only (at least the
    restricted MIP's bound) or some left-out column, which costs at least its reduced cost above
    the LP optimum. When the MIP ``settles`` the gap and is large, HiGHS gets only the kept
    columns that `_below_cutoff_at_centre` keeps: a dropped one is in no plan below the cutoff,
    which the MIP's bound never exceeds.
    """
    sub = cols.take(np.flatnonzero(keep))
    cutoff = _cutoff(outcome.objective, relative_gap)
    left_out_bound = _left_out_bound(rc, keep, lp_bound, cutoff)
    fixing = ""
    if settles and len(sub) >= CENTRAL_FIXING_FROM:
        began = time.perf_counter()
        # at most half the time left, so that the MIP keeps the rest if the interior point fails
        wanted = _below_cutoff_at_centre(inst, sub, cutoff, began + 0.5 * (deadline - began))
        outcome.mip_seconds += time.perf_counter() - began
        if wanted is not None:
            fixing = f" ({int(wanted.sum())} after fixing at the centre)"
            sub = sub.take(np.flatnonzero(wanted))
    mip = backend.solve(
        build_model(inst, sub, integer=True),
        time_limit=deadline - time.perf_counter(),
        threads=workers,
        seed=seed,
        relative_gap=relative_gap,
        cutoff=cutoff,
    )
    outcome.mip_seconds += mip.seconds
    if mip.ok and mip.values is not None:
        # the columns come last (fixing may have left none)
        pool, start = _plan_from(sub, mip.values[mip.values.size - len(sub) :], inst.n_households)
        obj = objective(inst, pool, start)
        if obj <= outcome.objective + 1e-9:
            outcome.pool, outcome.start, outcome.objective, outcome.source = pool, start, obj, "mip"
    # a column fixed at the centre has no plan below the cutoff, and the MIP's bound is at most
    # the cutoff: its bound holds for every plan of kept columns
    restricted_bound = mip.bound if np.isfinite(mip.bound) else lp_bound
    return mip, max(lp_bound, min(restricted_bound, left_out_bound)), fixing


def _left_out_bound(rc: np.ndarray, keep: np.ndarray, lp_bound: float, cutoff: float) -> float:
    """A bound on every plan that uses a column left out: the LP bound plus the lowest reduced
    cost among them, or the cutoff when none of them is below its distance from the LP."""
    excluded_rc = rc[~keep]
    min_rc_out = float(excluded_rc.min()) if excluded_rc.size else np.inf
    if min_rc_out >= cutoff - lp_bound:  # every left-out column's plan is at the cutoff or above
        return max(lp_bound + min_rc_out, cutoff)
    return lp_bound + min_rc_out


def _settle_by_cliques(inst, cols, x, lp_bound, at_optimum, outcome, relative_gap, deadline):
    """Before any MIP: the LP with clique cuts, its columns priced as they go; improve the
    outcome's plan and bound; return a note, or None when the LP breaks no clique.

    100x60 seeds 1-100: three LPs break cliques here. With cuts, seed 26's LP rose above the
    cutoff, and seeds 51's and 98's turned integral at the optimum (seed 51's LP is 3% below it),
    where restricted and proof MIPs took 1.2-1.5 s (26), or no proof fitted at all. The seconds
    count as the MIPs' (the stage after the LP).
    """
    if time.perf_counter() >= deadline:
        return None
    cutoff = _cutoff(outcome.objective, relative_gap)
    began = time.perf_counter()
    until = began + CUT_SHARE_OF_TIME * (deadline - began)  # the MIPs keep the rest
    value, plan, cuts, n_columns = _lp_with_cliques(inst, cols, x, at_optimum, cutoff, until)
    outcome.mip_seconds += time.perf_counter() - began
    if not cuts:
        return None
    if plan is not None and objective(inst, *plan) < outcome.objective:
        # the LP turned integral below the cutoff: the best plan of all
        outcome.pool, outcome.start = plan
        outcome.objective, outcome.source = objective(inst, *plan), "lp with cuts"
    bound = max(lp_bound, value)
    outcome.best_bound = max(outcome.best_bound, bound)
    return f"LP with {len(cuts)} clique cuts over {n_columns} columns: bound {bound:.6g}"


def _lp_with_cliques(inst, cols, x, at_optimum, cutoff, deadline):
    """The LP tightened by clique cuts (`allocator.engine.optimiser.cliques`) until its bound reaches the cutoff,
    it turns integral, or no cut is violated: (a bound on every plan, the plan when the LP turned
    integral below the cutoff, the cuts added, the number of the LP's columns at the end).

    ``x`` is the converged LP's solution (per column), so the first cuts come without a solve;
    ``at_optimum`` gives the LP itself at its optimal basis (see `_lp_by_column_generation`).
    Each round re-solves with dual simplex, then prices every column with the cuts' duals too
    (see `_priced_with_cuts`: a binding cut raises its members' reduced costs). Columns that
    price out join the LP with their entries in the cuts' rows, so the bound holds for every
    plan of every column. 100x60 seed 51: the LP grows from 1,286 columns to 1,759 (0.36 s),
    where the cut LP over the 121k columns whose reduced cost is below the gap took 1.5-3.4 s.
    The bound is -inf when no cut was violated or the LP failed.
    """
    cuts = cliques.violated(inst, cols, x)
    if not cuts:
        return -np.inf, None, [], 0
    N = inst.n_households
    lp, lp_cols, price, lowest, lagrangian = at_optimum()
    n0, n_base_rows = lp.n_vars - lp_cols.size, lp.n_rows
    per_household = _columns_added_per_household(N)
    in_lp = np.zeros(len(cols), dtype=bool)
    in_lp[lp_cols] = True
    # per cut, its members' column indices (boolean masks over 1.7M columns at 1000x500 cost
    # 0.9 ms per cut in each pricing round, indices 0.03 ms)
    members: list[np.ndarray] = []
    added: list[cliques.Clique] = []

    def add_cuts(new: list[cliques.Clique]) -> None:
        members.extend(np.flatnonzero(cliques.members(inst, cols, cut)) for cut in new)
        rows = [np.flatnonzero(np.isin(lp_cols, m)) for m in members[-len(new) :]]
        lp.add_rows(
            n0 + np.concatenate(rows),
            np.repeat(np.arange(len(rows)), [r.size for r in rows]),
            np.ones(len(rows)),
        )
        added.extend(new)

    def add_columns(columns: np.ndarray) -> None:
        nonlocal lp_cols
        rows, local, vals = column_entries(inst, cols.take(columns), 0)
        hits = [np.flatnonzero(np.isin(columns, m)) for m in members]
        lp.add_columns(
            cols.cost[columns],
            np.concatenate([rows, *(np.full(h.size, n_base_rows + k) for k, h in enumerate(hits))]),
            np.concatenate([local, *hits]),
            np.concatenate([vals, np.ones(sum(h.size for h in hits))]),
        )
        lp_cols = np.concatenate([lp_cols, columns])
        in_lp[columns] = True

    add_cuts(cuts)
    bound, plan, rounds, dual = -np.inf, None, 1, True
    while time.perf_counter() < deadline:
        answer = lp.solve(deadline - time.perf_counter(), dual=dual)
        if not (answer.optimal and answer.values is not None and answer.duals is not None):
            break
        rc, here = _priced_with_cuts(price, lowest, lagrangian, answer.duals, members)
        bound = max(bound, here)
        if bound >= cutoff:
            break
        tol = 1e-9 * max(1.0, abs(answer.objective))
        negative = np.flatnonzero((rc < -tol) & ~in_lp)
        if negative.size:
            add_columns(_lowest_per_household(cols, rc, N, per_household, among=negative))
            dual = False  # new columns: the basis stays primal feasible
            continue
        bound = max(bound, answer.objective)  # no column prices out: the LP's value is a bound
        x_lp = answer.values[n0:]
        if bound >= cutoff:
            break
        if _is_integral(answer.values[:N]) and _is_integral(x_lp):
            plan = _plan_from(cols.take(lp_cols), x_lp, N)
            break
        new = [cut for cut in cliques.violated(inst, cols.take(lp_cols), x_lp) if cut not in added]
        if not new or rounds >= CLIQUE_ROUNDS:
            break
        add_cuts(new)
        rounds, dual = rounds + 1, True
    return bound, plan, added, int(lp_cols.size)


def _priced_with_cuts(price, lowest, lagrangian, duals: np.ndarray, members: list[np.ndarray]):
    """Every column's reduced cost, and the Lagrangian bound, under duals of the model's rows
    followed by those of cut rows ``0 <= sum of members <= 1`` (``members``: column indices per
    cut). A cut's dual mu is taken from each member's reduced cost (a cut binding at 1 has mu at
    most 0, which raises them: the cut keeps its members from pricing out together), and
    min(mu, 0) joins the bound (the row's activity lies between 0 and 1, so it holds for a
    dual of either sign). ``price``, ``lowest`` and ``lagrangian`` are those of `_pricer`,
    `_per_household_minimum` and `_lagrangian_bound`."""
    mu = duals[duals.size - len(members) :]
    rc = price(duals)
    for k in np.flatnonzero(mu != 0):
        rc[members[k]] -= mu[k]
    return rc, lagrangian(duals, lowest(rc)) + float(np.minimum(mu, 0.0).sum())


def _below_cutoff_at_centre(
    inst: Instance, sub: Columns, cutoff: float, deadline: float
) -> np.ndarray | None:
    """The columns that may still be in a plan below the cutoff, by duals from inside the LP's
    optimal face (None if the interior point gave none in time).

    The column generation's duals are a vertex of that face: they price many columns at or near
    zero, so reduced-cost fixing by them keeps most of a large MIP (100x60, seed 26: 16,016 of
    16,102 columns). Duals from an interior point, computed over the MIP's columns, spread the
    prices and keep about half (8,369); HiGHS then starts from a smaller model. Each column's
    bound is the Lagrangian with its household forced into it, valid for any duals, so an
    inexact interior point only fixes less.
    """
    answer = backend.solve(
        build_model(inst, sub, integer=False),
        time_limit=deadline - time.perf_counter(),
        threads=1,  # HiGHS's interior point runs on one thread, and gives one answer
        seed=0,
        want_duals=True,
        interior_point=True,
    )
    if answer.duals is None or not np.all(np.isfinite(answer.duals)):
        return None
    return _forced_bounds(inst, sub, answer.duals) < cutoff + 1e-9 * max(1.0, abs(cutoff))


def _forced_bounds(inst: Instance, sub: Columns, duals: np.ndarray) -> np.ndarray:
    """Per column, a lower bound on every plan of these columns that uses it, for any duals.

    The Lagrangian bound (see `_lagrangian_bound`) with the column's household forced into it:
    that household's share, its cheapest choice, becomes the column's dual value plus its
    reduced cost.
    """
    N = inst.n_households
    base = base_model(inst)
    rc = reduced_costs(inst, sub, duals)
    lowest = _per_household_minimum(sub.household, N)(rc)
    bound = _lagrangian_bound(inst, base)(duals, lowest)
    own = _household_shares(base.cost[:N], duals, lowest)
    return bound - own[sub.household] + duals[sub.household] + rc
