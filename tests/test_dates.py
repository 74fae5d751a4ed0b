"""Dates the engine and the ledger take lie within a stated window: a table's within 10 years of
the plan's start, a date given to the command line or the ledger within 10 years of today, and
every date from 1900 to 2199; outside it, one line names the window (no overflow, no traceback)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from typer.testing import CliRunner

from allocator import InputError, plan
from allocator.cli import app
from allocator.domain import Household, Unit
from allocator.ledger import Ledger
from allocator.limits import add_years
from allocator.simulation import validate_scenario
from allocator.simulation.examples import small

START = dt.date(2026, 12, 7)
TODAY = dt.date.today()
LATER = add_years(TODAY, 11)  # just outside the window around today
DAY = dt.timedelta(days=1)


def tables(**changes) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One household, two units and a stay; ``changes`` set cells as kind__column=value."""
    hh = pd.DataFrame(
        [{"household_id": "H1", "size": 1, "urgency": 3, "need_date": START,
          "expected_stay_days": 20}]
    )  # fmt: skip
    un = pd.DataFrame(
        [{"unit_id": "U1", "kind": "flat", "capacity": 2, "available_from": None,
          "available_until": None},
         {"unit_id": "U2", "kind": "flat", "capacity": 2, "available_from": None,
          "available_until": None}]
    )  # fmt: skip
    st = pd.DataFrame(
        [{"household_id": "S1", "unit_id": "U2", "start": START - 5 * DAY,
          "expected_end": START + 5 * DAY}]
    )  # fmt: skip
    frames = {"households": hh, "units": un, "stays": st}
    for key, value in changes.items():
        kind, column = key.split("__")
        frames[kind][column] = frames[kind][column].astype(object)
        frames[kind].loc[0, column] = value
    return frames["households"], frames["units"], frames["stays"]


@pytest.mark.parametrize(
    ("kind", "column", "value"),
    [
        ("households", "need_date", dt.date(2037, 1, 5)),
        ("households", "need_date", dt.date(2016, 1, 5)),
        ("units", "available_from", dt.date(2040, 1, 1)),
        ("units", "available_until", dt.date(2062, 12, 7)),
        ("stays", "start", dt.date(2015, 1, 1)),
        ("stays", "expected_end", dt.date(2045, 1, 1)),
    ],
)
def test_a_table_date_far_from_the_plan_start_is_refused(kind, column, value) -> None:
    """A typo of a decade names the cell and the window around the plan's start."""
    with pytest.raises(InputError) as refused:
        plan(*tables(**{f"{kind}__{column}": value}), start=START, method="greedy")
    err = refused.value
    assert (err.source, err.column) == (kind, column)
    assert "outside the window of 10 years around the plan's start (2026-12-07)" in str(err)
    assert "from 2016-12-07 to 2036-12-07" in str(err)


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize(
    ("kind", "column"),
    [("households", "need_date"), ("units", "available_until"), ("stays", "expected_end")],
)
def test_the_ends_of_the_calendar_are_refused_not_overflowed(kind, column, value) -> None:
    with pytest.raises(InputError) as refused:
        plan(*tables(**{f"{kind}__{column}": value}), start=START, method="greedy")
    assert refused.value.column == column and "\n" not in str(refused.value)


@pytest.mark.parametrize("start", ["0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"])
def test_a_plan_start_outside_1900_to_2199_is_refused(start) -> None:
    with pytest.raises(InputError) as refused:
        plan(*tables(), start=start, method="greedy")
    assert refused.value.field == "start"
    assert "from 1900-01-01 to 2199-12-31" in str(refused.value)


def test_records_built_in_python_keep_only_the_absolute_range() -> None:
    """The simulation passes models it built, where a household may have waited for years: the
    window around the plan's start is for tables a user wrote."""
    hh = [Household(household_id="H1", size=1, urgency=3, need_date=dt.date(2001, 1, 1),
                    expected_stay_days=20)]  # fmt: skip
    un = [Unit(unit_id="U1", kind="flat", capacity=2)]
    result = plan(hh, un, start=START, method="greedy")
    assert result.placements.status.tolist() == ["placed"]


def _cli_plan(tmp_path, start: str):
    (tmp_path / "h.csv").write_text(
        "household_id,size,urgency,need_date,expected_stay_days\nH1,1,3,2026-12-07,10\n"
    )
    (tmp_path / "u.csv").write_text("unit_id,kind,capacity\nU1,flat,2\n")
    out = tmp_path / "plan.csv"
    args = ["plan", "--households", str(tmp_path / "h.csv"), "--units", str(tmp_path / "u.csv")]
    return CliRunner().invoke(app, [*args, "--start", start, "--out", str(out)]), out


@pytest.mark.parametrize("start", [LATER.isoformat(), "9999-12-31", "0001-01-01"])
def test_the_cli_start_lies_within_ten_years_of_today(tmp_path, start) -> None:
    result, out = _cli_plan(tmp_path, start)
    assert result.exit_code == 2 and not out.exists()
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "--start" in lines[0]
    assert "outside the window of 10 years around today" in lines[0]


# --- the ledger ----------------------------------------------------------------------------------


@pytest.fixture
def ledger(tmp_path):
    units = pd.DataFrame([{"unit_id": "U1", "kind": "flat", "capacity": 2}])
    households = pd.DataFrame(
        [{"household_id": "H1", "size": 1, "urgency": 3, "need_date": TODAY,
          "expected_stay_days": 20}]
    )  # fmt: skip
    with Ledger.open(str(tmp_path / "ledger.db"), actor="tester") as led:
        led.import_units(units)
        led.import_requests(households)
        yield led


@pytest.mark.parametrize(
    ("action", "field"),
    [
        (lambda led: led.propose(LATER, method="greedy"), "week"),
        (lambda led: led.propose("0001-01-01", method="greedy"), "week"),
        (lambda led: led.move_in("H1", LATER, unit_id="U1"), "date"),
        (lambda led: led.move_in("H1", TODAY, unit_id="U1", expected_end="9999-12-31"),
         "expected_end"),
    ],
)  # fmt: skip
def test_a_ledger_date_lies_within_ten_years_of_today(ledger, action, field) -> None:
    version = ledger.version
    with pytest.raises(InputError) as refused:
        action(ledger)
    assert refused.value.field == field
    assert "outside the window of 10 years around today" in str(refused.value)
    assert ledger.version == version


def test_exit_and_extension_dates_lie_within_the_window(ledger) -> None:
    ledger.move_in("H1", TODAY, unit_id="U1")
    for action in (
        lambda: ledger.exit("H1", LATER, "private"),
        lambda: ledger.extend("H1", "9999-12-31", "typo"),
    ):
        with pytest.raises(InputError, match="outside the window of 10 years around today"):
            action()


def test_an_imported_need_date_lies_within_the_window(ledger) -> None:
    households = pd.DataFrame(
        [{"household_id": "H2", "size": 1, "urgency": 3, "need_date": LATER,
          "expected_stay_days": 20}]
    )  # fmt: skip
    with pytest.raises(InputError) as refused:
        ledger.import_requests(households)
    assert refused.value.column == "need_date" and "around today" in str(refused.value)


def test_a_scenario_start_lies_within_ten_years_of_today() -> None:
    with pytest.raises(InputError) as refused:
        validate_scenario(small(start=LATER.isoformat()))
    assert refused.value.field == "start" and "around today" in str(refused.value)
