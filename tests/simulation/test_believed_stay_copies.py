"""The weekly loop's stays (`weekly._stay_maker`): a later belief about a stay's end, made as a
copy of the earlier stay, is the stay the record built afresh gives, and the earlier one is kept."""

from __future__ import annotations

import datetime as dt

import numpy as np

from allocator.domain import Stay
from allocator.simulation import validate_scenario
from allocator.simulation.examples import small
from allocator.simulation.sampling import build_units, sample_households
from allocator.simulation.weekly import _Committed, _stay_maker

START = dt.date(2027, 1, 4)
ROOM = {"kind": "hub_room", "capacity": 4, "operating_cost_per_unit_night": 10}
UNITS = {
    "explicit": [
        {"unit_id": "R1", **ROOM, "group": "G"},
        {"unit_id": "R2", **ROOM, "group": "G"},
        {"unit_id": "R3", **ROOM},
    ]
}


def test_a_later_end_is_the_stay_built_afresh_with_it() -> None:
    """Ends believed one after another for a stay in connecting rooms and one in a single
    room: each equals `Stay` built from the household's facts, field by field."""
    arrivals = {"weekly_rate": 2.0, "size_mix": {1: 0.5, 7: 0.5}}
    scn = validate_scenario(small(units=UNITS, arrivals=arrivals, horizon_weeks=8))
    units = build_units(scn)
    hh = sample_households(scn, np.random.SeedSequence(3))
    placed = _Committed.empty(len(hh), len(units))
    placed.unit[[0, 1]], placed.start[[0, 1]] = [0, 2], [0.0, 5.0]
    placed.joined[0] = (1,)
    ids = np.array([f"H{k:06d}" for k in range(len(hh))], dtype=object)
    support = np.array(["low", "high"] + ["medium"] * (len(hh) - 2), dtype=object)
    stay_of = _stay_maker(hh, units, ids, support, placed, START)
    for i, start, rooms in ((0, 0, ("R1", "R2")), (1, 5, ("R3",))):
        first = stay_of(i, start, start + 10)
        for end in (start + 12, start + 3, start + 30, start + 10):
            ours = stay_of(i, start, end)
            afresh = Stay(
                household_id=ids[i],
                unit_id=rooms[0],
                joined_units=rooms[1:],
                start=START + dt.timedelta(days=start),
                expected_end=START + dt.timedelta(days=end),
                size=int(hh.size[i]),
                support=support[i],
                language=hh.language[i] or None,
            )
            assert ours == afresh
            assert ours.model_dump() == afresh.model_dump()
            assert ours.model_fields_set == afresh.model_fields_set
        assert first.expected_end == START + dt.timedelta(days=start + 10)
        assert stay_of(i, start, start + 10) is first  # the same belief: the same record
