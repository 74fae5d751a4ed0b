"""The fairness bound (`Policy.fair_wait_days`, #21 part 4), checked from the raw rows.

With the bound at N days, a household is *protected* on a date when its need date is at least N
days before it, it has not moved in by that date (not placed, or placed to start later) and no
planner pinned it. A plan *overtakes* it when, on that date, a household that asked later (a
later need date: the same date is not later) and is not pinned moves into a unit, or into
connecting rooms taken together, that the protected household could have held itself from that
date for its whole stay (`could_hold`). A plan honours the bound when it overtakes nobody.

"Could have held" is judged on its own, as a planner would with the unit's page in front of
them: the household fits (beds, step-free, not forbidden, not pinned elsewhere; for connecting
rooms, the same rooms, which the policy lets it combine and none of which it would leave spare),
the unit is in the programme and free of current stays from that date, and the stay, moving in
then, departs before the unit leaves the programme and before the turnover ahead of the next
current stay booked in it. The other households of the plan (the overtaker included) do not
count, nor do the support and mediation caps: the bound speaks of a unit that fits, and a cap is
a matter of the whole plan.

This is written again from the units and stays table, independently of the engine's pools and
columns (`allocator.engine.optimiser.fairness`), so that a slip in one shows against the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from allocator.testing._raw import Placement, RawInstance, rooms_of
from allocator.testing._rules import _occupancy_violations, placement_violations

# (protected household, household that asked later, the rooms it took, the day it moved in)
Overtaking = tuple[str, str, str, int]


def could_hold(inst: RawInstance, household_id: str, unit: str, day: int) -> bool:
    """Whether the household could hold ``unit`` (one unit, or connecting rooms "R2+R3") from
    ``day`` for its whole stay, on its own: every rule of that one placement holds, against the
    current stays only."""
    placement = {household_id: (unit, day)}
    return not placement_violations(inst, household_id, unit, day) and not (
        _occupancy_violations(inst, placement)
    )


def overtaking_judge(
    inst: RawInstance,
) -> Callable[[str, str, Mapping[str, Placement]], Overtaking | None]:
    """A function ``(waiting, later, placements)`` giving the overtaking of ``waiting`` by
    ``later`` in ``placements`` (households absent from it are not placed), or None.

    It remembers `could_hold` per (household, unit, day): the brute force asks it many times.
    """
    bound = inst.policy.fair_wait_days
    held: dict[tuple[str, str, int], bool] = {}

    def holds(hid: str, unit: str, day: int) -> bool:
        key = (hid, unit, day)
        if key not in held:
            held[key] = could_hold(inst, hid, unit, day)
        return held[key]

    def judge(waiting: str, later: str, placements: Mapping[str, Placement]) -> Overtaking | None:
        if bound is None or waiting == later or later not in placements:
            return None
        if waiting in inst.pins or later in inst.pins:
            return None
        h, g = inst.households[waiting], inst.households[later]
        if not g.need_date > h.need_date:
            return None
        unit, day = placements[later]
        if inst.day(h.need_date) + bound > day:
            return None  # not waited N days yet
        if waiting in placements and placements[waiting][1] <= day:
            return None  # moved in by then
        return (waiting, later, unit, day) if holds(waiting, unit, day) else None

    return judge


def overtakings(inst: RawInstance, placements: Mapping[str, Placement]) -> list[Overtaking]:
    """Every overtaking in a plan (households absent from ``placements`` are not placed), in
    household order; none when the policy sets no bound."""
    if inst.policy.fair_wait_days is None:
        return []
    judge = overtaking_judge(inst)
    found = []
    for waiting in inst.households:
        for later in placements:
            if later in inst.households:
                hit = judge(waiting, later, placements)
                if hit is not None:
                    found.append(hit)
    return found


def overtaking_violations(inst: RawInstance, placements: Mapping[str, Placement]) -> list[str]:
    """The overtakings of a plan as sentences (`overtakings`)."""
    out = []
    for waiting, later, unit, day in overtakings(inst, placements):
        need = inst.households[waiting].need_date
        where = f"rooms {unit}" if len(rooms_of(unit)) > 1 else f"unit {unit}"
        out.append(
            f"household {later} moves into {where} on {inst.date(day)} ahead of household "
            f"{waiting}, who asked earlier ({need}), had waited {day - inst.day(need)} days and "
            f"could have held it (fairness bound {inst.policy.fair_wait_days} days)"
        )
    return out
