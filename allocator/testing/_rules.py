"""The hard rules of a plan, checked from the raw rows day by day and unit by unit.

See `allocator.testing` for the rules in words. Each function returns the rules broken as
sentences; an empty list means none is.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping

import numpy as np

from allocator.choices import ConnectingRooms
from allocator.testing._raw import Placement, RawInstance, rooms_of

MAX_ROOMS = 4  # connecting rooms taken together for one household, at most


def placement_violations(inst: RawInstance, household_id: str, unit_id: str, day: int) -> list[str]:
    """Rules that concern one placement alone (fit, dates, window, pins, forbids); ``unit_id``
    may name connecting rooms taken together ("R2+R3", `combined_violations`)."""
    if len(rooms_of(unit_id)) > 1:
        return combined_violations(inst, household_id, rooms_of(unit_id), day)
    h = inst.households[household_id]
    u = inst.units.get(unit_id)
    who = f"household {household_id}"
    if u is None:
        return [f"{who} is placed in unit {unit_id}, which is not in the units table"]
    out = []
    if u.capacity < h.size:
        out.append(f"{who} has {h.size} persons but unit {unit_id} has only {u.capacity} beds")
    if h.accessible and not u.accessible:
        out.append(f"{who} needs a step-free unit but unit {unit_id} is not step-free")
    begin = inst.date(day)
    out += _start_violations(inst, who, h.need_date, day)
    if u.available_from is not None and begin < u.available_from:
        out.append(
            f"{who} starts in unit {unit_id} on {begin}, before the unit is available "
            f"({u.available_from})"
        )
    if h.exit_date is not None and begin >= h.exit_date:
        out.append(f"{who} starts on {begin}, on or after its expected exit date {h.exit_date}")
    departure = begin + dt.timedelta(days=max(inst.stay_length(household_id, day), 0))
    if u.available_until is not None and departure > u.available_until:
        out.append(
            f"{who} departs unit {unit_id} on {departure}, after the unit leaves the programme "
            f"({u.available_until})"
        )
    pin = inst.pins.get(household_id)
    if pin is not None and pin != unit_id:
        out.append(f"{who} is pinned to unit {pin} but placed in unit {unit_id}")
    if (household_id, unit_id) in inst.forbids:
        out.append(f"{who} is placed in unit {unit_id}, which the planner forbade for it")
    return out


def may_combine(inst: RawInstance, household_id: str) -> bool:
    """Whether the policy lets the household take connecting rooms together: never with
    ``never``; with ``when_needed`` only when it has more persons than every unit of the units
    table has beds (every step-free unit, when it needs one), free in the horizon or not; always
    with ``comfort``."""
    mode = ConnectingRooms(inst.policy.connecting_rooms)
    if mode is ConnectingRooms.COMFORT:
        return True
    if mode is ConnectingRooms.NEVER:
        return False
    h = inst.households[household_id]
    fitting = [u.capacity for u in inst.units.values() if u.accessible or not h.accessible]
    return all(h.size > beds for beds in fitting)


def combined_violations(
    inst: RawInstance, household_id: str, rooms: tuple[str, ...], day: int
) -> list[str]:
    """The rules of one placement in several connecting rooms taken together.

    The rooms are distinct, of one group, 2 to `MAX_ROOMS` of them, and minimal for the household:
    their beds hold it, and without the smallest room they would not. Each room is step-free if
    the household needs it, and each is available for the whole stay, which departs at least
    the turnover days before any room leaves the programme. The policy lets the household
    combine (`may_combine`); a pinned household takes only its unit; a forbidden room forbids
    every combination with it. The dates of the household (need date, horizon, exit date) are
    those of any placement.
    """
    h = inst.households[household_id]
    who = f"household {household_id}"
    text = "+".join(rooms)
    missing = [r for r in rooms if r not in inst.units]
    if missing:
        return [f"{who} is placed in unit {missing[0]}, which is not in the units table"]
    units = [inst.units[r] for r in rooms]
    out = []
    if len(set(rooms)) != len(rooms):
        out.append(f"{who} is placed in rooms {text}, which repeat a room")
    groups = {u.group for u in units}
    if None in groups or len(groups) > 1:
        out.append(
            f"{who} is placed in units {text}, which are not connecting rooms of one group: "
            "a household is never split"
        )
    if not 2 <= len(rooms) <= MAX_ROOMS:
        out.append(f"{who} is placed in {len(rooms)} connecting rooms; at most {MAX_ROOMS}")
    beds = sum(u.capacity for u in units)
    smallest = min(u.capacity for u in units)
    if beds < h.size:
        out.append(f"{who} has {h.size} persons but rooms {text} have only {beds} beds")
    elif beds - smallest >= h.size:
        out.append(
            f"{who} has {h.size} persons: rooms {text} ({beds} beds) hold it without a room of "
            f"{smallest} beds, which would be spare"
        )
    if h.accessible and not all(u.accessible for u in units):
        out.append(f"{who} needs step-free rooms but not every room of {text} is step-free")
    if not may_combine(inst, household_id):
        out.append(
            f"{who} is placed in connecting rooms {text}, which the policy "
            f"(connecting_rooms={ConnectingRooms(inst.policy.connecting_rooms).value}) does not "
            "allow for it"
        )
    begin = inst.date(day)
    out += _start_violations(inst, who, h.need_date, day)
    if h.exit_date is not None and begin >= h.exit_date:
        out.append(f"{who} starts on {begin}, on or after its expected exit date {h.exit_date}")
    departure = begin + dt.timedelta(days=_nights(inst, household_id, day))
    freed = departure + dt.timedelta(days=inst.policy.turnover_days)
    for r, u in zip(rooms, units, strict=True):
        if u.available_from is not None and begin < u.available_from:
            out.append(
                f"{who} starts in room {r} on {begin}, before the room is available "
                f"({u.available_from})"
            )
        if u.available_until is not None and freed > u.available_until:
            out.append(
                f"{who} departs rooms {text} on {departure}, less than the turnover days before "
                f"room {r} leaves the programme ({u.available_until})"
            )
        if (household_id, r) in inst.forbids:
            out.append(f"{who} is placed in rooms {text}; the planner forbade room {r} for it")
    pin = inst.pins.get(household_id)
    if pin is not None:
        out.append(f"{who} is pinned to unit {pin} but placed in connecting rooms {text}")
    return out


def _occupancy_violations(inst: RawInstance, placements: Mapping[str, Placement]) -> list[str]:
    turn = inst.policy.turnover_days
    # per unit: (first day, first day free again, label, is new); days may be negative
    spans: dict[str, list[tuple[int, int, str, bool]]] = defaultdict(list)
    # a stay or placement in connecting rooms occupies every one of its rooms
    for s in inst.stays:
        for uid in s.units:
            spans[uid].append(
                (
                    inst.day(s.start),
                    inst.day(s.expected_end) + turn,
                    f"current stay {s.household_id}",
                    False,
                )
            )
    for hid, (text, day) in placements.items():
        for uid in dict.fromkeys(rooms_of(text)):
            if uid not in inst.units:
                continue
            spans[uid].append((day, day + _nights(inst, hid, day) + turn, f"household {hid}", True))
    out = []
    for uid, items in spans.items():
        unit = inst.units.get(uid)
        if unit is not None and unit.available_until is not None:
            # the unit leaves the programme: no turnover (nor anything else) is counted after that
            limit = inst.day(unit.available_until)
            items = [(a, min(b, limit), who, new) for a, b, who, new in items]
        items = sorted(items)
        for k, (a1, b1, who1, new1) in enumerate(items):
            for a2, b2, who2, new2 in items[k + 1 :]:
                if a2 >= b1:
                    break
                if (new1 or new2) and a1 < b1 and a2 < b2:
                    out.append(
                        f"unit {uid}: {who1} (days {inst.date(a1)} to {inst.date(b1)}, turnover "
                        f"included) overlaps {who2} (from {inst.date(a2)})"
                    )
    return out


def _nights(inst: RawInstance, household_id: str, day: int) -> int:
    """The stay's nights from ``day``; none for a start on or after the exit date (a broken rule
    `placement_violations` reports)."""
    return max(inst.stay_length(household_id, day), 0)


def _presence(start_day: int, end_day: int, horizon: int) -> range:
    return range(max(start_day, 0), min(end_day, horizon))


def _capacity_violations(inst: RawInstance, placements: Mapping[str, Placement]) -> list[str]:
    pol = inst.policy
    H = inst.horizon
    out = []
    if pol.support_capacity is not None:
        current = np.zeros(H, dtype=np.int64)
        new = np.zeros(H, dtype=np.int64)
        for s in inst.stays:
            level = s.support or pol.existing_stay_support
            for d in _presence(inst.day(s.start), inst.day(s.expected_end), H):
                current[d] += pol.support_loads[level]
        for hid, (_, day) in placements.items():
            h = inst.households[hid]
            for d in _presence(day, day + _nights(inst, hid, day), H):
                new[d] += pol.support_loads[h.support]
        bad = np.flatnonzero((new > 0) & (current + new > pol.support_capacity))
        if bad.size:
            d = int(bad[0])
            out.append(
                f"support load {int(current[d] + new[d])} ({int(current[d])} from current stays) "
                f"exceeds the cap {pol.support_capacity} on {inst.date(d)} "
                f"({bad.size} day(s) in all)"
            )
    languages = {h.language for h in inst.households.values() if h.language}
    for g in sorted(languages):
        cap = pol.mediation_cap(g)
        if cap is None:
            continue
        current = np.zeros(H, dtype=np.int64)
        new = np.zeros(H, dtype=np.int64)
        for s in inst.stays:
            if s.language == g:
                for d in _presence(inst.day(s.start), inst.day(s.expected_end), H):
                    current[d] += 1
        for hid, (_, day) in placements.items():
            h = inst.households[hid]
            if h.language == g:
                for d in _presence(day, day + _nights(inst, hid, day), H):
                    new[d] += 1
        bad = np.flatnonzero((new > 0) & (current + new > cap))
        if bad.size:
            d = int(bad[0])
            out.append(
                f"{int(current[d] + new[d])} households need {g} mediation on {inst.date(d)} "
                f"({int(current[d])} from current stays), above the cap {cap} "
                f"({bad.size} day(s) in all)"
            )
    return out


def assignment_violations(inst: RawInstance, placements: Mapping[str, Placement]) -> list[str]:
    """Every rule a set of placements breaks (households not in ``placements`` are not placed).

    Removing a placement never breaks a rule, so this also decides whether a partial plan can still
    be completed (by leaving the rest out): handy for enumerating plans.
    """
    out = []
    for hid, (uid, day) in placements.items():
        if hid not in inst.households:
            out.append(f"household {hid} is not in the households table")
            continue
        out.extend(placement_violations(inst, hid, uid, day))
    known = {h: p for h, p in placements.items() if h in inst.households}
    out.extend(_occupancy_violations(inst, known))
    out.extend(_capacity_violations(inst, known))
    return out


def free_days(inst: RawInstance, unit_id: str) -> list[int]:
    """Days of the horizon on which a unit is in the programme and free of current stays.

    A current stay occupies its unit (every room it holds) up to its ``expected_end`` plus the
    turnover. These are the days a new stay could start there, households' sizes, dates and
    lengths aside.
    """
    u = inst.units[unit_id]
    first = 0 if u.available_from is None else max(0, inst.day(u.available_from))
    last = (
        inst.horizon
        if u.available_until is None
        else min(inst.horizon, inst.day(u.available_until))
    )
    turn = inst.policy.turnover_days
    busy = [
        (inst.day(s.start), inst.day(s.expected_end) + turn)
        for s in inst.stays
        if unit_id in s.units
    ]
    return [d for d in range(first, last) if not any(a <= d < b for a, b in busy)]


def _start_violations(inst, who: str, need_date: dt.date, day: int) -> list[str]:
    """A start within the horizon and not before the need date, in one unit or in several."""
    begin = inst.date(day)
    out = []
    if day < 0:
        out.append(f"{who} starts on {begin}, before the plan start {inst.start}")
    if day >= inst.horizon:
        out.append(
            f"{who} starts on {begin}, after the horizon's last day {inst.date(inst.horizon - 1)}"
        )
    if begin < need_date:
        out.append(f"{who} starts on {begin}, before its need date {need_date}")
    return out
