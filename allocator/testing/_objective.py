"""A plan's objective recomputed from the raw rows, one household's term at a time.

The terms are those of `allocator.engine.columns`, written out again without the engine's arrays.
"""

from __future__ import annotations

from collections.abc import Mapping

from allocator.districts import resolve
from allocator.domain import Support, UnitKind
from allocator.policy import Policy
from allocator.testing._raw import Placement, RawInstance, rooms_of
from allocator.testing._rules import assignment_violations


def districts_apart(policy: Policy, anchor: str | None, district: str | None) -> int:
    """Borders between a household's anchor and a unit's district: 0 without an anchor; without
    a map 0 for the same name and 1 otherwise; with one, the map's widest distance for a unit whose
    district is not known."""
    if anchor is None:
        return 0
    city = resolve(policy.districts)
    if city is None:
        return 0 if anchor == district else 1
    hops = city.hops()
    if district is None:
        return int(hops.max())
    return int(hops[city.names.index(anchor), city.names.index(district)])


def household_cost(inst: RawInstance, household_id: str, placement: Placement | None) -> float:
    """One household's term of the objective (see `allocator.engine.columns`), from the raw rows,
    with `announcement_cost`."""
    return _plain_cost(inst, household_id, placement) + announcement_cost(
        inst, household_id, placement
    )


def announcement_cost(inst: RawInstance, household_id: str, placement: Placement | None) -> float:
    """The policy's ``announcement_weight`` when an announced household is anywhere but its
    announced unit and day (or not placed), unless that placement breaks a rule on its own (a
    stay over it, the unit gone, the date passed...): a forced change costs nothing."""
    told = inst.announced.get(household_id)
    if told is None or placement == told or assignment_violations(inst, {household_id: told}):
        return 0.0
    return inst.policy.announcement_weight


def _plain_cost(inst: RawInstance, household_id: str, placement: Placement | None) -> float:
    pol = inst.policy
    h = inst.households[household_id]
    weight = pol.urgency_weights[h.urgency]
    release = inst.release(household_id)
    if placement is None:
        nights = max(inst.horizon - release, 0) + pol.terminal_wait_days
        if h.exit_date is not None:  # it leaves the hotel on its exit date
            nights = min(nights, max(inst.day(h.exit_date) - release, 0))
        cost = weight * h.size * nights
        return cost * pol.pin_weight if household_id in inst.pins else cost
    text, day = placement
    # connecting rooms cost as one unit with their beds added up; they share a kind and district
    rooms = [inst.units[r] for r in rooms_of(text)]
    u = rooms[0]
    beds = sum(r.capacity for r in rooms)
    mismatch = (h.support is Support.HIGH and u.kind is UnitKind.FLAT) or (
        h.support is Support.LOW and u.kind is UnitKind.HUB_ROOM
    )
    return (
        weight * h.size * (day - release)
        + pol.wasted_bed_night_weight * (beds - h.size) * inst.stay_length(household_id, day)
        + pol.kind_mismatch_weight * float(mismatch)
        + pol.district_weight * districts_apart(pol, h.anchor_district, u.district)
    )


def assignment_objective(inst: RawInstance, placements: Mapping[str, Placement]) -> float:
    return float(sum(household_cost(inst, h, placements.get(h)) for h in inst.households))
