"""Announcements and a previous plan given badly are refused with one-line input errors: an
announcement not a (unit, date) pair, a previous plan missing a column, naming a household
twice or with a date that is no date."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from allocator.engine.instance import Overrides
from allocator.engine.planning import plan
from allocator.errors import InputError

START = dt.date(2026, 12, 7)


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    households = pd.DataFrame(
        [dict(household_id="A", size=2, urgency=3, need_date=START, expected_stay_days=10)]
    )
    units = pd.DataFrame([dict(unit_id="F1", kind="flat", capacity=2, accessible=False)])
    return households, units


@pytest.mark.parametrize("told", ["U1", ("U1",), ("U1", START, "x"), (7, START), None])
def test_an_announcement_that_is_not_a_unit_and_date_is_refused(told):
    """announced={'H': 'U1'} and the like: an InputError on field 'announced', not a ValueError."""
    with pytest.raises(InputError, match=r"field 'announced': .*expected a \(unit, start date\)"):
        Overrides.of(announced={"H": told})


def test_an_announcement_as_a_list_is_accepted():
    """A [unit, date] list (as JSON gives it) is as good as a tuple."""
    assert Overrides.of(announced={"H": ["U1", "2026-12-08"]}).announced == {
        "H": ("U1", dt.date(2026, 12, 8))
    }


@pytest.mark.parametrize(
    ("previous", "match"),
    [
        (pd.DataFrame({"unit_id": ["F1"], "start": [START]}), "missing column 'household_id'"),
        (pd.DataFrame({"household_id": ["A"], "unit_id": ["F1"]}), "missing column 'start'"),
        (
            pd.DataFrame(
                {"household_id": ["A", "A"], "unit_id": ["F1", None], "start": [START, None]}
            ),
            "row 1, column 'household_id': household A appears twice",
        ),
        (
            pd.DataFrame({"household_id": ["A"], "unit_id": ["F1"], "start": ["soon"]}),
            "row 0, column 'start': expected an ISO date",
        ),
        ([("A", "F1", START)], "expected a table"),
    ],
)
def test_a_bad_previous_plan_is_refused(previous, match):
    """plan(previous=...) checks columns, one row per household and dates up front."""
    households, units = _tables()
    with pytest.raises(InputError, match=match) as error:
        plan(households, units, start=START, method="greedy", previous=previous)
    assert str(error.value).startswith("previous")


def test_a_good_previous_plan_with_text_dates_is_compared():
    """ISO text dates and an unplaced row (no unit, no date) are read as a previous plan."""
    households, units = _tables()
    previous = pd.DataFrame(
        {"household_id": ["A", "Q"], "unit_id": ["F1", None], "start": ["2026-12-10", None]}
    )
    result = plan(households, units, start=START, method="greedy", previous=previous)
    change = result.changes.set_index("household_id").loc["A"]
    assert change["change"] == "date" and change["start_before"] == dt.date(2026, 12, 10)
