"""Reading tables from CSV/Excel as strings, and atomic writing of tables and JSON."""

from __future__ import annotations

import datetime as dt
import json
import math
import os

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

import allocator
from allocator import io as aio
from allocator.errors import InputError
from allocator.examples import generate
from allocator.io import Staging, read_table, write_json, write_table

START = dt.date(2026, 12, 7)


def _write(path, text: str, encoding: str = "utf-8"):
    path.write_text(text, encoding=encoding)
    return path


def _leftovers(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# --- reading CSV -----------------------------------------------------------------------------


def test_csv_cells_are_strings_and_empty_cells_are_empty_strings(tmp_path):
    path = _write(
        tmp_path / "households.csv",
        "household_id,size,minors,language\nH1,2,,\nH2,3,1,arabic\n",
    )
    frame, source = read_table(path, "households")
    assert list(frame.columns) == ["household_id", "size", "minors", "language"]
    assert frame.to_dict(orient="records") == [
        {"household_id": "H1", "size": "2", "minors": "", "language": ""},
        {"household_id": "H2", "size": "3", "minors": "1", "language": "arabic"},
    ]
    assert source.name == str(path)
    assert source.from_file
    assert list(frame.index) == [2, 3]  # spreadsheet rows: the header is row 1


def test_blank_rows_are_skipped_but_rows_keep_their_numbers(tmp_path):
    path = _write(tmp_path / "units.csv", "unit_id,kind,capacity\nU1,flat,2\n\n,,\nU2,flat,x\n")
    frame, source = read_table(path, "units")
    assert list(frame["unit_id"]) == ["U1", "U2"]
    assert list(frame.index) == [2, 5]
    hh, _, _ = generate(3, 2, seed=1)
    with pytest.raises(InputError) as info:
        allocator.plan(hh, frame, start=START, method="greedy", sources={"units": source})
    assert info.value.row == 5
    assert info.value.column == "capacity"
    assert str(path) in str(info.value)


def test_semicolon_csv_and_utf8_bom(tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes("\ufeffunit_id;kind;capacity\nU1;flat;2\n".encode())
    frame, _ = read_table(path, "units")
    assert frame.to_dict(orient="records") == [{"unit_id": "U1", "kind": "flat", "capacity": "2"}]


def test_quoted_cells_keep_commas_and_newlines(tmp_path):
    path = _write(tmp_path / "stays.csv", 'household_id,language\nS1,"a, b"\nS2,"x\ny"\n')
    frame, _ = read_table(path, "stays")
    assert list(frame["language"]) == ["a, b", "x\ny"]


def test_header_cells_are_stripped_and_empty_trailing_columns_dropped(tmp_path):
    path = _write(tmp_path / "units.csv", " unit_id , kind ,capacity,,\nU1,flat,2,,\n")
    frame, _ = read_table(path, "units")
    assert list(frame.columns) == ["unit_id", "kind", "capacity"]


@pytest.mark.parametrize(
    ("text", "row", "column", "words"),
    [
        ("unit_id,kind,kind\nU1,flat,flat\n", 1, "kind", "duplicate column"),
        ("unit_id,kind,\nU1,flat,2\n", 1, "C", "no name"),
        ("unit_id,kind\nU1,flat\nU2,flat,3\n", 3, "C", "more cells"),
    ],
)
def test_malformed_headers_and_rows(tmp_path, text, row, column, words):
    path = _write(tmp_path / "units.csv", text)
    with pytest.raises(InputError) as info:
        read_table(path, "units")
    assert (info.value.row, info.value.column) == (row, column)
    assert words in str(info.value)
    assert str(path) in str(info.value)


def test_header_only_file_reads_as_an_empty_table(tmp_path):
    path = _write(tmp_path / "stays.csv", "household_id,unit_id,start,expected_end\n")
    frame, _ = read_table(path, "stays")
    assert frame.empty
    assert list(frame.columns) == ["household_id", "unit_id", "start", "expected_end"]


@pytest.mark.parametrize("name", ["households.csv", "households.xlsx"])
def test_zero_byte_file(tmp_path, name):
    path = _write(tmp_path / name, "")
    with pytest.raises(InputError, match="empty") as info:
        read_table(path, "households")
    assert info.value.source == str(path)


def test_blank_lines_only_is_empty(tmp_path):
    path = _write(tmp_path / "households.csv", "\n\n  \n")
    with pytest.raises(InputError, match="empty"):
        read_table(path, "households")


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(InputError, match="file not found") as info:
        read_table(path, "households")
    assert str(path) in str(info.value)


@pytest.mark.parametrize("name", ["households.txt", "households.xls", "households"])
def test_unknown_extension(tmp_path, name):
    path = _write(tmp_path / name, "household_id\nH1\n")
    with pytest.raises(InputError, match="unsupported file type") as info:
        read_table(path, "households")
    assert info.value.source == str(path)


def test_directory_is_not_a_file(tmp_path):
    path = tmp_path / "households.csv"
    path.mkdir()
    with pytest.raises(InputError, match="directory"):
        read_table(path, "households")


def test_corrupt_xlsx(tmp_path):
    path = _write(tmp_path / "households.xlsx", "this is not a workbook")
    with pytest.raises(InputError, match="xlsx") as info:
        read_table(path, "households")
    assert info.value.source == str(path)


def test_not_utf8_csv(tmp_path):
    path = tmp_path / "households.csv"
    path.write_bytes("household_id,language\nH1,fran\xe7ais\n".encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8") as info:
        read_table(path, "households")
    assert info.value.source == str(path)


def test_unknown_kind_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError):
        read_table(tmp_path / "x.csv", "people")


# --- reading Excel ---------------------------------------------------------------------------


def test_xlsx_cells_become_the_text_a_csv_would_hold(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["household_id", "size", "need_date", "accessible", "language", "cost"])
    sheet.append(["H1", 2, dt.datetime(2026, 12, 7), True, None, 2.5])
    sheet.append([])  # a blank row in the middle
    sheet.append(["H2", 3.0, dt.date(2027, 1, 2), False, "tigrinya", 3])
    path = tmp_path / "households.xlsx"
    book.save(path)
    frame, source = read_table(path, "households")
    assert frame.to_dict(orient="records") == [
        {
            "household_id": "H1",
            "size": "2",
            "need_date": "2026-12-07",
            "accessible": "true",
            "language": "",
            "cost": "2.5",
        },
        {
            "household_id": "H2",
            "size": "3",
            "need_date": "2027-01-02",
            "accessible": "false",
            "language": "tigrinya",
            "cost": "3",
        },
    ]
    assert list(frame.index) == [2, 4]
    assert source.name == str(path)


def test_xlsx_sheet_named_after_the_table_wins(tmp_path):
    book = Workbook()
    book.active.title = "notes"
    book.active.append(["something else"])
    units = book.create_sheet("Units")
    units.append(["unit_id", "kind", "capacity"])
    units.append(["U1", "flat", 2])
    path = tmp_path / "all.xlsx"
    book.save(path)
    frame, _ = read_table(path, "units")
    assert list(frame["unit_id"]) == ["U1"]
    first, _ = read_table(path, "households")  # no such sheet: the first one
    assert list(first.columns) == ["something else"]


# --- writing ---------------------------------------------------------------------------------


def test_write_csv_dates_are_iso(tmp_path):
    df = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "day": [dt.date(2026, 12, 7), None, dt.date(2027, 1, 1)],
            "stamp": pd.to_datetime(["2026-12-07", "2026-12-08", None]),
            "n": [1, 2, 3],
        }
    )
    path = tmp_path / "out.csv"
    write_table(df, path)
    assert path.read_text().splitlines() == [
        "id,day,stamp,n",
        "a,2026-12-07,2026-12-07,1",
        "b,,2026-12-08,2",
        "c,2027-01-01,,3",
    ]
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_generated_tables_round_trip_and_plan_identically(tmp_path, suffix):
    tables = dict(zip(("households", "units", "stays"), generate(10, 6, seed=4), strict=True))
    frames, sources = {}, {}
    for kind, df in tables.items():
        path = tmp_path / f"{kind}{suffix}"
        write_table(df, path)
        frames[kind], sources[kind] = read_table(path, kind)
        assert list(frames[kind].columns) == list(df.columns)
        assert len(frames[kind]) == len(df)
    direct = allocator.plan(*tables.values(), start=START, method="greedy")
    via_files = allocator.plan(*frames.values(), start=START, method="greedy", sources=sources)
    pd.testing.assert_frame_equal(direct.placements, via_files.placements)


def test_xlsx_dates_are_real_dates_shown_iso(tmp_path):
    df = pd.DataFrame({"id": ["a"], "day": [dt.date(2026, 12, 7)]})
    path = tmp_path / "out.xlsx"
    write_table(df, path)
    cell = load_workbook(path).active["B2"]
    assert cell.is_date
    assert cell.number_format == "YYYY-MM-DD"
    frame, _ = read_table(path, "stays")
    assert frame.to_dict(orient="records") == [{"id": "a", "day": "2026-12-07"}]


def test_write_json_handles_numpy_dates_and_nan(tmp_path):
    path = tmp_path / "summary.json"
    write_json(
        {
            "a": np.int64(3),
            "b": np.float64(1.5),
            "c": math.nan,
            "d": dt.date(2026, 12, 7),
            "e": allocator.Status.OPTIMAL,
            "f": [np.bool_(True)],
        },
        path,
    )
    assert json.loads(path.read_text()) == {
        "a": 3,
        "b": 1.5,
        "c": None,
        "d": "2026-12-07",
        "e": "optimal",
        "f": [True],
    }


def test_write_json_refuses_unknown_objects_without_touching_the_file(tmp_path):
    path = tmp_path / "summary.json"
    path.write_text("old")
    with pytest.raises(TypeError):
        write_json({"x": object()}, path)
    assert path.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "plan.csv"
    path.write_text("old contents\n")

    def half_then_fail(df, suffix, handle):
        handle.write(b"household_id,unit_id\nH1,")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(aio.writing, "_write_table_to", half_then_fail)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_table(pd.DataFrame({"a": [1]}), path)
    assert path.read_text() == "old contents\n"
    assert _leftovers(tmp_path) == []


def test_failed_write_of_a_new_file_leaves_nothing(tmp_path, monkeypatch):
    def fail(df, suffix, handle):
        handle.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(aio.writing, "_write_table_to", fail)
    with pytest.raises(InputError, match="No space left") as info:
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "plan.xlsx")
    assert info.value.source == str(tmp_path / "plan.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_staging_is_all_or_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with Staging() as out:
            out.table(pd.DataFrame({"a": [1]}), tmp_path / "plan.csv")
            out.json({"x": 1}, tmp_path / "summary.json")
            raise RuntimeError("a later step failed")
    assert list(tmp_path.iterdir()) == []
    with Staging() as out:
        out.table(pd.DataFrame({"a": [1]}), tmp_path / "plan.csv")
        out.json({"x": 1}, tmp_path / "summary.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.csv", "summary.json"]


def test_write_into_missing_folder_names_the_file(tmp_path):
    path = tmp_path / "missing" / "plan.csv"
    with pytest.raises(InputError, match="cannot write") as info:
        write_table(pd.DataFrame({"a": [1]}), path)
    assert info.value.source == str(path)


def test_write_unknown_extension(tmp_path):
    with pytest.raises(InputError, match="unsupported output file type"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "plan.txt")
    assert list(tmp_path.iterdir()) == []


def test_staging_is_all_or_nothing_when_a_late_replace_fails(tmp_path):
    """If the second file cannot be put in place, the first keeps its old content."""
    from allocator.io import Staging

    plan_path = tmp_path / "plan.csv"
    plan_path.write_text("old\n")
    with pytest.raises(InputError):
        with Staging() as staged:
            staged.table(pd.DataFrame({"a": [1]}), plan_path)
            staged.json({"k": 1}, tmp_path / "summary.json")
            (tmp_path / "summary.json").mkdir()  # the target turns into a folder meanwhile
    assert plan_path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.csv", "summary.json"]


def test_staging_puts_back_what_it_replaced_when_a_later_file_fails(tmp_path, monkeypatch):
    from allocator.io import Staging

    plan_path, summary_path = tmp_path / "plan.csv", tmp_path / "summary.json"
    plan_path.write_text("old\n")
    real_replace = os.replace

    def failing_replace(src, dst):
        if str(dst) == str(summary_path):
            raise OSError(5, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(InputError, match="summary.json"):
        with Staging() as staged:
            staged.table(pd.DataFrame({"a": [1]}), plan_path)
            staged.json({"k": 1}, summary_path)
    monkeypatch.undo()
    assert plan_path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.csv"]
