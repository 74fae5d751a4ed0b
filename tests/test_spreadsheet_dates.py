"""Dates written dd/mm/yyyy: read when their column shows the order (a day above 12, or every date
the same either way) or when told (`--dayfirst`, ``dayfirst=True``); a column that could be month
first is refused naming the file, the column and a row, with the fix; month first is never
guessed. CSV and Excel text cells alike, on every table, through `plan` and the ledger imports."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from allocator.cli import app
from allocator.errors import InputError
from allocator.io import read_table
from allocator.ledger import imports
from allocator.tables import Source, read_day_first_dates

SCALE = max(1, int(os.environ.get("ALLOCATOR_TEST_SCALE", "1")))
START = dt.date(2026, 12, 7)
HEADER = ["household_id", "size", "urgency", "need_date", "expected_stay_days"]


def write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    """CSV text, or a workbook whose cells are text as typed (by suffix)."""
    if path.suffix == ".csv":
        text = "\n".join(",".join(str(c) for c in r) for r in [header, *rows])
        path.write_text(text + "\n", encoding="utf-8")
    else:
        book = openpyxl.Workbook()
        for r in [header, *rows]:
            book.active.append(r)
        book.save(path)
    return path


def need_dates(path: Path, **options) -> list[str]:
    frame, _ = read_table(path, "households", **options)
    return list(frame["need_date"])


def households(path: Path, dates: list[str]) -> Path:
    return write(path, HEADER, [[f"H{k}", 1, 3, d, 30] for k, d in enumerate(dates)])


def refusal(path: Path, kind: str = "households", **options) -> InputError:
    with pytest.raises(InputError) as info:
        read_table(path, kind, **options)
    assert info.value.source == str(path) and "\n" not in str(info.value)
    return info.value


SUFFIXES = pytest.mark.parametrize("suffix", [".csv", ".xlsx"])


@SUFFIXES
def test_a_day_above_12_shows_the_column_is_day_first(tmp_path, suffix):
    path = households(tmp_path / f"h{suffix}", ["07/12/2026", "25/12/2026", "1/2/2027"])
    assert need_dates(path) == ["2026-12-07", "2026-12-25", "2027-02-01"]


@SUFFIXES
def test_dates_the_same_either_way_are_read(tmp_path, suffix):
    path = households(tmp_path / f"h{suffix}", ["03/03/2026", "12/12/2026"])
    assert need_dates(path) == ["2026-03-03", "2026-12-12"]


@SUFFIXES
def test_an_ambiguous_column_is_refused_naming_a_row_and_the_fix(tmp_path, suffix):
    path = households(tmp_path / f"h{suffix}", ["03/03/2026", "07/12/2026", "08/12/2026"])
    err = refusal(path)
    assert (err.row, err.column) == (3, "need_date")
    assert "'07/12/2026' could be 2026-12-07 (dd/mm/yyyy) or 2026-07-12 (mm/dd/yyyy)" in str(err)
    assert "write the dates as YYYY-MM-DD, or pass --dayfirst" in err.message


@SUFFIXES
def test_dayfirst_reads_an_ambiguous_column(tmp_path, suffix):
    path = households(tmp_path / f"h{suffix}", ["07/12/2026", "08/12/2026"])
    assert need_dates(path, dayfirst=True) == ["2026-12-07", "2026-12-08"]


def test_iso_dates_and_excel_date_cells_do_not_decide_the_order(tmp_path):
    """Only the slashed dates say which order they follow; an ISO or Excel date says nothing."""
    rows = [["H1", 1, 3, dt.datetime(2026, 12, 25), 30], ["H2", 1, 3, "2026-12-25", 30],
            ["H3", 1, 3, "07/12/2026", 30]]  # fmt: skip
    err = refusal(write(tmp_path / "h.xlsx", HEADER, rows))
    assert (err.row, err.column) == (4, "need_date")
    rows[2][3] = "13/12/2026"
    assert need_dates(write(tmp_path / "h2.xlsx", HEADER, rows)) == ["2026-12-25"] * 2 + [
        "2026-12-13"
    ]


@SUFFIXES
def test_a_month_first_column_is_refused_not_guessed(tmp_path, suffix):
    path = households(tmp_path / f"h{suffix}", ["12/07/2026", "12/25/2026"])
    err = refusal(path)
    assert (err.row, err.column) == (3, "need_date")
    assert "'12/25/2026' reads only as month/day/year" in err.message
    assert "YYYY-MM-DD" in err.message
    err = refusal(path, dayfirst=True)
    assert err.row == 3 and "expected a date (dd/mm/yyyy (--dayfirst)), got '12/25/2026'" in str(
        err
    )


def test_a_month_first_date_in_a_day_first_column_names_both_rows(tmp_path):
    path = households(tmp_path / "h.csv", ["25/12/2026", "12/25/2026"])
    err = refusal(path)
    assert (err.row, err.column) == (3, "need_date")
    assert "like the rest of this column (row 2: 25/12/2026), got '12/25/2026'" in err.message


@pytest.mark.parametrize(
    ("text", "words"),
    [("31/04/2026", "got '31/04/2026': no such day"), ("07/12/26", "a two-digit year")],
)
def test_no_such_day_and_two_digit_years_are_refused(tmp_path, text, words):
    err = refusal(households(tmp_path / "h.csv", ["25/12/2026", text]))
    assert (err.row, err.column) == (3, "need_date") and words in err.message


@pytest.mark.parametrize(
    ("kind", "header", "row", "column"),
    [
        ("units", ["unit_id", "kind", "capacity", "available_from", "available_until"],
         ["U1", "flat", 2, "01/12/2026", "02/02/2027"], "available_from"),
        ("stays", ["household_id", "unit_id", "start", "expected_end"],
         ["S1", "U1", "01/12/2026", "13/01/2027"], "start"),
        ("households", [*HEADER, "expected_exit_date"],
         ["H1", 1, 3, "2026-12-07", "", "01/02/2027"], "expected_exit_date"),
    ],
)  # fmt: skip
def test_every_table_and_date_column_follows_the_rule(tmp_path, kind, header, row, column):
    path = write(tmp_path / f"{kind}.csv", header, [row])
    err = refusal(path, kind)
    assert (err.row, err.column) == (2, column)
    frame, _ = read_table(path, kind, dayfirst=True)
    assert (
        frame.loc[2, column]
        == dt.datetime.strptime(row[header.index(column)], "%d/%m/%Y").date().isoformat()
    )


def test_a_dataframe_follows_the_same_rule():
    """A Python caller's table (no dayfirst there): read when the column shows the order."""
    source = Source("households")
    frame = pd.DataFrame({"need_date": ["25/12/2026", "07/12/2026"]})
    assert list(read_day_first_dates(frame, "households", source)["need_date"]) == [
        "2026-12-25",
        "2026-12-07",
    ]
    with pytest.raises(InputError) as info:
        read_day_first_dates(frame.iloc[1:], "households", source)
    assert (info.value.source, info.value.row, info.value.column) == (
        "households",
        "1",
        "need_date",
    )


# --- the command line and the ledger ---------------------------------------------------------


def _plan_args(tmp_path: Path, *extra: str) -> tuple[list[str], Path]:
    households(tmp_path / "h.csv", ["07/12/2026", "08/12/2026"])
    (tmp_path / "u.csv").write_text("unit_id,kind,capacity,available_from\nU1,flat,2,01/12/2026\n")
    out = tmp_path / "plan.csv"
    args = ["plan", "--households", str(tmp_path / "h.csv"), "--units", str(tmp_path / "u.csv")]
    return [*args, "--start", "2026-12-07", "--out", str(out), "--method", "greedy", *extra], out


def test_plan_refuses_an_ambiguous_file_and_writes_nothing(tmp_path):
    args, out = _plan_args(tmp_path)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and not out.exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "h.csv, row 2, column 'need_date'" in lines[0]
    assert "--dayfirst" in lines[0]


def test_plan_dayfirst_reads_every_table_day_first(tmp_path):
    args, out = _plan_args(tmp_path, "--dayfirst", "--quiet")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2026-12-07" in out.read_text()


@pytest.mark.parametrize("command", ["units", "requests"])
def test_ledger_imports_take_dayfirst(tmp_path, command):
    today = dt.date.today()
    ambiguous = today.replace(day=min(today.day, 12))
    month = ambiguous.month if ambiguous.month != ambiguous.day else ambiguous.month % 12 + 1
    text = f"{ambiguous.day:02d}/{month:02d}/{ambiguous.year}"
    if command == "units":
        write(tmp_path / "f.csv", ["unit_id", "kind", "capacity", "available_from"],
              [["U1", "flat", 2, text]])  # fmt: skip
    else:
        households(tmp_path / "f.csv", [text])
    db = tmp_path / "ledger.db"
    args = [command, "import", str(tmp_path / "f.csv"), "--db", str(db)]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "--dayfirst" in refused.stderr and not db.exists()
    done = CliRunner().invoke(app, [*args, "--dayfirst"])
    assert done.exit_code == 0, done.output
    kind = "units" if command == "units" else "households"
    assert imports.read_records(tmp_path / "f.csv", kind, dayfirst=True)


# --- properties ------------------------------------------------------------------------------

DAYS = st.dates(dt.date(2020, 1, 1), dt.date(2035, 12, 31))


def _read_back(dates: list[str], **options) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        return need_dates(households(Path(tmp) / "h.csv", dates), **options)


@settings(max_examples=60 * SCALE)
@given(days=st.lists(DAYS, min_size=1, max_size=8), clear=DAYS.filter(lambda d: d.day > 12))
def test_day_first_dates_in_a_column_with_a_day_above_12_read_back_equal(days, clear):
    """Random dates as dd/mm/yyyy, one of them with a day above 12: each reads back as itself."""
    days = [*days, clear]
    assert _read_back([f"{d:%d/%m/%Y}" for d in days]) == [d.isoformat() for d in days]


@settings(max_examples=60 * SCALE)
@given(days=st.lists(DAYS.filter(lambda d: d.day <= 12), min_size=1, max_size=8))
def test_a_column_that_reads_both_ways_is_refused_unless_told(days):
    """All days up to 12: refused without dayfirst unless every date is the same either way;
    with dayfirst every date reads back as itself."""
    texts = [f"{d:%d/%m/%Y}" for d in days]
    expected = [d.isoformat() for d in days]
    if all(d.day == d.month for d in days):
        assert _read_back(texts) == expected
    else:
        with pytest.raises(InputError, match="--dayfirst"):
            _read_back(texts)
    assert _read_back(texts, dayfirst=True) == expected
