"""Files that cannot be read as tables give one error naming the file, and the row and column
where there is one: unclosed quotes, Excel serial dates, formulas without a value, other
encodings, empty, binary or missing files, missing packages; a stray space around a date is
read as the date."""

from __future__ import annotations

import datetime as dt
import re
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from allocator.cli import app
from allocator.errors import InputError
from allocator.io import read_table, require, write_table
from allocator.tables import validate_tables

runner = CliRunner()

HEADER = ["household_id", "size", "minors", "urgency", "need_date", "expected_stay_days"]
HOUSEHOLDS = """\
household_id,size,minors,urgency,need_date,expected_stay_days
H1,2,,3,2026-12-07,30
H2,1,0,2,2026-12-10,60
"""
UNITS = [{"unit_id": "U1", "kind": "flat", "capacity": 4}]


def households(path: Path):
    """Read and validate a households file as `allocator plan` does."""
    frame, source = read_table(path, "households")
    return validate_tables(frame, UNITS, sources={"households": source}).households


def refusal(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        households(path)
    assert info.value.source == str(path)
    assert "\n" not in str(info.value)
    return info.value


def workbook(path: Path, rows: list[list[object]], date_format: str | None = None) -> Path:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    if date_format is not None:
        for cell in book.active["E"][1:]:
            cell.number_format = date_format
    book.save(path)
    return path


# --- CSV quotes ---------------------------------------------------------------------------------

cell_text = st.text(alphabet="abcXYZ019_", min_size=1, max_size=6)


@st.composite
def tables(draw):
    width = draw(st.integers(1, 5))
    header = draw(st.lists(cell_text, min_size=width, max_size=width, unique=True))
    body = draw(
        st.lists(st.lists(cell_text, min_size=width, max_size=width), min_size=1, max_size=6)
    )
    return header, body


@given(tables(), st.data(), st.sampled_from([",", ";", "\t"]), st.booleans())
def test_a_quote_never_closed_names_its_row_and_column(tmp_path_factory, table, data, sep, end):
    """An opening quote without its closing one: the row and column where it opened."""
    header, body = table
    r = data.draw(st.integers(0, len(body) - 1))
    c = data.draw(st.integers(0, len(header) - 1))
    body[r][c] = '"' + body[r][c]
    text = "\n".join(sep.join(row) for row in [header, *body]) + ("\n" if end else "")
    path = tmp_path_factory.mktemp("quotes") / "table.csv"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_table(path, "households")
    assert (info.value.row, info.value.column) == (r + 2, header[c])
    assert "never closed" in info.value.message


@given(tables(), st.data())
def test_text_after_a_closing_quote_names_its_row_and_column(tmp_path_factory, table, data):
    """``"abc"x``: the cell is named, with how to quote it."""
    header, body = table
    r = data.draw(st.integers(0, len(body) - 1))
    c = data.draw(st.integers(0, len(header) - 1))
    body[r][c] = f'"{body[r][c]}"x'
    path = tmp_path_factory.mktemp("quotes") / "table.csv"
    path.write_text("\n".join(",".join(row) for row in [header, *body]) + "\n")
    with pytest.raises(InputError) as info:
        read_table(path, "households")
    assert (info.value.row, info.value.column) == (r + 2, header[c])
    assert "closing quote" in info.value.message


def test_an_unclosed_quote_in_the_header_names_the_column_letter(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text('household_id,"size\nH1,2\n')
    error = refusal(path)
    assert (error.row, error.column) == (1, "B")


# --- dates --------------------------------------------------------------------------------------


@given(st.text(alphabet=" \t", max_size=3), st.text(alphabet=" \t", max_size=3))
def test_a_stray_space_around_a_date_is_read_as_the_date(tmp_path_factory, before, after):
    """`` 2026-12-07 `` in a CSV cell is 2026-12-07."""
    path = tmp_path_factory.mktemp("dates") / "h.csv"
    path.write_text(HOUSEHOLDS.replace("2026-12-07", f"{before}2026-12-07{after}"))
    assert households(path)[0].need_date == dt.date(2026, 12, 7)


def test_a_stray_space_around_a_date_in_a_workbook_and_a_dataframe(tmp_path):
    path = workbook(tmp_path / "h.xlsx", [HEADER, ["H1", 2, None, 3, " 2026-12-07 ", 30]])
    assert households(path)[0].need_date == dt.date(2026, 12, 7)
    frame = pd.DataFrame([["H1", 2, 3, " 2026-12-07\t", 30]], columns=[*HEADER[:2], *HEADER[3:]])
    tables = validate_tables(frame, UNITS)
    assert tables.households[0].need_date == dt.date(2026, 12, 7)


@given(
    st.one_of(
        st.integers(1, 2_958_465).map(str),
        st.floats(1, 2_958_465, allow_nan=False).map(lambda x: f"{x:.2f}"),
    ),
    st.integers(0, 1),
)
def test_an_excel_serial_date_in_a_csv_is_refused_by_cell(tmp_path_factory, serial, row):
    """A number where a date goes (Excel's serial day) is refused, never read as seconds since
    1970 (86400 would otherwise be 1970-01-02)."""
    path = tmp_path_factory.mktemp("serial") / "h.csv"
    lines = HOUSEHOLDS.splitlines()
    lines[1 + row] = lines[1 + row].replace("2026-12-07", serial).replace("2026-12-10", serial)
    path.write_text("\n".join(lines) + "\n")
    error = refusal(path)
    assert (error.row, error.column) == (row + 2, "need_date")
    assert f"expected a date (YYYY-MM-DD), got Excel serial {serial}" in error.message


@pytest.mark.parametrize("number", ["0", "-3", "86400", "1e5"])
def test_other_numbers_in_a_date_column_are_refused(tmp_path, number):
    path = tmp_path / "h.csv"
    path.write_text(HOUSEHOLDS.replace("2026-12-07", number))
    error = refusal(path)
    assert (error.row, error.column) == (2, "need_date")
    assert "expected a date (YYYY-MM-DD)" in error.message


def test_numbers_as_dates_in_a_dataframe_are_refused():
    """From Python too: an int column of dates is not seconds since 1970."""
    frame = pd.DataFrame([["H1", 2, 3, 86400, 30]], columns=[*HEADER[:2], *HEADER[3:]])
    with pytest.raises(InputError, match="expected a date") as info:
        validate_tables(frame, UNITS)
    assert info.value.column == "need_date"


def test_an_xlsx_date_stored_as_a_number_is_refused_and_one_formatted_as_a_date_is_read(tmp_path):
    """A date cell that shows 46000 (number format) is ambiguous; with a date format it is the
    date Excel shows."""
    rows = [HEADER, ["H1", 2, None, 3, 46000, 30]]
    error = refusal(workbook(tmp_path / "number.xlsx", rows))
    assert (error.row, error.column) == (2, "need_date")
    assert "Excel serial 46000 (2025-12-09 in Excel)" in error.message
    dated = workbook(tmp_path / "dated.xlsx", rows, date_format="yyyy-mm-dd")
    assert households(dated)[0].need_date == dt.date(2025, 12, 9)


@pytest.mark.parametrize(
    "text, words",
    [
        ("07.12.2026", "expected a date (YYYY-MM-DD): invalid character"),
        ("2026-02-30", "expected a date (YYYY-MM-DD): day value is outside"),
        ("2026-12-07 10:30", "expected a date (YYYY-MM-DD) without a time of day"),
    ],
)
def test_dates_in_other_forms_say_what_is_expected(tmp_path, text, words):
    path = tmp_path / "h.csv"
    path.write_text(HOUSEHOLDS.replace("2026-12-07", text))
    error = refusal(path)
    assert (error.row, error.column) == (2, "need_date")
    assert words in error.message and text in error.message


# --- formulas -----------------------------------------------------------------------------------


def test_a_formula_without_a_computed_value_names_its_cell(tmp_path):
    """A workbook written by a script holds its formulas uncomputed: read as empty, it would
    give 'Field required'; it says what to do instead."""
    rows = [HEADER, ["H1", 2, None, 3, "2026-12-07", 30], ["H2", 1, None, "=2+1", "2026-12-07", 9]]
    error = refusal(workbook(tmp_path / "f.xlsx", rows))
    assert (error.row, error.column) == (3, "urgency")
    assert "formula without a computed value: open and save the file in Excel" in error.message


def test_a_formula_with_its_computed_value_is_read(tmp_path):
    """Once a spreadsheet program has stored the value, the value is read."""
    rows = [HEADER, ["H1", 2, None, "=2+1", "2026-12-07", 30]]
    path = workbook(tmp_path / "f.xlsx", rows)
    computed = tmp_path / "computed.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(computed, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"(<f>2\+1</f>)<v\s*/>", rb"\1<v>3</v>", data)
            dst.writestr(item, data)
    assert households(computed)[0].urgency == 3


def test_a_text_formula_with_an_empty_result_is_an_empty_cell(tmp_path):
    """A formula whose stored result is empty text is a blank cell, not an uncomputed one."""
    rows = [HEADER, ["H1", 2, '=IF(1,"",1)', 3, "2026-12-07", 30]]
    path = workbook(tmp_path / "f.xlsx", rows)
    computed = tmp_path / "computed.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(computed, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("xl/worksheets/"):
                data = data.replace(b'<c r="C2">', b'<c r="C2" t="str">')
            dst.writestr(item, data)
    assert households(computed)[0].minors is None


# --- encodings, empty, binary, folders ----------------------------------------------------------


@pytest.mark.parametrize(
    "encoding, row, words",
    [
        ("utf-16", None, "UTF-16 text, not UTF-8"),
        ("utf-16-le", 1, "NUL bytes"),
        ("latin-1", 4, "not UTF-8 text (byte 0xe9"),
        ("cp1252", 4, "not UTF-8 text"),
    ],
)
def test_a_csv_in_another_encoding_is_one_line(tmp_path, encoding, row, words):
    path = tmp_path / "h.csv"
    path.write_bytes((HOUSEHOLDS + "Hé,1,0,2,2026-12-10,60\n").encode(encoding))
    error = refusal(path)
    assert error.row == row
    assert words in error.message and "CSV UTF-8" in error.message


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"\n  \n,,\n", "empty"),
        ("empty.xlsx", b"", "empty"),
        ("binary.csv", bytes(range(256)) * 8, "binary data"),
        ("high.csv", bytes(range(128, 256)) * 8, "not UTF-8 text"),
        ("nul.csv", HOUSEHOLDS.encode() + b"H3\x00,1\n", "binary data"),
        ("binary.xlsx", bytes(range(256)) * 8, "not a readable .xlsx workbook"),
        ("workbook.csv", b"PK\x03\x04" + bytes(60), "an Excel workbook"),
        ("text.xlsx", HOUSEHOLDS.encode(), "not a readable .xlsx workbook"),
    ],
)
def test_empty_and_binary_files_are_one_line(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    assert words in refusal(path).message


def test_a_folder_and_a_missing_file_are_one_line(tmp_path):
    (tmp_path / "folder.csv").mkdir()
    assert "is a directory" in refusal(tmp_path / "folder.csv").message
    assert "file not found" in refusal(tmp_path / "missing.csv").message


# --- missing packages ---------------------------------------------------------------------------


def test_a_missing_package_names_the_package_and_how_to_install_it(tmp_path, monkeypatch):
    path = workbook(tmp_path / "h.xlsx", [HEADER, ["H1", 2, None, 3, "2026-12-07", 30]])
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    error = refusal(path)
    assert "needs the package 'openpyxl'" in error.message and "pip install" in error.message
    with pytest.raises(InputError, match="writing .xlsx files needs the package 'openpyxl'"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()
    with pytest.raises(InputError, match=r"pip install 'allocator\[dask\]'"):
        require("no_such_module_here.sub", "--dask", extra="dask")


def test_postgresql_without_its_driver_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    result = runner.invoke(app, ["status", "--db", "postgresql://nobody@localhost/none"])
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert "\n" not in line and "'psycopg'" in line and "allocator[postgres]" in line


def test_parquet_without_pyarrow_names_the_package(tmp_path, monkeypatch):
    from allocator.io import Staging

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(InputError, match="needs the package 'pyarrow'"), Staging() as out:
        out.parquet(pd.DataFrame({"a": [1]}), tmp_path / "t.parquet")
    assert list(tmp_path.iterdir()) == []


# --- through the command line -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, content, where",
    [
        ("quote.csv", HOUSEHOLDS + 'H3,1,0,2,"2026-12-10,60\n', "row 4, column 'need_date'"),
        ("serial.csv", HOUSEHOLDS.replace("2026-12-10", "46001"), "row 3, column 'need_date'"),
        ("latin.csv", (HOUSEHOLDS + "Hé,1,0,2,2026-12-10,60\n").encode("latin-1"), "row 4"),
        ("utf16.csv", HOUSEHOLDS.encode("utf-16"), "UTF-16"),
        ("empty.csv", b"", "empty"),
    ],
)
def test_plan_reports_read_errors_in_one_line_and_writes_nothing(tmp_path, name, content, where):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    (tmp_path / "units.csv").write_text("unit_id,kind,capacity\nU1,flat,4\n")
    out = tmp_path / "plan.csv"
    args = ["plan", "--households", str(path), "--units", str(tmp_path / "units.csv")]
    result = runner.invoke(app, [*args, "--start", "2026-12-07", "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}"), result.stderr
    assert where in lines[0]
    assert not out.exists()


def test_plan_reads_a_formula_free_workbook_with_padded_dates(tmp_path):
    """The friendly cases pass through the command: padded dates, a date-formatted cell."""
    rows = [
        HEADER,
        ["H1", 2, None, 3, dt.datetime(2026, 12, 7), 30],
        ["H2", 1, 0, 2, " 2026-12-10 ", 60],
    ]
    path = workbook(tmp_path / "h.xlsx", rows)
    (tmp_path / "units.csv").write_text("unit_id,kind,capacity\nU1,flat,4\n")
    out = tmp_path / "plan.csv"
    args = ["plan", "--households", str(path), "--units", str(tmp_path / "units.csv")]
    args += ["--start", "2026-12-07", "--out", str(out), "--method", "greedy", "--quiet"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(out)) == 2
