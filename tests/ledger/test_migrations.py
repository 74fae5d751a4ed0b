"""A ledger made at schema revision 0001 upgrades with its data intact, and back down again.

Revision 0002 gives households an expected exit date and makes the stay length optional; on
SQLite that rebuilds the households table that the stays reference. Runs on SQLite, and on
PostgreSQL when ``ALLOCATOR_TEST_POSTGRES_URL`` is set.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from allocator.errors import AllocatorError
from allocator.ledger import Ledger
from allocator.ledger.database import create_engine, database_url, migrate, schema_revision
from allocator.ledger.testing import backends, fresh_url, invariant_violations

D0 = dt.date(2026, 12, 7)
DAY = dt.timedelta(days=1)
AT = dt.datetime(2026, 12, 7, 9, 30)

# a small running ledger, as revision 0001 stored it
ROWS_0001 = {
    "ledger_state": [{"id": 1, "version": 4, "policy": {"turnover_days": 3}}],
    "units": [
        {"unit_id": "U1", "kind": "flat", "capacity": 4, "accessible": True,
         "available_from": None, "available_until": None, "nightly_cost": 41.0},
        {"unit_id": "U2", "kind": "hub_room", "capacity": 2, "accessible": False,
         "available_from": D0, "available_until": D0 + 400 * DAY, "nightly_cost": None},
    ],
    "households": [
        {"household_id": "H1", "size": 3, "minors": 1, "urgency": 4, "need_date": D0 - 9 * DAY,
         "expected_stay_days": 90, "support": "high", "accessible": True,
         "exit_pathway": "public_housing", "language": "ar"},
        {"household_id": "H2", "size": 2, "minors": None, "urgency": 2, "need_date": D0,
         "expected_stay_days": 60, "support": "low", "accessible": False,
         "exit_pathway": None, "language": None},
        {"household_id": "H3", "size": 1, "minors": 0, "urgency": 3, "need_date": D0 + DAY,
         "expected_stay_days": 30, "support": "medium", "accessible": False,
         "exit_pathway": None, "language": None},
    ],
    "batches": [
        {"week": D0, "status": "approved", "proposed_at": AT,
         "proposed_by": "p1", "ledger_version": 2, "method": "greedy",
         "solver_status": "feasible", "objective": 12.5, "hotel_person_nights": 7,
         "policy": {"turnover_days": 3}, "pins": {}, "forbids": [], "inputs": {"seed": 0},
         "commit_until": D0 + 7 * DAY, "approved_by": "p2", "approved_at": AT},
    ],
    "batch_placements": [
        {"batch_id": 1, "household_id": "H1", "unit_id": "U1", "kind": "flat", "start": D0,
         "expected_end": D0 + 90 * DAY, "wait_days": 9, "status": "placed", "reason": "fits"},
        {"batch_id": 1, "household_id": "H3", "unit_id": None, "kind": None, "start": None,
         "expected_end": None, "wait_days": 0, "status": "waiting", "reason": "no unit"},
    ],
    "stays": [
        {"household_id": "H1", "unit_id": "U1", "batch_id": 1, "start": D0,
         "expected_end": D0 + 90 * DAY, "moved_in": D0 + DAY, "actual_end": None,
         "exit_pathway": None, "exit_outcome": None},
        {"household_id": "H2", "unit_id": "U2", "batch_id": None, "start": D0,
         "expected_end": D0 + 60 * DAY, "moved_in": D0, "actual_end": D0 + 20 * DAY,
         "exit_pathway": "family", "exit_outcome": "ok"},
    ],
    "audit": [
        {"at": AT, "actor": "p2", "action": "approve", "entity": "batch",
         "entity_id": "1", "detail": {"stays": 1}},
    ],
}  # fmt: skip
# (the serial ids are left to the database, which numbers them 1, 2, ... as the rows reference)


@pytest.fixture(params=backends())
def url_0001(request, tmp_path) -> str:
    """A ledger at revision 0001 holding ``ROWS_0001``."""
    url = database_url(fresh_url(request.param, tmp_path))
    engine = create_engine(url)
    migrate(engine, "0001")
    assert schema_revision(engine) == "0001"
    meta = sa.MetaData()
    with engine.begin() as conn:
        meta.reflect(conn)
        conn.execute(sa.delete(meta.tables["ledger_state"]))
        for name, rows in ROWS_0001.items():
            conn.execute(sa.insert(meta.tables[name]), rows)
    engine.dispose()
    return url


def _stored(ledger: Ledger, name: str, columns: list[str]) -> list[dict]:
    """The rows of a table as the database holds them (typed by reflection, not by our models)."""
    meta = sa.MetaData()
    with ledger.engine.connect() as conn:
        meta.reflect(conn, only=[name])
        table = meta.tables[name]
        rows = conn.execute(sa.select(*[table.c[c] for c in columns])).mappings()
        return [dict(r) for r in rows]


def test_a_0001_ledger_upgrades_with_its_data_intact(url_0001):
    """Every row and value survives; households get no exit date; the ledger keeps working."""
    with Ledger.open(url_0001, actor="tester", create=False) as ledger:
        assert ledger.schema_revision() not in (None, "0001")
        assert ledger.version == 4
        for name, rows in ROWS_0001.items():
            key = "household_id" if name == "batch_placements" else next(iter(rows[0]))
            stored = sorted(_stored(ledger, name, list(rows[0])), key=lambda r: r[key])
            assert stored == sorted(rows, key=lambda r: r[key]), name
        households = ledger.table("households")
        assert households.expected_exit_date.isna().all()
        assert list(households.expected_stay_days) == [90, 60, 30]
        assert invariant_violations(ledger) == []
        # the upgraded ledger takes exit-dated households and works its stays as before
        ledger.import_requests(
            [
                {
                    "household_id": "H4",
                    "size": 2,
                    "urgency": 5,
                    "need_date": D0,
                    "expected_exit_date": D0 + 50 * DAY,
                }
            ]  # fmt: skip
        )
        ledger.extend("H1", D0 + 120 * DAY, "offer pending")
        ledger.move_in("H4", D0 + 30 * DAY, unit_id="U2")  # after H2's exit and turnover
        stays = ledger.table("stays").set_index("household_id")
        assert stays.expected_end["H4"] == D0 + 50 * DAY
        assert invariant_violations(ledger) == []


def test_the_upgraded_schema_still_enforces_its_rules(url_0001):
    """The rebuilt households table keeps its checks and the stays' references to it."""
    with Ledger.open(url_0001, create=False) as ledger:
        engine = ledger.engine
        bad = [
            {"household_id": "B1", "size": 0, "urgency": 3, "need_date": D0,
             "expected_stay_days": 9, "support": "low", "accessible": False},
            {"household_id": "B2", "size": 1, "urgency": 3, "need_date": D0,
             "expected_stay_days": 9, "expected_exit_date": D0 + DAY, "support": "low",
             "accessible": False},
            {"household_id": "B3", "size": 1, "urgency": 3, "need_date": D0,
             "support": "low", "accessible": False},
            {"household_id": "B4", "size": 1, "urgency": 3, "need_date": D0,
             "expected_exit_date": D0, "support": "low", "accessible": False},
        ]  # fmt: skip
        meta = sa.MetaData()
        meta.reflect(engine)
        households = meta.tables["households"]
        for row in bad:
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
                conn.execute(sa.insert(households), [row])
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # H1 has a stay
            conn.execute(sa.delete(households).where(households.c.household_id == "H1"))
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_downgrade_keeps_exit_dated_households_as_stay_lengths(url_0001):
    """Back at 0001 an exit-dated household stays as the nights from its need date to its exit;
    upgrading again gives the same ledger with lengths only."""
    with Ledger.open(url_0001, create=False) as ledger:
        ledger.import_requests(
            [
                {
                    "household_id": "H4",
                    "size": 2,
                    "urgency": 5,
                    "need_date": D0,
                    "expected_exit_date": D0 + 50 * DAY,
                }
            ]  # fmt: skip
        )
        migrate(ledger.engine, "0001", down=True)
        assert ledger.schema_revision() == "0001"
        rows = _stored(ledger, "households", ["household_id", "expected_stay_days"])
        stored = {r["household_id"]: r["expected_stay_days"] for r in rows}
        assert stored == {"H1": 90, "H2": 60, "H3": 30, "H4": 50}
    with Ledger.open(url_0001, create=False) as ledger:
        households = ledger.table("households").set_index("household_id")
        assert households.expected_stay_days["H4"] == 50
        assert households.expected_exit_date.isna().all()
        assert invariant_violations(ledger) == []


def test_a_migration_that_would_break_a_reference_changes_nothing(tmp_path):
    """SQLite runs the migrations without enforcing foreign keys, so they are checked before the
    migration commits: a broken reference rolls the whole upgrade back."""
    url = database_url(tmp_path / "broken.db")
    engine = create_engine(url)
    migrate(engine, "0001")
    with engine.connect() as conn:  # a stay whose household is missing, written unchecked
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("PRAGMA foreign_keys = OFF")
        driver.execute("INSERT INTO units VALUES ('U1', 'flat', 2, 0, NULL, NULL, NULL)")
        driver.execute(
            "INSERT INTO stays (household_id, unit_id, start, expected_end) "
            "VALUES ('GONE', 'U1', '2026-12-07', '2026-12-20')"
        )
        driver.execute("PRAGMA foreign_keys = ON")
    with pytest.raises(AllocatorError, match="broken references"):
        migrate(engine)
    assert schema_revision(engine) == "0001"
    engine.dispose()
