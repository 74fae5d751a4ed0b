"""The audit of a plan counts a household in connecting rooms with the beds of all its rooms."""

from __future__ import annotations

import pandas as pd

import allocator
from allocator.analysis.fairness import records_from_plan

UNITS = pd.DataFrame(
    [
        dict(unit_id="H1", kind="hub_room", capacity=4, accessible=True, group="G"),
        dict(unit_id="H2", kind="hub_room", capacity=4, accessible=False, group="G"),
        dict(unit_id="F1", kind="flat", capacity=3, accessible=True),
    ]
)
HOUSEHOLDS = pd.DataFrame(
    [
        dict(household_id="big", size=7, urgency=3, need_date="2026-12-07", expected_stay_days=20),
        dict(household_id="two", size=2, urgency=3, need_date="2026-12-07", expected_stay_days=20),
    ]
)


def test_a_combined_placement_has_the_beds_of_all_its_rooms():
    """Beds add up over the rooms; step-free only if every room is."""
    plan = allocator.plan(HOUSEHOLDS, UNITS, start="2026-12-07", method="greedy")
    row = plan.placements.set_index("household_id").loc["big"]
    assert {row["unit_id"], row["joined_units"]} == {"H1", "H2"}
    rec = records_from_plan(plan, HOUSEHOLDS, UNITS).set_index("household")
    assert rec.loc["big", "unit_capacity"] == 8
    assert rec.loc["big", "unit_accessible"] == 0
    assert rec.loc["two", "unit_capacity"] == 3
