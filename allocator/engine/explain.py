"""A reason a planner can read for every household, placed or not.

Reasons are worked out from the instance and the final plan, not from the solver's internals, so
the same wording serves every method. They name units, dates and counts, never personal data.
"""

from __future__ import annotations

import numpy as np

from allocator.domain import Support, UnitKind
from allocator.engine.columns import fitting, kind_mismatch
from allocator.engine.greedy import pools_of
from allocator.engine.instance import Instance
from allocator.engine.occupancy import Occupancy
from allocator.engine.result import Method

KIND_LABEL = {UnitKind.HUB_ROOM: "hub room", UnitKind.FLAT: "flat"}


def explain(
    inst: Instance, pool: np.ndarray, start: np.ndarray, unit: np.ndarray, method: Method
) -> list[str]:
    """One reason per household, in input order.

    What every household needs (its first possible start, the smallest unit that fits it) is
    worked out for all households at once, so the loop below only words the reasons.
    """
    fit = fitting(inst, np.arange(len(inst.pools)))
    candidates = pools_of(fit)
    # earliest start in any fitting pool, counting current stays only
    first = Occupancy(inst).first_starts(np.arange(inst.n_households), fit).tolist()
    placed, waiting = np.flatnonzero(pool >= 0), np.flatnonzero(pool < 0)
    final = Occupancy(inst)
    final.add_all(placed, pool[placed], start[placed])
    # once the plan is in: the first day a fitting unit is still free, for those left out
    free_from = np.full(inst.n_households, -1, dtype=np.int64)
    free_from[waiting] = final.first_starts(waiting, fit)
    free_after = free_from.tolist()
    capacity = np.array([q.capacity for q in inst.pools], dtype=np.int64)
    none = np.iinfo(np.int64).max
    smallest = np.where(fit, capacity, none).min(axis=1, initial=none).tolist()
    reasons = []
    for i, (p, t, u) in enumerate(zip(pool.tolist(), start.tolist(), unit.tolist(), strict=True)):
        if p >= 0:
            reasons.append(_placed_reason(inst, i, p, t, u, first[i], smallest[i]))
        else:
            reasons.append(
                _not_placed_reason(inst, i, method, candidates[i], first[i], free_after[i], final)
            )
    return reasons


def _placed_reason(inst, i, p, t, u, first, smallest) -> str:
    q = inst.pools[p]
    size = int(inst.size[i])
    beds = "1 bed" if q.capacity == 1 else f"{q.capacity} beds"
    parts = [f"{KIND_LABEL[q.kind]} {inst.unit_ids[u]} ({beds} for {size})"]
    if inst.pinned_pool[i] == p:
        parts.append("pinned by the planner")
    if t == inst.release[i]:
        parts.append(
            "free on the need date" if inst.need_day[i] >= 0 else "free at the plan's start"
        )
    elif t == first:
        parts.append(
            f"the first day a fitting unit frees up ({t - inst.release[i]} days of waiting)"
        )
    else:
        parts.append(
            f"fitting units free from {inst.day(first)} went to other households "
            "(more urgent, larger or with fewer fitting units)"
        )
    if q.capacity == smallest:
        parts.append("smallest unit size that fits")
    else:
        parts.append(f"larger than needed: no {smallest}-bed unit that fits was free then")
    support = inst.support[i]
    if support is Support.HIGH and q.kind is UnitKind.HUB_ROOM:
        parts.append("hub room for high support")
    elif support is Support.LOW and q.kind is UnitKind.FLAT:
        parts.append("flat for autonomy (low support)")
    elif kind_mismatch(inst, q.kind, support):
        other = "hub room" if q.kind is UnitKind.FLAT else "flat"
        parts.append(f"{support.value} support but no fitting {other} was free as early")
    return "; ".join(parts)


def _not_placed_reason(inst, i, method, pools, first, free_after, final: Occupancy) -> str:
    H = inst.horizon
    size = int(inst.size[i])
    if method is Method.HOTEL:
        return "hotel-only baseline: nobody is placed"
    if inst.release[i] >= H:
        return f"need date {inst.day(inst.need_day[i])} is after the horizon ends ({inst.day(H)}): plan it in a later batch"
    big = inst.unit_capacity >= size
    if not big.any():
        return f"no unit has {size} beds (the largest has {int(inst.unit_capacity.max())})"
    if inst.needs_access[i] and not (big & inst.unit_access).any():
        return f"needs a step-free unit and no step-free unit has {size} beds"
    if inst.pinned_pool[i] >= 0:
        return "pinned by the planner to a unit that cannot take it within the horizon (size, access or busy)"
    if pools.size == 0:
        if any(f == i for f, _ in inst.forbidden):
            return "every unit that fits is forbidden for it by the planner"
        return f"every unit with {size} beds{' and step-free access' if inst.needs_access[i] else ''} is busy or out of the programme through the horizon"
    if first < 0:
        return (
            f"no fitting unit is free for a {int(inst.stay_days[i])}-night stay within the horizon "
            f"({pools.size} unit group(s) fit, all busy or leaving the programme)"
        )
    if free_after < 0:
        queue = (
            "earlier in the queue"
            if method is Method.GREEDY
            else "placed instead (a lower total of urgency-weighted hotel nights)"
        )
        return f"all fitting units are taken through the horizon by current stays and households {queue}"
    with_support = final.earliest_starts(i, pools, mediation=False)
    if (with_support < 0).all():
        return f"accompaniment capacity is full whenever a fitting unit is free (team load cap {inst.policy.support_capacity})"
    with_all = final.earliest_starts(i, pools)
    if (with_all < 0).all():
        lang = inst.languages[int(inst.language[i])]
        return f"mediation capacity for {lang} is full whenever a fitting unit is free"
    return f"a fitting unit is free from {inst.day(int(with_all[with_all >= 0].min()))} but the run stopped before placing it"
