"""What the final plan leaves free, unit by unit and day by day, for `allocator.engine.explain`.

A unit is *free for a stay* from day d when the stay fits its availability window and [d,
departure + turnover), cut where the unit leaves the programme, misses its current stays ("before
the plan") and, in the final plan, every other household's stay too. Units are looked at in size
order (capacity, then table order): the arrays over units here are indexed by *position* in that
order, so that a set of candidate units is a range of positions (with a mask) and its smallest
units come first without sorting. The placed stays are kept in the same order, then by start.

A reason is asked of every household, so few questions here cost time that grows with the
number of units or households: what held each household back on each day before its start is
worked out for all households at once (`allocator.engine.explain_days`); how many units of a set
take a stay is counted once per capacity, kind and day (`FreeTime._count`); the smallest units
that do are searched from the smallest on, in growing parts, and the search stops when they are
found (for greedy's units free at a household's turn, from the first with more beds than its
own: `FreeTime._first_passed`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from allocator.domain import UnitKind
from allocator.engine.columns import distinct_rows, fitting
from allocator.engine.explain_days import (
    DAY_CHUNK,
    NAMED_UNITS,
    NO_TAKEN,
    Days,
    Taken,
    day_table,
    interval_days,
    longest,
    taken_table,
)
from allocator.engine.greedy import fcfs_order
from allocator.engine.instance import NEVER, Instance
from allocator.engine.occupancy import Occupancy
from allocator.engine.result import Method

FIRST_LOOK = 8  # positions looked at one by one first when searching for the smallest units
FIRST_PART = 64  # positions looked at together next; then 4x more at a time
COUNT_DIRECTLY = 8192  # sets of up to this many units are counted unit by unit, not per day
_NONE = np.zeros(0, dtype=np.int64)
# a `FreeTime._sized_units` mask: (needs step-free access, flats only / no flats / either (None))
MaskKey = tuple[bool, bool | None]


class Candidates(NamedTuple):
    """A set of candidate units: those at positions [lo, hi) in size order that ``mask`` (over all
    positions) marks, all of them when it is None. ``key`` names the mask when it is one of
    `FreeTime._sized_units`' (the range then starts and ends where a capacity does)."""

    mask: np.ndarray | None
    lo: int
    hi: int
    key: MaskKey | None = None


@dataclass
class Found:
    """What a set of candidate units offers a household's stay from one day (`FreeTime._look`),
    each part looked at only when those before it are empty: ``first``, the smallest unit it may
    use that is free for the stay in the final plan, or (``passed``, greedy) only held by
    households behind it in greedy's queue, so free when its turn came; ``taken``, the smallest
    units it may use free for the stay before the plan and held by others in it, ``n_taken`` of
    them; ``forbidden``, the smallest free for the stay that the planner does not allow it."""

    first: int | None = None
    passed: bool = False
    taken: list[int] = field(default_factory=list)
    n_taken: int = 0
    forbidden: list[int] = field(default_factory=list)


class FreeTime:
    """What the final plan leaves free, unit by unit and day by day, and who holds what.

    ``before_s[d, p]`` and ``after_s[d, p]`` are the longest stay the unit at position p in size
    order (``size_order[p]``) can take from day d before the plan (current stays, windows) and in
    the final plan (every placed household counted): a stay of L nights is free there exactly
    when L <= that number, as `Occupancy` works it out per pool. ``occupancy_s[d, p]`` is the day
    up to which the occupancy of a stay starting on d counts (where the unit leaves, at most the
    horizon's end).
    """

    def __init__(
        self,
        inst: Instance,
        pool: np.ndarray,
        start: np.ndarray,
        unit: np.ndarray,
        method: Method,
        joined: dict[int, list[int]] | None = None,
    ) -> None:
        self.inst, self.pool, self.start, self.unit, self.method = inst, pool, start, unit, method
        # a household in connecting rooms: the rooms it holds besides ``unit`` (`engine.rooms`)
        self.joined: dict[int, list[int]] = joined or {}
        H, N = inst.horizon, inst.n_households
        self.turn = inst.policy.turnover_days
        self.days = np.arange(H)
        n_units = len(inst.unit_ids)
        self.size_order = np.lexsort((np.arange(n_units), inst.unit_capacity))
        self.size_pos = np.empty(n_units, dtype=np.int64)
        self.size_pos[self.size_order] = np.arange(n_units)
        self.capacity_s = inst.unit_capacity[self.size_order]
        self.access_s = inst.unit_access[self.size_order]
        is_flat = np.array([k is UnitKind.FLAT for k in inst.unit_kind], dtype=bool)
        self.flat_s = is_flat[self.size_order]
        self.before_s, self.occupancy_s = self._before_the_plan()
        # the placed stays, by their unit's position in size order, then start; a household in
        # connecting rooms has a stay in each of its rooms
        placed = np.flatnonzero(pool >= 0)
        rooms = [(i, u) for i, us in self.joined.items() if pool[i] >= 0 for u in us]
        held = np.array([u for _, u in rooms], dtype=np.int64)
        of = np.concatenate([placed, np.array([i for i, _ in rooms], dtype=np.int64)])
        held = np.concatenate([unit[placed], held])
        order = np.lexsort((start[of], self.size_pos[held]))
        of, held = of[order], held[order]
        s, pos = start[of], self.size_pos[held]
        e = np.minimum(s + inst.stay_length(of, s) + self.turn, self.occupancy_s[s, pos])
        self.stay_of, self.stay_pos, self.stay_from, self.stay_to = of, pos, s, e
        # position p holds the stays [stays_at[p], stays_at[p + 1])
        self.stays_at = np.searchsorted(pos, np.arange(n_units + 1))
        covered = interval_days(s, np.maximum(e, s), pos, n_units, H)  # new stays, by day
        self.after_s = longest(self, covered, self.before_s, self.occupancy_s)
        del covered
        self.support_used: np.ndarray | None = None
        self.mediation_used: dict[int, np.ndarray] = {}
        if inst.support_free is not None or inst.mediation_free:  # caps: what the plan uses
            final = Occupancy(inst)
            final.add_all(placed, pool[placed], start[placed])
            self.support_used, self.mediation_used = final.support_used, final.mediation_used
        # pools of units, not combinations of connecting rooms (`engine.rooms`: they have no
        # units of their own, `explain_rooms` looks at them, and they come after the others)
        self.physical = np.array([not q.is_combination for q in inst.pools], dtype=bool)
        n_physical = int(self.physical.sum())
        assert self.physical[:n_physical].all()
        # households x pools of units: allowed (size, access, pins, forbids), and by size and
        # access only
        pools = np.arange(n_physical)
        self.fit = fitting(inst, pools)
        cap = np.array([inst.pools[p].capacity for p in pools], dtype=np.int64)
        access = np.array([inst.pools[p].accessible for p in pools], dtype=bool)
        self.fit_kinds, self.fit_kind_of = distinct_rows(self.fit)
        if inst.forbidden or (inst.pinned_pool >= 0).any():
            broad = (inst.size[:, None] <= cap) & (access | ~inst.needs_access[:, None])
            self.broad_kinds, self.broad_kind_of = distinct_rows(broad)
        else:  # no pin or forbid: what fits is what is allowed
            self.broad_kinds, self.broad_kind_of = self.fit_kinds, self.fit_kind_of
        has = inst.unit_pool >= 0
        units_in = np.bincount(inst.unit_pool[has], minlength=n_physical)
        # units, not pools; worked out per kind of household (rows of households x pools are big)
        self.n_fitting_units = (self.fit_kinds.astype(np.int64) @ units_in)[self.fit_kind_of]
        self.pool_s = inst.unit_pool[self.size_order]  # each position's pool, -1 for none
        self.rank = np.empty(N, dtype=np.int64)
        self.rank[fcfs_order(inst)] = np.arange(N)
        self.stay_rank = self.rank[of]  # greedy's queue rank of each stay's household
        self.allowed_s: dict[int, np.ndarray] = {}  # fit class: mask over positions
        self._allowed: dict[int, Candidates] = {}
        self._sized: dict[MaskKey, np.ndarray | None] = {}
        self._sized_sets: dict[tuple, Candidates] = {}
        self._marked: dict[MaskKey, np.ndarray] = {}  # how many positions before p a mask marks
        self._free_counts: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        # capacities: group g holds the positions [group_at[g], group_at[g + 1]) of one capacity
        bounds = np.flatnonzero(np.diff(self.capacity_s)) + 1
        self.group_at: list[int] = [0, *bounds.tolist(), n_units]
        self.capacity_l: list[int] = self.capacity_s.tolist()
        self._top = int(inst.stay_days.max(initial=0)) + 1  # no stay is longer than this
        self.group_s = np.repeat(np.arange(len(self.group_at) - 1), np.diff(self.group_at))
        self._key_counts: dict[MaskKey, tuple[np.ndarray, np.ndarray]] = {}
        self._by_class: tuple[np.ndarray, np.ndarray] | None = None
        self._plain_l: list[bool] | None = None
        self._stays_on: tuple[int, np.ndarray, np.ndarray] = (-1, _NONE, _NONE)
        self._day_rows: list[list] | None = None
        self._taken_ready: Taken = NO_TAKEN  # `taken_table`
        self._best_cache: dict[str, dict[str, np.ndarray]] = {}
        self._tops: dict[str, np.ndarray] = {}
        # the same as Python values: a reason reads a few of them at a time
        self.stays_at_l: list[int] = self.stays_at.tolist()
        self.stay_from_l: list[int] = s.tolist()
        self.stay_to_l: list[int] = e.tolist()
        self.stay_of_l: list[int] = of.tolist()
        self.size_pos_l: list[int] = self.size_pos.tolist()
        self.rank_l: list[int] = self.rank.tolist()
        self.unit_l: list[int] = unit.tolist()
        self.start_l: list[int] = start.tolist()
        self.release_l: list[int] = inst.release.tolist()
        self.capacity_u: list[int] = inst.unit_capacity.tolist()  # by unit
        self.size_order_l: list[int] = self.size_order.tolist()
        self.fit_kind_l: list[int] = self.fit_kind_of.tolist()
        self.size_l: list[int] = inst.size.tolist()
        self.access_l: list[bool] = inst.needs_access.tolist()
        self._stay_days_l: list[int] = inst.stay_days.tolist()
        exits = zip(inst.exit_dated.tolist(), inst.exit_day.tolist(), strict=True)
        self._exit_l: list[int | None] = [x if dated else None for dated, x in exits]

    def _before_the_plan(self) -> tuple[np.ndarray, np.ndarray]:
        """``before_s`` and ``occupancy_s`` (int32: the values are days or NEVER), built by
        unit, a pool at a time, then turned to be by day and position."""
        inst, H = self.inst, self.inst.horizon
        n_units = len(inst.unit_ids)
        before = np.full((n_units, H), -1, dtype=np.int32)
        occupancy = np.zeros((n_units, H), dtype=np.int32)
        for q in inst.pools:
            units = np.array(q.units, dtype=np.int64)
            occupancy[units] = np.minimum(q.occupancy_limit, H)
            room = (q.departure_limit - self.days)[None, :]
            gaps = [(k, g0, g1) for k, u in enumerate(q.units) for g0, g1 in q.gaps[u]]
            if not gaps:
                continue
            at, g0, g1 = (np.array(x, dtype=np.int64) for x in zip(*gaps, strict=True))
            inside = (self.days >= g0[:, None]) & (self.days < g1[:, None])
            first = np.flatnonzero(np.diff(at, prepend=-1))  # each unit's gaps, together
            free = np.logical_or.reduceat(inside, first, axis=0)
            before[units[at[first]]] = np.where(free, room, -1)
        by_day = (np.ascontiguousarray(x[self.size_order].T) for x in (before, occupancy))
        return next(by_day), next(by_day)

    def _nights(self, i: int, d: int) -> int:
        """`Instance.stay_length_at`: the nights of household i's stay from day d."""
        exit_day = self._exit_l[i]
        if exit_day is None:
            return self._stay_days_l[i]
        return min(exit_day - d, self.inst.policy.max_stay_days)

    # --- the plan's occupancy ---------------------------------------------------------------------

    def _own_after(self, i: int, d: int, u: int | None = None) -> int:
        """``after_s`` on day d at household i's own unit (or at unit u, one of its connecting
        rooms), its own stay taken out."""
        p = self.size_pos_l[self.unit_l[i] if u is None else u]
        begin, to, of = self.stay_from_l, self.stay_to_l, self.stay_of_l
        held = self.inst.horizon  # the first day from d held by another stay
        for x in range(self.stays_at_l[p], self.stays_at_l[p + 1]):  # by start
            if to[x] > d and begin[x] < to[x] and of[x] != i:
                held = max(begin[x], d)
                break
        by_stays = NEVER if held >= self.occupancy_s.item(d, p) else held - d - self.turn
        return min(self.before_s.item(d, p), by_stays)

    # --- which units ------------------------------------------------------------------------------

    def _allowed_units(self, i: int) -> Candidates:
        """Units household i may use (size, access, pins, forbids), as the positions in size
        order from the first to the last of them; `_allowed_mask` tells which they are."""
        k = self.fit_kind_l[i]
        if k not in self._allowed:
            self.allowed_s[k] = mask = self._in_pools(self.fit_kinds[k])
            at = np.flatnonzero(mask)
            span = (int(at[0]), int(at[-1]) + 1) if at.size else (0, 0)
            self._allowed[k] = Candidates(None, *span)
        return self._allowed[k]

    def _in_pools(self, pools: np.ndarray) -> np.ndarray:
        """Over positions, the units in the pools ``pools`` (a mask over pools) marks."""
        if not pools.size:
            return np.zeros(len(self.pool_s), dtype=bool)
        return (self.pool_s >= 0) & pools[np.maximum(self.pool_s, 0)]

    def _allowed_mask(self, i: int) -> np.ndarray:
        """Over positions in size order, the units household i may use (read-only: households
        that fit the same pools share it)."""
        self._allowed_units(i)
        return self.allowed_s[self.fit_kind_l[i]]

    def _plain(self, i: int) -> bool:
        """Whether household i may use every unit in a pool that its size and access fit (no pin
        or forbid narrows them): its allowed units are then `_sized_units(i)` that are free for
        some stay, and `_count` counts them."""
        if self._plain_l is None:
            pairs, pair_of = np.unique(
                np.stack([self.fit_kind_of, self.broad_kind_of]), axis=1, return_inverse=True
            )
            same = [np.array_equal(self.fit_kinds[f], self.broad_kinds[b]) for f, b in pairs.T]
            self._plain_l = np.array(same, dtype=bool)[pair_of.ravel()].tolist()
        return self._plain_l[i]

    def _sized_units(
        self, i: int, flat: bool | None = None, below: int | None = None
    ) -> Candidates:
        """The units that fit household i's size and access needs, busy or not, allowed or not;
        of one kind only (flats or not) and with fewer than ``below`` beds when given."""
        which = (self.access_l[i], flat, self.size_l[i], below)
        if which not in self._sized_sets:
            key = (self.access_l[i], flat)
            lo = bisect_left(self.capacity_l, self.size_l[i])  # capacity_s is sorted
            hi = len(self.capacity_l) if below is None else bisect_left(self.capacity_l, below)
            self._sized_sets[which] = Candidates(self._mask(key), lo, max(lo, hi), key)
        return self._sized_sets[which]

    def _mask(self, key: MaskKey) -> np.ndarray | None:
        """`_sized_units`' mask over positions for ``key`` (None: every unit)."""
        if key not in self._sized:
            mask = self.access_s.copy() if key[0] else np.ones_like(self.access_s)
            if key[1] is not None:
                mask &= self.flat_s == key[1]
            self._sized[key] = None if mask.all() else mask
            self._marked[key] = np.concatenate(([0], np.cumsum(mask)))
        return self._sized[key]

    def _n_positions(self, units: Candidates) -> int:
        """How many units a set of `_sized_units` holds."""
        assert units.key is not None
        marked = self._marked[units.key]
        return int(marked[units.hi] - marked[units.lo]) if units.hi > units.lo else 0

    def _sizes(self, units: Candidates) -> list[int]:
        """The capacities of a set of `_sized_units`, smallest first."""
        assert units.key is not None
        g0, g1 = bisect_left(self.group_at, units.lo), bisect_left(self.group_at, units.hi)
        marked, at = self._marked[units.key], self.group_at
        return [self.capacity_l[at[g]] for g in range(g0, g1) if marked[at[g + 1]] > marked[at[g]]]

    @staticmethod
    def _positions(units: Candidates) -> np.ndarray:
        """The positions of a set of candidate units, in size order."""
        mask, lo, hi, _ = units
        if mask is None:
            return np.arange(lo, hi)
        return np.flatnonzero(mask[lo:hi]) + lo

    # --- free units -------------------------------------------------------------------------------

    def _after_ok(self, i: int, d: int, lo: int, hi: int, L: int) -> np.ndarray:
        """Whether the units at positions [lo, hi) are free for household i's stay of L nights
        from day d in the final plan, its own stay not counted."""
        after_ok = self.after_s[d, lo:hi] >= L
        if self.unit_l[i] >= 0:
            own = self.size_pos_l[self.unit_l[i]] - lo
            if 0 <= own < hi - lo:
                after_ok[own] = self._own_after(i, d) >= L
        return after_ok

    def _smallest(self, i: int, d: int, units: Candidates, first: int, which: str) -> list[int]:
        """The positions of the ``first`` smallest of ``units`` that household i may use and
        that are free for its stay from day d: in the final plan (``which`` "free", its own stay
        not counted), before it ("before"), or before it but not in it ("taken"). Searched from
        the smallest on, in growing parts."""
        mask, lo, hi, _ = units
        L = self._nights(i, d)
        allowed = self._allowed_mask(i)
        # the first few one by one: where units are busy, those asked for are often among them
        before, after = self.before_s[d], self.after_s[d]
        own = self.size_pos_l[self.unit_l[i]] if self.unit_l[i] >= 0 else -1
        picked: list[int] = []
        a = min(lo + FIRST_LOOK, hi)
        for p in range(lo, a):
            if not allowed.item(p) or (mask is not None and not mask.item(p)):
                continue
            if which != "free" and before.item(p) < L:
                continue
            if which != "before":
                free = (self._own_after(i, d) if p == own else after.item(p)) >= L
                if free != (which == "free"):
                    continue
            picked.append(p)
            if len(picked) == first:
                return picked
        part = FIRST_PART
        while a < hi and len(picked) < first:
            b = min(a + part, hi)
            if which == "free":
                ok = allowed[a:b] & self._after_ok(i, d, a, b, L)
            else:
                ok = allowed[a:b] & (self.before_s[d, a:b] >= L)
                if which == "taken":
                    ok &= ~self._after_ok(i, d, a, b, L)
            if mask is not None:
                ok &= mask[a:b]
            picked.extend((np.flatnonzero(ok)[: first - len(picked)] + a).tolist())
            a, part = b, 4 * part
        return picked

    def _first_free(self, i: int, d: int) -> int | None:
        """The smallest unit household i may use that is free for its stay from day d in the
        final plan (its own stay not counted; free then means free before the plan too)."""
        found = self._smallest(i, d, self._allowed_units(i), 1, "free")
        return self.size_order_l[found[0]] if found else None

    def _at_least(self, longest: np.ndarray) -> np.ndarray:
        """[L + 1]: how many of the ``longest`` stays are L nights or more (L from -1 to the
        longest stay of any household)."""
        top = self._top
        count = np.bincount(np.clip(longest + 1, 0, top + 1), minlength=top + 2)
        return np.cumsum(count[::-1])[::-1]

    def _counts(self, key: MaskKey) -> tuple[np.ndarray, np.ndarray]:
        """For the units ``key``'s mask marks, before the plan and in it: ``[g, d, L + 1]`` is
        how many of those in the capacity groups before g take a stay of L nights from day d
        (L from -1 to the longest stay of any household). Summed from `_class_counts`."""
        if key not in self._key_counts:
            access, flat = key
            classes = [
                c
                for c in range(4)
                if (c & 2 or not access) and (flat is None or bool(c & 1) == flat)
            ]
            before, after = self._class_counts()
            self._key_counts[key] = (before[classes].sum(axis=0), after[classes].sum(axis=0))
        return self._key_counts[key]

    def _class_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """`_counts` per class of units, 2 x step-free + flat: ``[c, g, d, L + 1]``, worked out
        in one pass over every unit and day (a few days at a time)."""
        if self._by_class is None:
            H, top = self.inst.horizon, self._top
            G = len(self.group_at) - 1
            width = top + 2
            column = (2 * self.access_s + self.flat_s) * G + self.group_s  # class, then group
            counts = [np.zeros((4, G + 1, H, width), dtype=np.int32) for _ in range(2)]
            step = max(1, DAY_CHUNK // max(1, len(self.capacity_l)))
            for d0 in range(0, H, step):
                d1 = min(d0 + step, H)
                cell = (column[None, :] * (d1 - d0) + np.arange(d1 - d0)[:, None]) * width
                for longest, out in zip((self.before_s, self.after_s), counts, strict=True):
                    index = cell + np.clip(longest[d0:d1] + 1, 0, top + 1)
                    n = np.bincount(index.ravel(), minlength=4 * G * (d1 - d0) * width)
                    n = n.reshape(4, G, d1 - d0, width)
                    out[:, 1:, d0:d1] = np.cumsum(n[..., ::-1], axis=3)[..., ::-1]
            for out in counts:
                np.cumsum(out, axis=1, out=out)  # over capacity groups: a prefix
            self._by_class = (counts[0], counts[1])
        return self._by_class

    def _count(self, units: Candidates, d: int, L: int) -> tuple[int, int]:
        """How many of a set of `_sized_units` are free for a stay of L >= 1 nights from day d,
        before the plan and in it (every placed stay counted)."""
        if units.hi - units.lo <= COUNT_DIRECTLY:
            return self._count_units(units, d, L)
        return self._count_by_day(units, d, L)

    def _count_units(self, units: Candidates, d: int, L: int) -> tuple[int, int]:
        """`_count`, unit by unit."""
        mask, lo, hi, _ = units
        before = self.before_s[d, lo:hi] >= L
        after = self.after_s[d, lo:hi] >= L
        if mask is not None:
            before &= mask[lo:hi]
            after &= mask[lo:hi]
        return int(np.count_nonzero(before)), int(np.count_nonzero(after))

    def _count_by_day(self, units: Candidates, d: int, L: int) -> tuple[int, int]:
        """`_count` from the counts per capacity group and day (`_counts`)."""
        assert units.key is not None and 1 <= L < self._top  # no stay is longer than _top
        g0, g1 = bisect_left(self.group_at, units.lo), bisect_left(self.group_at, units.hi)
        k = L + 1
        b, a = self._counts(units.key)
        return int(b[g1, d, k] - b[g0, d, k]), int(a[g1, d, k] - a[g0, d, k])

    def _taken_units(self, i: int, d: int, first: int) -> tuple[list[int], int]:
        """The units household i may use that are free for its stay from day d before the plan
        and held by others in it: the ``first`` smallest, and how many there are."""
        ready = self._taken_ready.get(i, d) if first == NAMED_UNITS else None
        if ready is not None:
            return ready
        L = self._nights(i, d)
        taken = self._smallest(i, d, self._allowed_units(i), first, "taken")
        units = [self.size_order_l[p] for p in taken]
        # how many: free for the stay before the plan and not in it (after <= before)
        if self._plain(i):
            before, after = self._count(self._sized_units(i), d, L)
        else:
            k = self.fit_kind_l[i]
            if (k, d) not in self._free_counts:
                on = np.flatnonzero(self._allowed_mask(i))
                self._free_counts[k, d] = (
                    self._at_least(self.before_s[d, on]),
                    self._at_least(self.after_s[d, on]),
                )
            b, a = self._free_counts[k, d]
            before, after = int(b[L + 1]), int(a[L + 1])
        count = before - after
        own = self.size_pos_l[self.unit_l[i]] if self.unit_l[i] >= 0 else -1
        if own >= 0 and self._allowed_mask(i).item(own):  # its own unit, held by its own stay
            if self.before_s.item(d, own) >= L > self.after_s.item(d, own):
                count -= int(self._own_after(i, d) >= L)
        return units, count

    def _look(self, i: int, d: int, units: Candidates, passed: bool) -> Found:
        """What ``units`` offer household i's stay from day d (see `Found`); ``passed``: look
        for units free at its turn in greedy's queue, before the first free one (i's own unit
        is not among ``units`` then)."""
        if not self._plain(i):
            return self._look_at_every_unit(i, d, units, passed)
        L = self._nights(i, d)
        before, after = self._count(units, d, L)
        mask, lo, hi, _ = units
        if self.unit_l[i] >= 0:  # its own unit, free without its own stay
            own = self.size_pos_l[self.unit_l[i]]
            if lo <= own < hi and (mask is None or mask[own]):
                after += int(self._own_after(i, d) >= L) - int(self.after_s[d, own] >= L)
        free = self._smallest(i, d, units, 1, "free") if after > 0 else []
        if passed and self.method is Method.GREEDY and before > after:
            p = self._first_passed(i, d, L, units._replace(hi=free[0] if free else hi))
            if p is not None:
                return Found(first=self.size_order_l[p], passed=True)
        if free:
            return Found(first=self.size_order_l[free[0]])
        if before:  # none free in the plan: every unit free before it is taken
            taken = self._smallest(i, d, units, NAMED_UNITS, "before")
            return Found(taken=[self.size_order_l[p] for p in taken], n_taken=before)
        return Found()  # it may use every unit that fits: none is forbidden

    def _look_at_every_unit(self, i: int, d: int, units: Candidates, passed: bool) -> Found:
        """`_look` for a household with pins or forbids, unit by unit over the whole set."""
        mask, lo, hi, _ = units
        L = self._nights(i, d)
        ok = self.before_s[d, lo:hi] >= L
        if mask is not None:
            ok &= mask[lo:hi]
        allowed = self._allowed_mask(i)[lo:hi]
        free = ok & allowed & self._after_ok(i, d, lo, hi, L)
        first = int(np.argmax(free)) + lo if free.any() else hi
        if passed and self.method is Method.GREEDY:
            p = self._first_passed(i, d, L, units._replace(hi=first))
            if p is not None:
                return Found(first=self.size_order_l[p], passed=True)
        if first < hi:
            return Found(first=self.size_order_l[first])
        taken = np.flatnonzero(ok & allowed) + lo
        if taken.size:
            named = self.size_order[taken[:NAMED_UNITS]].tolist()
            return Found(taken=named, n_taken=int(taken.size))
        forbidden = np.flatnonzero(ok & ~allowed)[:NAMED_UNITS] + lo
        return Found(forbidden=self.size_order[forbidden].tolist())

    def _first_passed(self, i: int, d: int, L: int, units: Candidates) -> int | None:
        """For greedy's plan, where household i starts on day d in a unit of the kind its
        support level does not suit: the position of the smallest of ``units`` (of the other
        kind) that it may use, free for its stay of L nights from d before the plan and held in
        it only by households behind i in greedy's queue, so free when its turn came.

        Such a unit has more beds than i's: its pool was open to i on day d at i's turn, and
        greedy, placing i on its first possible day, takes the smallest unit first and then the
        kind that suits, so the search starts there. A kept unit's first stay ending after d
        overlaps the stay and is behind i: a filter; the stays of what it keeps are then looked
        at in turn."""
        first_stay, first_rank = self._stays_from(d)
        mask, lo, hi, _ = units
        beds = self.inst.pools[int(self.pool[i])].capacity  # all its connecting rooms' beds
        lo = max(lo, bisect_right(self.capacity_l, beds))
        r = self.rank_l[i]
        allowed = self._allowed_mask(i)
        a, part = lo, 4 * FIRST_PART
        while a < hi:  # the smallest first, in growing parts
            b = min(a + part, hi)
            at = np.flatnonzero(first_rank[a:b] > r) + a
            ok = allowed[at] & (self.before_s[d, at] >= L) & (self.after_s[d, at] < L)
            if mask is not None:
                ok &= mask[at]
            at = at[ok]
            if at.size:
                passed = at[~self._held_ahead(d, L, r, at, first_stay[at])]
                if passed.size:
                    return int(passed[0])
            a, part = b, 4 * part
        return None

    def _held_ahead(self, d: int, L: int, r: int, at: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Whether the units at positions ``at`` are held over a stay of L nights from day d by
        a household of rank below r in greedy's queue, given each one's first stay ending after
        d (``x``); its stays are looked at in turn, until one starts after the stay."""
        end = np.minimum(d + L + self.turn, self.occupancy_s[d, at])
        held = np.zeros(at.size, dtype=bool)
        last = self.stays_at[at + 1]
        live = np.arange(at.size)
        while live.size:
            y = x[live]
            over = (self.stay_from[y] < end[live]) & (self.stay_to[y] > d)
            held[live[over & (self.stay_rank[y] < r)]] = True
            x[live] = y + 1
            live = live[(y + 1 < last[live]) & (self.stay_from[y] < end[live]) & ~held[live]]
        return held

    def _stays_from(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """Per position, its first stay (by start) that ends after day d and that stay's rank in
        greedy's queue (-1 for none); kept for the last day asked."""
        if self._stays_on[0] != d:
            n = len(self.capacity_l)
            later = np.flatnonzero(self.stay_to > d)
            pos = self.stay_pos[later]
            first = np.flatnonzero(np.diff(pos, prepend=-1))  # stays are by position
            stay, rank = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
            stay[pos[first]] = later[first]
            rank[pos[first]] = self.stay_rank[later[first]]
            self._stays_on = (d, stay, rank)
        return self._stays_on[1], self._stays_on[2]

    # --- what held each household back, day by day -----------------------------------------------

    def _days(self, i: int) -> Days:
        """What held household i back on each day from its release to its start (the horizon's
        end when it is not placed); worked out for every household at the first call."""
        if self._day_rows is None:
            self._day_rows = day_table(self)
            if len(self.capacity_l) > COUNT_DIRECTLY:  # many units: the taken ones, at once
                taken = np.array(self._day_rows[Days._fields.index("taken")])
                self._taken_ready = taken_table(self, taken)
        return Days._make([column[i] for column in self._day_rows])
