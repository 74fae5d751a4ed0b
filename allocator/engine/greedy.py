"""The first-come-first-served baseline, and the solver's fallback when time runs out.

Households in order of need date, then urgency (most urgent first); each takes the fitting unit
that frees earliest, the smallest such, preferring the kind its support level suits.
"""

from __future__ import annotations

import numpy as np

from allocator.engine import announcements
from allocator.engine.columns import (
    distinct_rows,
    fitting,
    fitting_all,
    mismatch_table,
    support_codes,
)
from allocator.engine.districts import cheapest_start
from allocator.engine.instance import Instance
from allocator.engine.occupancy import Occupancy


def fcfs_order(inst: Instance) -> np.ndarray:
    """By need date, then urgency; a planner's pins go first, so nobody takes a pinned unit."""
    unpinned = inst.pinned_pool < 0
    return np.lexsort((np.arange(inst.n_households), -inst.urgency, inst.need_day, unpinned))


def fitting_pools(inst: Instance) -> list[np.ndarray]:
    """For each household, the pools it may use at all."""
    return pools_of(fitting(inst, np.arange(len(inst.pools))))


def pools_of(ok: np.ndarray) -> list[np.ndarray]:
    """Each row's True columns, read-only: rows alike share one array, so a city's thousands of
    households (a few dozen kinds of need) cost a few dozen arrays, not thousands."""
    kinds, kind_of = distinct_rows(ok)
    shared = [np.flatnonzero(row) for row in kinds]
    return [shared[k] for k in kind_of.tolist()]


def pools_by_preference(inst: Instance) -> list[np.ndarray]:
    """For each household, the pools it fits in the order greedy prefers them when they start on
    the same day: the smallest first, then the kind its support level suits, then the pool listed
    first. Households with the same pools and support level share one array (read-only)."""
    capacity = np.array([q.capacity for q in inst.pools], dtype=np.int64)
    mismatch = mismatch_table(inst)
    kinds, kind_of = distinct_rows(fitting_all(inst))
    every = np.arange(len(inst.pools))
    # all pools in preference order per support level: a household's fitting pools are that
    # order's fitting ones (the pool's index breaks every tie, so the order is total)
    by_level: dict[int, np.ndarray] = {}
    shared: dict[tuple[int, int], np.ndarray] = {}
    ordered = []
    for kind, code in zip(kind_of.tolist(), support_codes(inst).tolist(), strict=True):
        mine = shared.get((kind, code))
        if mine is None:
            preferred = by_level.get(code)
            if preferred is None:
                preferred = by_level[code] = np.lexsort((every, mismatch[:, code], capacity))
            mine = shared[kind, code] = preferred[kinds[kind][preferred]]
        ordered.append(mine)
    return ordered


def solve_greedy(inst: Instance) -> tuple[np.ndarray, np.ndarray]:
    """Per household the chosen pool and start day (-1, -1 when not placed).

    Announced placements that can be kept go first (after the pins), each to its announced unit
    on its announced day if it is free then; if not, the household takes greedy's usual choice
    rather than wait for its unit (`engine.announcements`)."""
    wished = announcements.wishes(inst)
    if wished is None:
        return place_in_order(inst, fcfs_order(inst))
    order = announcements.announced_first(inst, fcfs_order(inst))
    return place_in_order(inst, order, *wished, exact=True)


def solve_guided(inst: Instance, x_pool: np.ndarray, x_start: np.ndarray, weight: np.ndarray):
    """Round a fractional LP: households in order of how firmly the LP places them.

    Each takes the LP's (pool, start) when it is still free, else the earliest later start in
    that pool, else greedy's choice. ``weight`` is the LP value of that column (0 when the LP
    leaves the household out); households the LP leaves out come last, first come first served.
    """
    fcfs_rank = np.empty(inst.n_households, dtype=np.int64)
    fcfs_rank[fcfs_order(inst)] = np.arange(inst.n_households)
    return place_in_order(inst, np.lexsort((fcfs_rank, x_start, -weight)), x_pool, x_start)


def place_in_order(inst: Instance, order, wish_pool=None, wish_start=None, exact=False):
    """Place households one by one in ``order``: in the wished pool from the wished day on if
    given and possible (``exact``: on the wished day only), else the earliest start, then the
    smallest unit, then the right kind."""
    n = inst.n_households
    pool = np.full(n, -1, dtype=np.int64)
    start = np.full(n, -1, dtype=np.int64)
    occupancy = Occupancy(inst)
    candidates = pools_by_preference(inst)
    skip = (inst.release >= inst.horizon).tolist()
    # a household with an anchor weighs an earlier start against a nearer unit, by the objective
    near = ((inst.anchor >= 0) if inst.by_district else np.zeros(n, dtype=bool)).tolist()
    for i in order.tolist():
        pools = candidates[i]
        if pools.size == 0 or skip[i]:
            continue
        if wish_pool is not None and wish_pool[i] >= 0:
            wished = np.array([wish_pool[i]])
            t = int(occupancy.earliest_starts(i, wished, not_before=wish_start[i])[0])
            if t >= 0 and (not exact or t == wish_start[i]):
                pool[i], start[i] = wish_pool[i], t
                occupancy.add(i, int(pool[i]), t)
                continue
        if near[i]:
            best = cheapest_start(inst, occupancy, i, pools)
        else:
            best = _earliest_preferred(occupancy, i, pools)
        if best is not None:
            pool[i], start[i] = best
            occupancy.add(i, *best)
    return pool, start


def _earliest_preferred(occupancy: Occupancy, i: int, pools: np.ndarray) -> tuple[int, int] | None:
    """(pool, start) of household i's earliest start, ties to the pool listed first in ``pools``;
    None if it fits nowhere in the horizon.

    The earliest start of all is the first day on which any pool is valid, and the pools that
    start then are the ones valid on that day: no need for each pool's own earliest start.
    """
    first, valid = occupancy.valid_starts(i, pools)
    any_pool = np.logical_or.reduce(valid, axis=0)  # one flag per day: valid is 2-d
    if any_pool.size == 0:
        return None
    day = int(any_pool.argmax())
    if not any_pool[day]:
        return None
    return int(pools[valid[:, day].argmax()]), first + day
