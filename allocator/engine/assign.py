"""Give every planned stay a concrete unit of its pool.

Within a pool every unit's free stretch ends on the same day and only its first free day differs,
so taking stays in order of start and giving each any unit that is free on that day always succeeds
when no day has more stays than free units (the count the optimiser enforces): a unit that is free
on day t stays free until some later stay takes it. Among free units the cheapest per night is
taken, then the one listed first, so the result is deterministic.
"""

from __future__ import annotations

import heapq

import numpy as np

from allocator.engine.instance import Instance
from allocator.errors import AllocatorError


def assign_units(
    inst: Instance, pool: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, dict[int, list[int]]]:
    """Unit index per household (-1 when not placed), and for a household in connecting rooms
    (`engine.rooms`) the other rooms it takes with that unit.

    A stay in a combination is a stay in each of its rooms: ``count`` stays in each part pool,
    given units together with that pool's own stays (the count the optimiser enforces covers
    both). Its first room, in the order of the combination's parts, is its unit."""
    unit = np.full(inst.n_households, -1, dtype=np.int64)
    rooms: dict[int, list[int]] = {}
    # no cost given: taken last (a cost is finite, `Unit.nightly_cost`)
    unit_cost = np.where(np.isnan(inst.unit_cost), np.inf, inst.unit_cost)
    # every unit's cost the same (none given, say): each pool's units in their own order
    same_cost = unit_cost.size == 0 or bool((unit_cost == unit_cost[0]).all())
    placed = np.flatnonzero(pool >= 0)
    nights = np.zeros(inst.n_households, dtype=np.int64)  # of each placed stay, from its start
    nights[placed] = inst.stay_length(placed, start[placed])
    for p, members in _stays_by_pool(inst, pool, start, placed):
        q = inst.pools[p]
        if same_cost:
            order = list(q.units)
        else:
            cost = unit_cost[q.units]
            order = [q.units[k] for k in np.lexsort((np.arange(len(q.units)), cost))]
        # -1: a unit with several stretches; one end of one stretch each: assigned in turn
        ends = {g[0][1] if len(g) == 1 else -1 for g in map(q.gaps.__getitem__, order)}
        if len(ends) == 1 and -1 not in ends:
            given = _assign_in_turn(inst, q, members, start, order, nights)
        else:
            given = _assign_by_scan(inst, q, members, start, order)
        for i, u in zip(members.tolist(), given, strict=True):
            rooms.setdefault(i, []).append(u)
    for i, taken in rooms.items():
        unit[i] = taken[0]
    joined = {i: taken[1:] for i, taken in rooms.items() if len(taken) > 1}
    return unit, joined


def _stays_by_pool(
    inst: Instance, pool: np.ndarray, start: np.ndarray, placed: np.ndarray
) -> list[tuple[int, np.ndarray]]:
    """Per physical pool with stays, in pool order: the households it gives a unit to, once
    per unit each takes (a combination's stay takes ``count`` units of each of its parts), by
    start day, then household."""
    if not inst.has_combinations:  # one unit per stay: a sort of the placed households
        by_pool = placed[np.lexsort((placed, start[placed], pool[placed]))]
        pools = pool[by_pool]
        cuts = [0, *(np.flatnonzero(pools[1:] != pools[:-1]) + 1).tolist(), len(by_pool)]
        return [
            (int(pools[a]), by_pool[a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a
        ]
    copies: dict[int, list[int]] = {}  # physical pool -> households, once per unit they take
    for p, q in enumerate(inst.pools):
        for part, k in q.parts or ((p, 1),):
            copies.setdefault(part, []).extend(np.flatnonzero(pool == p).tolist() * k)
    groups = []
    for p in sorted(copies):
        members = np.array(copies[p], dtype=np.int64)
        if members.size:
            groups.append((p, members[np.lexsort((members, start[members]))]))
    return groups


def _assign_by_scan(inst: Instance, q, members, start, order) -> list[int]:
    """Each stay, in order of start, takes the first unit in ``order`` free for all of it."""
    turn = inst.policy.turnover_days
    busy_until = {u: -1 for u in order}
    given = []
    for i in members:
        t = int(start[i])
        end = min(t + inst.stay_length_at(int(i), t) + turn, int(q.occupancy_limit[t]))
        for u in order:
            if busy_until[u] <= t and any(g0 <= t and end <= g1 for g0, g1 in q.gaps[u]):
                given.append(u)
                busy_until[u] = end
                break
        else:
            _no_free_unit(inst, i, t)
    return given


def _assign_in_turn(inst: Instance, q, members, start, order, nights) -> list[int]:
    """`_assign_by_scan` for a pool whose units each have one free stretch, all ending on the
    same day: a unit then suits a stay [t, end) exactly when it is free again by t and its
    stretch has begun, so units wait in a heap by the day they are next free and move to a heap
    of free units (by their place in ``order``) as the stays' start days pass them. The same
    choices as the scan, without walking a pool's hundreds of units for every stay."""
    turn = inst.policy.turnover_days
    stretch_end = q.gaps[order[0]][0][1]
    waiting = [(q.gaps[u][0][0], rank) for rank, u in enumerate(order)]  # (free from, rank)
    heapq.heapify(waiting)
    free: list[int] = []  # ranks of the units free on the current start day
    starts = start[members].tolist()
    lengths = nights[members].tolist()  # nights from each one's start
    given = []
    for i, t, L in zip(members.tolist(), starts, lengths, strict=True):
        end = min(t + L + turn, int(q.occupancy_limit[t]))
        while waiting and waiting[0][0] <= t:
            heapq.heappush(free, heapq.heappop(waiting)[1])
        if not free or end > stretch_end:
            _no_free_unit(inst, i, t)
        rank = heapq.heappop(free)
        given.append(order[rank])
        heapq.heappush(waiting, (end, rank))
    return given


def _no_free_unit(inst: Instance, i: int, t: int) -> None:
    raise AllocatorError(
        f"internal: no free unit for household {inst.household_ids[i]} in its pool on "
        f"{inst.day(t)}; please report this with the input files"
    )
