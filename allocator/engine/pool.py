"""A pool: units interchangeable over the horizon, counted per day rather than picked one by one
(`engine.instance` forms them, `engine.rooms` adds the combinations of connecting rooms)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.domain import UnitKind

NEVER = 10**7  # a day beyond any horizon: "no limit"


@dataclass
class Pool:
    """Units interchangeable over the horizon, and their free count per day."""

    capacity: int
    kind: UnitKind
    accessible: bool
    free: np.ndarray  # units free on each day, shape (H,)
    departure_limit: np.ndarray  # latest departure day of a stay starting on day d
    occupancy_limit: np.ndarray  # occupancy of a stay starting on d is counted up to this day
    units: list[int]  # unit indices
    gaps: dict[int, list[tuple[int, int]]]  # per unit, its free stretches [from, to)
    # index into `Instance.districts` when pools are split by district (`Instance.by_district`),
    # else -1: the district is not known or does not matter
    district: int = -1
    # connecting rooms (`engine.rooms`): the group of the pool's units, or None; a
    # *combination* has no units of its own but takes ``count`` units of each physical pool in
    # ``parts`` ((pool, count) pairs) for one household, and ``smallest_part`` is the beds of its
    # smallest room: a household for which that room would be spare does not take it
    group: str | None = None
    parts: tuple[tuple[int, int], ...] = ()
    smallest_part: int = 0

    @property
    def is_combination(self) -> bool:
        return bool(self.parts)
