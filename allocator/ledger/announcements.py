"""Placements told to families: recorded on approval (``--announce``) or one by one, read back
into the next proposal, removed on move-in or withdrawal; and what each batch changed.

An announcement is a household's unit and start date as the family was told them
(`AnnouncementRow`, one per household). `batches.propose` hands the waiting households'
announcements to the engine, which keeps them unless a change saves more than
`Policy.announcement_weight` or a hard rule forces it (`allocator.engine.announcements`). What a
batch changed against the last approved one is worked out when it is read (`batch_changes`),
from the two batches' stored placements: nothing more is stored per placement.

Only a placement in one unit is announced: a placement in connecting rooms (``joined_units``) is
not (its household is listed as not announced), as the engine keeps single-unit placements only.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from allocator.engine.announcements import changes, note_in
from allocator.errors import InputError
from allocator.ledger.database import audit, now, transaction
from allocator.ledger.rules import split_joined, user_date
from allocator.ledger.schema import (
    AnnouncementRow,
    BatchRow,
    HouseholdRow,
    PlacementRow,
    StayRow,
    UnitRow,
)

ANNOUNCEMENT_COLUMNS = [
    "household_id",
    "unit_id",
    "start",
    "batch_id",
    "announced_at",
    "announced_by",
]


def announce(
    engine: sa.Engine,
    actor: str | None,
    household_id: str,
    unit_id: str,
    start: dt.date | str,
    announced_by: str | None = None,
) -> bool:
    """Record (or replace) the placement told to a waiting household; see `Ledger.announce`.

    False, and nothing recorded, when ``unit_id`` names connecting rooms ("+"-joined)."""
    day = user_date(start, "start")
    with transaction(engine, actor) as s:
        if s.get(HouseholdRow, household_id) is None:
            raise InputError(f"unknown household {household_id!r}", field="household_id")
        for room in split_joined(unit_id) or (unit_id,):
            if s.get(UnitRow, room) is None:
                raise InputError(f"unknown unit {room!r}", field="unit_id")
        if _housed(s, household_id):
            raise InputError(
                f"household {household_id} already has a stay: only a waiting household's "
                "placement can be announced",
                field="household_id",
            )
        if len(split_joined(unit_id)) > 1:
            return False
        _put(s, household_id, unit_id, day, None, announced_by)
    return True


def unannounce(
    engine: sa.Engine, actor: str | None, household_id: str, by: str | None = None
) -> None:
    """Remove a household's announcement; see `Ledger.unannounce`."""
    with transaction(engine, actor) as s:
        row = s.get(AnnouncementRow, household_id)
        if row is None:
            raise InputError(
                f"household {household_id!r} has no announcement", field="household_id"
            )
        remove(s, household_id, "unannounce", actor=by)


def _later(s: Session, batch: BatchRow) -> list[PlacementRow]:
    """A batch's placements that start after its commit day."""
    rows = s.scalars(
        sa.select(PlacementRow)
        .where(
            PlacementRow.batch_id == batch.batch_id,
            PlacementRow.status == "placed",
            PlacementRow.start >= batch.commit_until,
        )
        .order_by(PlacementRow.household_id)
    )
    return list(rows)


def announce_batch(s: Session, batch: BatchRow, by: str | None) -> int:
    """Announce an approved batch's placements that start after its commit day; the count.

    A placement in connecting rooms is not announced (`not_announced`)."""
    n = 0
    for p in _later(s, batch):
        if p.unit_id is None or p.start is None or _housed(s, p.household_id):
            continue
        if split_joined(p.joined_units):
            continue
        _put(s, p.household_id, p.unit_id, p.start, batch.batch_id, by)
        n += 1
    return n


def not_announced(s: Session, batch: BatchRow) -> list[str]:
    """The households whose later placement in a batch is in connecting rooms: not announced."""
    return [
        p.household_id
        for p in _later(s, batch)
        if split_joined(p.joined_units) and not _housed(s, p.household_id)
    ]


def remove(s: Session, household_id: str, why: str, actor: str | None = None) -> None:
    """Drop a household's announcement, if any, with an audit entry saying why (move-in,
    withdrawal, unannounce)."""
    row = s.get(AnnouncementRow, household_id)
    if row is None:
        return
    detail = {"unit_id": row.unit_id, "start": row.start, "reason": why}
    s.delete(row)
    s.flush()
    audit(s, "unannounce", "household", household_id, actor=actor, **detail)


def announced_for(s: Session, household_ids: list[str]) -> dict[str, tuple[str, dt.date]]:
    """The announcements of these (waiting) households: household -> (unit, start)."""
    wanted = set(household_ids)
    return {
        a.household_id: (a.unit_id, a.start)
        for a in s.scalars(sa.select(AnnouncementRow))
        if a.household_id in wanted
    }


def announcements_frame(s: Session) -> pd.DataFrame:
    rows = s.scalars(sa.select(AnnouncementRow).order_by(AnnouncementRow.household_id))
    return pd.DataFrame(
        [[getattr(a, c) for c in ANNOUNCEMENT_COLUMNS] for a in rows], columns=ANNOUNCEMENT_COLUMNS
    )


def last_approved_placements(s: Session, before: int | None = None) -> pd.DataFrame | None:
    """The placements of the latest approved batch (before batch ``before``), or None."""
    query = sa.select(sa.func.max(BatchRow.batch_id)).where(BatchRow.status == "approved")
    if before is not None:
        query = query.where(BatchRow.batch_id < before)
    batch_id = s.execute(query).scalar()
    if batch_id is None:
        return None
    return _placements(s, batch_id)


def batch_changes(engine: sa.Engine, batch_id: int | None = None) -> pd.DataFrame:
    """What batch ``batch_id`` (default: the latest) changed against the last batch approved
    before it, per household, with the reason; see `Ledger.changes`."""
    with engine.connect() as conn, Session(conn) as s:
        if batch_id is None:
            batch_id = s.execute(sa.select(sa.func.max(BatchRow.batch_id))).scalar()
            if batch_id is None:
                raise InputError("the ledger has no batch yet: run batch propose first")
        if s.get(BatchRow, int(batch_id)) is None:
            raise InputError(f"unknown batch {batch_id}", field="batch_id")
        # `changes` compares every room (unit_id and joined_units)
        previous = last_approved_placements(s, before=int(batch_id))
        current = _placements(s, int(batch_id))
    # the engine's notes on announcements, as it wrote them into the stored reasons
    found = {str(r.household_id): note_in(r.reason) for r in current.itertuples(index=False)}
    notes = {h: note for h, note in found.items() if note is not None}
    return changes(previous, current, notes)


def _placements(s: Session, batch_id: int) -> pd.DataFrame:
    rows = s.scalars(
        sa.select(PlacementRow)
        .where(PlacementRow.batch_id == batch_id)
        .order_by(PlacementRow.household_id)
    )
    cols = ["household_id", "unit_id", "start", "status", "reason", "joined_units"]
    return pd.DataFrame([[getattr(p, c) for c in cols] for p in rows], columns=cols)


def _housed(s: Session, household_id: str) -> bool:
    stay = s.scalars(sa.select(StayRow.household_id).where(StayRow.household_id == household_id))
    return stay.first() is not None


def _put(
    s: Session,
    household_id: str,
    unit_id: str,
    start: dt.date,
    batch_id: int | None,
    by: str | None,
) -> None:
    """Insert or replace one announcement, audited (ids and dates only)."""
    row = s.get(AnnouncementRow, household_id)
    if row is None:
        row = AnnouncementRow(household_id=household_id)
        s.add(row)
    row.unit_id, row.start, row.batch_id = unit_id, start, batch_id
    row.announced_at = now()
    row.announced_by = by or s.info.get("actor")
    s.flush()
    audit(
        s,
        "announce",
        "household",
        household_id,
        actor=by,
        unit_id=unit_id,
        start=start,
        batch_id=batch_id,
    )
