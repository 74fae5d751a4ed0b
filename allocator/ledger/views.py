"""What the ledger reports, as pure functions of its tables: `status` today and `history` per week.

Both take the stored tables as DataFrames (as `Ledger.table` gives them; only the columns named
below are read) and the policy, and touch no database, so they are tested on hand-built frames.

- ``units``: unit_id, kind, capacity, available_from, available_until, district (may be left out)
- ``households``: household_id, size, urgency, need_date, expected_exit_date (may be left out:
  no household has an exit date), anchor_district (may be left out)
- ``stays``: stay_id, household_id, unit_id, start, expected_end, moved_in, actual_end,
  exit_pathway (the last three may be left out: nobody moved in or left yet), joined_units (may
  be left out: no stay in connecting rooms)

A stay in connecting rooms (``joined_units``) holds each of its rooms: each is occupied, not free,
and counts its nights; its household is counted once.
- ``batches`` (history only, optional): week

Dates may be `datetime.date`, pandas timestamps or ISO text; None, NaN and NaT mean no date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from allocator.ledger.rules import EXIT_PATHWAYS, as_date, interval, rooms, shown
from allocator.policy import Policy

OCCUPANCY_COLUMNS = [
    "unit_id",
    "kind",
    "capacity",
    "state",
    "household_id",
    "persons",
    "since",
    "expected_end",
    "expected_exit_date",
    "district",
    "rooms",
]
WAITING_COLUMNS = [
    "household_id",
    "size",
    "urgency",
    "need_date",
    "expected_exit_date",
    "waiting_days",
    "anchor_district",
]
OVERDUE_COLUMNS = [
    "stay_id",
    "household_id",
    "unit_id",
    "moved_in",
    "expected_end",
    "expected_exit_date",
    "days_in",
    "days_past_expected_end",
    "past_max_stay",
    "joined_units",
]
FREE_COLUMNS = ["unit_id", "kind", "capacity", "free_from", "free_until", "district"]
# shown only when some unit or household names one: a ledger without districts reads as before
DISTRICT_COLUMNS = ("district", "anchor_district")
# shown only when some stay holds connecting rooms: the stay's rooms, "H1.01+H1.02"
ROOMS_COLUMNS = ("rooms", "joined_units")
HISTORY_COLUMNS = [
    "week",
    "unit_nights_available",
    "unit_nights_occupied",
    "occupancy",
    "persons_housed",
    "stays",
    "average_stay_days",
    "longest_stay_days",
    "exits",
    *[f"exits_{p}" for p in EXIT_PATHWAYS],
    "over_max_stay",
    "turnover_days_lost",
    "hotel_person_nights",
]
DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(days=7)


# --- the tables' rows, with plain Python values ----------------------------------------------


def _missing(value: Any) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _date(value: Any) -> dt.date | None:
    """A date or None, from what a DataFrame may hold (date, Timestamp, text, NaT, NaN)."""
    return None if _missing(value) else as_date(value, "date")


def _text(value: Any) -> str | None:
    return None if _missing(value) else str(value)


@dataclass(frozen=True)
class _Unit:
    unit_id: str
    kind: str
    capacity: int
    available_from: dt.date | None
    available_until: dt.date | None
    district: str | None = None


@dataclass(frozen=True)
class _Household:
    household_id: str
    size: int
    urgency: int
    need_date: dt.date
    expected_exit_date: dt.date | None = None  # None: the stay runs for a length from move-in
    anchor_district: str | None = None  # the district of the school or the work


@dataclass(frozen=True)
class _Stay:
    stay_id: int
    household_id: str
    unit_id: str
    start: dt.date
    expected_end: dt.date
    moved_in: dt.date | None
    actual_end: dt.date | None
    exit_pathway: str | None
    joined_units: str | None = None  # connecting rooms taken with unit_id, "+"-joined


def _rows(frame: pd.DataFrame) -> Iterable[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _units(frame: pd.DataFrame) -> list[_Unit]:
    units = [
        _Unit(
            str(r["unit_id"]),
            str(r["kind"]),
            int(r["capacity"]),
            _date(r.get("available_from")),
            _date(r.get("available_until")),
            _text(r.get("district")),
        )
        for r in _rows(frame)
    ]
    return sorted(units, key=lambda u: u.unit_id)


def _households(frame: pd.DataFrame) -> dict[str, _Household]:
    return {
        str(r["household_id"]): _Household(
            str(r["household_id"]),
            int(r["size"]),
            int(r["urgency"]),
            as_date(r["need_date"], "need_date"),
            _date(r.get("expected_exit_date")),
            _text(r.get("anchor_district")),
        )
        for r in _rows(frame)
    }


def _stays(frame: pd.DataFrame) -> list[_Stay]:
    stays = [
        _Stay(
            int(r["stay_id"]),
            str(r["household_id"]),
            str(r["unit_id"]),
            as_date(r["start"], "start"),
            as_date(r["expected_end"], "expected_end"),
            _date(r.get("moved_in")),
            _date(r.get("actual_end")),
            _text(r.get("exit_pathway")),
            _text(r.get("joined_units")),
        )
        for r in _rows(frame)
    ]
    return sorted(stays, key=lambda st: st.stay_id)


def _by_unit(stays: list[_Stay]) -> dict[str, list[_Stay]]:
    """The stays holding each unit: a stay in connecting rooms under each of its rooms."""
    by_unit: dict[str, list[_Stay]] = {}
    for st in stays:
        for room in rooms(st):
            by_unit.setdefault(room, []).append(st)
    return by_unit


# --- status ----------------------------------------------------------------------------------


def status(
    tables: dict[str, pd.DataFrame], policy: Policy, today: dt.date, weeks: int = 4
) -> dict[str, pd.DataFrame]:
    """The ledger on ``today``, as DataFrames.

    ``summary`` (one row of key figures), ``occupancy`` (each unit today), ``waiting``
    (households without a stay and for how long), ``overdue`` (stays past their expected end
    or past the policy's max stay) and ``free`` (free stretches of each unit in the next
    ``weeks`` weeks, turnover included).
    """
    units = _units(tables["units"])
    households = _households(tables["households"])
    stays = _stays(tables["stays"])
    by_unit = _by_unit(stays)
    occupancy = _occupancy(units, households, by_unit, today)
    waiting = _waiting(households, {st.household_id for st in stays}, today)
    overdue = _overdue(stays, households, policy, today)
    free = _free(units, by_unit, policy, today, weeks)
    summary = pd.DataFrame(
        [
            {
                "today": today,
                "units": len(units),
                "units_occupied": int(
                    (occupancy.state != "free").sum() - (occupancy.state == "closed").sum()
                ),
                # a household in connecting rooms shows in each of them: counted once
                "persons_housed": int(occupancy.drop_duplicates("household_id").persons.sum()),
                "households_waiting": len(waiting),
                "average_wait_days": float(waiting.waiting_days.mean()) if len(waiting) else 0.0,
                "longest_wait_days": int(waiting.waiting_days.max()) if len(waiting) else 0,
                "stays_past_expected_end": int((overdue.days_past_expected_end > 0).sum()),
                "stays_past_max_stay": int(overdue.past_max_stay.sum()),
                "units_free_next_weeks": int(free.unit_id.nunique()),
            }
        ]
    )
    return {
        "summary": summary,
        "occupancy": occupancy,
        "waiting": waiting,
        "overdue": overdue,
        "free": free,
    }


def _occupancy(
    units: list[_Unit],
    households: dict[str, _Household],
    by_unit: dict[str, list[_Stay]],
    today: dt.date,
) -> pd.DataFrame:
    """Each unit today: free, occupied, planned but move-in not recorded, or closed."""
    rows = []
    for u in units:
        present = None
        for st in by_unit.get(u.unit_id, []):
            a, b = interval(st, until=today + DAY)
            if a <= today < b:
                present = st
        state = "free"
        if present is not None:
            state = "occupied" if present.moved_in else "move-in not recorded"
        closed = (u.available_from is not None and today < u.available_from) or (
            u.available_until is not None and today >= u.available_until
        )
        rows.append(
            {
                "unit_id": u.unit_id,
                "kind": u.kind,
                "capacity": u.capacity,
                "state": "closed" if closed and present is None else state,
                "household_id": present.household_id if present else None,
                "persons": households[present.household_id].size if present else 0,
                "since": (present.moved_in or present.start) if present else None,
                "expected_end": present.expected_end if present else None,
                "expected_exit_date": (
                    households[present.household_id].expected_exit_date if present else None
                ),
                "district": u.district,
                "rooms": shown(present) if present and present.joined_units else None,
            }
        )
    return _without_empty_districts(pd.DataFrame(rows, columns=OCCUPANCY_COLUMNS))


def _waiting(households: dict[str, _Household], housed: set[str], today: dt.date) -> pd.DataFrame:
    """Households without a stay, longest wait first (then the most urgent)."""
    rows = [
        {
            "household_id": h.household_id,
            "size": h.size,
            "urgency": h.urgency,
            "need_date": h.need_date,
            "expected_exit_date": h.expected_exit_date,
            "waiting_days": max(0, (today - h.need_date).days),
            "anchor_district": h.anchor_district,
        }
        for h in households.values()
        if h.household_id not in housed
    ]
    waiting = _without_empty_districts(pd.DataFrame(rows, columns=WAITING_COLUMNS))
    return waiting.sort_values(
        ["waiting_days", "urgency", "household_id"], ascending=[False, False, True]
    ).reset_index(drop=True)


def _overdue(
    stays: list[_Stay], households: dict[str, _Household], policy: Policy, today: dt.date
) -> pd.DataFrame:
    """Households in a unit whose expected end is today or past, or past the max stay.

    The same for both kinds of household: an exit-dated stay's expected end is its exit date, or
    the max stay from its move-in when that comes first (`allocator.ledger.stays`).
    """
    rows = []
    for st in stays:
        if st.actual_end is not None or st.moved_in is None:
            continue
        days_in = (today - st.moved_in).days
        past_end = max(0, (today - st.expected_end).days)
        past_max = days_in > policy.max_stay_days
        if past_end > 0 or past_max or st.expected_end == today:
            rows.append(
                {
                    "stay_id": st.stay_id,
                    "household_id": st.household_id,
                    "unit_id": st.unit_id,
                    "moved_in": st.moved_in,
                    "expected_end": st.expected_end,
                    "expected_exit_date": households[st.household_id].expected_exit_date,
                    "days_in": days_in,
                    "days_past_expected_end": past_end,
                    "past_max_stay": past_max,
                    "joined_units": st.joined_units or None,
                }
            )
    return _without_empty_districts(pd.DataFrame(rows, columns=OVERDUE_COLUMNS))


def _free(
    units: list[_Unit],
    by_unit: dict[str, list[_Stay]],
    policy: Policy,
    today: dt.date,
    weeks: int,
) -> pd.DataFrame:
    """Free stretches of each unit from today for ``weeks`` weeks, turnover after each stay.

    An open-ended stretch (free to the window's end) has no ``free_until``.
    """
    turn = dt.timedelta(days=policy.turnover_days)
    window_end = today + weeks * WEEK
    rows = []
    for u in units:
        lo = max(today, u.available_from or today)
        hi = min(window_end, u.available_until or window_end)
        spans = (interval(st, until=today + DAY) for st in by_unit.get(u.unit_id, []))
        busy = sorted((a, b + turn) for a, b in spans)
        stretches: list[tuple[dt.date, dt.date | None]] = []
        cursor = lo
        for a, b in busy:
            if a > cursor and cursor < hi:
                stretches.append((cursor, min(a, hi)))
            cursor = max(cursor, b)
        if cursor < hi:
            stretches.append((cursor, None if hi == window_end else hi))
        rows += [
            {
                "unit_id": u.unit_id,
                "kind": u.kind,
                "capacity": u.capacity,
                "free_from": a,
                "free_until": b,
                "district": u.district,
            }
            for a, b in stretches
        ]
    return _without_empty_districts(pd.DataFrame(rows, columns=FREE_COLUMNS))


def _without_empty_districts(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without its district column when no row names a district, and without its
    rooms column when no stay holds connecting rooms."""
    optional = (*DISTRICT_COLUMNS, *ROOMS_COLUMNS)
    empty = [c for c in optional if c in frame.columns and frame[c].isna().all()]
    return frame.drop(columns=empty)


# --- history ---------------------------------------------------------------------------------


def history(
    tables: dict[str, pd.DataFrame],
    policy: Policy,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Rotation figures per week, from ``start`` (default: the first batch's week) to ``end``.

    Columns: week, unit_nights_available, unit_nights_occupied, occupancy, persons_housed
    (average per night), stays, average_stay_days and longest_stay_days (length so far of
    stays present in the week, at its end), exits and exits_<pathway>, over_max_stay (stays
    present at the week's end that are longer than the policy's max stay), turnover_days_lost
    (days units stood empty between a stay and the next one starting in the week) and
    hotel_person_nights (nights of households needing a place and not yet in a unit; a household
    with an expected exit date is not counted past it, as the engine counts it).
    A household still in its unit past its expected end counts as present to the last week.
    """
    units = _units(tables["units"])
    households = _households(tables["households"])
    stays = _stays(tables["stays"])
    batches = tables.get("batches")
    batch_weeks = [as_date(w, "week") for w in batches["week"]] if batches is not None else []
    first, last = _history_range(batch_weeks, stays, start, end)
    if first is None or last is None or last <= first:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    spans = {st.stay_id: interval(st, until=last) for st in stays}
    previous = _previous_ends(stays, spans)
    moved = {st.household_id: spans[st.stay_id][0] for st in stays}
    rows = []
    ws = first
    while ws < last:
        rows.append(_week(ws, units, households, stays, spans, previous, moved, policy))
        ws += WEEK
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def _history_range(
    batch_weeks: list[dt.date], stays: list[_Stay], start: dt.date | None, end: dt.date | None
) -> tuple[dt.date | None, dt.date | None]:
    """The weeks to report: from the first batch (or stay), through the last recorded event."""
    first = start
    if first is None and batch_weeks:
        first = min(batch_weeks)
    elif first is None and stays:
        first = min(interval(st)[0] for st in stays)
    if end is not None or first is None:
        return first, end
    # through the last batch's week and the last recorded move-in or exit
    recorded = [d for st in stays for d in (st.moved_in, st.actual_end) if d is not None]
    last = max([first + WEEK] + [w + WEEK for w in batch_weeks] + [d + DAY for d in recorded])
    return first, last


def _previous_ends(
    stays: list[_Stay], spans: dict[int, tuple[dt.date, dt.date]]
) -> dict[int, list[dt.date]]:
    """For each stay, when the stay before it in each of its units ended (none for a unit's
    first): one date per room for a stay in connecting rooms."""
    previous: dict[int, list[dt.date]] = {st.stay_id: [] for st in stays}
    for unit_stays in _by_unit(stays).values():
        unit_stays.sort(key=lambda st: spans[st.stay_id][0])
        for before, st in zip(unit_stays, unit_stays[1:], strict=False):
            previous[st.stay_id].append(spans[before.stay_id][1])
    return previous


def _nights(a: dt.date, b: dt.date, ws: dt.date, we: dt.date) -> int:
    """Nights of [a, b) within the week [ws, we)."""
    return max(0, (min(b, we) - max(a, ws)).days)


def _week(
    ws: dt.date,
    units: list[_Unit],
    households: dict[str, _Household],
    stays: list[_Stay],
    spans: dict[int, tuple[dt.date, dt.date]],
    previous: dict[int, list[dt.date]],
    moved: dict[str, dt.date],
    policy: Policy,
) -> dict[str, Any]:
    """One row of `history`: the week starting ``ws``."""
    we = ws + WEEK
    far = dt.date.max
    avail = sum(
        _nights(u.available_from or dt.date.min, u.available_until or far, ws, we) for u in units
    )
    occupied = persons = over = lost = 0
    lengths = []
    exits = dict.fromkeys(EXIT_PATHWAYS, 0)
    for st in stays:
        a, b = spans[st.stay_id]
        n = _nights(a, b, ws, we)
        occupied += n * len(rooms(st))  # each connecting room taken is a unit occupied
        persons += n * households[st.household_id].size
        if n:
            length = (min(b, we) - a).days
            lengths.append(length)
            if b >= we and length > policy.max_stay_days:
                over += 1
        if st.actual_end is not None and ws <= st.actual_end < we:
            pathway = str(st.exit_pathway)
            exits[pathway] = exits.get(pathway, 0) + 1
        if ws <= a < we:
            lost += sum(max(0, (a - before).days) for before in previous[st.stay_id])
    hotel = sum(
        _nights(
            h.need_date, min(moved.get(h.household_id, far), h.expected_exit_date or far), ws, we
        )
        * h.size
        for h in households.values()
    )
    return {
        "week": ws,
        "unit_nights_available": avail,
        "unit_nights_occupied": occupied,
        "occupancy": round(occupied / avail, 4) if avail else 0.0,
        "persons_housed": round(persons / 7, 2),
        "stays": len(lengths),
        "average_stay_days": round(sum(lengths) / len(lengths), 1) if lengths else 0.0,
        "longest_stay_days": max(lengths, default=0),
        "exits": sum(exits.values()),
        **{f"exits_{p}": exits[p] for p in EXIT_PATHWAYS},
        "over_max_stay": over,
        "turnover_days_lost": lost,
        "hotel_person_nights": hotel,
    }
