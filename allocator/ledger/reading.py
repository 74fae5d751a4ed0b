"""Reading the ledger: its stored tables as DataFrames, and what the views are computed from."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, cast

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from allocator.errors import _N, InputError
from allocator.ledger.database import read_policy
from allocator.ledger.schema import (
    AnnouncementRow,
    AuditRow,
    Base,
    BatchRow,
    HouseholdRow,
    PlacementRow,
    StayRow,
    UnitRow,
)
from allocator.policy import Policy

TABLES: dict[str, type[Base]] = {
    "units": UnitRow,
    "households": HouseholdRow,
    "stays": StayRow,
    "batches": BatchRow,
    "placements": PlacementRow,
    "audit": AuditRow,
    "announcements": AnnouncementRow,
}
DERIVED = ("history", "occupancy", "waiting", "overdue", "free", "summary")
JSON_COLUMNS = ("policy", "pins", "forbids", "inputs", "detail")
TIMESTAMPS = ("at", "proposed_at", "approved_at")


def rows_frame(rows: Iterable[Any], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{c: getattr(r, c) for c in columns} for r in rows], columns=columns)


def _columns(model: type[Base]) -> list[str]:
    return [c.key for c in cast(sa.Table, model.__table__).columns]


def stays_frame(s: Session, *where: Any) -> pd.DataFrame:
    """The stays matching ``where``, by stay id, with every stored column."""
    rows = s.scalars(sa.select(StayRow).where(*where).order_by(StayRow.stay_id))
    return rows_frame(rows, _columns(StayRow))


def _read(conn: sa.Connection, model: type[Base]) -> pd.DataFrame:
    table = cast(sa.Table, model.__table__)
    rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=_columns(model))


def stored_table(engine: sa.Engine, name: str) -> pd.DataFrame:
    """A stored table by primary key; JSON columns as sorted JSON text (readable in a sheet)."""
    model = TABLES.get(name)
    if model is None:
        raise InputError(
            _N("unknown table {table!r}; expected one of {tables}"),
            table=name,
            tables=", ".join([*TABLES, *DERIVED]),
            field="table",
        )
    with engine.connect() as conn:
        frame = _read(conn, model)
    for c in JSON_COLUMNS:
        if c in frame.columns:
            frame[c] = frame[c].map(lambda v: json.dumps(v, sort_keys=True, default=str))
    return frame


def snapshot(engine: sa.Engine) -> dict[str, pd.DataFrame]:
    """Every stored table without the audit trail's timestamps: to compare two ledgers."""
    out = {}
    for name in TABLES:
        frame = stored_table(engine, name)
        out[name] = frame.drop(columns=[c for c in TIMESTAMPS if c in frame.columns])
    return out


def load_frames(engine: sa.Engine) -> tuple[dict[str, pd.DataFrame], Policy]:
    """Units, households, stays and batches, and the policy, read on one connection."""
    with engine.connect() as conn:
        frames = {n: _read(conn, TABLES[n]) for n in ("units", "households", "stays", "batches")}
        policy = read_policy(conn)
    return frames, policy


def load_rows(
    engine: sa.Engine,
) -> tuple[list[UnitRow], dict[str, HouseholdRow], list[StayRow], list[BatchRow], Policy]:
    """The ledger's rows as ORM objects, for checks that walk them (`allocator.ledger.testing`)."""
    with engine.connect() as conn:
        s = Session(bind=conn)
        units = list(s.scalars(sa.select(UnitRow).order_by(UnitRow.unit_id)))
        households = {h.household_id: h for h in s.scalars(sa.select(HouseholdRow))}
        stays = list(s.scalars(sa.select(StayRow).order_by(StayRow.stay_id)))
        batches = list(s.scalars(sa.select(BatchRow).order_by(BatchRow.batch_id)))
        policy = read_policy(s)
        s.close()
    return units, households, stays, batches, policy
