"""Validation of the input tables at the Python level, through `allocator.plan` with DataFrames.

A DataFrame's rows are named by their index label; a table read from a file (or given with
``Source(name, from_file=True)``) by its spreadsheet row, the header being row 1.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import allocator
from allocator.errors import InputError
from allocator.examples import generate
from allocator.tables import Source, required_columns_of

START = dt.date(2026, 12, 7)


def households(**changes) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "household_id": ["H1", "H2", "H3"],
            "size": [2, 1, 3],
            "urgency": [3, 2, 4],
            "need_date": [dt.date(2026, 12, 7), dt.date(2026, 12, 10), dt.date(2026, 12, 1)],
            "expected_stay_days": [30, 60, 45],
        }
    )
    for col, (row, value) in changes.items():
        df[col] = df[col].astype(object)
        df.loc[row, col] = value
    return df


def units() -> pd.DataFrame:
    return pd.DataFrame({"unit_id": ["U1", "U2"], "kind": ["flat", "hub_room"], "capacity": [4, 2]})


def stays(*rows) -> pd.DataFrame:
    rows = rows or (("S1", "U1", dt.date(2026, 11, 1), dt.date(2026, 12, 20)),)
    return pd.DataFrame(rows, columns=["household_id", "unit_id", "start", "expected_end"])


def plan_error(hh=None, un=None, st=None, **kwargs) -> InputError:
    hh = households() if hh is None else hh
    un = units() if un is None else un
    st = stays() if st is None else st
    with pytest.raises(InputError) as info:
        allocator.plan(hh, un, st, start=START, method="greedy", **kwargs)
    return info.value


def test_good_tables_plan():
    result = allocator.plan(households(), units(), stays(), start=START, method="greedy")
    assert list(result.placements["household_id"]) == ["H1", "H2", "H3"]
    assert (result.placements["status"] == "placed").all()


def test_missing_column():
    err = plan_error(hh=households().drop(columns="urgency"))
    assert (err.source, err.column, err.row) == ("households", "urgency", None)
    assert "missing" in err.message


def test_unknown_column():
    err = plan_error(un=units().assign(colour="red"))
    assert (err.source, err.column) == ("units", "colour")
    assert "unknown column" in err.message


@pytest.mark.parametrize(
    ("changes", "row", "column", "words"),
    [
        ({"size": (1, "abc")}, "1", "size", "integer"),
        ({"need_date": (0, "2026-13-01")}, "0", "need_date", "date"),
        ({"size": (2, 0)}, "2", "size", "greater than or equal to 1"),
        ({"urgency": (1, 6)}, "1", "urgency", "less than or equal to 5"),
        ({"household_id": (0, "has space")}, "0", "household_id", "pattern"),
    ],
)
def test_bad_values_name_row_and_column(changes, row, column, words):
    err = plan_error(hh=households(**changes))
    assert (err.source, err.row, err.column) == ("households", row, column)
    assert words in err.message


def test_rows_are_index_labels_for_dataframes():
    hh = households(size=(1, "abc"))
    hh.index = ["a", "b", "c"]
    assert plan_error(hh=hh).row == "b"


def test_rows_are_spreadsheet_rows_for_files():
    err = plan_error(
        hh=households(size=(1, "abc")),
        sources={"households": Source("households.csv", from_file=True)},
    )
    assert (err.source, err.row, err.column) == ("households.csv", 3, "size")
    assert str(err).startswith("households.csv, row 3, column 'size': ")


def test_duplicate_household_id():
    err = plan_error(hh=households(household_id=(2, "H1")))
    assert (err.source, err.row, err.column) == ("households", "2", "household_id")
    assert "duplicate id 'H1'" in err.message
    assert "row 0" in err.message  # where it was first seen


def test_duplicate_unit_id():
    un = pd.concat([units(), units().iloc[[0]]], ignore_index=True)
    err = plan_error(un=un)
    assert (err.source, err.row, err.column) == ("units", "2", "unit_id")


def test_stay_ending_before_it_starts_names_the_row():
    err = plan_error(st=stays(("S1", "U1", dt.date(2026, 12, 1), dt.date(2026, 11, 1))))
    assert (err.source, err.row) == ("stays", "0")
    assert "must be after start" in err.message


def test_stay_ending_before_it_starts_names_the_column():
    err = plan_error(st=stays(("S1", "U1", dt.date(2026, 12, 1), dt.date(2026, 11, 1))))
    assert err.column == "expected_end"


def test_stay_on_unknown_unit():
    err = plan_error(st=stays(("S1", "U9", dt.date(2026, 11, 1), dt.date(2026, 12, 20))))
    assert (err.source, err.row, err.column) == ("stays", "0", "unit_id")
    assert "unknown unit 'U9'" in err.message


def test_overlapping_stays():
    err = plan_error(
        st=stays(
            ("S1", "U1", dt.date(2026, 11, 1), dt.date(2026, 12, 20)),
            ("S2", "U1", dt.date(2026, 12, 10), dt.date(2027, 1, 20)),
        )
    )
    assert (err.source, err.row, err.column) == ("stays", "1", "start")
    assert "overlaps the stay in row 0" in err.message


def test_stay_larger_than_its_unit():
    st = stays().assign(size=[3])
    st.loc[0, "unit_id"] = "U2"
    err = plan_error(st=st)
    assert (err.source, err.row, err.column) == ("stays", "0", "size")


@pytest.mark.parametrize(
    "empty",
    [
        pd.DataFrame(),
        pd.DataFrame(columns=required_columns_of("households")),
        [],
    ],
)
def test_empty_households_table(empty):
    err = plan_error(hh=empty)
    assert err.source == "households"
    assert "empty" in err.message


def test_empty_units_table():
    err = plan_error(un=pd.DataFrame(columns=["unit_id", "kind", "capacity"]))
    assert err.source == "units"


@pytest.mark.parametrize("empty", [None, pd.DataFrame(), stays().iloc[:0]])
def test_no_stays_is_fine(empty):
    result = allocator.plan(households(), units(), empty, start=START, method="greedy")
    assert len(result.placements) == 3


def test_string_cells_as_read_from_a_file():
    """All cells strings, empty optional cells "" meaning missing, as `allocator.io` reads them."""
    hh = households().astype(str).assign(minors=["", "0", ""], language=["", "", "arabic"])
    hh = hh.assign(accessible=["", "false", "TRUE"], support=["", "high", ""])
    un = units().astype(str).assign(available_from="", nightly_cost=["", "25.5"])
    st = stays().astype(str).assign(size="", support="")
    result = allocator.plan(hh, un, st, start=START, method="greedy")
    assert len(result.placements) == 3


def test_blank_required_cell_is_missing():
    err = plan_error(hh=households().astype(str).assign(urgency=["3", "", "4"]))
    assert (err.row, err.column) == ("1", "urgency")
    assert "required" in err.message.lower()


def test_generated_instances_validate():
    hh, un, st = generate(30, 12, seed=11)
    result = allocator.plan(hh, un, st, start=START, method="greedy")
    assert len(result.placements) == 30


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"pins": {"H9": "U1"}}, "pin", "unknown household"),
        ({"pins": {"H1": "U9"}}, "pin", "unknown unit"),
        ({"forbids": [("H1", "U9")]}, "forbid", "unknown unit"),
        ({"pins": {"H1": "U1"}, "forbids": [("H1", "U1")]}, "forbid", "both pinned"),
    ],
)
def test_bad_overrides(kwargs, field, words):
    err = plan_error(**kwargs)
    assert err.field == field
    assert words in err.message


def test_bad_start_and_method():
    with pytest.raises(InputError) as info:
        allocator.plan(households(), units(), start="2026-13-01")
    assert info.value.field == "start"
    with pytest.raises(InputError) as info:
        allocator.plan(households(), units(), start=START, method="magic")
    assert info.value.field == "method"


def test_household_housed_and_waiting_is_refused():
    hh = households()
    err = plan_error(hh=hh, st=stays(("H1", "U1", dt.date(2026, 11, 1), dt.date(2026, 12, 20))))
    assert (err.source, err.column) == ("stays", "household_id")
    assert "waits or is housed" in err.message


def test_household_in_two_stays_at_once_is_refused():
    err = plan_error(
        st=stays(
            ("S1", "U1", dt.date(2026, 11, 1), dt.date(2026, 12, 20)),
            ("S1", "U2", dt.date(2026, 12, 1), dt.date(2026, 12, 30)),
        )
    )
    assert (err.source, err.column) == ("stays", "household_id")
    assert "never split" in err.message


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"seed": -1}, "seed"),
        ({"seed": 2**31}, "seed"),
        ({"time_limit": float("inf")}, "time_limit"),
        ({"time_limit": 0}, "time_limit"),
        ({"workers": 0}, "workers"),
    ],
)
def test_solver_settings_out_of_range_are_refused(kwargs, field):
    err = plan_error(**kwargs)
    assert err.field == field


def test_negative_mediation_cap_is_refused():
    from allocator.policy import validate_policy

    with pytest.raises(InputError) as info:
        validate_policy({"mediation_capacity_by_language": {"spanish": -1}}, source="policy.toml")
    assert info.value.field == "mediation_capacity_by_language.spanish"
