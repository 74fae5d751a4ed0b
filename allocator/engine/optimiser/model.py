"""The day-level time-indexed model over pools, as sparse arrays: its rows, its base variables and
the entries of its placement columns.

A column is one (household, pool, start day). Pool occupancy is written in difference form: a
running total per pool and day, whose row says that day's total is the last day's plus the
starts minus the ends, so a column has at most 3 non-zeros (7 with support and mediation caps);
a column of connecting rooms (`engine.rooms`) enters the start and end rows of each of its
rooms' pools.
docs/engine.md states the model in mathematics.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from allocator.engine import rooms
from allocator.engine.columns import Columns, kept_unplaced_cost
from allocator.engine.instance import Instance
from allocator.engine.optimiser import backend


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
    if lay.S:
        parts.append(_chain(H, 1, lay.l0, lay.s0))
    if lay.M:
        parts.append(_chain(H, lay.M, lay.m0, lay.md0))
    rows, cols_, vals = (np.concatenate(x) for x in zip(*parts, strict=True))
    return dataclasses.replace(
        base_bounds(inst), rows=rows.astype(np.int64), cols=cols_.astype(np.int64), vals=vals
    )


def base_bounds(inst: Instance) -> backend.SparseModel:
    """`base_model` without its matrix (the running totals' entries): the costs and bounds of its
    variables and rows, all that the breakpoint LP and the Lagrangian bound read."""
    lay = layout_of(inst)
    N, H = lay.N, lay.H
    var_ub = np.ones(lay.n_base_vars)
    if lay.P:
        var_ub[lay.o0 : lay.l0] = np.concatenate([q.free for q in inst.pools])
    if lay.S:
        assert inst.support_free is not None  # S is 1 exactly when support is capped
        var_ub[lay.l0 : lay.m0] = np.maximum(inst.support_free, 0)
    for k, j in enumerate(lay.capped):
        var_ub[lay.m0 + k * H : lay.m0 + (k + 1) * H] = np.maximum(inst.mediation_free[j], 0)
    cost = np.zeros(lay.n_base_vars)
    cost[:N] = kept_unplaced_cost(inst)
    row_bound = np.zeros(lay.n_rows)
    row_bound[:N] = 1.0
    return backend.SparseModel.without_entries(
        cost=cost,
        var_lb=np.zeros(lay.n_base_vars),
        var_ub=var_ub,
        row_lb=row_bound,
        row_ub=row_bound.copy(),
    )


# a chain that placement columns load: the chain (per column, or one for all), where each
# column's load on it ends (exclusive), the load, and the columns that load it (None: all)
ChainBlock = tuple[np.ndarray | int, np.ndarray, np.ndarray, np.ndarray | None]


@dataclass(frozen=True)
class ChainReads:
    """What placing columns on the running-total chains reads of an instance, worked out once
    for it (the breakpoint LP places columns every round)."""

    rooms: tuple[np.ndarray, np.ndarray] | None  # connecting rooms' `rooms.footprint`, if any
    support_chain: int
    load: np.ndarray | None  # per household, None when the support is not capped
    language: np.ndarray
    capped: list[tuple[int, int]]  # (chain, language) of each capped language


def chain_reads(inst: Instance) -> ChainReads:
    lay = layout_of(inst)
    return ChainReads(
        rooms=rooms.footprint(inst.pools) if inst.has_combinations else None,
        support_chain=lay.P,
        load=inst.load.astype(float) if lay.S else None,
        language=inst.language,
        capped=[(lay.P + lay.S + m, j) for m, j in enumerate(lay.capped)],
    )


def chain_blocks(reads: ChainReads, cols: Columns) -> list[ChainBlock]:
    """The chains that placement columns load, in the model's order: their pool from the start
    to the occupancy's end (with connecting rooms, each room's pool, by its count of rooms),
    then the support by the household's load and each capped language's mediators to the
    departure. `column_entries` writes them as entries, the breakpoint LP as intervals."""
    k = len(cols)
    blocks: list[ChainBlock] = []
    if reads.rooms is not None:  # connecting rooms: a column enters each of its rooms' pools
        where, count = reads.rooms
        for j in range(where.shape[1]):
            units = count[cols.pool, j]
            blocks.append((where[cols.pool, j], cols.occupancy_end, units.astype(float), units > 0))
    else:
        blocks.append((cols.pool, cols.occupancy_end, np.ones(k), None))
    if reads.load is not None:
        load = reads.load[cols.household]
        blocks.append((reads.support_chain, cols.departure, load, load > 0))
    for chain, language in reads.capped:
        mine = reads.language[cols.household] == language
        blocks.append((chain, cols.departure, np.ones(k), mine))
    return blocks


def column_entries(inst: Instance, cols: Columns, first_var: int):
    """Matrix entries (rows, variables, values) of placement columns numbered from first_var."""
    lay = layout_of(inst)
    H, C = lay.H, len(cols)
    col_idx = first_var + np.arange(C)
    parts = [(cols.household, col_idx, np.ones(C))]
    for chain, end, weight, enters in chain_blocks(chain_reads(inst), cols):
        rows_base = lay.f0 + (np.full(C, chain) if isinstance(chain, int) else chain) * H
        parts.append(_event_entries(rows_base, cols.start, end, weight, col_idx, H, enters))
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


def column_keys(inst: Instance, household, pool, start) -> np.ndarray:
    """A unique integer per (household, pool, start day): plans are looked up by it."""
    return (household.astype(np.int64) * len(inst.pools) + pool) * inst.horizon + start


class ColumnIndex:
    """Where (household, pool, start) triples are among some columns, by their `column_keys`:
    the one lookup behind plans' columns (`pricing.column_finder`), last week's columns
    (`warm`) and the fairness bound's rows (`fairness.ColumnLookup`)."""

    def __init__(self, inst: Instance, cols: Columns) -> None:
        self.inst = inst
        keys = column_keys(inst, cols.household, cols.pool, cols.start)
        # `build_columns` lists each pool's columns by household, then start (and a subset
        # keeps that order): a stable sort by household alone orders the keys, several times
        # quicker than sorting the keys
        by_key = np.argsort(cols.household, kind="stable")
        sorted_keys = keys[by_key]
        if not (sorted_keys[1:] > sorted_keys[:-1]).all():  # columns in another order
            by_key = np.argsort(keys, kind="stable")
            sorted_keys = keys[by_key]
        self._by_key, self._sorted = by_key, sorted_keys

    def index(self, household: np.ndarray, pool: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Each triple's column index, -1 where it is none of the columns."""
        wanted = column_keys(self.inst, np.asarray(household), pool, start)
        if not self._sorted.size:
            return np.full(wanted.size, -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._sorted, wanted), self._sorted.size - 1)
        return np.where(self._sorted[at] == wanted, self._by_key[at], -1)


def plan_from(cols: Columns, x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The plan (pool and start per household, -1 if unplaced) of the columns at 1 in ``x``."""
    pool = np.full(n, -1, dtype=np.int64)
    start = np.full(n, -1, dtype=np.int64)
    chosen = np.flatnonzero(x > 0.5)
    pool[cols.household[chosen]] = cols.pool[chosen]
    start[cols.household[chosen]] = cols.start[chosen]
    return pool, start


def is_integral(x: np.ndarray) -> bool:
    """Every value within the solvers' tolerance of 0 or 1."""
    return bool(np.all(np.minimum(np.abs(x), np.abs(1 - x)) < 1e-6))
