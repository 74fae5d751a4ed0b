"""Greedy never passes over a unit of the kind a household's support suits with no more beds than
the unit it gets (read from the raw tables).

`allocator.engine.explain_free.FreeTime._first_passed` relies on this: a household whose support
level the kind of its unit does not suit is told which unit of the other kind "was free when its
turn came" (held in the plan only by households behind it in greedy's queue), and the search for
that unit starts above the capacity of its own. The property here is what makes that exact: at
the household's turn such a unit's pool could take it on its start day, and greedy takes the
smallest unit first, then the kind that suits.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from allocator import Method
from allocator.testing import Scenario, placements_of, random_scenario

SUITS = {"high": "hub_room", "low": "flat"}


@st.composite
def scenarios(draw):
    return random_scenario(
        draw(st.integers(0, 2**32 - 1)),
        n_households=draw(st.integers(2, 16)),
        n_units=draw(st.integers(1, 6)),
        horizon_weeks=draw(st.integers(1, 3)),
        max_stay_days=draw(st.sampled_from([5, 15, 30])),
        caps=draw(st.booleans()),
        overrides=draw(st.booleans()),
        exit_dated_share=draw(st.sampled_from([0.0, 0.5, 1.0])),
    )


def passed_over(sc: Scenario) -> list[str]:
    """For greedy's plan: each unit of the suited kind, no larger than the household's own,
    free for its stay before the plan and held in the plan by no household ahead of it."""
    raw = sc.raw()
    placed, problems = placements_of(raw, sc.plan(Method.GREEDY))
    assert problems == []
    turn = raw.policy.turnover_days
    ids = list(raw.households)
    # greedy's queue: pinned households first, then by need date, more urgent first, table order
    queue = sorted(
        ids,
        key=lambda h: (
            h not in raw.pins,
            raw.households[h].need_date,
            -raw.households[h].urgency,
            ids.index(h),
        ),
    )
    rank = {h: k for k, h in enumerate(queue)}

    def span(uid: str, begin: int, nights: int) -> tuple[int, int]:
        until = raw.units[uid].available_until
        end = begin + nights + turn
        return begin, end if until is None else min(end, raw.day(until))

    def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
        return a[0] < b[1] and b[0] < a[1] and a[0] < a[1] and b[0] < b[1]

    found = []
    for hid, (uid, t) in placed.items():
        h, u = raw.households[hid], raw.units[uid]
        suited = SUITS.get(h.support.value)
        if hid in raw.pins or suited is None or u.kind.value == suited:
            continue
        L = raw.stay_length(hid, t)
        for vid, v in raw.units.items():
            if v.kind.value != suited or not h.size <= v.capacity <= u.capacity:
                continue
            if (h.accessible and not v.accessible) or (hid, vid) in raw.forbids:
                continue
            if v.available_from is not None and raw.date(t) < v.available_from:
                continue
            if v.available_until is not None and raw.date(t + L) > v.available_until:
                continue
            mine = span(vid, t, L)
            current = [
                span(vid, raw.day(s.start), (s.expected_end - s.start).days)
                for s in raw.stays
                if s.unit_id == vid
            ]
            if any(overlaps(mine, c) for c in current):
                continue  # not free before the plan
            ahead = [
                j
                for j, (w, s) in placed.items()
                if w == vid
                and rank[j] < rank[hid]
                and overlaps(mine, span(vid, s, raw.stay_length(j, s)))
            ]
            if not ahead:
                found.append(f"{hid} in {uid} on day {t}: {vid} was free at its turn")
    return found


@settings(max_examples=150, deadline=None)
@given(sc=scenarios())
def test_greedy_passes_over_no_smaller_unit_of_the_suited_kind(sc: Scenario) -> None:
    """Every unit of the suited kind a household passed over has more beds than its own."""
    assert passed_over(sc) == []
