"""The first-come-first-served baseline, and the solver's fallback when time runs out.

Households in order of need date, then urgency (most urgent first); each takes the fitting unit
that frees earliest, the smallest such, preferring the kind its support level suits.
"""

from __future__ import annotations

import numpy as np

from allocator.columns import fitting, mismatch_table, support_codes
from allocator.instance import Instance
from allocator.occupancy import Occupancy


def fcfs_order(inst: Instance) -> np.ndarray:
    """By need date, then urgency; a planner's pins go first, so nobody takes a pinned unit."""
    unpinned = inst.pinned_pool < 0
    return np.lexsort((np.arange(inst.n_households), -inst.urgency, inst.need_day, unpinned))


def fitting_pools(inst: Instance) -> list[np.ndarray]:
    """For each household, the pools it may use at all."""
    return [np.flatnonzero(row) for row in fitting(inst, np.arange(len(inst.pools)))]


def solve_greedy(inst: Instance) -> tuple[np.ndarray, np.ndarray]:
    """Per household the chosen pool and start day (-1, -1 when not placed)."""
    return _place_in_order(inst, fcfs_order(inst))


def solve_guided(inst: Instance, x_pool: np.ndarray, x_start: np.ndarray, weight: np.ndarray):
    """Round a fractional LP: households in order of how firmly the LP places them.

    Each takes the LP's (pool, start) when it is still free, else the earliest later start in
    that pool, else greedy's choice. ``weight`` is the LP value of that column (0 when the LP
    leaves the household out); households the LP leaves out come last, first come first served.
    """
    fcfs_rank = np.empty(inst.n_households, dtype=np.int64)
    fcfs_rank[fcfs_order(inst)] = np.arange(inst.n_households)
    return _place_in_order(inst, np.lexsort((fcfs_rank, x_start, -weight)), x_pool, x_start)


def _place_in_order(inst: Instance, order, wish_pool=None, wish_start=None):
    """Place households one by one in ``order``: in the wished pool from the wished day on if
    given and possible, else the earliest start, then the smallest unit, then the right kind."""
    n = inst.n_households
    pool = np.full(n, -1, dtype=np.int64)
    start = np.full(n, -1, dtype=np.int64)
    occupancy = Occupancy(inst)
    capacity = np.array([q.capacity for q in inst.pools], dtype=np.int64)
    candidates = fitting_pools(inst)
    mismatch_of, code = mismatch_table(inst), support_codes(inst)
    for i in order:
        pools = candidates[i]
        if pools.size == 0 or inst.release[i] >= inst.horizon:
            continue
        if wish_pool is not None and wish_pool[i] >= 0:
            wished = np.array([wish_pool[i]])
            t = int(occupancy.earliest_starts(i, wished, not_before=wish_start[i])[0])
            if t >= 0:
                pool[i], start[i] = wish_pool[i], t
                occupancy.add(i, int(pool[i]), t)
                continue
        starts = occupancy.earliest_starts(i, pools)
        ok = starts >= 0
        if not ok.any():
            continue
        mismatch = mismatch_of[pools, code[i]]
        order_here = np.lexsort(
            (pools, mismatch, capacity[pools], np.where(ok, starts, np.iinfo(np.int64).max))
        )
        best = order_here[0]
        pool[i], start[i] = pools[best], starts[best]
        occupancy.add(i, int(pool[i]), int(start[i]))
    return pool, start
