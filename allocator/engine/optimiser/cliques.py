"""Clique cuts over single-unit stretches: the valid inequalities that close the LP's usual gap.

On a day when a pool has at most one free unit, two stays of that pool that cover the day
exclude one another, and a household's placements exclude one another anyway. Take a household
h and a stretch of days [first, last] on which the pool has at most one free unit every day:

- h's placements in the pool that touch the stretch exclude one another (one household);
- other households' placements in the pool that cover the whole stretch share every day of it;
- each of h's touches the stretch on some day that each of the others covers.

So at most one of all of them is chosen in any plan. The LP relaxation breaks this with halves:
one household half in a unit from one day and half from a later one, and a second one half in it
over both, which the model's rows allow (never more than one per day). A few such cuts can lift
the LP above its cutoff, which settles a proof that otherwise needs an interior point and a MIP.

Pools with more free units need other cuts (odd cycles through their counts: seeds 1, 7 and 8
of 100 x 60 have no violated clique of this kind); HiGHS finds those in its MIP.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.engine.columns import Columns
from allocator.engine.instance import Instance

VIOLATION = 1e-6  # a cut must be violated by more than this to be added


@dataclass(frozen=True)
class Clique:
    """At most one of: the household's placements in the pool that touch [first, last], and
    other households' placements in it that cover all of [first, last]."""

    household: int
    pool: int
    first: int
    last: int


def members(inst: Instance, cols: Columns, clique: Clique) -> np.ndarray:
    """Per column: whether it is in the clique."""
    start, end = cols.start, np.minimum(cols.occupancy_end, inst.horizon)
    own = cols.household == clique.household
    touches = own & (start <= clique.last) & (end > clique.first)
    covers = ~own & (start <= clique.first) & (end > clique.last)
    return (cols.pool == clique.pool) & (touches | covers)


def violated(inst: Instance, cols: Columns, x: np.ndarray) -> list[Clique]:
    """Per pool and household, the cliques the LP solution ``x`` (per column) violates most: of
    the most violated stretches, the shortest and the longest (one clique if they coincide)."""
    positive = x > 1e-9
    fractional = positive & (x < 1 - 1e-9)
    found = []
    for p in np.unique(cols.pool[fractional]):  # all-integral pools violate nothing
        at_most_one = inst.pools[p].free <= 1
        mine = np.flatnonzero(positive & (cols.pool == p))
        start = cols.start[mine]
        end = np.minimum(cols.occupancy_end[mine], inst.horizon)
        days = np.unique(np.concatenate([start, end - 1]))
        days = days[at_most_one[days]]
        if days.size == 0:
            continue
        first, last = np.meshgrid(days, days, indexing="ij")
        # stretches whose every day has at most one free unit: no day with more in between
        # (the days come from placements, which never reach past the pool's end, and pools as
        # `build_instance` makes them gain units and lose them all at once at that end, so
        # this holds whenever it holds at both ends; it is checked all the same)
        more = np.concatenate([[0], np.cumsum(~at_most_one)])
        ok = (first <= last) & (more[last + 1] - more[first] == 0)
        first, last = first[ok], last[ok]
        touch = (start[None, :] <= last[:, None]) & (end[None, :] > first[:, None])
        cover = (start[None, :] <= first[:, None]) & (end[None, :] > last[:, None])
        weight = x[mine]
        owner = cols.household[mine]
        for h in np.unique(owner):
            own = owner == h
            lhs = touch[:, own] @ weight[own] + cover[:, ~own] @ weight[~own]
            if lhs.max() <= 1 + VIOLATION:
                continue
            # of the most violated, the shortest stretch (more placements of others cover it)
            # and the longest (more of the household's touch it): with only one, the LP steps
            # around the cut by moving a start one day, round after round
            most = np.flatnonzero(lhs >= lhs.max() - VIOLATION)
            width = last[most] - first[most]
            for best in {int(most[np.argmin(width)]), int(most[np.argmax(width)])}:
                found.append(Clique(int(h), int(p), int(first[best]), int(last[best])))
    return found
