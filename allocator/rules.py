"""The engine's rules for a stay and for the dates of a table: one set of pure functions, called by
the plan's table checks (`allocator.tables`) and by the ledger (`allocator.ledger.rules`), so that
the two refuse the same input for the same reason.

Each check returns a `Broken` (the rule's name and what is wrong, in words) or None; the caller
raises it as an `InputError` with where it happened: a table's file, row and column, or the
ledger's operation and the stay in the way. The rules:

- ``capacity``: a household fits its unit's beds;
- ``accessibility``: a household that needs a step-free unit gets one;
- ``availability``: a stay starts on or after its unit's ``available_from`` and departs by its
  ``available_until`` (the day the unit leaves the programme);
- ``no overlap``: two stays in one unit keep the turnover days between them;
- ``never split``: a household is in one unit at a time, or in connecting rooms of one group
  taken together (`check_fit_rooms`);
- ``dates``: a date lies within `allocator.limits.WINDOW_YEARS` of the plan's start (a table) or
  of today (the ledger).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from allocator.errors import _N, Message
from allocator.limits import WINDOW_YEARS, window


@dataclass(frozen=True)
class Broken:
    """A rule a stay or a record breaks: the rule's name, the words, and the column concerned
    (name and words are `Message`s: English text that the console translates)."""

    rule: str
    message: str
    column: str

    def as_message(self) -> Message:
        """``rule 'capacity': household ...``, translatable."""
        return broken_rule(self.rule, self.message)

    def __str__(self) -> str:
        return str(self.as_message())


def broken_rule(rule: str, problem: str) -> Message:
    """``rule '<rule>': <problem>``: how every refusal by a rule starts."""
    name = rule if isinstance(rule, Message) else Message(rule)
    return Message(_N("rule '{rule}': {problem}"), rule=name, problem=problem)


class UnitLike(Protocol):
    """What the rules read of a unit: a `Unit` of a table or a `UnitRow` of the ledger."""

    @property
    def unit_id(self) -> str: ...
    @property
    def capacity(self) -> int: ...
    @property
    def accessible(self) -> bool: ...
    @property
    def available_from(self) -> dt.date | None: ...
    @property
    def available_until(self) -> dt.date | None: ...
    @property
    def group(self) -> str | None: ...


def overlaps(a: tuple[dt.date, dt.date], b: tuple[dt.date, dt.date], turnover_days: int) -> bool:
    """Whether stays [a0, a1) and [b0, b1) in one unit come closer than the turnover days."""
    turn = dt.timedelta(days=turnover_days)
    return a[0] < b[1] + turn and b[0] < a[1] + turn


def overlap_rule(turnover_days: int) -> Message:
    return Message(_N("no overlap (incl. {days} turnover days)"), days=turnover_days)


def check_fit(
    unit: UnitLike,
    household_id: str,
    size: int | None,
    accessible: bool | None,
    start: dt.date,
    end: dt.date,
) -> Broken | None:
    """Capacity, accessibility and the unit's availability window for a stay [start, end).

    ``size`` and ``accessible`` None: not known (a stays table may leave them out), not checked.
    """
    if size is not None and size > unit.capacity:
        return Broken(
            _N("capacity"),
            Message(
                _N("household {household} has {size} persons but unit {unit} has {beds} beds"),
                household=household_id,
                size=size,
                unit=unit.unit_id,
                beds=unit.capacity,
            ),
            "size",
        )
    if accessible and not unit.accessible:
        return Broken(
            _N("accessibility"),
            Message(
                _N("household {household} needs a step-free unit and unit {unit} is not"),
                household=household_id,
                unit=unit.unit_id,
            ),
            "accessible",
        )
    if unit.available_from is not None and start < unit.available_from:
        return Broken(
            _N("availability"),
            Message(
                _N("the stay starts {start} but unit {unit} is available only from {available}"),
                start=start,
                unit=unit.unit_id,
                available=unit.available_from,
            ),
            "start",
        )
    if unit.available_until is not None and end > unit.available_until:
        return Broken(
            _N("availability"),
            Message(
                _N("the stay runs to {end} but unit {unit} leaves the programme on {until}"),
                end=end,
                unit=unit.unit_id,
                until=unit.available_until,
            ),
            "expected_end",
        )
    return None


def check_fit_rooms(
    units: Sequence[UnitLike],
    household_id: str,
    size: int | None,
    accessible: bool | None,
    start: dt.date,
    end: dt.date,
) -> Broken | None:
    """`check_fit` for a stay in one unit or in several connecting rooms taken together.

    Rooms taken together must all be of one ``group`` (they connect): the household is still in
    one place. Their beds add up; each must be step-free if the household needs it, and each
    available for the whole stay. A room that could be left out with the rest still holding the
    household is not taken: that is `allocator.engine`'s rule for choosing rooms, not checked
    here, since a planner may record a roomier stay.
    """
    if len(units) == 1:
        return check_fit(units[0], household_id, size, accessible, start, end)
    groups = {u.group for u in units}
    if None in groups or len(groups) > 1:
        return Broken(
            _N("never split"),
            Message(
                _N(
                    "household {household} is given units {units}, which are not connecting "
                    "rooms of one group: a household is never split across units"
                ),
                household=household_id,
                units="+".join(u.unit_id for u in units),
            ),
            "joined_units",
        )
    beds = sum(u.capacity for u in units)
    if size is not None and size > beds:
        return Broken(
            _N("capacity"),
            Message(
                _N("household {household} has {size} persons but rooms {units} have {beds} beds"),
                household=household_id,
                size=size,
                units="+".join(u.unit_id for u in units),
                beds=beds,
            ),
            "size",
        )
    for unit in units:
        broken = check_fit(unit, household_id, None, accessible, start, end)
        if broken is not None:
            return broken
    return None


def check_dates_in_order(start: dt.date, end: dt.date) -> Broken | None:
    """A stay departs after it starts."""
    if end <= start:
        return Broken(
            _N("dates"),
            Message(_N("expected_end ({end}) must be after start ({start})"), end=end, start=start),
            "expected_end",
        )
    return None


# the date fields of each table, in the order a row is checked
DATE_FIELDS: dict[str, tuple[str, ...]] = {
    "households": ("need_date", "expected_exit_date"),
    "units": ("available_from", "available_until"),
    "stays": ("start", "expected_end"),
}


def check_in_window(day: dt.date, anchor: dt.date, anchor_name: str, column: str) -> Broken | None:
    """A date lies within `WINDOW_YEARS` of ``anchor`` (the plan's start, or today)."""
    lo, hi = window(anchor)
    if lo <= day <= hi:
        return None
    return Broken(
        _N("dates"),
        Message(
            _N(
                "{day} is outside the window of {years} years around {anchor_name} ({anchor}): "
                "expected a date from {first} to {last}"
            ),
            day=day,
            years=WINDOW_YEARS,
            anchor_name=Message(anchor_name),  # "today" or "the plan's start", marked by callers
            anchor=anchor,
            first=lo,
            last=hi,
        ),
        column,
    )


def check_record_dates(
    record: object, kind: str, anchor: dt.date, anchor_name: str
) -> Broken | None:
    """A record's dates lie within `WINDOW_YEARS` of ``anchor`` (the plan's start, or today)."""
    for name in DATE_FIELDS[kind]:
        day = getattr(record, name, None)
        if day is not None:
            broken = check_in_window(day, anchor, anchor_name, name)
            if broken is not None:
                return broken
    return None


def first_overlap(
    spans: Iterable[tuple[dt.date, dt.date]],
    start: dt.date,
    end: dt.date,
    turnover_days: int,
) -> int | None:
    """The position of the first span that a stay [start, end) comes too close to, or None."""
    for k, span in enumerate(spans):
        if overlaps((start, end), span, turnover_days):
            return k
    return None
