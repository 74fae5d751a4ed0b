"""Connecting rooms: the rooms of one `Unit.group` that one household may take together.

A household larger than every unit would otherwise wait in a hotel for the whole horizon. Rooms
that connect (a floor's adjoining rooms, say) can hold it together: it is still one household in
one place, never split across places. Which households may combine is the policy's
(`Policy.connecting_rooms`): never, only those that no single unit of the programme fits (the
default), or any household when the cost says so.

A *combination* is a pool of its own (`Pool.parts`): it takes a count of units from each of
its group's physical pools, for the same start and the same departure. Its free count on a day
is how many such sets the parts' free units make; that the sets share rooms is the optimiser's
to respect (each column enters the rows of its parts, `optimiser.model`) and greedy's
(`engine.occupancy`). Only *minimal* combinations are offered: each room is needed, so no
household takes a room it would leave empty. At most `MAX_ROOMS` rooms make one combination.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from allocator.choices import ConnectingRooms
from allocator.engine.pool import NEVER, Pool
from allocator.policy import Policy
from allocator.tables import Tables

MAX_ROOMS = 4  # rooms in one combination, at most: a family of 12 in 4-bed rooms


def may_combine(tables: Tables, policy: Policy, size: np.ndarray, access: np.ndarray) -> np.ndarray:
    """Per household, whether it may take connecting rooms together under the policy.

    ``when_needed``: no unit of the programme (free in the horizon or not) has its beds, with
    step-free access where it needs it, so a single unit could never take it.
    """
    n = len(size)
    mode = policy.connecting_rooms
    if mode is ConnectingRooms.NEVER or not any(u.group for u in tables.units):
        return np.zeros(n, dtype=bool)
    if mode is ConnectingRooms.COMFORT:
        return np.ones(n, dtype=bool)
    beds = np.array([u.capacity for u in tables.units], dtype=np.int64)
    step_free = np.array([u.accessible for u in tables.units], dtype=bool)
    return size > largest_single(beds, step_free, access)


def largest_single(beds: np.ndarray, step_free: np.ndarray, access: np.ndarray) -> np.ndarray:
    """Per household (whether it needs step-free access), the beds of the largest single unit
    that could ever take it: a household larger than that needs connecting rooms."""
    largest = int(beds.max(initial=0))
    largest_step_free = int(beds.max(where=step_free, initial=0))
    return np.where(access, largest_step_free, largest)


def combinations(
    pools: list[Pool], sizes: set[int], horizon: int, turnover_days: int
) -> list[Pool]:
    """The minimal combinations of each group's pools that hold one of ``sizes``, as pools."""
    by_group: dict[str, list[int]] = defaultdict(list)
    for p, q in enumerate(pools):
        if q.group is not None and not q.parts:
            by_group[q.group].append(p)
    found: list[Pool] = []
    for group in sorted(by_group):
        members = by_group[group]
        for counts in _minimal_counts([pools[p] for p in members], sizes):
            parts = tuple((p, k) for p, k in zip(members, counts, strict=True) if k)
            found.append(_combination(pools, group, parts, horizon, turnover_days))
    return found


def _minimal_counts(members: list[Pool], sizes: set[int]) -> list[tuple[int, ...]]:
    """Room counts per pool (in ``members`` order) of at least 2 and at most `MAX_ROOMS` rooms
    whose beds hold some size in ``sizes`` and none of whose rooms is spare for that size.

    The counts are walked pool by pool with the rooms so far carried along, so a group of n
    pools costs the C(n + 4, 4) vectors of at most 4 rooms, not every product of counts."""
    beds = [q.capacity for q in members]
    found: list[tuple[int, ...]] = []

    def walk(k: int, counts: list[int], rooms: int) -> None:
        if k == len(members):
            if rooms >= 2:
                total = sum(c * b for c, b in zip(counts, beds, strict=True))
                smallest = min(b for c, b in zip(counts, beds, strict=True) if c)
                if any(total - smallest < s <= total for s in sizes):
                    found.append(tuple(counts))
            return
        for c in range(min(len(members[k].units), MAX_ROOMS - rooms) + 1):
            walk(k + 1, [*counts, c], rooms + c)

    walk(0, [], 0)
    return found


def _combination(
    pools: list[Pool], group: str, parts: tuple[tuple[int, int], ...], horizon: int, turn: int
) -> Pool:
    """The pool of one combination: sets of its parts' free units, day by day.

    A stay in it must depart ``turnover_days`` before any of its rooms leaves the programme, so
    that its occupancy, turnover included, is counted in full in every part.
    """
    free = np.min([pools[p].free // k for p, k in parts], axis=0)
    departure = np.min(
        [
            np.minimum(
                pools[p].departure_limit,
                np.where(pools[p].occupancy_limit >= NEVER, NEVER, pools[p].occupancy_limit - turn),
            )
            for p, _ in parts
        ],
        axis=0,
    )
    first = pools[parts[0][0]]
    return Pool(
        capacity=sum(pools[p].capacity * k for p, k in parts),
        kind=first.kind,
        accessible=all(pools[p].accessible for p, _ in parts),
        free=free.astype(np.int64),
        departure_limit=np.where(free > 0, departure, -1).astype(np.int64),
        occupancy_limit=np.min([pools[p].occupancy_limit for p, _ in parts], axis=0),
        units=[],
        gaps={},
        district=first.district,
        group=group,
        parts=parts,
        smallest_part=min(pools[p].capacity for p, _ in parts),
    )


def footprint(pools: list[Pool]) -> tuple[np.ndarray, np.ndarray]:
    """Per pool, the physical pools a stay in it occupies and how many units of each: arrays
    pools x slots (a physical pool occupies itself once; unused slots count 0)."""
    slots = max((len(q.parts) for q in pools), default=1) or 1
    where = np.zeros((len(pools), slots), dtype=np.int64)
    count = np.zeros((len(pools), slots), dtype=np.int64)
    for p, q in enumerate(pools):
        for j, (part, k) in enumerate(q.parts or ((p, 1),)):
            where[p, j], count[p, j] = part, k
    return where, count
