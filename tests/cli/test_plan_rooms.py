"""`allocator plan` with connecting rooms: a household larger than any unit is placed in the
rooms of one group, which the printed plan shows as ``H1.01+H1.02`` and the plan file holds in
its ``joined_units`` column."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from allocator.cli import app
from allocator.cli.plan_tables import rooms
from allocator.io import read_plan

runner = CliRunner()

HOUSEHOLDS = """\
household_id,size,urgency,need_date,expected_stay_days
BIG,7,4,2026-12-07,30
SMALL,2,3,2026-12-07,30
"""
UNITS = """\
unit_id,kind,capacity,group
H1.01,hub_room,4,H1-east
H1.02,hub_room,4,H1-east
F1,flat,3,
"""


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_plan_prints_and_writes_the_connecting_rooms(tmp_path, suffix):
    """The terminal table shows the rooms joined by "+"; the file keeps unit_id the first room
    and joined_units the others."""
    (tmp_path / "households.csv").write_text(HOUSEHOLDS)
    (tmp_path / "units.csv").write_text(UNITS)
    out = tmp_path / f"plan{suffix}"
    args = ["plan", "--households", str(tmp_path / "households.csv")]
    args += ["--units", str(tmp_path / "units.csv"), "--start", "2026-12-07"]
    args += ["--out", str(out), "--method", "greedy"]
    result = runner.invoke(app, args, env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "H1.01+H1.02" in result.output
    plan = read_plan(out).set_index("household_id")
    assert plan.loc["BIG", "unit_id"] == "H1.01"
    assert plan.loc["BIG", "joined_units"] == "H1.02"
    assert plan.loc["SMALL", "joined_units"] == ""


def test_rooms_text_of_a_plan_row():
    """One unit stays as it is; a unit with joined rooms reads "H1.01+H1.02+H1.03"; a
    household not placed (no unit) shows nothing."""
    assert rooms("F1", "") == "F1"
    assert rooms("H1.01", "H1.02+H1.03") == "H1.01+H1.02+H1.03"
    assert rooms("", "") == ""
    assert pd.isna(rooms(float("nan"), float("nan")))
