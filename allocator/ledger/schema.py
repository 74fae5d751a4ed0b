"""The ledger's tables, as SQLAlchemy 2 declarative models.

Nothing here stores a name or any other personal data: households are known by the pseudonymous
id the planner gives them and by the request fields the engine needs. The schema is created and
changed only through the Alembic revisions in `allocator.ledger.migrations`; `Base.metadata` is
what those revisions are checked against in the tests.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = sa.String(64)


class Base(DeclarativeBase):
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class LedgerState(Base):
    """One row: the version every change to stays or units bumps, and the ledger's policy.

    Approving a batch is a compare-and-swap on ``version`` (UPDATE ... WHERE version = :v), so
    a batch proposed against an older state of the ledger can never be approved.
    """

    __tablename__ = "ledger_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    policy: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)


class UnitRow(Base):
    __tablename__ = "units"
    unit_id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    capacity: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    accessible: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    available_from: Mapped[dt.date | None] = mapped_column(sa.Date)
    available_until: Mapped[dt.date | None] = mapped_column(sa.Date)
    nightly_cost: Mapped[float | None] = mapped_column(sa.Float)
    district: Mapped[str | None] = mapped_column(sa.String(40))
    # connecting rooms: units of one group may be taken together by one household
    group: Mapped[str | None] = mapped_column(ID)
    __table_args__ = (
        sa.CheckConstraint("capacity >= 1", name="capacity_positive"),
        sa.CheckConstraint("kind IN ('hub_room', 'flat')", name="kind_known"),
        sa.CheckConstraint(
            "available_from IS NULL OR available_until IS NULL OR available_until > available_from",
            name="window_not_empty",
        ),
    )


class HouseholdRow(Base):
    __tablename__ = "households"
    household_id: Mapped[str] = mapped_column(ID, primary_key=True)
    size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    minors: Mapped[int | None] = mapped_column(sa.Integer)
    urgency: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    need_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    # the stay's clock: nights from move-in, or the day the exit is expected; exactly one
    expected_stay_days: Mapped[int | None] = mapped_column(sa.Integer)
    expected_exit_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    support: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    accessible: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    exit_pathway: Mapped[str | None] = mapped_column(sa.String(32))
    language: Mapped[str | None] = mapped_column(sa.String(40))
    anchor_district: Mapped[str | None] = mapped_column(sa.String(40))
    __table_args__ = (
        sa.CheckConstraint("size >= 1", name="size_positive"),
        sa.CheckConstraint("urgency BETWEEN 1 AND 5", name="urgency_range"),
        sa.CheckConstraint(
            "(expected_stay_days IS NULL) <> (expected_exit_date IS NULL)", name="one_stay_clock"
        ),
        sa.CheckConstraint(
            "expected_exit_date IS NULL OR expected_exit_date > need_date", name="exit_after_need"
        ),
    )


class BatchRow(Base):
    """A weekly run: its inputs, policy, solver status, plan, and who approved it when."""

    __tablename__ = "batches"
    batch_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    week: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="proposed")
    proposed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, nullable=False)
    proposed_by: Mapped[str | None] = mapped_column(sa.String(64))
    ledger_version: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    method: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    solver_status: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    objective: Mapped[float | None] = mapped_column(sa.Float)
    hotel_person_nights: Mapped[int | None] = mapped_column(sa.Integer)
    policy: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    pins: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    forbids: Mapped[list[Any]] = mapped_column(sa.JSON, nullable=False)
    inputs: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    commit_until: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    approved_by: Mapped[str | None] = mapped_column(sa.String(64))
    approved_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    __table_args__ = (
        sa.CheckConstraint("status IN ('proposed', 'approved')", name="status_known"),
        sa.CheckConstraint(
            "(status = 'approved') = (approved_at IS NOT NULL)", name="approved_has_time"
        ),
    )


class PlacementRow(Base):
    """One row of a batch's plan, with the engine's explanation."""

    __tablename__ = "batch_placements"
    batch_id: Mapped[int] = mapped_column(
        sa.ForeignKey("batches.batch_id", ondelete="CASCADE"), primary_key=True
    )
    household_id: Mapped[str] = mapped_column(ID, primary_key=True)
    unit_id: Mapped[str | None] = mapped_column(ID)
    kind: Mapped[str | None] = mapped_column(sa.String(16))
    start: Mapped[dt.date | None] = mapped_column(sa.Date)
    expected_end: Mapped[dt.date | None] = mapped_column(sa.Date)
    wait_days: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    # the connecting rooms placed with unit_id, "+"-joined (`allocator.domain.JOINED_SEPARATOR`)
    joined_units: Mapped[str | None] = mapped_column(sa.String)


class StayRow(Base):
    """A household's stay in one unit, or in connecting rooms of one group taken together:
    planned dates, actual dates, and how it ended.

    One stay per household (``household_id`` is unique): a household is never split across units
    or stays. A stay in connecting rooms names its first room in ``unit_id`` and the others in
    ``joined_units`` ("+"-joined text; NULL or "" for none), and holds every one of them
    (`allocator.ledger.rules.rooms`). Rules across rows (no overlap in a unit including
    turnover, capacity) are checked in code inside the writing transaction, which first bumps ``ledger_state.version``, so two
    writers are serialised.
    """

    __tablename__ = "stays"
    stay_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    household_id: Mapped[str] = mapped_column(
        sa.ForeignKey("households.household_id"), nullable=False, unique=True
    )
    unit_id: Mapped[str] = mapped_column(sa.ForeignKey("units.unit_id"), nullable=False)
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batches.batch_id"))
    start: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    expected_end: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    moved_in: Mapped[dt.date | None] = mapped_column(sa.Date)
    actual_end: Mapped[dt.date | None] = mapped_column(sa.Date)
    exit_pathway: Mapped[str | None] = mapped_column(sa.String(32))
    exit_outcome: Mapped[str | None] = mapped_column(sa.String(200))
    joined_units: Mapped[str | None] = mapped_column(sa.String)
    __table_args__ = (
        sa.CheckConstraint("expected_end > start", name="end_after_start"),
        sa.CheckConstraint("actual_end IS NULL OR moved_in IS NOT NULL", name="exit_after_move_in"),
        sa.CheckConstraint("actual_end IS NULL OR actual_end > moved_in", name="exit_after_start"),
        sa.CheckConstraint(
            "(actual_end IS NULL) = (exit_pathway IS NULL)", name="exit_has_pathway"
        ),
        sa.Index("ix_stays_unit", "unit_id", "start"),
    )


class AnnouncementRow(Base):
    """A future placement told to a family: later plans keep it unless a change is worth it.

    At most one per household; a move-in or a withdrawal of the request removes it.
    """

    __tablename__ = "announcements"
    household_id: Mapped[str] = mapped_column(
        sa.ForeignKey("households.household_id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[str] = mapped_column(sa.ForeignKey("units.unit_id"), nullable=False)
    start: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batches.batch_id"))
    announced_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, nullable=False)
    announced_by: Mapped[str | None] = mapped_column(sa.String(64))


class AuditRow(Base):
    """Every change, who made it and when; ``detail`` holds ids and dates, never names."""

    __tablename__ = "audit"
    audit_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime, nullable=False)
    actor: Mapped[str | None] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    entity: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    entity_id: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)


class UserRow(Base):
    """A console account (`allocator.web`): a staff sign-in id, its role and its argon2 hash.

    Never a household's data, and never exported or shown: `reading.TABLES` leaves it out.
    """

    __tablename__ = "users"
    user_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    created: Mapped[dt.datetime] = mapped_column(sa.DateTime, nullable=False)
    disabled: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    __table_args__ = (
        sa.CheckConstraint(
            "role IN ('admin', 'planner', 'caseworker', 'viewer')", name="role_known"
        ),
    )
