"""`Ledger`: the rotation ledger's one entry point (units, requests, weekly batches, stays).

Every mutating operation runs in ONE database transaction: it commits entirely or not at all.
Operations that change stays or units first bump ``ledger_state.version`` inside their
transaction; that row lock (PostgreSQL) or write lock (SQLite, whose transactions here begin
``IMMEDIATE``) serialises writers, so the rule checks done in code before commit (no overlap
including turnover, capacity, availability window, one stay per household) see every stay
committed before them. Approving a batch is a compare-and-swap on that version: a batch can be
approved only while the ledger is exactly as it was when the batch was proposed, so two planners
approving at once can never double-book a unit; the second gets an `InputError`.

Only pseudonymous ids, request fields and dates are stored; logs carry counts, never ids.
"""

from __future__ import annotations

import datetime as dt
import getpass
import logging
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from allocator.domain import ExitPathway, Household, Unit
from allocator.errors import AllocatorError, InputError
from allocator.ledger.schema import (
    AuditRow,
    BatchRow,
    HouseholdRow,
    LedgerState,
    PlacementRow,
    StayRow,
    UnitRow,
)
from allocator.policy import Policy, validate_policy
from allocator.tables import Source, TableLike, _check_unique, _labels, parse_records

log = logging.getLogger("allocator.ledger")

DEFAULT_DB = "allocator.db"
DB_ENV = "ALLOCATOR_DB"
MIGRATIONS = Path(__file__).parent / "migrations"
EXIT_PATHWAYS = [p.value for p in ExitPathway if p is not ExitPathway.UNKNOWN]
TABLES = {
    "units": UnitRow,
    "households": HouseholdRow,
    "stays": StayRow,
    "batches": BatchRow,
    "placements": PlacementRow,
    "audit": AuditRow,
}
DERIVED = ("history", "occupancy", "waiting", "overdue", "free", "summary")
UNIT_FIELDS = list(Unit.model_fields)
HOUSEHOLD_FIELDS = list(Household.model_fields)
MAX_TEXT = 200
_ALEMBIC_LOCK = threading.Lock()


# --- small helpers ---------------------------------------------------------------------------


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
            f"expected an ISO date like 2026-12-07, got {value!r}", field=field
        ) from None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def database_url(url_or_path: str | os.PathLike | None = None) -> str:
    """A SQLAlchemy URL from a URL, a file path, ``$ALLOCATOR_DB`` or ``allocator.db``."""
    target = str(url_or_path or os.environ.get(DB_ENV) or DEFAULT_DB)
    if "://" in target:
        for prefix in ("postgresql://", "postgres://"):
            if target.startswith(prefix):
                return "postgresql+psycopg://" + target[len(prefix) :]
        return target
    path = Path(target).expanduser()
    if path.is_dir():
        raise InputError("is a directory, not a ledger file", source=str(path))
    if not path.parent.is_dir():
        raise InputError("the ledger file's folder does not exist", source=str(path))
    return f"sqlite:///{path.resolve()}"


def _engine(url: str) -> sa.Engine:
    try:
        if url.startswith("sqlite"):
            engine = sa.create_engine(url, connect_args={"timeout": 60})

            @event.listens_for(engine, "connect")
            def _connect(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
                dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
                dbapi_connection.execute("PRAGMA foreign_keys = ON")

            @event.listens_for(engine, "begin")
            def _begin(conn) -> None:
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock up front

            return engine
        return sa.create_engine(url, pool_pre_ping=True)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise InputError(f"not a usable database URL ({exc})", source="--db") from None


def _interval(stay: StayRow, until: dt.date | None = None) -> tuple[dt.date, dt.date]:
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


def _describe(stay: StayRow) -> str:
    start, end = _interval(stay)
    state = "exited" if stay.actual_end else ("moved in" if stay.moved_in else "planned")
    return (
        f"stay #{stay.stay_id} of household {stay.household_id} in unit {stay.unit_id} "
        f"({start} to {end}, {state})"
    )


def _missing(value: object) -> bool:
    """None, NaN or NaT: stored as NULL (psycopg would store a float NaN as the text 'NaN')."""
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _rows_frame(rows: Iterable[Any], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{c: getattr(r, c) for c in columns} for r in rows], columns=columns)


@dataclass(frozen=True)
class ImportResult:
    added: int
    changed: int
    unchanged: int

    def __str__(self) -> str:
        return f"{self.added} added, {self.changed} changed, {self.unchanged} unchanged"


@dataclass
class Proposal:
    batch_id: int
    week: dt.date
    commit_until: dt.date
    solver_status: str
    placements: pd.DataFrame

    @property
    def to_commit(self) -> pd.DataFrame:
        """The placements that approving the batch turns into stays (starting this week)."""
        p = self.placements
        return p[(p.status == "placed") & (p.start < self.commit_until)]


# --- the ledger ------------------------------------------------------------------------------


class Ledger:
    """A rotation ledger in SQLite or PostgreSQL. Open it with `Ledger.open`."""

    def __init__(self, engine: sa.Engine, actor: str | None = None) -> None:
        self.engine = engine
        self.actor = actor

    # -- opening and migrations

    @classmethod
    def open(
        cls,
        url_or_path: str | os.PathLike | None = None,
        *,
        actor: str | None = None,
        policy: Policy | None = None,
    ) -> Ledger:
        """Open (creating and upgrading as needed) the ledger at a URL or SQLite file path.

        ``None`` means ``$ALLOCATOR_DB`` or ``allocator.db``. ``policy``, when given, becomes the
        ledger's stored policy (turnover days, max stay, horizon ...).
        """
        url = database_url(url_or_path)
        ledger = cls(_engine(url), actor=actor)
        try:
            ledger.upgrade()
        except sa.exc.DatabaseError as exc:
            ledger.close()
            raise AllocatorError(f"cannot open the ledger: {exc.orig}") from None
        if policy is not None:
            ledger.set_policy(policy)
        return ledger

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _alembic_config(self, connection: sa.Connection):
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = connection
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (default: the newest); what `open` and init do."""
        from alembic import command
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        with self.engine.begin() as conn:
            cfg = self._alembic_config(conn)
            current = MigrationContext.configure(conn).get_current_revision()
            target = ScriptDirectory.from_config(cfg).get_revision(revision).revision
            if current != target:
                with _ALEMBIC_LOCK:  # alembic's command API keeps global state
                    command.upgrade(cfg, revision)
            if conn.execute(sa.select(LedgerState.id)).first() is None:
                conn.execute(
                    sa.insert(LedgerState).values(
                        id=1, version=0, policy=Policy().model_dump(mode="json")
                    )
                )

    def schema_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    # -- transactions

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
        except sa.exc.IntegrityError as exc:
            raise InputError(f"refused by the database: {exc.orig}") from None
        except sa.exc.DatabaseError as exc:
            raise AllocatorError(
                f"the ledger is busy or unreachable ({exc.orig}); try again"
            ) from None

    def _bump(self, s: Session, expected: int | None = None) -> int:
        """Bump the ledger version (taking the writers' lock); compare-and-swap if expected."""
        stmt = sa.update(LedgerState).where(LedgerState.id == 1)
        if expected is not None:
            stmt = stmt.where(LedgerState.version == expected)
        stmt = stmt.values(version=LedgerState.version + 1).returning(LedgerState.version)
        new = s.execute(stmt).scalar_one_or_none()
        if new is None:
            current = s.execute(sa.select(LedgerState.version)).scalar_one()
            raise InputError(
                f"the ledger has changed since this batch was proposed (version {expected}, now "
                f"{current}): another batch was approved or a stay or unit changed meanwhile; "
                "propose the week again"
            )
        return new

    def _audit(self, s: Session, action: str, entity: str, entity_id: object, **detail) -> None:
        actor = detail.pop("actor", None) or self.actor
        clean = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in detail.items()}
        s.add(
            AuditRow(
                at=_now(),
                actor=actor,
                action=action,
                entity=entity,
                entity_id=str(entity_id),
                detail=clean,
            )
        )

    # -- policy

    @property
    def policy(self) -> Policy:
        with self.engine.connect() as conn:
            data = conn.execute(sa.select(LedgerState.policy)).scalar_one()
        return validate_policy(data, source="ledger policy")

    def set_policy(self, policy: Policy) -> None:
        with self._tx() as s:
            state = s.get(LedgerState, 1, with_for_update=True)
            new = policy.model_dump(mode="json")
            if state.policy != new:
                state.policy = new
                state.version += 1
                self._audit(s, "set_policy", "ledger", 1, policy=new)

    @property
    def version(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(LedgerState.version)).scalar_one()

    # -- imports

    def _records(self, table: TableLike | str | os.PathLike, kind: str) -> list:
        source: Source = Source(kind)
        if isinstance(table, str | os.PathLike):
            from allocator.io import read_table

            table, source = read_table(table, kind)
        records = parse_records(table, kind, source)
        key = "unit_id" if kind == "units" else "household_id"
        _check_unique(records, key, source, _labels(table, len(records)))
        return records

    def import_units(self, table: TableLike | str | os.PathLike) -> ImportResult:
        """Add new units and apply changes (capacity, window, ...) to known ones.

        Units missing from the table are kept. A change that would break a stay (a room closed
        while a stay runs in it, capacity below a household's size) is refused. Importing the
        same table twice changes nothing.
        """
        units: list[Unit] = self._records(table, "units")
        added = changed = 0
        with self._tx() as s:
            known = {u.unit_id: u for u in s.scalars(sa.select(UnitRow))}
            todo = []
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
            self._bump(s)
            policy = self._policy_in(s)
            for row, values in todo:
                if row is None:
                    s.add(UnitRow(**values))
                    self._audit(s, "add", "unit", values["unit_id"], **values)
                    added += 1
                    continue
                diff = {
                    f: [getattr(row, f), values[f]]
                    for f in UNIT_FIELDS
                    if getattr(row, f) != values[f]
                }
                for f in UNIT_FIELDS:
                    setattr(row, f, values[f])
                s.flush()
                for stay in self._unit_stays(s, row.unit_id):
                    if stay.actual_end is None:
                        hh = s.get(HouseholdRow, stay.household_id)
                        start, end = _interval(stay)
                        self._check_unit_fit(row, hh, start, end, policy, _describe(stay))
                self._audit(
                    s,
                    "change",
                    "unit",
                    row.unit_id,
                    **{
                        k: [x.isoformat() if isinstance(x, dt.date) else x for x in v]
                        for k, v in diff.items()
                    },
                )
                changed += 1
        log.info("units import: %d added, %d changed", added, changed)
        return ImportResult(added, changed, len(units) - added - changed)

    def import_requests(self, table: TableLike | str | os.PathLike) -> ImportResult:
        """Add households waiting for a place, or update their request fields.

        Importing the same table twice changes nothing. A household already housed may not grow
        beyond its unit's capacity.
        """
        households: list[Household] = self._records(table, "households")
        added = changed = 0
        with self._tx() as s:
            known = {h.household_id: h for h in s.scalars(sa.select(HouseholdRow))}
            for h in households:
                values = h.model_dump(mode="json")
                values["need_date"] = h.need_date
                row = known.get(h.household_id)
                if row is None:
                    s.add(HouseholdRow(**values))
                    self._audit(s, "add", "household", h.household_id)
                    added += 1
                    continue
                diff = [f for f in HOUSEHOLD_FIELDS if getattr(row, f) != values[f]]
                if not diff:
                    continue
                stay = s.scalars(
                    sa.select(StayRow).where(StayRow.household_id == h.household_id)
                ).first()
                if stay is not None and stay.actual_end is None and "size" in diff:
                    unit = s.get(UnitRow, stay.unit_id)
                    if h.size > unit.capacity:
                        raise InputError(
                            f"rule 'capacity': household {h.household_id} would have "
                            f"{h.size} persons, but {_describe(stay)} has {unit.capacity} beds",
                            source="requests",
                            column="size",
                        )
                for f in diff:
                    setattr(row, f, values[f])
                self._audit(s, "change", "household", h.household_id, fields=diff)
                changed += 1
        log.info("requests import: %d added, %d changed", added, changed)
        return ImportResult(added, changed, len(households) - added - changed)

    # -- reading helpers (inside a transaction)

    def _policy_in(self, s: Session) -> Policy:
        return validate_policy(
            s.execute(sa.select(LedgerState.policy)).scalar_one(), source="ledger policy"
        )

    def _unit_stays(self, s: Session, unit_id: str) -> list[StayRow]:
        return list(s.scalars(sa.select(StayRow).where(StayRow.unit_id == unit_id)))

    def _stay_of(self, s: Session, household_id: str) -> StayRow:
        if s.get(HouseholdRow, household_id) is None:
            raise InputError(f"unknown household {household_id!r}", field="household_id")
        stay = s.scalars(sa.select(StayRow).where(StayRow.household_id == household_id)).first()
        if stay is None:
            raise InputError(
                f"household {household_id} has no stay (it is waiting)", field="household_id"
            )
        return stay

    @staticmethod
    def _check_unit_fit(
        unit: UnitRow, hh: HouseholdRow, start: dt.date, end: dt.date, policy: Policy, what: str
    ) -> None:
        if hh.size > unit.capacity:
            raise InputError(
                f"rule 'capacity': {what}: household {hh.household_id} has {hh.size} persons "
                f"but unit {unit.unit_id} has {unit.capacity} beds"
            )
        if hh.accessible and not unit.accessible:
            raise InputError(
                f"rule 'accessibility': {what}: household {hh.household_id} needs a step-free "
                f"unit and unit {unit.unit_id} is not"
            )
        if unit.available_from is not None and start < unit.available_from:
            raise InputError(
                f"rule 'availability': {what}: unit {unit.unit_id} is available only from "
                f"{unit.available_from}"
            )
        if unit.available_until is not None and end > unit.available_until:
            raise InputError(
                f"rule 'availability': {what}: unit {unit.unit_id} leaves the programme on "
                f"{unit.available_until}"
            )

    def _check_stay(
        self,
        s: Session,
        policy: Policy,
        household_id: str,
        unit_id: str,
        start: dt.date,
        end: dt.date,
        exclude: int | None,
        what: str,
        as_of: dt.date | None = None,
    ) -> None:
        """Every engine rule for one stay [start, end) against the ledger; `InputError` if not.

        ``as_of`` is the day the change happens (a move-in's date): a household still in its unit
        past its expected end on that day has not left, whatever its expected end says.
        """
        hh = s.get(HouseholdRow, household_id)
        if hh is None:
            raise InputError(f"unknown household {household_id!r}", field="household_id")
        unit = s.get(UnitRow, unit_id)
        if unit is None:
            raise InputError(f"unknown unit {unit_id!r}", field="unit_id")
        if end <= start:
            raise InputError(f"{what}: the stay would end ({end}) on or before it starts ({start})")
        other = s.scalars(
            sa.select(StayRow).where(
                StayRow.household_id == household_id, StayRow.stay_id != (exclude or -1)
            )
        ).first()
        if other is not None:
            raise InputError(
                f"rule 'never split': {what}: household {household_id} already has {_describe(other)}"
            )
        self._check_unit_fit(unit, hh, start, end, policy, what)
        turn = dt.timedelta(days=policy.turnover_days)
        for o in self._unit_stays(s, unit_id):
            if o.stay_id == exclude:
                continue
            a, b = _interval(o, until=as_of)
            if start < b + turn and a < end + turn:
                overdue = b > _interval(o)[1]
                raise InputError(
                    f"rule 'no overlap (incl. {policy.turnover_days} turnover days)': {what} "
                    f"from {start} to {end} would overlap {_describe(o)}"
                    + ("; it is past its expected end: record its exit first" if overdue else "")
                )

    # -- weekly batch

    def _engine_inputs(self, s: Session, week: dt.date, policy: Policy, commit_days: int):
        units = list(s.scalars(sa.select(UnitRow).order_by(UnitRow.unit_id)))
        if not units:
            raise InputError("the ledger has no units: import units first")
        housed = set(s.scalars(sa.select(StayRow.household_id)))
        waiting = [
            h
            for h in s.scalars(sa.select(HouseholdRow).order_by(HouseholdRow.household_id))
            if h.household_id not in housed
        ]
        if not waiting:
            raise InputError("no household is waiting: import requests first")
        turn = dt.timedelta(days=policy.turnover_days)
        by_unit: dict[str, list[StayRow]] = {}
        for st in s.scalars(sa.select(StayRow)):
            by_unit.setdefault(st.unit_id, []).append(st)
        sizes = {
            h.household_id: h
            for h in s.scalars(sa.select(HouseholdRow).where(HouseholdRow.household_id.in_(housed)))
        }
        stays = []
        hold = week + dt.timedelta(days=commit_days)
        for unit_id, unit_stays in by_unit.items():
            spans = sorted((_interval(st), st) for st in unit_stays)
            for k, ((a, b), st) in enumerate(spans):
                if st.actual_end is None and b <= week:
                    # still there past the expected end: assume the unit stays busy this week,
                    # up to the next stay already booked in the unit
                    nxt = [x[0][0] for x in spans[k + 1 :]]
                    limit = min([hold, *[n - turn for n in nxt]])
                    b = max(b, limit)
                if b + turn <= week:
                    continue
                hh = sizes[st.household_id]
                stays.append(
                    {
                        "household_id": st.household_id,
                        "unit_id": unit_id,
                        "start": a,
                        "expected_end": b,
                        "size": hh.size,
                        "support": hh.support,
                        "language": hh.language,
                    }
                )
        unit_frame = _rows_frame(units, UNIT_FIELDS)
        hh_frame = _rows_frame(waiting, HOUSEHOLD_FIELDS)
        stay_frame = pd.DataFrame(
            stays,
            columns=[
                "household_id",
                "unit_id",
                "start",
                "expected_end",
                "size",
                "support",
                "language",
            ],
        )
        return hh_frame, unit_frame, stay_frame

    def propose(
        self,
        week: dt.date | str,
        *,
        policy: Policy | None = None,
        pins: Mapping[str, str] | None = None,
        forbids: Iterable[tuple[str, str]] | None = None,
        method: str = "solver",
        time_limit: float = 30.0,
        workers: int | None = None,
        seed: int = 0,
        commit_days: int = 7,
        proposed_by: str | None = None,
    ) -> Proposal:
        """Plan the week from the ledger: current stays fixed, waiting households as input.

        The plan (with the engine's explanations), the policy, pins, forbids and solver status
        are stored as a proposed batch. Approving it turns the placements that start before
        ``week + commit_days`` into stays; later ones are planned again next week.
        """
        from allocator.engine.planning import plan

        week = as_date(week, "week")
        if commit_days < 1:
            raise InputError(f"commit_days must be at least 1, got {commit_days}")
        pins = dict(pins or {})
        forbids = [tuple(p) for p in (forbids or [])]
        with self._tx() as s:
            version = s.execute(sa.select(LedgerState.version)).scalar_one()
            policy = policy or self._policy_in(s)
            households, units, stays = self._engine_inputs(s, week, policy, commit_days)
        result = plan(
            households,
            units,
            stays,
            start=week,
            policy=policy,
            method=method,
            pins=pins,
            forbids=forbids,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
        )
        commit_until = week + dt.timedelta(days=commit_days)
        table = result.placements
        with self._tx() as s:
            batch = BatchRow(
                week=week,
                status="proposed",
                proposed_at=_now(),
                proposed_by=proposed_by or self.actor,
                ledger_version=version,
                method=result.method.value,
                solver_status=result.status.value,
                objective=float(result.objective),
                hotel_person_nights=int(result.hotel_person_nights),
                policy=policy.model_dump(mode="json"),
                pins=pins,
                forbids=[list(p) for p in forbids],
                inputs={
                    "waiting_households": len(households),
                    "units": len(units),
                    "fixed_stays": len(stays),
                    "ledger_version": version,
                    "time_limit": time_limit,
                    "seed": seed,
                    "commit_days": commit_days,
                },
                commit_until=commit_until,
            )
            s.add(batch)
            s.flush()
            for r in table.to_dict(orient="records"):
                r = {k: (None if _missing(v) else v) for k, v in r.items()}
                s.add(
                    PlacementRow(
                        batch_id=batch.batch_id,
                        household_id=r["household_id"],
                        unit_id=r["unit_id"],
                        kind=r["kind"],
                        start=r["start"],
                        expected_end=r["expected_end"],
                        wait_days=int(r["wait_days"]),
                        status=str(r["status"]),
                        reason=r["reason"],
                    )
                )
            self._audit(
                s,
                "propose",
                "batch",
                batch.batch_id,
                actor=proposed_by,
                week=week,
                solver_status=result.status.value,
                placed=int((table.status == "placed").sum()),
            )
            batch_id = batch.batch_id
        log.info("proposed batch %d for %s: %d households", batch_id, week, len(table))
        return Proposal(batch_id, week, commit_until, result.status.value, table)

    def _batch(self, s: Session, batch_id: int | None, *, lock: bool = False) -> BatchRow:
        if batch_id is None:
            batch_id = s.execute(
                sa.select(sa.func.max(BatchRow.batch_id)).where(BatchRow.status == "proposed")
            ).scalar()
            if batch_id is None:
                raise InputError("no proposed batch to approve: run batch propose first")
        batch = s.get(BatchRow, int(batch_id), with_for_update=lock)
        if batch is None:
            raise InputError(f"unknown batch {batch_id}", field="batch_id")
        return batch

    def approve(self, batch_id: int | None = None, approver: str | None = None) -> pd.DataFrame:
        """Turn a proposed batch into stays, all or none; returns the batch's stays.

        Approving an approved batch again changes nothing (idempotent). ``batch_id`` None means
        the latest proposed batch.
        """
        approver = approver or self.actor or getpass.getuser()
        with self._tx() as s:
            batch = self._batch(s, batch_id, lock=True)
            if batch.status == "approved":
                return self._stays_frame(s, StayRow.batch_id == batch.batch_id)
            self._bump(s, expected=batch.ledger_version)
            policy = validate_policy(batch.policy, source=f"batch {batch.batch_id} policy")
            rows = s.scalars(
                sa.select(PlacementRow)
                .where(
                    PlacementRow.batch_id == batch.batch_id,
                    PlacementRow.status == "placed",
                    PlacementRow.start < batch.commit_until,
                )
                .order_by(PlacementRow.household_id)
            )
            n = 0
            for p in rows:
                what = f"batch {batch.batch_id}: household {p.household_id} in unit {p.unit_id}"
                _check_stay(self, s, policy, p, what)
                s.add(
                    StayRow(
                        household_id=p.household_id,
                        unit_id=p.unit_id,
                        batch_id=batch.batch_id,
                        start=p.start,
                        expected_end=p.expected_end,
                    )
                )
                s.flush()
                n += 1
            batch.status = "approved"
            batch.approved_by = approver
            batch.approved_at = _now()
            self._audit(s, "approve", "batch", batch.batch_id, actor=approver, stays=n)
            s.flush()
            out = self._stays_frame(s, StayRow.batch_id == batch.batch_id)
        log.info("approved batch %s: %d stays", batch.batch_id, n)
        return out

    # -- stays

    def move_in(
        self,
        household_id: str,
        date: dt.date | str,
        *,
        unit_id: str | None = None,
        expected_end: dt.date | str | None = None,
    ) -> None:
        """Record the day a household moved in: its planned stay, or a manual one in ``unit_id``.

        A manual move-in that breaks a rule (overlap incl. turnover, capacity, accessibility,
        availability, one stay per household) is refused with the rule and the stay named.
        """
        date = as_date(date, "date")
        end = as_date(expected_end, "expected_end") if expected_end is not None else None
        with self._tx() as s:
            hh = s.get(HouseholdRow, household_id)
            if hh is None:
                raise InputError(f"unknown household {household_id!r}", field="household_id")
            if unit_id is not None and s.get(UnitRow, unit_id) is None:
                raise InputError(f"unknown unit {unit_id!r}", field="unit_id")
            stay = s.scalars(sa.select(StayRow).where(StayRow.household_id == household_id)).first()
            self._bump(s)
            policy = self._policy_in(s)
            if stay is None:
                if unit_id is None:
                    raise InputError(
                        f"household {household_id} has no planned stay: give the unit "
                        "(--unit) for a manual move-in",
                        field="unit_id",
                    )
                end = end or date + dt.timedelta(days=hh.expected_stay_days)
                what = f"manual move-in of household {household_id} in unit {unit_id}"
                self._check_stay(s, policy, household_id, unit_id, date, end, None, what, date)
                s.add(
                    StayRow(
                        household_id=household_id,
                        unit_id=unit_id,
                        start=date,
                        expected_end=end,
                        moved_in=date,
                    )
                )
                self._audit(
                    s, "move_in", "stay", household_id, unit_id=unit_id, date=date, manual=True
                )
                return
            if unit_id is not None and unit_id != stay.unit_id:
                raise InputError(
                    f"household {household_id} is planned in unit {stay.unit_id}, not {unit_id} "
                    f"({_describe(stay)})",
                    field="unit_id",
                )
            if stay.moved_in is not None:
                if stay.moved_in == date and (end is None or end == stay.expected_end):
                    return
                raise InputError(f"already moved in: {_describe(stay)}")
            end = end or stay.expected_end
            what = f"move-in of household {household_id} in unit {stay.unit_id}"
            self._check_stay(
                s, policy, household_id, stay.unit_id, date, end, stay.stay_id, what, date
            )
            stay.moved_in = date
            if end != stay.expected_end:
                stay.expected_end = end
            self._audit(s, "move_in", "stay", stay.stay_id, date=date, expected_end=end)

    def exit(
        self,
        household_id: str,
        date: dt.date | str,
        pathway: str,
        outcome: str | None = None,
    ) -> None:
        """Record that a household left its unit on ``date``, by which pathway, with what outcome.

        ``outcome`` is a short code or phrase; it must not contain names or personal data.
        """
        date = as_date(date, "date")
        pathway = str(pathway).strip().lower()
        if pathway not in EXIT_PATHWAYS:
            raise InputError(
                f"unknown exit pathway {pathway!r}; expected one of {', '.join(EXIT_PATHWAYS)}",
                field="pathway",
            )
        if outcome is not None and len(outcome) > MAX_TEXT:
            raise InputError(f"outcome longer than {MAX_TEXT} characters", field="outcome")
        with self._tx() as s:
            stay = self._stay_of(s, household_id)
            if stay.actual_end is not None:
                if (stay.actual_end, stay.exit_pathway, stay.exit_outcome) == (
                    date,
                    pathway,
                    outcome,
                ):
                    return
                raise InputError(f"already exited: {_describe(stay)}")
            if stay.moved_in is None:
                raise InputError(f"exit before move-in: {_describe(stay)} has no move-in recorded")
            if date <= stay.moved_in:
                raise InputError(
                    f"exit before move-in: exit on {date} but the household moved in on "
                    f"{stay.moved_in} ({_describe(stay)})",
                    field="date",
                )
            self._bump(s)
            policy = self._policy_in(s)
            what = f"exit of household {household_id} from unit {stay.unit_id}"
            self._check_stay(
                s, policy, household_id, stay.unit_id, stay.moved_in, date, stay.stay_id, what
            )
            stay.actual_end = date
            stay.exit_pathway = pathway
            stay.exit_outcome = outcome
            self._audit(
                s, "exit", "stay", stay.stay_id, date=date, pathway=pathway, outcome=outcome
            )

    def extend(self, household_id: str, expected_end: dt.date | str, reason: str) -> None:
        """Move a running or planned stay's expected end, with a reason (no personal data)."""
        end = as_date(expected_end, "expected_end")
        reason = (reason or "").strip()
        if not reason:
            raise InputError("a reason is needed to change a stay's expected end", field="reason")
        if len(reason) > MAX_TEXT:
            raise InputError(f"reason longer than {MAX_TEXT} characters", field="reason")
        with self._tx() as s:
            stay = self._stay_of(s, household_id)
            if stay.actual_end is not None:
                raise InputError(f"cannot extend a finished stay: {_describe(stay)}")
            if end == stay.expected_end:
                return
            self._bump(s)
            policy = self._policy_in(s)
            start = stay.moved_in or stay.start
            what = f"extension of household {household_id}'s stay in unit {stay.unit_id}"
            self._check_stay(s, policy, household_id, stay.unit_id, start, end, stay.stay_id, what)
            old = stay.expected_end
            stay.expected_end = end
            self._audit(s, "extend", "stay", stay.stay_id, old=old, new=end, reason=reason)

    # -- reading

    def _stays_frame(self, s: Session, *where) -> pd.DataFrame:
        cols = [c.key for c in StayRow.__table__.columns]
        rows = s.scalars(sa.select(StayRow).where(*where).order_by(StayRow.stay_id))
        return _rows_frame(rows, cols)

    def table(self, name: str) -> pd.DataFrame:
        """A stored table (units, households, stays, batches, placements, audit) or a derived one
        (history, occupancy, waiting, overdue, free, summary) as a DataFrame."""
        if name in DERIVED:
            return self.history() if name == "history" else self.status()[name]
        model = TABLES.get(name)
        if model is None:
            raise InputError(
                f"unknown table {name!r}; expected one of {', '.join([*TABLES, *DERIVED])}",
                field="table",
            )
        cols = [c.key for c in model.__table__.columns]
        pk = list(model.__table__.primary_key.columns)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(model.__table__).order_by(*pk)).mappings().all()
        frame = pd.DataFrame([dict(r) for r in rows], columns=cols)
        for c in ("policy", "pins", "forbids", "inputs", "detail"):
            if c in frame.columns:
                import json

                frame[c] = frame[c].map(lambda v: json.dumps(v, sort_keys=True, default=str))
        return frame

    def export(self, name: str, path: str | os.PathLike) -> int:
        """Write a table (see `table`) to .csv or .xlsx, atomically; returns the row count."""
        from allocator.io import write_table

        frame = self.table(name)
        write_table(frame, path)
        return len(frame)

    def snapshot(self) -> dict[str, pd.DataFrame]:
        """Every stored table except the audit trail's timestamps: to compare two ledgers."""
        out = {}
        for name in TABLES:
            frame = self.table(name)
            out[name] = frame.drop(
                columns=[c for c in ("at", "proposed_at", "approved_at") if c in frame.columns]
            )
        return out

    def _load(self):
        with self.engine.connect() as conn:
            s = Session(bind=conn)
            units = list(s.scalars(sa.select(UnitRow).order_by(UnitRow.unit_id)))
            households = {h.household_id: h for h in s.scalars(sa.select(HouseholdRow))}
            stays = list(s.scalars(sa.select(StayRow).order_by(StayRow.stay_id)))
            batches = list(s.scalars(sa.select(BatchRow).order_by(BatchRow.batch_id)))
            policy = validate_policy(
                s.execute(sa.select(LedgerState.policy)).scalar_one(), source="ledger policy"
            )
            s.close()
        return units, households, stays, batches, policy

    def status(self, today: dt.date | str | None = None, weeks: int = 4) -> dict[str, pd.DataFrame]:
        """The ledger today, as DataFrames.

        ``summary`` (one row of key figures), ``occupancy`` (each unit today), ``waiting``
        (households without a stay and for how long), ``overdue`` (stays past their expected end
        or past the policy's max stay) and ``free`` (free stretches of each unit in the next
        ``weeks`` weeks, turnover included).
        """
        today = as_date(today or dt.date.today(), "today")
        units, households, stays, _, policy = self._load()
        turn = dt.timedelta(days=policy.turnover_days)
        by_unit: dict[str, list[StayRow]] = {}
        for st in stays:
            by_unit.setdefault(st.unit_id, []).append(st)
        occ_rows = []
        for u in units:
            present = None
            for st in by_unit.get(u.unit_id, []):
                a, b = _interval(st, until=today + dt.timedelta(days=1))
                if a <= today < b:
                    present = st
            state = "free"
            if present is not None:
                state = "occupied" if present.moved_in else "move-in not recorded"
            closed = (u.available_from is not None and today < u.available_from) or (
                u.available_until is not None and today >= u.available_until
            )
            occ_rows.append(
                {
                    "unit_id": u.unit_id,
                    "kind": u.kind,
                    "capacity": u.capacity,
                    "state": "closed" if closed and present is None else state,
                    "household_id": present.household_id if present else None,
                    "persons": households[present.household_id].size if present else 0,
                    "since": (present.moved_in or present.start) if present else None,
                    "expected_end": present.expected_end if present else None,
                }
            )
        occupancy = pd.DataFrame(
            occ_rows,
            columns=[
                "unit_id",
                "kind",
                "capacity",
                "state",
                "household_id",
                "persons",
                "since",
                "expected_end",
            ],
        )
        housed = {st.household_id for st in stays}
        wait_rows = [
            {
                "household_id": h.household_id,
                "size": h.size,
                "urgency": h.urgency,
                "need_date": h.need_date,
                "waiting_days": max(0, (today - h.need_date).days),
            }
            for h in households.values()
            if h.household_id not in housed
        ]
        waiting = pd.DataFrame(
            wait_rows, columns=["household_id", "size", "urgency", "need_date", "waiting_days"]
        )
        waiting = waiting.sort_values(
            ["waiting_days", "urgency", "household_id"], ascending=[False, False, True]
        ).reset_index(drop=True)
        over_rows = []
        for st in stays:
            if st.actual_end is not None or st.moved_in is None:
                continue
            days_in = (today - st.moved_in).days
            past_end = max(0, (today - st.expected_end).days)
            past_max = days_in > policy.max_stay_days
            if past_end > 0 or past_max or st.expected_end == today:
                over_rows.append(
                    {
                        "stay_id": st.stay_id,
                        "household_id": st.household_id,
                        "unit_id": st.unit_id,
                        "moved_in": st.moved_in,
                        "expected_end": st.expected_end,
                        "days_in": days_in,
                        "days_past_expected_end": past_end,
                        "past_max_stay": past_max,
                    }
                )
        overdue = pd.DataFrame(
            over_rows,
            columns=[
                "stay_id",
                "household_id",
                "unit_id",
                "moved_in",
                "expected_end",
                "days_in",
                "days_past_expected_end",
                "past_max_stay",
            ],
        )
        window_end = today + dt.timedelta(days=7 * weeks)
        free_rows = []
        for u in units:
            lo = max(today, u.available_from or today)
            hi = min(window_end, u.available_until or window_end)
            busy = sorted(
                (a, b + turn)
                for a, b in (
                    _interval(st, until=today + dt.timedelta(days=1))
                    for st in by_unit.get(u.unit_id, [])
                )
            )
            cursor = lo
            for a, b in busy:
                if a > cursor and cursor < hi:
                    free_rows.append((u, cursor, min(a, hi)))
                cursor = max(cursor, b)
            if cursor < hi:
                free_rows.append((u, cursor, None if hi == window_end else hi))
        free = pd.DataFrame(
            [
                {
                    "unit_id": u.unit_id,
                    "kind": u.kind,
                    "capacity": u.capacity,
                    "free_from": a,
                    "free_until": b,
                }
                for u, a, b in free_rows
            ],
            columns=["unit_id", "kind", "capacity", "free_from", "free_until"],
        )
        summary = pd.DataFrame(
            [
                {
                    "today": today,
                    "units": len(units),
                    "units_occupied": int(
                        (occupancy.state != "free").sum() - (occupancy.state == "closed").sum()
                    ),
                    "persons_housed": int(occupancy.persons.sum()),
                    "households_waiting": len(waiting),
                    "average_wait_days": float(waiting.waiting_days.mean())
                    if len(waiting)
                    else 0.0,
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

    def history(
        self, start: dt.date | str | None = None, end: dt.date | str | None = None
    ) -> pd.DataFrame:
        """Rotation figures per week (weeks start on the first batch's week day).

        Columns: week, unit_nights_available, unit_nights_occupied, occupancy, persons_housed
        (average per night), stays, average_stay_days and longest_stay_days (length so far of
        stays present in the week, at its end), exits and exits_<pathway>, over_max_stay (stays
        present at the week's end that are longer than the policy's max stay), turnover_days_lost
        (days units stood empty between a stay and the next one starting in the week) and
        hotel_person_nights (nights of households needing a place and not yet in a unit).
        """
        units, households, stays, batches, policy = self._load()
        if start is not None:
            first = as_date(start, "start")
        elif batches:
            first = min(b.week for b in batches)
        elif stays:
            first = min(_interval(st)[0] for st in stays)
        else:
            first = None
        if end is not None:
            last = as_date(end, "end")
        elif first is not None:
            # through the last batch's week and the last recorded move-in or exit
            recorded = [d for st in stays for d in (st.moved_in, st.actual_end) if d is not None]
            last = max(
                [first + dt.timedelta(days=7)]
                + [b.week + dt.timedelta(days=7) for b in batches]
                + [d + dt.timedelta(days=1) for d in recorded]
            )
        else:
            last = None
        cols = [
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
        if first is None or last <= first:
            return pd.DataFrame(columns=cols)
        spans = {st.stay_id: _interval(st, until=last) for st in stays}
        previous: dict[int, dt.date | None] = {}
        by_unit: dict[str, list[StayRow]] = {}
        for st in stays:
            by_unit.setdefault(st.unit_id, []).append(st)
        for unit_stays in by_unit.values():
            unit_stays.sort(key=lambda st: spans[st.stay_id][0])
            for k, st in enumerate(unit_stays):
                previous[st.stay_id] = spans[unit_stays[k - 1].stay_id][1] if k else None
        far = dt.date.max

        def nights(a: dt.date, b: dt.date, ws: dt.date, we: dt.date) -> int:
            return max(0, (min(b, we) - max(a, ws)).days)

        rows = []
        ws = first
        while ws < last:
            we = ws + dt.timedelta(days=7)
            avail = sum(
                nights(u.available_from or dt.date.min, u.available_until or far, ws, we)
                for u in units
            )
            occupied = persons = 0
            lengths = []
            over = 0
            exits = dict.fromkeys(EXIT_PATHWAYS, 0)
            lost = 0
            for st in stays:
                a, b = spans[st.stay_id]
                n = nights(a, b, ws, we)
                occupied += n
                persons += n * households[st.household_id].size
                if n:
                    length = (min(b, we) - a).days
                    lengths.append(length)
                    if b >= we and length > policy.max_stay_days:
                        over += 1
                if st.actual_end is not None and ws <= st.actual_end < we:
                    exits[st.exit_pathway] = exits.get(st.exit_pathway, 0) + 1
                if ws <= a < we and previous[st.stay_id] is not None:
                    lost += max(0, (a - previous[st.stay_id]).days)
            moved = {st.household_id: spans[st.stay_id][0] for st in stays}
            hotel = 0
            for h in households.values():
                until = moved.get(h.household_id, far)
                hotel += nights(h.need_date, until, ws, we) * h.size
            rows.append(
                {
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
            )
            ws = we
        return pd.DataFrame(rows, columns=cols)


def _check_stay(ledger: Ledger, s: Session, policy: Policy, p: PlacementRow, what: str) -> None:
    """The rule check for one placement being approved (a module function so tests can hook it)."""
    ledger._check_stay(s, policy, p.household_id, p.unit_id, p.start, p.expected_end, None, what)


def open_ledger(url_or_path: str | os.PathLike | None = None, **kwargs) -> Ledger:
    """`Ledger.open`."""
    return Ledger.open(url_or_path, **kwargs)
