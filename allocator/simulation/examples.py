"""A tiny scenario for tests, docs and quick experiments: six hub rooms, three requests a week."""

from __future__ import annotations

import copy
from typing import Any

SMALL: dict[str, Any] = {
    "name": "small",
    "horizon_weeks": 26,
    "units": {
        "hub_rooms": {
            "count": 6,
            "capacity_mix": {1: 0.5, 2: 0.5},
            "operating_cost_per_unit_night": 10,
        }
    },
    "arrivals": {"weekly_rate": 3.0, "size_mix": {1: 0.7, 2: 0.3}},
    "pathways": {
        "family": {"share": 0.5, "stay": {"dist": "exponential", "mean": 10}},
        "private": {"share": 0.5, "stay": {"dist": "lognormal", "mean": 14, "sd": 5}},
    },
    "costs": {"hotel_per_person_night": 38.5},
}


def small(**changes: Any) -> dict[str, Any]:
    """The small scenario as a mapping, with top-level fields replaced by ``changes``."""
    data = copy.deepcopy(SMALL)
    data.update(changes)
    return data
