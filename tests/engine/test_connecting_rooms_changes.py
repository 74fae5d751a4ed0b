"""Connecting rooms in what a plan compares and announces: a change of rooms is a change, an
announcement moved into connecting rooms is not called kept, a sliced plan keeps the rules."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import allocator
from allocator.policy import Policy
from allocator.testing import check_plan

START = dt.date(2026, 12, 7)


def rooms(*beds: int) -> pd.DataFrame:
    return pd.DataFrame(
        [
            dict(unit_id=f"R{k + 1}", kind="hub_room", capacity=b, group="G")
            for k, b in enumerate(beds)
        ]
    )


def household(h: str, size: int, days: int = 10) -> dict:
    return dict(household_id=h, size=size, urgency=3, need_date=START, expected_stay_days=days)


@pytest.mark.parametrize("method", ["solver", "greedy"])
def test_another_set_of_rooms_is_a_change_of_unit(method):
    """The first room alike, another joined room: the plan lists the change."""
    hh = pd.DataFrame([household("H7", 7)])
    first = allocator.plan(hh, rooms(4, 4, 4), start=START, method=method)
    row = first.placements.iloc[0]
    assert (row["unit_id"], row["joined_units"]) == ("R1", "R2")
    again = allocator.plan(
        hh, rooms(4, 4, 4), start=START, method=method, forbids=[("H7", "R2")],
        previous=first.placements,
    )  # fmt: skip
    assert again.placements.iloc[0]["joined_units"] == "R3"
    change = again.changes.set_index("household_id").loc["H7"]
    assert (change["change"], change["unit_before"], change["unit_after"]) == (
        "unit",
        "R1+R2",
        "R1+R3",
    )


@pytest.mark.parametrize("method", ["solver", "greedy"])
def test_an_announcement_moved_into_connecting_rooms_is_not_kept(method):
    """Told R1 (2 beds), the household is now 3: it takes R1 and R2, and the note says changed."""
    hh = pd.DataFrame([household("A", 3)])
    plan = allocator.plan(
        hh, rooms(2, 2), start=START, method=method, announced={"A": ("R1", START)}
    )
    row = plan.placements.iloc[0]
    assert {row["unit_id"], row["joined_units"]} == {"R1", "R2"}
    assert f"announced R1 from {START}: changed" in row["reason"]
    assert plan.changes.set_index("household_id").loc["A", "unit_after"] == "R1+R2"


def test_a_plan_in_slices_keeps_the_rules_of_connecting_rooms():
    """Too little memory for the whole model: the slices still place the families of 7 in
    connecting rooms, and the plan passes the independent checker."""
    hh = pd.DataFrame([household(f"H{i}", 7 if i % 2 else 2, 5) for i in range(6)])
    units = pd.concat(
        [rooms(4, 4, 4, 4), pd.DataFrame([dict(unit_id="F1", kind="flat", capacity=2)])]
    )
    policy = Policy(horizon_weeks=2, turnover_days=1)
    plan = allocator.plan(hh, units, start=START, policy=policy, max_memory=12000)
    assert "model too large" in plan.details["size_limit"]
    assert (plan.placements["joined_units"] != "").sum() == 3
    check_plan(plan, hh, units, start=START, policy=policy)
