"""Near school and work: the district term of the objective, the reasons' words and the summary.

A placement of a household with an ``anchor_district`` in a unit ``d`` districts from it costs
``policy.district_weight x d`` once per stay (`allocator.districts` counts the districts). A
household without an anchor pays nothing, and with a weight of 0 the term is absent: pools,
columns and plans are those of a run without districts (`Instance.by_district`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from allocator.districts import describe_distance
from allocator.engine.instance import Instance

if TYPE_CHECKING:
    from allocator.engine.occupancy import Occupancy


def district_cost(inst: Instance, household: np.ndarray, pool: np.ndarray) -> np.ndarray | float:
    """The district term of placing each household in its pool (0 where districts are off)."""
    if not inst.by_district:
        return 0.0
    pool_district = np.array([q.district for q in inst.pools], dtype=np.int64)
    anchor = inst.anchor[household]
    # a pool's district -1 (not known) reads the table's last column: the map's widest distance
    far = inst.district_distance[np.maximum(anchor, 0), pool_district[pool]]
    return inst.policy.district_weight * np.where(anchor >= 0, far, 0)


def unit_distances(inst: Instance, unit: np.ndarray) -> np.ndarray:
    """Per household, the districts between its anchor and its unit (``unit`` per household, -1
    when not placed); -1 where it has no anchor or is not placed."""
    unit = np.asarray(unit, dtype=np.int64)
    if inst.anchor.size == 0 or not (inst.anchor >= 0).any():
        return np.full(len(unit), -1, dtype=np.int64)
    where = inst.unit_district[np.maximum(unit, 0)] if len(inst.unit_district) else unit
    d = inst.district_distance[np.maximum(inst.anchor, 0), where]
    return np.where((inst.anchor >= 0) & (unit >= 0), d, -1)


def reason_note(inst: Instance, i: int, unit: int) -> str | None:
    """The distance words for a placed household with an anchor ("same district as the
    school/work"), else None."""
    if unit < 0 or inst.anchor.size == 0 or inst.anchor[i] < 0:
        return None
    if inst.unit_district[unit] < 0:
        return "district of the unit not known"
    d = int(inst.district_distance[inst.anchor[i], inst.unit_district[unit]])
    return describe_distance(d)


def summary(inst: Instance, unit: np.ndarray) -> dict[str, float | int]:
    """For the plan's summary: households with an anchor, how many are placed, and the shares
    of those placed in their anchor district and in it or next to it. Empty when no household
    has an anchor, so a plan without districts reads as before."""
    anchored = inst.anchor >= 0 if inst.anchor.size else np.zeros(inst.n_households, bool)
    if not anchored.any():
        return {}
    d = unit_distances(inst, unit)
    placed = anchored & (np.asarray(unit) >= 0)
    n = int(placed.sum())
    return {
        "anchored": int(anchored.sum()),
        "anchored_placed": n,
        "anchor_same_share": round(float((d[placed] == 0).mean()), 4) if n else 0.0,
        "anchor_near_share": round(float((d[placed] <= 1).mean()), 4) if n else 0.0,
    }


def cheapest_start(
    inst: Instance, occupancy: Occupancy, i: int, pools: np.ndarray
) -> tuple[int, int] | None:
    """Greedy's choice for a household with an anchor when districts count: over the pools it
    fits, each at its earliest start, the one whose placement costs least in the objective
    (`columns.placement_cost`: wait, empty beds, unit kind, district term); ties to the pool
    listed first in ``pools`` (greedy's preference). None if it fits nowhere."""
    from allocator.engine.columns import placement_cost  # columns imports this module

    first, valid = occupancy.valid_starts(i, pools)
    if valid.size == 0:
        return None
    has = valid.any(axis=1)
    if not has.any():
        return None
    fits = pools[has]
    day = first + valid[has].argmax(axis=1)
    cost = placement_cost(inst, np.full(len(fits), i), fits, day)
    k = int(np.argmin(cost))  # the first of equal costs: pools keep greedy's order
    return int(fits[k]), int(day[k])


def farther_note(inst: Instance, i: int, v: int, u: int) -> str | None:
    """Why unit v is worse than household i's unit u for its school or work, when districts
    count and v is further from the anchor; else None."""
    if not inst.by_district or inst.anchor[i] < 0:
        return None
    row = inst.district_distance[inst.anchor[i]]
    there, here = int(row[inst.unit_district[v]]), int(row[inst.unit_district[u]])
    if there <= here:
        return None
    away = "1 district" if there == 1 else f"{there} districts"
    return f"it is {away} from the school/work, this unit {here}"


def with_districts(inst: Instance, table: pd.DataFrame, unit: np.ndarray) -> pd.DataFrame:
    """The plan table with the unit's district, the household's anchor and the districts
    between them (empty where not known), when some unit or household names a district: a
    plan without districts keeps its columns."""
    if not inst.districts:
        return table
    names = np.array([*inst.districts, None], dtype=object)  # index -1: none
    unit = np.asarray(unit, dtype=np.int64)
    unit_district = np.where(unit >= 0, inst.unit_district[np.maximum(unit, 0)], -1)
    away = unit_distances(inst, unit)
    return table.assign(
        district=names[unit_district],
        anchor_district=names[inst.anchor],
        districts_away=pd.array([d if d >= 0 else None for d in away.tolist()], dtype="Int64"),
    )
