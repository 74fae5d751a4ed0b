"""What the ledger accepts: dates, exit pathways, and the engine's rules for one stay.

The engine's rules are `allocator.rules`' pure functions, the very ones the plan's table checks
call, so the ledger and `allocator plan` refuse the same input for the same reason; this module
words them for the ledger's operations, and `check_stay` gathers what they need from the open
transaction. Every refusal is an `InputError` that names the rule and the stay in the way. A date
a user gives the ledger lies within 10 years of today (`user_date`).

A stay in connecting rooms holds each of its rooms (`rooms`): every query for the stays in a unit
(`unit_stays`) finds it under each room, and `check_stay` checks each room for overlaps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from allocator.choices import EXIT_PATHWAYS as EXIT_PATHWAYS
from allocator.domain import JOINED_SEPARATOR
from allocator.domain import split_rooms as split_joined
from allocator.errors import _N, InputError, Message
from allocator.ledger.schema import HouseholdRow, StayRow, UnitRow
from allocator.policy import Policy
from allocator.rules import (
    UnitLike,
    broken_rule,
    check_dates_in_order,
    check_fit_rooms,
    check_in_window,
    overlap_rule,
    overlaps,
)

MAX_TEXT = 200


class StayDates(Protocol):
    """What the rules read of a stay: a `StayRow`, or a view's record of one."""

    @property
    def stay_id(self) -> int: ...
    @property
    def household_id(self) -> str: ...
    @property
    def unit_id(self) -> str: ...
    @property
    def start(self) -> dt.date: ...
    @property
    def expected_end(self) -> dt.date: ...
    @property
    def moved_in(self) -> dt.date | None: ...
    @property
    def actual_end(self) -> dt.date | None: ...
    @property
    def joined_units(self) -> str | None: ...


def joined_text(units: Iterable[str]) -> str | None:
    """Rooms as the ledger stores them: "+"-joined text, or None for none."""
    return JOINED_SEPARATOR.join(units) or None


def rooms(stay: StayDates) -> tuple[str, ...]:
    """Every unit a stay holds: its unit and the connecting rooms joined to it."""
    return (stay.unit_id, *split_joined(stay.joined_units))


def shown(stay: StayDates) -> str:
    """A stay's units as people read them: ``H1.01`` or ``H1.01+H1.02``."""
    return JOINED_SEPARATOR.join(rooms(stay))


def as_date(value: dt.date | str | None, field: str) -> dt.date:
    """An ISO date from a date or text; `InputError` naming ``field`` otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except (ValueError, TypeError):
        raise InputError(
            _N("expected an ISO date like 2026-12-07, got {value!r}"), value=value, field=field
        ) from None


def user_date(value: dt.date | str | None, field: str, today: dt.date | None = None) -> dt.date:
    """A date given to a ledger operation: an ISO date within 10 years of today, else an
    `InputError` naming ``field`` and the window (rule 'dates', as the plan words it)."""
    day = as_date(value, field)
    broken = check_in_window(day, today or dt.date.today(), _N("today"), field)
    if broken is not None:
        raise InputError(broken.as_message(), field=field)
    return day


def interval(stay: StayDates, until: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The days a stay occupies its unit (turnover excluded): actual dates where known.

    A household still in its unit past its expected end occupies it up to ``until`` when given.
    """
    start = stay.moved_in or stay.start
    if stay.actual_end is not None:
        return start, stay.actual_end
    end = stay.expected_end
    if until is not None and stay.moved_in is not None and until > end:
        end = until
    return start, end


def describe(stay: StayDates) -> Message:
    """A stay in words, for the messages that name the stay in the way."""
    start, end = interval(stay)
    state = (
        _N("exited") if stay.actual_end else (_N("moved in") if stay.moved_in else _N("planned"))
    )
    return Message(
        _N("stay #{stay} of household {household} in unit {unit} ({start} to {end}, {state})"),
        stay=stay.stay_id,
        household=stay.household_id,
        unit=shown(stay),
        start=start,
        end=end,
        state=Message(state),
    )


def refused(rule: str, what: str, problem: str) -> Message:
    """``rule '<rule>': <what>: <problem>``: a ledger operation ``what`` refused by a rule."""
    return broken_rule(rule, Message(_N("{what}: {problem}"), what=what, problem=problem))


def check_unit_fit(
    units: UnitRow | Sequence[UnitRow],
    hh: HouseholdRow,
    start: dt.date,
    end: dt.date,
    policy: Policy,
    what: str,
) -> None:
    """Capacity, accessibility and the units' availability windows for a stay [start, end) in
    one unit or in connecting rooms taken together: `allocator.rules.check_fit_rooms`, worded
    for the operation ``what``."""
    taken: list[UnitLike] = [units] if isinstance(units, UnitRow) else list(units)
    broken = check_fit_rooms(taken, hh.household_id, hh.size, hh.accessible, start, end)
    if broken is not None:
        raise InputError(refused(broken.rule, what, broken.message))


def check_no_overlap(
    others: Iterable[StayDates],
    start: dt.date,
    end: dt.date,
    policy: Policy,
    what: str,
    as_of: dt.date | None = None,
) -> None:
    """A stay [start, end) must keep the turnover days clear of every other stay in its unit.

    ``as_of`` is the day the change happens: a household still in its unit past its expected
    end on that day has not left, whatever its expected end says.
    """
    for o in others:
        a, b = interval(o, until=as_of)
        if overlaps((start, end), (a, b), policy.turnover_days):
            overdue = b > interval(o)[1]
            problem = Message(
                _N("{what} from {start} to {end} would overlap {stay}"),
                what=what,
                start=start,
                end=end,
                stay=describe(o),
            )
            if overdue:
                problem = Message(
                    _N("{problem}; it is past its expected end: record its exit first"),
                    problem=problem,
                )
            raise InputError(broken_rule(overlap_rule(policy.turnover_days), problem))


def unit_stays(s: Session, unit_id: str) -> list[StayRow]:
    """The stays that hold ``unit_id``: as their unit, or as a connecting room joined to it."""
    holding = sa.or_(
        StayRow.unit_id == unit_id, StayRow.joined_units.contains(unit_id, autoescape=True)
    )
    return [st for st in s.scalars(sa.select(StayRow).where(holding)) if unit_id in rooms(st)]


def check_stay(
    s: Session,
    policy: Policy,
    household_id: str,
    unit_id: str,
    start: dt.date,
    end: dt.date,
    exclude: int | None,
    what: str,
    as_of: dt.date | None = None,
    *,
    joined: Sequence[str] = (),
) -> None:
    """Every engine rule for one stay [start, end) against the ledger; `InputError` if not.

    ``exclude`` is the stay being changed (it may not collide with itself); ``as_of`` as in
    `check_no_overlap`; ``joined`` the connecting rooms taken with ``unit_id`` (each must be
    free of every other stay, as the unit is).
    """
    hh = s.get(HouseholdRow, household_id)
    if hh is None:
        raise InputError(
            _N("unknown household {household!r}"), household=household_id, field="household_id"
        )
    units = []
    for k, room in enumerate((unit_id, *joined)):
        unit = s.get(UnitRow, room)
        if unit is None:
            field = "unit_id" if k == 0 else "joined_units"
            raise InputError(_N("unknown unit {unit!r}"), unit=room, field=field)
        if unit in units:
            raise InputError(
                _N("joined_units repeats a unit of the stay: {units}"),
                units=JOINED_SEPARATOR.join((unit_id, *joined)),
                field="joined_units",
            )
        units.append(unit)
    broken = check_dates_in_order(start, end)
    if broken is not None:
        raise InputError(refused(broken.rule, what, broken.message))
    other = s.scalars(
        sa.select(StayRow).where(
            StayRow.household_id == household_id, StayRow.stay_id != (exclude or -1)
        )
    ).first()
    if other is not None:
        problem = Message(
            _N("household {household} already has {stay}"),
            household=household_id,
            stay=describe(other),
        )
        raise InputError(refused(_N("never split"), what, problem))
    check_unit_fit(units, hh, start, end, policy, what)
    for unit in units:  # a stay in connecting rooms holds every one of them
        others = [o for o in unit_stays(s, unit.unit_id) if o.stay_id != exclude]
        check_no_overlap(others, start, end, policy, what, as_of)
