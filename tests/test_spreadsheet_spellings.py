"""Enum values and booleans as a planner's spreadsheet writes them (any case, stray spaces, sì/no,
VERO/FALSO, 1/0, Excel TRUE/FALSE cells) read as the canonical values, in CSV, Excel and
DataFrames; other spellings are still refused by cell, and valid files read as before."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from allocator import plan
from allocator.domain import ExitPathway, Support, UnitKind
from allocator.errors import InputError
from allocator.examples import demo
from allocator.io import read_table, write_table
from allocator.tables import parse_records, validate_tables

START = dt.date(2026, 12, 7)


def write(path: Path, rows: list[list[object]]) -> Path:
    """Header + rows as CSV text or as a workbook with typed cells (by suffix)."""
    if path.suffix == ".csv":
        path.write_text("\n".join(",".join(str(c) for c in r) for r in rows) + "\n")
    else:
        book = openpyxl.Workbook()
        for r in rows:
            book.active.append(r)
        book.save(path)
    return path


def records(path: Path, kind: str) -> list:
    frame, source = read_table(path, kind)
    return parse_records(frame, kind, source)


HOUSEHOLD = ["household_id", "size", "urgency", "need_date", "expected_stay_days"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize(
    ("column", "text", "value"),
    [
        ("support", "Low", Support.LOW),
        ("support", "HIGH", Support.HIGH),
        ("support", " Medium ", Support.MEDIUM),
        ("exit_pathway", "Public_Housing", ExitPathway.PUBLIC_HOUSING),
        ("exit_pathway", "RENTAL_AGENCY ", ExitPathway.RENTAL_AGENCY),
    ],
)
def test_household_enums_in_any_case(tmp_path, suffix, column, text, value):
    path = write(
        tmp_path / f"h{suffix}", [[*HOUSEHOLD, column], ["H1", 2, 3, "2026-12-07", 30, text]]
    )
    assert getattr(records(path, "households")[0], column) is value


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize(("text", "kind"), [(" hub_room", UnitKind.HUB_ROOM),
                                            ("HUB_ROOM", UnitKind.HUB_ROOM), ("Flat", UnitKind.FLAT)])  # fmt: skip
def test_unit_kinds_in_any_case(tmp_path, suffix, text, kind):
    path = write(tmp_path / f"u{suffix}", [["unit_id", "kind", "capacity"], ["U1", text, 2]])
    assert records(path, "units")[0].kind is kind


YES = [
    "true",
    "TRUE",
    "True",
    "yes",
    "Yes",
    "sì",
    "Sì",
    "SÌ",
    "si",
    "SI",
    "sí",
    "vero",
    "VERO",
    "1",
]
NO = ["false", "FALSE", "no", "No", "NO", "falso", "Falso", "0"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize(("text", "value"), [(t, True) for t in YES] + [(t, False) for t in NO])
def test_booleans_as_words_in_any_case(tmp_path, suffix, text, value):
    rows = [["unit_id", "kind", "capacity", "accessible"], ["U1", "flat", 2, text]]
    assert records(write(tmp_path / f"u{suffix}", rows), "units")[0].accessible is value


def test_a_decomposed_accent_reads_like_the_composed_one(tmp_path):
    """'sì' typed as i + combining grave (some keyboards, macOS file names) is 'sì'."""
    rows = [["unit_id", "kind", "capacity", "accessible"], ["U1", "flat", 2, "si\u0300"]]
    assert records(write(tmp_path / "u.csv", rows), "units")[0].accessible is True


@pytest.mark.parametrize("cell", [True, False])
def test_excel_boolean_cells(tmp_path, cell):
    rows = [[*HOUSEHOLD, "accessible"], ["H1", 2, 3, dt.datetime(2026, 12, 7), 30, cell]]
    assert records(write(tmp_path / "h.xlsx", rows), "households")[0].accessible is cell


def test_stays_read_the_same_spellings(tmp_path):
    rows = [["household_id", "unit_id", "start", "expected_end", "support", "accessible"],
            ["S1", "U1", "2026-12-01", "2027-01-01", "HIGH", "Sì"]]  # fmt: skip
    stay = records(write(tmp_path / "s.csv", rows), "stays")[0]
    assert (stay.support, stay.accessible) == (Support.HIGH, True)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize(
    ("column", "text"),
    [("kind", "hub room"), ("kind", "appartamento"), ("accessible", "forse"), ("accessible", "2")],
)
def test_other_spellings_are_still_refused_by_cell(tmp_path, suffix, column, text):
    rows = [["unit_id", "kind", "capacity", "accessible"], ["U1", "flat", 2, "no"],
            ["U2", "flat", 2, "no"]]  # fmt: skip
    rows[2][rows[0].index(column)] = text
    path = write(tmp_path / f"u{suffix}", rows)
    with pytest.raises(InputError) as info:
        records(path, "units")
    assert (info.value.source, info.value.row, info.value.column) == (str(path), 3, column)
    assert repr(text) in info.value.message


def test_a_dataframe_in_a_spreadsheet_spelling_plans_like_the_canonical_one():
    """What `pd.read_excel` gives a Python caller is read as a file's cells are."""
    households, units, stays = demo()
    shouted = households.assign(
        support=households["support"].str.upper(),
        accessible=households["accessible"].map({True: "Sì", False: "no"}),
    )
    units_shouted = units.assign(kind=" " + units["kind"].str.title())
    a = plan(households, units, stays, start=START, method="greedy")
    b = plan(shouted, units_shouted, stays, start=START, method="greedy")
    pd.testing.assert_frame_equal(a.placements, b.placements)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_valid_files_read_as_before(tmp_path, suffix):
    """The demo's tables as the app writes them read back to the same records as the frames."""
    frames = dict(zip(("households", "units", "stays"), demo(), strict=True))
    paths = {}
    for kind, frame in frames.items():
        paths[kind] = tmp_path / f"{kind}{suffix}"
        write_table(frame, paths[kind])
    read = {kind: read_table(path, kind)[0] for kind, path in paths.items()}
    from_files = validate_tables(read["households"], read["units"], read["stays"])
    from_frames = validate_tables(frames["households"], frames["units"], frames["stays"])
    assert from_files == from_frames
