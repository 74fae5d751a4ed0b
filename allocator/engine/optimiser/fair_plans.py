"""Plans that honour the fairness bound without a MIP (`fairness`): the fallbacks and the
incumbents the bound's MIPs must beat.

`refill` places the households a repaired plan left out, first come, first served, where that
overtakes nobody; `sweep` builds a plan day by day towards a wished one (the unbounded plan):
those who have waited N days start first, then those wished to start that day. Both check each
start against every household waiting then, with the instance's columns (`ColumnLookup`), so
their plans honour the bound by construction.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from allocator.engine.columns import placement_cost, unplaced_cost
from allocator.engine.greedy import fcfs_order, fitting_pools
from allocator.engine.instance import Instance
from allocator.engine.occupancy import Occupancy
from allocator.engine.optimiser.incumbents import Plan

if TYPE_CHECKING:
    from allocator.engine.optimiser.fairness import ColumnLookup

clock = time.perf_counter  # the deadlines' clock (a test stops the plans part way through it)


def refill(inst: Instance, plan: Plan, lookup: ColumnLookup, deadline: float | None = None) -> Plan:
    """A plan that honours the bound with households it leaves out placed where that overtakes
    nobody: first come, first served (`greedy.fcfs_order`), each in its cheapest start that
    the units, accompaniment and mediation left allow, is cheaper than waiting, and starts on
    no day on which an earlier household that has waited N days and not started could take the
    same pool. Placing a household never makes another placement an overtaking (it only stops
    waiting), so the plan still honours the bound, also when the ``deadline`` (a
    `time.perf_counter` time) stops it part way."""
    days = inst.policy.fair_wait_days
    assert days is not None, "refill needs a policy with fair_wait_days"
    pool, start = plan[0].copy(), plan[1].copy()
    occupancy = Occupancy(inst)
    placed = np.flatnonzero(pool >= 0)
    if placed.size:
        occupancy.add_all(placed, pool[placed], start[placed])
    need, free = inst.need_day, inst.pinned_pool < 0
    began = np.where(pool >= 0, start, np.iinfo(np.int64).max)
    waiting_cost = unplaced_cost(inst)
    candidates = fitting_pools(inst)
    for i in fcfs_order(inst).tolist():
        if pool[i] >= 0 or inst.release[i] >= inst.horizon or not candidates[i].size:
            continue
        if _past(deadline):
            break
        first, valid = occupancy.valid_starts(i, candidates[i])
        k, d = np.nonzero(valid)
        p, t = candidates[i][k], first + d
        cost = placement_cost(inst, np.full(p.size, i), p, t)
        by_cost = np.lexsort((t, cost))
        by_cost = by_cost[cost[by_cost] < waiting_cost[i]]
        p, t = p[by_cost], t[by_cost]
        if free[i]:
            earlier = np.flatnonzero(free & (need < need[i]))
            ok = _overtakes_nobody(lookup, earlier, need[earlier] + days, began[earlier], p, t)
            p, t = p[ok], t[ok]
        if p.size:
            pool[i], start[i], began[i] = p[0], t[0], t[0]
            occupancy.add(i, int(p[0]), int(t[0]))
    return pool, start


def sweep(inst: Instance, wish: Plan, lookup: ColumnLookup, deadline: float | None = None) -> Plan:
    """A plan that honours the bound, close to ``wish`` (the unbounded plan): day by day, the
    households that have waited N days start first, first come, first served, each in its
    cheapest pool free that day; then the households wished to start that day do, in the wished
    pool, where that overtakes nobody (else they try the next day). Pins go first, as wished.

    Every start is checked against the households waiting then (not only those it fits the
    remaining units of: a unit whose stay would not fit around later bookings still counts), so
    the plan honours the bound by construction, also when the ``deadline`` stops it part way
    (the days after it are left empty)."""
    days = inst.policy.fair_wait_days
    assert days is not None, "sweep needs a policy with fair_wait_days"
    N, H = inst.n_households, inst.horizon
    pool, start = np.full(N, -1, dtype=np.int64), np.full(N, -1, dtype=np.int64)
    occupancy = Occupancy(inst)
    never = np.iinfo(np.int64).max
    began = np.full(N, never, dtype=np.int64)
    need, free = inst.need_day, inst.pinned_pool < 0
    waiting_cost = unplaced_cost(inst)
    candidates = fitting_pools(inst)
    rank = np.empty(N, dtype=np.int64)
    rank[fcfs_order(inst)] = np.arange(N)
    wish_pool, wish_start = wish[0].copy(), wish[1].copy()

    def place(i: int, p: int, t: int) -> None:
        pool[i], start[i], began[i] = p, t, t
        occupancy.add(i, p, t)

    def compliant(i: int, p: np.ndarray, t: int) -> np.ndarray:
        if not free[i]:
            return np.ones(p.size, dtype=bool)
        h = np.flatnonzero(free & (need < need[i]) & (need + days <= t) & (began > t))
        if not h.size:
            return np.ones(p.size, dtype=bool)
        hh, pp = np.repeat(h, p.size), np.tile(p, h.size)
        hit = lookup.exists(hh, pp, np.full(hh.size, t)).reshape(h.size, p.size)
        return np.asarray(~hit.any(axis=0))

    for i in np.flatnonzero(~free & (wish_pool >= 0)).tolist():  # pins first, as greedy does
        p, t = int(wish_pool[i]), int(wish_start[i])
        if occupancy.earliest_starts(i, np.array([p]), not_before=t)[0] == t:
            place(i, p, t)
    for t in range(H):
        if _past(deadline):
            break
        waited = free & (began == never) & (need + days <= t) & (inst.release <= t)
        for i in sorted(np.flatnonzero(waited).tolist(), key=rank.__getitem__):
            pools = candidates[i]
            if not pools.size:
                continue
            first, valid = occupancy.valid_starts(i, pools, not_before=t)
            if first != t or not valid.shape[1]:
                continue
            p = pools[valid[:, 0]]
            if not p.size:
                continue
            p = p[compliant(i, p, t)]
            if not p.size:
                continue
            cost = placement_cost(inst, np.full(p.size, i), p, np.full(p.size, t))
            k = int(np.argmin(cost))
            if cost[k] < waiting_cost[i]:
                place(i, int(p[k]), t)
        wished = np.flatnonzero((began == never) & (wish_pool >= 0) & (wish_start == t) & free)
        for i in wished.tolist():
            p = int(wish_pool[i])
            ok = occupancy.earliest_starts(i, np.array([p]), not_before=t)[0] == t
            if ok and compliant(i, np.array([p]), t)[0]:
                place(i, p, t)
            elif t + 1 < H:
                wish_start[i] = t + 1  # try the next day
    return pool, start


def _past(deadline: float | None) -> bool:
    return deadline is not None and clock() >= deadline


def _overtakes_nobody(
    lookup: ColumnLookup,
    earlier: np.ndarray,
    protected_from: np.ndarray,
    began: np.ndarray,
    p: np.ndarray,
    t: np.ndarray,
    block: int = 64,
) -> np.ndarray:
    """Per slot (p, t) in order, whether taking it overtakes none of the ``earlier`` households
    (protected from their day, started on ``began``); only up to the first slot that does not
    (the rest stay False): the caller takes that one."""
    ok = np.zeros(p.size, dtype=bool)
    for a in range(0, p.size, block):
        pc, tc = p[a : a + block], t[a : a + block]
        m = (protected_from[None, :] <= tc[:, None]) & (began[None, :] > tc[:, None])
        ci, hj = np.nonzero(m)
        bad = np.zeros(pc.size, dtype=bool)
        if ci.size:
            bad[ci[lookup.exists(earlier[hj], pc[ci], tc[ci])]] = True
        if not bad.all():
            ok[a + int(np.argmin(bad))] = True
            return ok
    return ok
