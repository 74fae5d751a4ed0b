"""The weekly batch: plan the week from the ledger (propose), then turn it into stays (approve).

A batch remembers the ledger version it was planned against; approving is a compare-and-swap
on that version (see `allocator.ledger.database.bump`), so a batch planned against an older
state of the ledger is refused instead of double-booking a unit.
"""

from __future__ import annotations

import datetime as dt
import getpass
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from allocator.domain import JOINED_SEPARATOR
from allocator.errors import _N, AllocatorError, InputError, Message
from allocator.ledger import announcements
from allocator.ledger.database import audit, bump, now, read_policy, read_version, transaction
from allocator.ledger.imports import HOUSEHOLD_FIELDS, UNIT_FIELDS
from allocator.ledger.reading import rows_frame, stays_frame
from allocator.ledger.rules import (
    check_stay,
    interval,
    joined_text,
    rooms,
    split_joined,
    user_date,
)
from allocator.ledger.schema import BatchRow, HouseholdRow, PlacementRow, StayRow, UnitRow
from allocator.limits import WINDOW_YEARS, add_years
from allocator.policy import Policy, validate_policy

if TYPE_CHECKING:
    from allocator.engine.result import Plan

log = logging.getLogger("allocator.ledger")

STAY_COLUMNS = [
    "household_id",
    "unit_id",
    "start",
    "expected_end",
    "size",
    "support",
    "language",
    "accessible",
    "joined_units",
]


@dataclass
class Proposal:
    batch_id: int
    week: dt.date
    commit_until: dt.date
    solver_status: str
    placements: pd.DataFrame
    # per household, what changed against the last approved batch (`announcements.changes`)
    changes: pd.DataFrame | None = None

    @property
    def to_commit(self) -> pd.DataFrame:
        """The placements that approving the batch turns into stays (starting this week)."""
        p = self.placements
        return p[(p.status == "placed") & (p.start < self.commit_until)]


# --- propose ---------------------------------------------------------------------------------


def engine_inputs(
    s: Session, week: dt.date, policy: Policy, commit_days: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The engine's households (those waiting), units, and the stays it must plan around."""
    units = list(s.scalars(sa.select(UnitRow).order_by(UnitRow.unit_id)))
    if not units:
        raise InputError(_N("the ledger has no units: import units first"))
    housed = set(s.scalars(sa.select(StayRow.household_id)))
    waiting = [
        h
        for h in s.scalars(sa.select(HouseholdRow).order_by(HouseholdRow.household_id))
        if h.household_id not in housed
    ]
    if not waiting:
        raise InputError(_N("no household is waiting: import requests first"))
    stays = _fixed_stays(s, week, policy, commit_days, housed)
    return (
        rows_frame(waiting, HOUSEHOLD_FIELDS),
        rows_frame(units, UNIT_FIELDS),
        pd.DataFrame(stays, columns=STAY_COLUMNS),
    )


def _fixed_stays(
    s: Session, week: dt.date, policy: Policy, commit_days: int, housed: set[str]
) -> list[dict[str, Any]]:
    """Stays that still hold their unit on ``week`` or later (turnover included).

    As the engine must see them: an overdue stay's assumed end stops at the day its unit leaves
    the programme, and a stay that began more than 10 years before ``week`` is shown from then
    (the engine only counts it from ``week``), so that the ledger's own stays pass the engine's
    rules (`allocator.rules`).
    """
    turn = dt.timedelta(days=policy.turnover_days)
    earliest = add_years(week, -WINDOW_YEARS)
    until = {u.unit_id: u.available_until for u in s.scalars(sa.select(UnitRow))}
    all_stays = list(s.scalars(sa.select(StayRow).order_by(StayRow.stay_id)))
    by_unit: dict[str, list[StayRow]] = {}
    for st in all_stays:
        for room in rooms(st):  # a stay in connecting rooms holds each of them
            by_unit.setdefault(room, []).append(st)
    sizes = {
        h.household_id: h
        for h in s.scalars(sa.select(HouseholdRow).where(HouseholdRow.household_id.in_(housed)))
    }
    hold = week + dt.timedelta(days=commit_days)
    # the end each stay is seen to have: for connecting rooms the earliest over its rooms
    ends: dict[int, dt.date] = {}
    order: list[StayRow] = []  # unit by unit, each unit's stays in time order, as before
    for unit_id, unit_stays in by_unit.items():
        spans = sorted(
            ((interval(st), st) for st in unit_stays), key=lambda x: (x[0], x[1].stay_id)
        )
        order += [st for _, st in spans if st.stay_id not in ends]
        for k, ((_a, b), st) in enumerate(spans):
            if st.actual_end is None and b <= week:
                # still there past the expected end: assume the unit stays busy this week,
                # up to the next stay already booked in the unit
                nxt = [x[0][0] for x in spans[k + 1 :]]
                limit = min([hold, *[n - turn for n in nxt]])
                leaves = until.get(unit_id)
                if leaves is not None and b <= leaves:
                    limit = min(limit, leaves)
                b = max(b, limit)
            ends[st.stay_id] = min(b, ends.get(st.stay_id, b))
    stays = []
    for st in order:
        a, b = interval(st)[0], ends[st.stay_id]
        if b + turn <= week:
            continue
        hh = sizes[st.household_id]
        stays.append(
            {
                "household_id": st.household_id,
                "unit_id": st.unit_id,
                "start": max(a, earliest),
                "expected_end": b,
                "size": hh.size,
                "support": hh.support,
                "language": hh.language,
                "accessible": hh.accessible,
                "joined_units": st.joined_units or "",
            }
        )
    return stays


def propose(
    engine: sa.Engine,
    actor: str | None,
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
    """Plan the week from the ledger and store it as a proposed batch; see `Ledger.propose`."""
    from allocator.engine.planning import plan

    week = user_date(week, "week")
    if (
        isinstance(commit_days, bool)
        or not isinstance(commit_days, int)
        or not 1 <= commit_days <= 366
    ):
        raise InputError(
            _N("expected a whole number of days from 1 to 366, got {days!r}"),
            days=commit_days,
            field="commit_days",
        )
    pins = dict(pins or {})
    pairs = [cast(tuple[str, str], tuple(p)) for p in (forbids or [])]
    with transaction(engine, actor) as s:
        version = read_version(s)
        policy = policy or read_policy(s)
        households, units, stays = engine_inputs(s, week, policy, commit_days)
        announced = announcements.announced_for(s, list(households["household_id"]))
        previous = announcements.last_approved_placements(s)
    result = plan(
        households,
        units,
        stays,
        start=week,
        policy=policy,
        method=method,
        pins=pins,
        forbids=pairs,
        time_limit=time_limit,
        workers=workers,
        seed=seed,
        announced=announced,
        previous=previous,
    )
    inputs = {
        "waiting_households": len(households),
        "units": len(units),
        "fixed_stays": len(stays),
        "ledger_version": version,
        "time_limit": time_limit,
        "seed": seed,
        "commit_days": commit_days,
        "announced": len(announced),
    }
    commit_until = week + dt.timedelta(days=commit_days)
    with transaction(engine, actor) as s:
        batch_id = _record(s, result, week, commit_until, policy, pins, pairs, inputs, proposed_by)
    table = result.placements
    log.info("proposed batch %d for %s: %d households", batch_id, week, len(table))
    return Proposal(batch_id, week, commit_until, result.status.value, table, result.changes)


def _missing(value: object) -> bool:
    """None, NaN or NaT: stored as NULL (psycopg would store a float NaN as the text 'NaN')."""
    try:
        return value is None or bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def _record(
    s: Session,
    result: Plan,
    week: dt.date,
    commit_until: dt.date,
    policy: Policy,
    pins: dict[str, str],
    forbids: list[tuple[str, str]],
    inputs: dict[str, Any],
    proposed_by: str | None,
) -> int:
    """Store a plan as a proposed batch with its placements; returns the batch id."""
    batch = BatchRow(
        week=week,
        status="proposed",
        proposed_at=now(),
        proposed_by=proposed_by or s.info.get("actor"),
        ledger_version=inputs["ledger_version"],
        method=result.method.value,
        solver_status=result.status.value,
        objective=float(result.objective),
        hotel_person_nights=int(result.hotel_person_nights),
        policy=policy.model_dump(mode="json"),
        pins=pins,
        forbids=[list(p) for p in forbids],
        inputs=inputs,
        commit_until=commit_until,
    )
    s.add(batch)
    s.flush()
    table = result.placements
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
                joined_units=r.get("joined_units") or None,
            )
        )
    audit(
        s,
        "propose",
        "batch",
        batch.batch_id,
        actor=proposed_by,
        week=week,
        solver_status=result.status.value,
        placed=int((table.status == "placed").sum()),
    )
    return batch.batch_id


# --- approve ---------------------------------------------------------------------------------


def _batch(s: Session, batch_id: int | None, *, lock: bool = False) -> BatchRow:
    """The batch ``batch_id``, or the latest proposed one when None."""
    if batch_id is None:
        batch_id = s.execute(
            sa.select(sa.func.max(BatchRow.batch_id)).where(BatchRow.status == "proposed")
        ).scalar()
        if batch_id is None:
            raise InputError(_N("no proposed batch to approve: run batch propose first"))
    batch = s.get(BatchRow, int(batch_id), with_for_update=lock)
    if batch is None:
        raise InputError(_N("unknown batch {batch}"), batch=batch_id, field="batch_id")
    return batch


def _check_stay(s: Session, policy: Policy, p: PlacementRow, what: str) -> None:
    """The rule check for one placement being approved (a module function so tests can hook it)."""
    if p.unit_id is None or p.start is None or p.expected_end is None:
        raise AllocatorError(Message(_N("{what}: the placement has no unit or dates"), what=what))
    joined = split_joined(p.joined_units)
    check_stay(
        s, policy, p.household_id, p.unit_id, p.start, p.expected_end, None, what, joined=joined
    )


def approve(
    engine: sa.Engine,
    actor: str | None,
    batch_id: int | None,
    approver: str | None,
    announce: bool = False,
) -> pd.DataFrame:
    """Turn a proposed batch into stays, all or none; see `Ledger.approve`. ``announce``: its
    placements after the commit day become announcements too (`announcements.announce_batch`),
    except those in connecting rooms, whose households the frame's ``attrs["not_announced"]``
    lists."""
    approver = approver or actor or getpass.getuser()
    with transaction(engine, actor) as s:
        batch = _batch(s, batch_id, lock=True)
        if batch.status == "approved":
            return stays_frame(s, StayRow.batch_id == batch.batch_id)
        bump(s, expected=batch.ledger_version)
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
            what = Message(
                _N("batch {batch}: household {household} in unit {unit}"),
                batch=batch.batch_id,
                household=p.household_id,
                unit=JOINED_SEPARATOR.join(filter(None, (p.unit_id, p.joined_units))),
            )
            _check_stay(s, policy, p, what)
            s.add(
                StayRow(  # a placement in connecting rooms is ONE stay holding all of them
                    household_id=p.household_id,
                    unit_id=p.unit_id,
                    joined_units=joined_text(split_joined(p.joined_units)),
                    batch_id=batch.batch_id,
                    start=p.start,
                    expected_end=p.expected_end,
                )
            )
            s.flush()
            n += 1
        batch.status = "approved"
        batch.approved_by = approver
        batch.approved_at = now()
        told: dict[str, Any] = {}
        skipped: list[str] = []
        if announce:
            told["announced"] = announcements.announce_batch(s, batch, approver)
            skipped = announcements.not_announced(s, batch)
            if skipped:
                told["not_announced_connecting_rooms"] = len(skipped)
        audit(s, "approve", "batch", batch.batch_id, actor=approver, stays=n, **told)
        s.flush()
        out = stays_frame(s, StayRow.batch_id == batch.batch_id)
    out.attrs["not_announced"] = skipped
    log.info("approved batch %s: %d stays", batch.batch_id, n)
    return out
