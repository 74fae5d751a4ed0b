"""Announcing placements in the weekly loop, and counting how many are changed before move-in.

A planner who announces up to N weeks ahead tells each family, every planning day, the unit and
date of its planned placement when that starts after this week and within N weeks after it, and
has not been told one yet. Later weeks' plans get the announcements (`decide(announced=...)`)
and keep them unless a change is worth ``Policy.announcement_weight`` or a hard rule forces it.

An announcement ends *kept* when the household moves in on its announced day in its announced
unit, and *changed* otherwise: a plan moved it (another unit, another date, not placed), the
commit failed (a departure came later than believed), or the household left from the hotel. A
changed household may be told a new placement, which counts as a new announcement. Churn is
changed / (kept + changed); the announcements still open at the run's end are not counted.
Placements in connecting rooms are not announced, as approval's ``--announce`` skips them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from allocator.engine.planning import Decision
    from allocator.simulation.sampling import Households


@dataclass
class Announcing:
    """The announcements of one replication: household -> (unit index, real start day)."""

    weeks: int
    unit_ids: list[str]
    start_date: dt.date
    # announce only placements in units whose current stay's departure is known (or free)
    firm_only: bool = False
    told: dict[int, tuple[int, int]] = field(default_factory=dict)
    made: int = 0
    kept: int = 0
    changed: int = 0
    forced: int = 0  # of the changed, those a hard rule forced (`engine.announcements`)

    def for_engine(self, todo: np.ndarray, ids: np.ndarray) -> dict[str, tuple[str, dt.date]]:
        """The announcements of the households planned today, as `decide` takes them; those of
        households no longer waiting (they left from the hotel) end changed."""
        waiting = set(todo.tolist())
        for i in [i for i in self.told if i not in waiting]:
            del self.told[i]
            self.changed += 1
        return {
            ids[i]: (self.unit_ids[u], self.start_date + dt.timedelta(days=d))
            for i, (u, d) in self.told.items()
        }

    def after_week(
        self,
        today: int,
        todo: np.ndarray,
        batch: Decision,
        unit_order: np.ndarray,
        placed_unit: np.ndarray,
        placed_start: np.ndarray,
        firm: np.ndarray | None = None,
    ) -> None:
        """Settle the announcements once the week's placements are committed, then announce
        the plan's placements from next week up to ``weeks`` weeks ahead."""
        ann = batch.inst.announcements
        broken = {
            int(todo[j])
            for j, h in enumerate(batch.inst.household_ids)
            if ann is not None and h in ann.broken
        }
        planned: dict[int, tuple[int, int]] = {}
        for j in np.flatnonzero(batch.unit >= 0).tolist():
            if j in batch.joined:
                continue  # connecting rooms are not announced (as on approval, `--announce`)
            planned[int(todo[j])] = (int(unit_order[batch.unit[j]]), today + int(batch.start[j]))
        for i, told in list(self.told.items()):
            if placed_unit[i] >= 0:  # moved in this week
                moved = (int(placed_unit[i]), int(placed_start[i]))
                self.kept += moved == told
                self.changed += moved != told
                del self.told[i]
            elif planned.get(i) != told:
                self.changed += 1
                self.forced += i in broken
                del self.told[i]
        last = today + 7 + 7 * self.weeks
        for i, (u, d) in planned.items():
            if self.firm_only and firm is not None and not firm[u]:
                continue
            if i not in self.told and placed_unit[i] < 0 and today + 7 <= d < last:
                self.told[i] = (u, d)
                self.made += 1


def churn(kept: int, changed: int) -> float:
    """Of the announcements that ended (moved in as told, or changed), the share changed; NaN
    when none has ended."""
    ended = kept + changed
    return changed / ended if ended else float("nan")


def firm_units(
    last: np.ndarray, start: np.ndarray, hh: Households, today: int, notice: int
) -> np.ndarray:
    """Per unit: free, or its latest stay's real departure known by ``today`` (it comes within
    the exit notice): a placement after it will not move because that stay runs long."""
    occupied = np.flatnonzero(last >= 0)
    firm = np.ones(last.size, dtype=bool)
    i = last[occupied]
    s = start[i].astype(np.int64)
    firm[occupied] = s + hh.length(i, s) <= today + notice
    return firm
