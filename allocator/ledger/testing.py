"""Helpers for the ledger's tests: fresh databases and the invariants every ledger must keep."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import sqlalchemy as sa

from allocator.ledger.database import database_url
from allocator.ledger.reading import load_rows
from allocator.ledger.rules import interval, rooms
from allocator.ledger.store import Ledger

POSTGRES_ENV = "ALLOCATOR_TEST_POSTGRES_URL"


def backends() -> list:
    """pytest params: SQLite always, PostgreSQL when ``$ALLOCATOR_TEST_POSTGRES_URL`` is set."""
    import pytest

    pg = pytest.mark.skipif(
        not os.environ.get(POSTGRES_ENV),
        reason=f"PostgreSQL ledger tests need {POSTGRES_ENV}=postgresql://user@host:port/db",
    )
    return [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pg)]


def fresh_url(backend: str, tmp_path: Path) -> str:
    """An empty ledger database: a new SQLite file, or the PostgreSQL database wiped clean."""
    if backend == "sqlite":
        return str(tmp_path / "ledger.db")
    url = database_url(os.environ[POSTGRES_ENV])
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return url


def invariant_violations(ledger: Ledger) -> list[str]:
    """Every engine rule the ledger's stays break, in words; empty when all hold."""
    units, households, stays, batches, policy = load_rows(ledger.engine)
    unit = {u.unit_id: u for u in units}
    turn = dt.timedelta(days=policy.turnover_days)
    problems = []
    seen: set[str] = set()
    for st in stays:
        if st.household_id in seen:
            problems.append(f"household {st.household_id} has two stays")
        seen.add(st.household_id)
        hh, taken = households[st.household_id], [unit[r] for r in rooms(st)]
        beds = sum(u.capacity for u in taken)
        if hh.size > beds:
            problems.append(f"stay {st.stay_id}: {hh.size} persons in {beds} beds")
        groups = {u.group for u in taken}
        if len(taken) > 1 and (None in groups or len(groups) > 1):
            problems.append(f"stay {st.stay_id}: rooms {rooms(st)} are not of one group")
        a, b = interval(st)
        if b <= a:
            problems.append(f"stay {st.stay_id}: ends {b} before it starts {a}")
        if st.actual_end is not None and (st.moved_in is None or st.actual_end <= st.moved_in):
            problems.append(f"stay {st.stay_id}: exit without or before move-in")
        if (st.actual_end is None) != (st.exit_pathway is None):
            problems.append(f"stay {st.stay_id}: exit without pathway")
    by_unit: dict[str, list] = {}
    for st in stays:
        for room in rooms(st):  # a stay in connecting rooms holds each of them
            by_unit.setdefault(room, []).append(interval(st))
    for unit_id, spans in by_unit.items():
        spans.sort()
        for (a1, b1), (a2, b2) in zip(spans, spans[1:], strict=False):
            if a2 < b1 + turn:
                problems.append(
                    f"unit {unit_id}: stays {a1}..{b1} and {a2}..{b2} overlap (turnover {turn.days})"
                )
    for batch in batches:
        if (batch.status == "approved") != (batch.approved_at is not None):
            problems.append(
                f"batch {batch.batch_id}: status {batch.status} but approved_at {batch.approved_at}"
            )
    return problems
