"""Connecting rooms in files: units' ``group``, stays' and plans' ``joined_units`` round-trip
through CSV and Excel as "R2+R3" text, and blank means none."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from openpyxl import load_workbook

from allocator.domain import Household, Stay, Unit
from allocator.io import read_plan, read_table, write_table
from allocator.tables import validate_tables

START = dt.date(2026, 12, 7)

UNITS = [
    Unit(unit_id="H1.01", kind="hub_room", capacity=4, group="H1-east"),
    Unit(unit_id="H1.02", kind="hub_room", capacity=4, group="H1-east"),
    Unit(unit_id="H1.03", kind="hub_room", capacity=2, group="H1-east"),
    Unit(unit_id="F1", kind="flat", capacity=5),
]
STAYS = [
    Stay(
        household_id="S1",
        unit_id="H1.01",
        joined_units=("H1.02",),
        start=dt.date(2026, 11, 2),
        expected_end=dt.date(2027, 1, 4),
        size=7,
    ),
    Stay(
        household_id="S2",
        unit_id="F1",
        start=dt.date(2026, 11, 9),
        expected_end=dt.date(2027, 2, 1),
        size=3,
    ),
]
HOUSEHOLDS = [
    Household(household_id="W1", size=2, urgency=3, need_date=START, expected_stay_days=30)
]


def _plan() -> pd.DataFrame:
    """A plan's placements as the engine gives them, one placement in two connecting rooms."""
    return pd.DataFrame(
        {
            "household_id": ["A", "B", "C"],
            "unit_id": ["H1.01", "F1", ""],
            "joined_units": ["H1.02+H1.03", "", ""],
            "kind": ["hub_room", "flat", ""],
            "start": [START, START + dt.timedelta(days=7), None],
            "expected_end": [START + dt.timedelta(days=60), START + dt.timedelta(days=30), None],
            "wait_days": [0, 7, 84],
            "status": ["placed", "placed", "not_placed"],
            "reason": ["placed in connecting rooms H1.01+H1.02+H1.03", "placed", "no unit"],
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_stays_joined_units_round_trip_as_plus_joined_text(tmp_path, suffix):
    """Stays dumped to a file hold "H1.02" in joined_units and read back as the same stays."""
    path = tmp_path / f"stays{suffix}"
    write_table(pd.DataFrame([s.model_dump() for s in STAYS]), path)
    frame, source = read_table(path, "stays")
    assert list(frame["joined_units"]) == ["H1.02", ""]
    units_path = tmp_path / f"units{suffix}"
    write_table(pd.DataFrame([u.model_dump() for u in UNITS]), units_path)
    units, units_source = read_table(units_path, "units")
    tables = validate_tables(
        HOUSEHOLDS,
        units,
        frame,
        start=START,
        sources={"stays": source, "units": units_source},
    )
    assert tables.stays == STAYS
    assert tables.stays[0].units == ("H1.01", "H1.02")
    assert tables.units == UNITS


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_tuple_of_rooms_is_written_as_one_text_cell(tmp_path, suffix):
    """A frame holding the tuple itself (not the dump's text) is written "H1.02+H1.03" too."""
    frame = pd.DataFrame(
        {"household_id": ["S1", "S2"], "joined_units": [("H1.02", "H1.03"), ()]}, dtype=object
    )
    path = tmp_path / f"stays{suffix}"
    write_table(frame, path)
    if suffix == ".csv":
        assert path.read_text().splitlines()[1:] == ["S1,H1.02+H1.03", "S2,"]
    else:
        sheet = load_workbook(path).active
        assert [c.value for c in sheet["B"]][1:] == ["H1.02+H1.03", None]


def test_units_group_column_blank_means_none(tmp_path):
    """A units file's group column: a name puts the unit in that group, a blank cell in none."""
    path = tmp_path / "units.csv"
    path.write_text(
        "unit_id,kind,capacity,group\nH1.01,hub_room,4,H1-east\nH1.02,hub_room,4,H1-east\n"
        "F1,flat,5,\n"
    )
    frame, source = read_table(path, "units")
    tables = validate_tables(HOUSEHOLDS, frame, None, sources={"units": source}, start=START)
    assert [u.group for u in tables.units] == ["H1-east", "H1-east", None]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_plan_joined_units_written_and_read_back(tmp_path, suffix):
    """The plan's joined_units column reaches the file and read_plan gives it as text, "" for
    a single unit and for a household not placed."""
    path = tmp_path / f"plan{suffix}"
    write_table(_plan(), path)
    table = read_plan(path)
    assert list(table["joined_units"]) == ["H1.02+H1.03", "", ""]
    assert list(table["unit_id"]) == ["H1.01", "F1", ""]


def test_read_plan_without_the_column_means_no_joined_rooms(tmp_path):
    """A plan written before connecting rooms existed reads with joined_units all blank."""
    path = tmp_path / "plan.csv"
    write_table(_plan().drop(columns="joined_units"), path)
    assert list(read_plan(path)["joined_units"]) == ["", "", ""]


def test_read_plan_strips_spaces_around_the_rooms(tmp_path):
    """Rooms typed "H1.02 + H1.03" by hand in a spreadsheet read as "H1.02+H1.03"."""
    path = tmp_path / "plan.csv"
    plan = _plan()
    plan.loc[0, "joined_units"] = " H1.02 + H1.03 "
    write_table(plan, path)
    assert read_plan(path)["joined_units"].iloc[0] == "H1.02+H1.03"
