"""A stay's life after approval: the move-in, an extension of its expected end, the exit.

Each change bumps the ledger version and is checked against every engine rule
(`allocator.ledger.rules.check_stay`) with the dates it would leave behind; the dates given lie
within 10 years of today. Recording the same move-in or exit twice changes nothing.

A household with an expected exit date (`HouseholdRow.expected_exit_date`) leaves on that day
whenever it moved in: its stay's expected end is the exit date, or the policy's maximum stay
counted from the move-in if that comes first, and it cannot move in on or after its exit date.
Extending such a stay moves its expected exit later.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from allocator.errors import _N, InputError, Message
from allocator.ledger import announcements
from allocator.ledger.database import audit, bump, read_policy, transaction
from allocator.ledger.rules import (
    EXIT_PATHWAYS,
    MAX_TEXT,
    check_stay,
    describe,
    joined_text,
    rooms,
    shown,
    split_joined,
    user_date,
)
from allocator.ledger.schema import HouseholdRow, StayRow, UnitRow
from allocator.policy import Policy

UNKNOWN_HOUSEHOLD = _N("unknown household {household!r}")


def _stay_of(s: Session, household_id: str) -> StayRow:
    if s.get(HouseholdRow, household_id) is None:
        raise InputError(UNKNOWN_HOUSEHOLD, household=household_id, field="household_id")
    stay = s.scalars(sa.select(StayRow).where(StayRow.household_id == household_id)).first()
    if stay is None:
        raise InputError(
            _N("household {household} has no stay (it is waiting)"),
            household=household_id,
            field="household_id",
        )
    return stay


def exit_dated_end(
    hh: HouseholdRow, date: dt.date, policy: Policy, end: dt.date | None = None
) -> dt.date:
    """The expected end of an exit-dated household's stay from a move-in on ``date``.

    min(exit date, move-in + max stay), or ``end`` when the planner gives one, which may not pass
    the exit date (`stay extend` moves the exit, with a reason). Refused when the exit date is on
    or before the move-in: the household has left, or its request needs its new exit date.
    """
    exit_date = hh.expected_exit_date
    assert exit_date is not None
    if exit_date <= date:
        raise InputError(
            _N(
                "household {household}'s expected exit date {exit} is not after the move-in on "
                "{date}: a stay must end after it starts (import the request with its new "
                "expected_exit_date if the exit moved)"
            ),
            household=hh.household_id,
            exit=exit_date,
            date=date,
            field="date",
        )
    if end is not None and end > exit_date:
        raise InputError(
            _N(
                "the expected end {end} is after household {household}'s expected exit date "
                "{exit}: give an end by then, or move the exit later with `stay extend` and a "
                "reason"
            ),
            end=end,
            household=hh.household_id,
            exit=exit_date,
            field="expected_end",
        )
    return end or min(exit_date, date + dt.timedelta(days=policy.max_stay_days))


def move_in(
    engine: sa.Engine,
    actor: str | None,
    household_id: str,
    date: dt.date | str,
    *,
    unit_id: str | None = None,
    expected_end: dt.date | str | None = None,
) -> None:
    """Record a move-in into the planned stay, or a manual one; see `Ledger.move_in`."""
    date = user_date(date, "date")
    end = user_date(expected_end, "expected_end") if expected_end is not None else None
    with transaction(engine, actor) as s:
        hh = s.get(HouseholdRow, household_id)
        if hh is None:
            raise InputError(UNKNOWN_HOUSEHOLD, household=household_id, field="household_id")
        for room in split_joined(unit_id):  # "H1.01+H1.02": connecting rooms taken together
            if s.get(UnitRow, room) is None:
                raise InputError(_N("unknown unit {unit!r}"), unit=room, field="unit_id")
        stay = s.scalars(sa.select(StayRow).where(StayRow.household_id == household_id)).first()
        bump(s)
        if stay is None:
            _manual_move_in(s, hh, date, unit_id, end)
        else:
            _planned_move_in(s, stay, date, unit_id, end)
        announcements.remove(s, household_id, "move_in")


def _manual_move_in(
    s: Session, hh: HouseholdRow, date: dt.date, unit_id: str | None, end: dt.date | None
) -> None:
    """A household without a planned stay moves into ``unit_id``: a new stay, checked.

    ``unit_id`` may name connecting rooms of one group taken together, "+"-joined."""
    policy = read_policy(s)
    household_id = hh.household_id
    if not split_joined(unit_id):
        raise InputError(
            _N(
                "household {household} has no planned stay: give the unit (--unit) for a "
                "manual move-in"
            ),
            household=household_id,
            field="unit_id",
        )
    if hh.expected_exit_date is not None:
        end = exit_dated_end(hh, date, policy, end)
    else:
        assert hh.expected_stay_days is not None
        end = end or date + dt.timedelta(days=hh.expected_stay_days)
    first, *joined = split_joined(unit_id)
    what = Message(
        _N("manual move-in of household {household} in unit {unit}"),
        household=household_id,
        unit=unit_id,
    )
    check_stay(s, policy, household_id, first, date, end, None, what, date, joined=joined)
    s.add(
        StayRow(
            household_id=household_id,
            unit_id=first,
            joined_units=joined_text(joined),
            start=date,
            expected_end=end,
            moved_in=date,
        )
    )
    audit(s, "move_in", "stay", household_id, unit_id=unit_id, date=date, manual=True)


def _planned_move_in(
    s: Session, stay: StayRow, date: dt.date, unit_id: str | None, end: dt.date | None
) -> None:
    """The household moves into its planned stay, possibly with a new expected end."""
    policy = read_policy(s)
    household_id = stay.household_id
    if unit_id is not None and split_joined(unit_id) not in ((stay.unit_id,), rooms(stay)):
        raise InputError(
            _N("household {household} is planned in unit {planned}, not {unit} ({stay})"),
            household=household_id,
            planned=shown(stay),
            unit=unit_id,
            stay=describe(stay),
            field="unit_id",
        )
    if stay.moved_in is not None:
        if stay.moved_in == date and (end is None or end == stay.expected_end):
            return
        raise InputError(_N("already moved in: {stay}"), stay=describe(stay))
    hh = s.get_one(HouseholdRow, household_id)
    if hh.expected_exit_date is not None:  # the exit comes on its date, whatever the move-in
        end = exit_dated_end(hh, date, policy, end)
    end = end or stay.expected_end
    what = Message(
        _N("move-in of household {household} in unit {unit}"),
        household=household_id,
        unit=shown(stay),
    )
    _check_row(s, policy, stay, date, end, what, date)
    stay.moved_in = date
    if end != stay.expected_end:
        stay.expected_end = end
    audit(s, "move_in", "stay", stay.stay_id, date=date, expected_end=end)


def _check_row(
    s: Session,
    policy: Policy,
    stay: StayRow,
    start: dt.date,
    end: dt.date,
    what: str,
    as_of: dt.date | None = None,
) -> None:
    """`check_stay` for a stay the ledger holds: its own unit and rooms, itself left out."""
    check_stay(
        s, policy, stay.household_id, stay.unit_id, start, end, stay.stay_id, what, as_of,
        joined=split_joined(stay.joined_units),
    )  # fmt: skip


def exit(
    engine: sa.Engine,
    actor: str | None,
    household_id: str,
    date: dt.date | str,
    pathway: str,
    outcome: str | None = None,
) -> None:
    """Record that a household left its unit; see `Ledger.exit`."""
    date = user_date(date, "date")
    pathway = str(pathway).strip().lower()
    if pathway not in EXIT_PATHWAYS:
        raise InputError(
            _N("unknown exit pathway {pathway!r}; expected one of {pathways}"),
            pathway=pathway,
            pathways=", ".join(EXIT_PATHWAYS),
            field="pathway",
        )
    if outcome is not None and len(outcome) > MAX_TEXT:
        raise InputError(
            _N("outcome longer than {count} characters"), count=MAX_TEXT, field="outcome"
        )
    with transaction(engine, actor) as s:
        stay = _stay_of(s, household_id)
        if stay.actual_end is not None:
            if (stay.actual_end, stay.exit_pathway, stay.exit_outcome) == (date, pathway, outcome):
                return
            raise InputError(_N("already exited: {stay}"), stay=describe(stay))
        if stay.moved_in is None:
            raise InputError(
                _N("exit before move-in: {stay} has no move-in recorded"), stay=describe(stay)
            )
        if date <= stay.moved_in:
            raise InputError(
                _N(
                    "exit before move-in: exit on {date} but the household moved in on "
                    "{moved_in} ({stay})"
                ),
                date=date,
                moved_in=stay.moved_in,
                stay=describe(stay),
                field="date",
            )
        bump(s)
        policy = read_policy(s)
        what = Message(
            _N("exit of household {household} from unit {unit}"),
            household=household_id,
            unit=shown(stay),
        )
        _check_row(s, policy, stay, stay.moved_in, date, what)
        stay.actual_end = date
        stay.exit_pathway = pathway
        stay.exit_outcome = outcome
        audit(s, "exit", "stay", stay.stay_id, date=date, pathway=pathway, outcome=outcome)


def extend(
    engine: sa.Engine,
    actor: str | None,
    household_id: str,
    expected_end: dt.date | str,
    reason: str,
) -> None:
    """Move a running or planned stay's expected end; see `Ledger.extend`."""
    end = user_date(expected_end, "expected_end")
    reason = (reason or "").strip()
    if not reason:
        raise InputError(_N("a reason is needed to change a stay's expected end"), field="reason")
    if len(reason) > MAX_TEXT:
        raise InputError(
            _N("reason longer than {count} characters"), count=MAX_TEXT, field="reason"
        )
    with transaction(engine, actor) as s:
        stay = _stay_of(s, household_id)
        if stay.actual_end is not None:
            raise InputError(_N("cannot extend a finished stay: {stay}"), stay=describe(stay))
        if end == stay.expected_end:
            return
        hh = s.get_one(HouseholdRow, household_id)
        exit_date = hh.expected_exit_date
        if exit_date is not None and end < stay.expected_end:
            raise InputError(
                _N(
                    "household {household} leaves on its expected exit date: an extension moves "
                    "its stay's end later, and {end} is before the current end {current} "
                    "({stay}); record an earlier departure with `stay exit`"
                ),
                household=household_id,
                end=end,
                current=stay.expected_end,
                stay=describe(stay),
                field="expected_end",
            )
        bump(s)
        policy = read_policy(s)
        start = stay.moved_in or stay.start
        what = Message(
            _N("extension of household {household}'s stay in unit {unit}"),
            household=household_id,
            unit=shown(stay),
        )
        _check_row(s, policy, stay, start, end, what)
        old = stay.expected_end
        stay.expected_end = end
        moved = {}
        if exit_date is not None and end > exit_date:  # the exit itself is now expected later
            hh.expected_exit_date = end
            moved = {"exit_date": [exit_date.isoformat(), end.isoformat()]}
        audit(s, "extend", "stay", stay.stay_id, old=old, new=end, reason=reason, **moved)
