"""The notes on announcements: a change forced by the accompaniment capacity is not blamed on the
weight alone, and a note written into a stored reason is read back by the engine's own function."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from allocator.engine.announcements import note_in, with_note
from allocator.engine.planning import plan
from allocator.policy import Policy

START = dt.date(2026, 12, 7)


def test_a_change_forced_by_the_support_capacity_names_it():
    """Two high-support families told two flats on one day, a team that can follow one: the
    solver changes one announcement and says the accompaniment capacity may be why."""
    households = pd.DataFrame(
        [
            dict(
                household_id=h,
                size=2,
                urgency=3,
                need_date=START,
                expected_stay_days=10,
                support="high",
            )
            for h in ("A", "B")
        ]
    )
    units = pd.DataFrame(
        [dict(unit_id=u, kind="flat", capacity=2, accessible=False) for u in ("F1", "F2")]
    )
    told = {"A": ("F1", START), "B": ("F2", START)}
    policy = Policy(announcement_weight=1e6, support_capacity=3)
    result = plan(households, units, start=START, policy=policy, announced=told, time_limit=10)
    reasons = result.placements.set_index("household_id")["reason"]
    changed = [h for h in told if not reasons[h].endswith(": kept")]
    assert len(changed) == 1
    assert "changed by the plan" in reasons[changed[0]]
    assert "or exceed the accompaniment capacity" in reasons[changed[0]]


def test_a_note_is_read_back_from_a_reason():
    """with_note then note_in gives the note back, alone or after a reason; no note, None."""
    note = "announced F1 from 2026-12-14: kept"
    assert note_in(with_note("flat F1 (2 beds for 2); free on the need date", note)) == note
    assert note_in(with_note("", note)) == note
    assert note_in("flat F1 (2 beds for 2); free on the need date") is None
    assert note_in(None) is None
