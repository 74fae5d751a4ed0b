"""Give every planned stay a concrete unit of its pool.

Within a pool every unit's free stretch ends on the same day and only its first free day differs,
so taking stays in order of start and giving each any unit that is free on that day always succeeds
when no day has more stays than free units (the count the optimiser enforces): a unit that is free
on day t stays free until some later stay takes it. Among free units the cheapest per night is
taken, then the one listed first, so the result is deterministic.
"""

from __future__ import annotations

import numpy as np

from allocator.errors import AllocatorError
from allocator.instance import Instance


def assign_units(inst: Instance, pool: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Unit index per household (-1 when not placed)."""
    unit = np.full(inst.n_households, -1, dtype=np.int64)
    turn = inst.policy.turnover_days
    unit_cost = np.nan_to_num(inst.unit_cost, nan=np.inf)  # no cost given: taken last
    for p, q in enumerate(inst.pools):
        members = np.flatnonzero(pool == p)
        if members.size == 0:
            continue
        members = members[np.lexsort((members, start[members]))]
        cost = unit_cost[q.units]
        order = [q.units[k] for k in np.lexsort((np.arange(len(q.units)), cost))]
        busy_until = {u: -1 for u in order}
        for i in members:
            t = int(start[i])
            end = min(t + int(inst.stay_days[i]) + turn, int(q.occupancy_limit[t]))
            for u in order:
                if busy_until[u] <= t and any(g0 <= t and end <= g1 for g0, g1 in q.gaps[u]):
                    unit[i] = u
                    busy_until[u] = end
                    break
            else:
                raise AllocatorError(
                    f"internal: no free unit for household {inst.household_ids[i]} in its pool on "
                    f"{inst.day(t)}; please report this with the input files"
                )
    return unit
