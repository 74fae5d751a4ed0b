"""Property: the ledger accepts a stay in one room or in connecting rooms exactly when none of its
rooms is held, turnover included, by a stay already recorded (a pure-Python oracle), and its
stays never break an engine rule."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator import InputError
from allocator.ledger import Ledger
from allocator.ledger.testing import invariant_violations
from allocator.rules import overlaps

D0 = dt.date(2026, 12, 7)
DAY = dt.timedelta(days=1)
ROOMS = ("G.1", "G.2", "G.3")
TURNOVER = 3  # the default policy's

stays_asked = st.lists(
    st.tuples(
        st.sets(st.sampled_from(ROOMS), min_size=1, max_size=3),
        st.integers(0, 60),  # start, days after D0
        st.integers(1, 20),  # nights
    ),
    min_size=1,
    max_size=6,
)


def _accepted(held: list[tuple[set[str], dt.date, dt.date]], rooms, start, end) -> bool:
    """No stay held shares a room within the turnover days. A stay moved in and not ended holds
    its rooms until the new move-in at least (`allocator.ledger.rules.interval`)."""
    return not any(
        set(rooms) & taken and overlaps((start, end), (a, max(b, start)), TURNOVER)
        for taken, a, b in held
    )


@settings(max_examples=15)
@given(asked=stays_asked)
def test_a_stay_is_accepted_exactly_when_each_of_its_rooms_is_free(asked) -> None:
    """Every manual move-in, into one room or connecting rooms, is accepted iff the oracle
    accepts it; a refusal names the overlap rule; the ledger keeps every rule."""
    units = pd.DataFrame(
        [{"unit_id": u, "kind": "hub_room", "capacity": 2, "group": "G"} for u in ROOMS]
    )
    requests = pd.DataFrame(
        [
            {"household_id": f"H{k}", "size": 1, "urgency": 3, "need_date": D0,
             "expected_stay_days": 10}
            for k in range(len(asked))
        ]
    )  # fmt: skip
    held: list[tuple[set[str], dt.date, dt.date]] = []
    with (
        tempfile.TemporaryDirectory() as folder,
        Ledger.open(Path(folder) / "ledger.db", actor="tester") as ledger,
    ):
        ledger.import_units(units)
        ledger.import_requests(requests)
        for k, (rooms, offset, nights) in enumerate(asked):
            start, end = D0 + offset * DAY, D0 + (offset + nights) * DAY
            text = "+".join(sorted(rooms))
            expected = _accepted(held, rooms, start, end)
            try:
                ledger.move_in(f"H{k}", start, unit_id=text, expected_end=end)
                accepted = True
            except InputError as exc:
                assert "rule 'no overlap" in str(exc)
                accepted = False
            assert accepted == expected, (text, start, end, held)
            if accepted:
                held.append((set(rooms), start, end))
        assert len(ledger.table("stays")) == len(held)
        assert invariant_violations(ledger) == []
