"""The households table's `expected_exit_date` column: read from CSV and Excel like the other date
columns, one stay clock per row (both or neither refused naming the row and both columns), and an
exit date after the need date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from allocator.cli import app
from allocator.errors import InputError
from allocator.io import read_table
from allocator.tables import validate_tables

START = dt.date(2026, 12, 7)
HEADER = ["household_id", "size", "urgency", "need_date", "expected_stay_days",
          "expected_exit_date"]  # fmt: skip
UNITS = [{"unit_id": "U1", "kind": "flat", "capacity": 4}]
CLOCKS = "expected_stay_days, expected_exit_date"


def write(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    """``rows`` under ``header`` as CSV text or as a workbook with typed cells (by suffix)."""
    if path.suffix == ".csv":
        text = "\n".join(",".join("" if c is None else str(c) for c in r) for r in [header, *rows])
        path.write_text(text + "\n")
    else:
        book = openpyxl.Workbook()
        for r in [header, *rows]:
            book.active.append(r)
        book.save(path)
    return path


def households(path: Path):
    frame, source = read_table(path, "households")
    return validate_tables(frame, UNITS, sources={"households": source}).households


def refusal(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        households(path)
    assert info.value.source == str(path) and "\n" not in str(info.value)
    return info.value


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_exit_dates_are_read_beside_stay_lengths(tmp_path, suffix):
    """A table may mix the two clocks, one per row; Excel date cells work as for need_date."""
    exit_cell = dt.datetime(2027, 1, 20) if suffix == ".xlsx" else "2027-01-20"
    rows = [["H1", 2, 3, "2026-12-07", 30, None], ["H2", 1, 5, "2026-12-10", None, exit_cell]]
    hh = households(write(tmp_path / f"h{suffix}", rows))
    assert [h.exit_dated for h in hh] == [False, True]
    assert (hh[0].expected_stay_days, hh[0].expected_exit_date) == (30, None)
    assert (hh[1].expected_stay_days, hh[1].expected_exit_date) == (None, dt.date(2027, 1, 20))


def test_a_table_with_only_the_exit_date_column(tmp_path):
    header = [c for c in HEADER if c != "expected_stay_days"]
    hh = households(write(tmp_path / "h.csv", [["H1", 2, 3, "2026-12-07", "2027-02-01"]], header))
    assert hh[0].expected_exit_date == dt.date(2027, 2, 1)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_excel_serial_exit_date_is_refused_like_a_need_date(tmp_path, suffix):
    """A number in the exit date column is Excel's serial day, refused with the date it means."""
    rows = [["H1", 2, 3, "2026-12-07", None, 46407]]
    err = refusal(write(tmp_path / f"h{suffix}", rows))
    assert (err.row, err.column) == (2, "expected_exit_date")
    assert "Excel serial 46407 (2027-01-20 in Excel)" in err.message


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_row_with_both_clocks_names_both_columns(tmp_path, suffix):
    rows = [["H1", 2, 3, "2026-12-07", 30, None], ["H2", 1, 5, "2026-12-10", 20, "2027-01-20"]]
    err = refusal(write(tmp_path / f"h{suffix}", rows))
    assert (err.row, err.column) == (3, CLOCKS)
    assert "both expected_stay_days (20) and expected_exit_date (2027-01-20) are given" in str(err)
    assert "leave one of the two cells empty" in err.message


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_row_with_neither_clock_says_which_two_columns_are_missing(tmp_path, suffix):
    rows = [["H1", 2, 3, "2026-12-07", 30, None], ["H2", 1, 5, "2026-12-10", None, None]]
    err = refusal(write(tmp_path / f"h{suffix}", rows))
    assert (err.row, err.column) == (3, CLOCKS)
    assert "both expected_stay_days and expected_exit_date are missing: give one" in err.message


def test_a_header_without_either_clock_column_is_refused_on_row_1(tmp_path):
    header = HEADER[:4]
    err = refusal(write(tmp_path / "h.csv", [["H1", 2, 3, "2026-12-07"]], header))
    assert (err.row, err.column) == (1, CLOCKS)
    assert "required column is missing: give expected_stay_days" in err.message
    assert "or expected_exit_date" in err.message


@pytest.mark.parametrize("exit_date", ["2026-12-10", "2026-12-01"])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_exit_date_not_after_the_need_date_names_its_column(tmp_path, suffix, exit_date):
    rows = [["H1", 2, 3, "2026-12-07", 30, None], ["H2", 1, 5, "2026-12-10", None, exit_date]]
    err = refusal(write(tmp_path / f"h{suffix}", rows))
    assert (err.row, err.column) == (3, "expected_exit_date")
    assert f"expected_exit_date ({exit_date}) must be after need_date (2026-12-10)" in err.message


def test_a_bad_minors_count_still_names_minors(tmp_path):
    """The household validator's other check keeps its column."""
    header = [*HEADER, "minors"]
    err = refusal(write(tmp_path / "h.csv", [["H1", 2, 3, "2026-12-07", 30, None, 3]], header))
    assert (err.row, err.column) == (2, "minors")


def test_plan_from_a_file_with_exit_dates(tmp_path):
    """`allocator plan` reads the column; a household placed on its need date leaves on its exit
    date."""
    rows = [["H1", 2, 3, "2026-12-07", 30, None], ["H2", 1, 5, "2026-12-10", None, "2027-01-20"]]
    write(tmp_path / "h.csv", rows)
    (tmp_path / "u.csv").write_text("unit_id,kind,capacity\nU1,flat,4\nU2,flat,2\n")
    out = tmp_path / "plan.csv"
    args = ["plan", "--households", str(tmp_path / "h.csv"), "--units", str(tmp_path / "u.csv")]
    args += ["--start", START.isoformat(), "--out", str(out), "--method", "greedy", "--quiet"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    plan = pd.read_csv(out, dtype=str).set_index("household_id")
    assert plan.loc["H2", ["start", "expected_end"]].tolist() == ["2026-12-10", "2027-01-20"]
