"""Schema revision 0005 (connecting rooms): a 0004 ledger upgrades with its rows intact and no
group or joined room; going back works, and is refused while the ledger holds a stay in
connecting rooms. Runs on SQLite, and on PostgreSQL when ``ALLOCATOR_TEST_POSTGRES_URL`` is set.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from allocator.errors import AllocatorError
from allocator.ledger import Ledger
from allocator.ledger.database import create_engine, database_url, migrate, schema_revision
from allocator.ledger.testing import backends, fresh_url, invariant_violations

D0 = dt.date(2026, 12, 7)
DAY = dt.timedelta(days=1)
AT = dt.datetime(2026, 12, 7, 9, 30)

ROWS_0004 = {
    "ledger_state": [{"id": 1, "version": 3, "policy": {"turnover_days": 3}}],
    "units": [
        {"unit_id": "R1", "kind": "hub_room", "capacity": 4, "accessible": False,
         "district": "M1"},
        {"unit_id": "R2", "kind": "hub_room", "capacity": 4, "accessible": False,
         "district": "M1"},
    ],
    "households": [
        {"household_id": "A", "size": 3, "urgency": 4, "need_date": D0,
         "expected_stay_days": 30, "support": "low", "accessible": False},
        {"household_id": "B", "size": 7, "urgency": 5, "need_date": D0,
         "expected_stay_days": 30, "support": "low", "accessible": False},
    ],
    "batches": [
        {"week": D0, "status": "approved", "proposed_at": AT, "ledger_version": 1,
         "method": "greedy", "solver_status": "feasible", "policy": {}, "pins": {},
         "forbids": [], "inputs": {}, "commit_until": D0 + 7 * DAY, "approved_at": AT},
    ],
    "batch_placements": [
        {"batch_id": 1, "household_id": "A", "unit_id": "R1", "kind": "hub_room", "start": D0,
         "expected_end": D0 + 30 * DAY, "wait_days": 0, "status": "placed", "reason": "fits"},
    ],
    "stays": [
        {"household_id": "A", "unit_id": "R1", "batch_id": 1, "start": D0,
         "expected_end": D0 + 30 * DAY, "moved_in": D0},
    ],
}  # fmt: skip


@pytest.fixture(params=backends())
def url_0004(request, tmp_path) -> str:
    """A ledger at revision 0004 holding ``ROWS_0004``."""
    url = database_url(fresh_url(request.param, tmp_path))
    engine = create_engine(url)
    migrate(engine, "0004")
    meta = sa.MetaData()
    with engine.begin() as conn:
        meta.reflect(conn)
        conn.execute(sa.delete(meta.tables["ledger_state"]))
        for name, rows in ROWS_0004.items():
            conn.execute(sa.insert(meta.tables[name]), rows)
    engine.dispose()
    return url


def _columns(ledger: Ledger, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(ledger.engine).get_columns(table)}


def test_a_0004_ledger_upgrades_goes_back_and_refuses_to_lose_joined_rooms(url_0004):
    """Upgrade: rows intact, no group, no joined room. Downgrade with groups only: done, and up
    again. With a stay in connecting rooms (even ended): refused, nothing changed."""
    with Ledger.open(url_0004, actor="tester", create=False) as ledger:
        assert ledger.schema_revision() == "0005"
        assert ledger.version == 3
        units = ledger.table("units")
        assert units.group.isna().all() and list(units.district) == ["M1", "M1"]
        stays = ledger.table("stays")
        assert stays.joined_units.isna().all() and list(stays.unit_id) == ["R1"]
        assert ledger.table("placements").joined_units.isna().all()
        # the upgraded ledger takes groups; back at 0004 they are gone, the rest intact
        grouped = ledger.table("units")[["unit_id", "kind", "capacity", "district"]]
        ledger.import_units(grouped.assign(group="R"))
        migrate(ledger.engine, "0004", down=True)
        assert ledger.schema_revision() == "0004"
        assert "group" not in _columns(ledger, "units")
        assert "joined_units" not in _columns(ledger, "stays") | _columns(
            ledger, "batch_placements"
        )
    with Ledger.open(url_0004, actor="tester", create=False) as ledger:  # opening upgrades it
        assert ledger.schema_revision() == "0005"
        assert ledger.table("stays").unit_id.tolist() == ["R1"]
        ledger.import_units(grouped.assign(group="R"))
        ledger.exit("A", D0 + 10 * DAY, "family")
        ledger.move_in("B", D0 + 14 * DAY, unit_id="R1+R2")
        ledger.exit("B", D0 + 20 * DAY, "public_housing")
        assert invariant_violations(ledger) == []
        before = ledger.snapshot()
        with pytest.raises(AllocatorError, match="1 stays hold connecting rooms"):
            migrate(ledger.engine, "0004", down=True)
        assert ledger.schema_revision() == "0005"
        for name, frame in ledger.snapshot().items():
            pd.testing.assert_frame_equal(before[name], frame, check_dtype=False)
    engine = create_engine(url_0004)
    assert schema_revision(engine) == "0005"
    engine.dispose()
