"""Units and requests into the ledger: new rows added, changed ones updated, repeats ignored.

A table is parsed and checked in full before the transaction opens (its dates within 10 years of
today), and a change that would break a stay already in the ledger is refused with the stay
named, by the rules the plan applies too (`allocator.rules`), so an import applies entirely or
not at all.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from allocator.domain import Household, Unit
from allocator.errors import _N, InputError, Message
from allocator.ledger.database import audit, bump, read_policy, transaction
from allocator.ledger.rules import check_unit_fit, describe, interval, rooms, unit_stays
from allocator.ledger.schema import HouseholdRow, StayRow, UnitRow
from allocator.policy import Policy
from allocator.rules import broken_rule, check_record_dates
from allocator.tables import (
    Source,
    TableLike,
    _check_groups,
    _check_unique,
    _labels,
    parse_records,
)

log = logging.getLogger("allocator.ledger")

UNIT_FIELDS = list(Unit.model_fields)
HOUSEHOLD_FIELDS = list(Household.model_fields)


@dataclass(frozen=True)
class ImportResult:
    added: int
    changed: int
    unchanged: int

    def __str__(self) -> str:
        return f"{self.added} added, {self.changed} changed, {self.unchanged} unchanged"


def read_records(
    table: TableLike | str | os.PathLike,
    kind: str,
    today: dt.date | None = None,
    *,
    dayfirst: bool = False,
) -> list[Any]:
    """Validated `Unit`s or `Household`s from a file or table; ids must be unique, and dates lie
    within 10 years of ``today`` (default: the day it runs). ``dayfirst``: a file's dd/mm/yyyy
    dates are day first even where its column cannot show it (`allocator.io.read_table`)."""
    source: Source = Source(kind)
    if isinstance(table, str | os.PathLike):
        from allocator.io import read_table

        table, source = read_table(table, kind, dayfirst=dayfirst)
    records = parse_records(table, kind, source)
    labels = _labels(table, len(records))
    key = "unit_id" if kind == "units" else "household_id"
    _check_unique(records, key, source, labels)
    if kind == "units":
        _check_groups(cast(list[Unit], records), source, labels)
    today = today or dt.date.today()
    for pos, record in enumerate(records):
        broken = check_record_dates(record, kind, today, _N("today"))
        if broken is not None:
            raise InputError(
                broken.as_message(),
                source=source.name,
                row=source.row(pos, labels[pos]),
                column=broken.column,
            )
    return records


def import_units(
    engine: sa.Engine,
    actor: str | None,
    table: TableLike | str | os.PathLike,
    *,
    dayfirst: bool = False,
) -> ImportResult:
    """Add new units and apply changes to known ones; see `Ledger.import_units`."""
    units: list[Unit] = read_records(table, "units", dayfirst=dayfirst)
    added = changed = 0
    with transaction(engine, actor) as s:
        known = {u.unit_id: u for u in s.scalars(sa.select(UnitRow))}
        todo: list[tuple[UnitRow | None, dict[str, Any]]] = []
        for u in units:
            values = u.model_dump(mode="python")
            values["kind"] = str(u.kind.value)
            row = known.get(u.unit_id)
            if row is None:
                todo.append((None, values))
            elif any(getattr(row, f) != values[f] for f in UNIT_FIELDS):
                todo.append((row, values))
        if not todo:
            return ImportResult(0, 0, len(units))
        bump(s)
        policy = read_policy(s)
        for row, values in todo:
            if row is None:
                s.add(UnitRow(**values))
                audit(s, "add", "unit", values["unit_id"], **values)
                added += 1
            else:
                _change_unit(s, row, values, policy)
                changed += 1
        s.flush()
        _check_ledger_groups(s)
    log.info("units import: %d added, %d changed", added, changed)
    return ImportResult(added, changed, len(units) - added - changed)


def _change_unit(s: Session, row: UnitRow, values: dict[str, Any], policy: Policy) -> None:
    """Apply a unit's new fields; refused if a running or planned stay no longer fits."""
    diff = {f: [getattr(row, f), values[f]] for f in UNIT_FIELDS if getattr(row, f) != values[f]}
    for f in UNIT_FIELDS:
        setattr(row, f, values[f])
    s.flush()
    for stay in unit_stays(s, row.unit_id):  # its own, and those holding it as a joined room
        if stay.actual_end is None:
            hh = s.get_one(HouseholdRow, stay.household_id)
            start, end = interval(stay)
            taken = [s.get_one(UnitRow, room) for room in rooms(stay)]
            check_unit_fit(taken, hh, start, end, policy, describe(stay))
    audit(
        s,
        "change",
        "unit",
        row.unit_id,
        **{k: [x.isoformat() if isinstance(x, dt.date) else x for x in v] for k, v in diff.items()},
    )


def _check_ledger_groups(s: Session) -> None:
    """The connecting rooms of one group, in the file and in the ledger together, are of one kind
    and one district (`allocator.tables`' rule for a units table)."""
    first: dict[str, UnitRow] = {}
    grouped = sa.select(UnitRow).where(UnitRow.group.is_not(None)).order_by(UnitRow.unit_id)
    for unit in s.scalars(grouped):
        other = first.setdefault(str(unit.group), unit)
        for column in ("kind", "district"):
            if getattr(unit, column) != getattr(other, column):
                raise InputError(
                    _N(
                        "unit {unit!r} is in group {group!r} with unit {other!r} but its "
                        "{attribute} differs ({value} against {expected}): connecting rooms are "
                        "of one kind and one district"
                    ),
                    unit=unit.unit_id,
                    group=unit.group,
                    other=other.unit_id,
                    attribute=column,
                    value=getattr(unit, column),
                    expected=getattr(other, column),
                    source="units",
                    column=column,
                )


def import_requests(
    engine: sa.Engine,
    actor: str | None,
    table: TableLike | str | os.PathLike,
    *,
    dayfirst: bool = False,
) -> ImportResult:
    """Add waiting households or update their request fields; see `Ledger.import_requests`."""
    households: list[Household] = read_records(table, "households", dayfirst=dayfirst)
    added = changed = 0
    with transaction(engine, actor) as s:
        known = {h.household_id: h for h in s.scalars(sa.select(HouseholdRow))}
        for h in households:
            values = h.model_dump(mode="json")
            values["need_date"] = h.need_date
            values["expected_exit_date"] = h.expected_exit_date
            row = known.get(h.household_id)
            if row is None:
                s.add(HouseholdRow(**values))
                audit(s, "add", "household", h.household_id)
                added += 1
                continue
            diff = [f for f in HOUSEHOLD_FIELDS if getattr(row, f) != values[f]]
            if not diff:
                continue
            if "size" in diff:
                _check_size(s, h)
            for f in diff:
                setattr(row, f, values[f])
            audit(s, "change", "household", h.household_id, fields=diff)
            changed += 1
    log.info("requests import: %d added, %d changed", added, changed)
    return ImportResult(added, changed, len(households) - added - changed)


def _check_size(s: Session, h: Household) -> None:
    """A household in a unit (or planned in one) may not grow beyond its beds."""
    stay = s.scalars(sa.select(StayRow).where(StayRow.household_id == h.household_id)).first()
    if stay is not None and stay.actual_end is None:
        beds = sum(s.get_one(UnitRow, room).capacity for room in rooms(stay))
        if h.size > beds:
            problem = Message(
                _N("household {household} would have {size} persons, but {stay} has {beds} beds"),
                household=h.household_id,
                size=h.size,
                stay=describe(stay),
                beds=beds,
            )
            raise InputError(
                broken_rule(_N("capacity"), problem),
                source="requests",
                column="size",
            )


def withdraw_request(engine: sa.Engine, actor: str | None, household_id: str, reason: str) -> None:
    """Withdraw a waiting household's request, with a reason; see `Ledger.withdraw_request`."""
    from allocator.ledger.rules import MAX_TEXT
    from allocator.ledger.schema import BatchRow, PlacementRow

    reason = (reason or "").strip()
    if not reason:
        raise InputError(_N("a reason is needed to withdraw a request"), field="reason")
    if len(reason) > MAX_TEXT:
        raise InputError(
            _N("reason longer than {count} characters"), count=MAX_TEXT, field="reason"
        )
    with transaction(engine, actor) as s:
        row = s.get(HouseholdRow, household_id)
        if row is None:
            raise InputError(
                _N("unknown household {household!r}"), household=household_id, field="household_id"
            )
        stay = s.scalars(sa.select(StayRow).where(StayRow.household_id == household_id)).first()
        if stay is not None:
            raise InputError(
                _N(
                    "household {household} is already placed ({stay}): a request with a stay "
                    "cannot be withdrawn; record the exit instead"
                ),
                household=household_id,
                stay=describe(stay),
                field="household_id",
            )
        planned = s.execute(
            sa.select(sa.func.count())
            .select_from(PlacementRow)
            .join(BatchRow, BatchRow.batch_id == PlacementRow.batch_id)
            .where(
                BatchRow.status == "proposed",
                PlacementRow.household_id == household_id,
                PlacementRow.status == "placed",
            )
        ).scalar_one()
        if planned:
            bump(s)  # a proposed batch that places it can no longer be approved
        request = {f: getattr(row, f) for f in HOUSEHOLD_FIELDS if f != "household_id"}
        from allocator.ledger.announcements import remove

        remove(s, household_id, "withdrawal")
        s.delete(row)
        audit(s, "withdraw", "household", household_id, reason=reason, **request)
    log.info("request withdrawn")
