"""What one week's solve leaves for the next: the columns of its restricted LP.

A simulation plans the same programme every week, and most of a week's households were in last
week's batch too, still waiting. Their columns in last week's restricted LP (its last round,
after the removal of idle ones) are much of what this week's column generation would price in
again. `WarmStart` keeps them, and the next solve adds those that still exist to the LP's first
columns. Pool numbers and day numbers change from week to week, so a column is kept as household
id, a unit of its pool and a date, and found again by them.

This changes where the column generation starts, not the LP: its optimum, and the bound and the
plan proven from it, are the same (within the requested gap where a dive or a MIP settles it).
Where the optimum is not unique, another start can end at another optimal plan.

Carrying last week's plan as well, as the LP's first basis (the households still waiting from
their planned day, the new ones first come first served around them), saved few further rounds
and cost a greedy pass a week: it is not done (docs/engine.md, "Warm starts").

`WarmStart` is plain data, one per sequence of solves (the simulation keeps one per replication
and policy): a replication stays deterministic and independent of where it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from allocator.engine.columns import Columns
from allocator.engine.instance import Instance
from allocator.engine.optimiser.model import ColumnIndex

_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class WarmStart:
    """The last solve's restricted LP columns, by household id, unit id and date (ordinal)."""

    household: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    unit: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))  # of its pool
    start: np.ndarray = field(default_factory=lambda: _EMPTY)
    # over the solves that used it, for benchmarks: solves, columns carried into them
    solves: int = 0
    carried: int = 0

    def columns_in(self, inst: Instance, cols: Columns) -> np.ndarray:
        """The indices of this instance's columns (``cols``) that were in the last restricted LP:
        the household still in the batch, the unit in one of its pools, the day in the horizon."""
        self.solves += 1
        if self.household.size == 0 or len(cols) == 0:
            return _EMPTY
        hh_index = {h: i for i, h in enumerate(inst.household_ids)}
        unit_index = {u: k for k, u in enumerate(inst.unit_ids)}
        h = np.array([hh_index.get(x, -1) for x in self.household.tolist()], dtype=np.int64)
        u = np.array([unit_index.get(x, -1) for x in self.unit.tolist()], dtype=np.int64)
        p = np.where(u >= 0, inst.unit_pool[np.maximum(u, 0)], -1)
        s = self.start - inst.start.toordinal()
        ok = (h >= 0) & (p >= 0) & (s >= 0) & (s < inst.horizon)
        if not ok.any():
            return _EMPTY
        at = ColumnIndex(inst, cols).index(h[ok], p[ok], s[ok])
        found = np.unique(at[at >= 0])
        self.carried += int(found.size)
        return found

    def keep(self, inst: Instance, cols: Columns, lp_columns: np.ndarray) -> None:
        """Remember this solve's restricted LP columns (indices into ``cols``)."""
        # a combination of connecting rooms has no units of its own: it is kept under its first
        # room, whose pool it does not fit next week, so its columns are not carried over
        first_unit = np.array(
            [(q.units or inst.pools[q.parts[0][0]].units)[0] for q in inst.pools], dtype=np.int64
        )
        sub = cols.take(lp_columns)
        self.household = np.asarray(inst.household_ids, dtype=object)[sub.household]
        self.unit = np.asarray(inst.unit_ids, dtype=object)[first_unit[sub.pool]]
        self.start = sub.start.astype(np.int64) + inst.start.toordinal()
