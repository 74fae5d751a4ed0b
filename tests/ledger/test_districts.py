"""The ledger with districts: units' districts and households' anchors import from files, are
stored, planned with, shown by status and exported; a ledger without districts shows no column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from allocator import InputError, Policy
from allocator.ledger import Ledger

D0 = dt.date(2026, 12, 7)
UNITS = "unit_id,kind,capacity,district\nF1,flat,2,M7\nF2,flat,2,M3\n"
REQUESTS = (
    "household_id,size,urgency,need_date,expected_stay_days,anchor_district\n"
    f"A,2,3,{D0},30,M3\n"
    f"B,1,1,{D0},30,\n"
)


def _ledger(tmp_path: Path, policy: Policy) -> Ledger:
    (tmp_path / "units.csv").write_text(UNITS)
    (tmp_path / "requests.csv").write_text(REQUESTS)
    ledger = Ledger.open(tmp_path / "ledger.db", actor="test", policy=policy)
    ledger.import_units(tmp_path / "units.csv")
    ledger.import_requests(tmp_path / "requests.csv")
    return ledger


def test_districts_are_stored_planned_shown_and_exported(tmp_path: Path) -> None:
    """Imported districts reach the stored tables, the plan (the anchored household near its
    school), the status views and the exports."""
    policy = Policy(district_weight=50.0, districts="milan_municipi", horizon_weeks=4)
    with _ledger(tmp_path, policy) as ledger:
        assert ledger.table("units").set_index("unit_id")["district"].to_dict() == {
            "F1": "M7",
            "F2": "M3",
        }
        hh = ledger.table("households").set_index("household_id")["anchor_district"]
        assert hh["A"] == "M3" and pd.isna(hh["B"])
        proposal = ledger.propose(D0, time_limit=10)
        row = proposal.placements.set_index("household_id")
        assert row.at["A", "unit_id"] == "F2" and row.at["A", "districts_away"] == 0
        assert "same district as the school/work" in row.at["A", "reason"]
        status = ledger.status(D0)
        assert status["waiting"].set_index("household_id").at["A", "anchor_district"] == "M3"
        assert status["free"].set_index("unit_id").at["F2", "district"] == "M3"
        assert status["occupancy"].set_index("unit_id").at["F1", "district"] == "M7"
        ledger.export("units", tmp_path / "units_out.csv")
        assert "district" in (tmp_path / "units_out.csv").read_text().splitlines()[0]
        assert ledger.policy.districts == "milan_municipi"


def test_a_ledger_without_districts_shows_no_district_column(tmp_path: Path) -> None:
    """Units and requests without districts: status has today's columns."""
    with Ledger.open(tmp_path / "ledger.db", actor="test") as ledger:
        ledger.import_units(pd.DataFrame({"unit_id": ["U1"], "kind": ["flat"], "capacity": [2]}))
        ledger.import_requests(
            pd.DataFrame(
                {
                    "household_id": ["H1"],
                    "size": [1],
                    "urgency": [1],
                    "need_date": [D0],
                    "expected_stay_days": [10],
                }
            )
        )
        status = ledger.status(D0)
        for name in ("waiting", "free", "occupancy"):
            assert not {"district", "anchor_district"} & set(status[name].columns), name


def test_a_district_too_long_is_refused_with_its_row(tmp_path: Path) -> None:
    """A district name over 40 characters is one line naming the file, row and column."""
    path = tmp_path / "units.csv"
    path.write_text(f"unit_id,kind,capacity,district\nF1,flat,2,{'x' * 41}\n")
    with Ledger.open(tmp_path / "ledger.db", actor="test") as ledger:
        with pytest.raises(InputError) as exc:
            ledger.import_units(path)
    assert exc.value.row == 2 and exc.value.column == "district"
