"""Greedy keeps an announcement only on its announced day: a family whose unit is taken then gets
greedy's usual choice (another unit free that day), not a later start in the announced unit."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from allocator.engine.planning import plan

START = dt.date(2026, 12, 7)


def test_a_second_family_announced_the_same_unit_is_not_made_to_wait():
    """Two families told the same unit on day 0: the second goes to the unit free on day 0."""
    households = pd.DataFrame(
        [
            dict(household_id="A", size=2, urgency=3, need_date=START, expected_stay_days=20),
            dict(household_id="B", size=2, urgency=2, need_date=START, expected_stay_days=20),
        ]
    )
    units = pd.DataFrame(
        [
            dict(unit_id="F1", kind="flat", capacity=2, accessible=False),
            dict(unit_id="F2", kind="flat", capacity=2, accessible=False),
        ]
    )
    told = {"A": ("F1", START), "B": ("F1", START)}
    result = plan(households, units, start=START, method="greedy", announced=told)
    placed = result.placements.set_index("household_id")
    assert (placed.loc["A", "unit_id"], placed.loc["A", "start"]) == ("F1", START)
    assert (placed.loc["B", "unit_id"], placed.loc["B", "start"]) == ("F2", START)
    assert "announced F1 from 2026-12-07: changed" in placed.loc["B", "reason"]
    assert result.hotel_person_nights == 0
