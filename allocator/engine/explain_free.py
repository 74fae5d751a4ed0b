"""What the final plan leaves free, unit by unit and day by day, for `allocator.engine.explain`.

A unit is *free for a stay* from day d when the stay fits its availability window and [d,
departure + turnover), cut where the unit leaves the programme, misses its current stays ("before
the plan") and, in the final plan, every other household's stay too. Units are looked at in size
order (capacity, then table order): the arrays over units here are indexed by *position* in that
order, so that a set of candidate units is a range of positions (with a mask) and its smallest
units come first without sorting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.domain import UnitKind
from allocator.engine.columns import distinct_rows, fitting
from allocator.engine.greedy import fcfs_order
from allocator.engine.instance import NEVER, Instance
from allocator.engine.occupancy import Occupancy, next_blocked_day
from allocator.engine.result import Method

# a set of candidate units: those at positions [lo, hi) in size order, of them only those a mask
# over all positions marks when it is given: (mask, lo, hi)
Candidates = tuple[np.ndarray | None, int, int]
CHUNK = 4096  # units looked at together when only the smallest is wanted


@dataclass
class Days:
    """One household's possible start days [lo, hi), each flag an array over those days."""

    lo: int
    # before the plan, a unit with the beds and access it needs is free for the stay
    anywhere: np.ndarray
    allowed: np.ndarray  # ... one the planner allows it (pins, forbids)
    after: np.ndarray  # an allowed unit is still free for the stay in the final plan
    support: np.ndarray  # accompaniment capacity allows the stay (others' stays counted)
    mediation: np.ndarray  # mediation capacity allows it

    def first(self, flags: np.ndarray) -> int:
        return self.lo + int(np.argmax(flags))


class FreeTime:
    """What the final plan leaves free, unit by unit and day by day, and who holds what.

    ``before[u, d]`` and ``after[u, d]`` are the longest stay unit u can take from day d before the
    plan (current stays, windows) and in the final plan (every placed household counted): a stay
    of L nights is free there exactly when L <= that number, as `Occupancy` works it out per pool.
    ``before_s[d, p]`` and ``after_s[d, p]`` are the same by day, for the unit at position p in
    size order (``size_order[p]``).
    """

    def __init__(
        self, inst: Instance, pool: np.ndarray, start: np.ndarray, unit: np.ndarray, method: Method
    ) -> None:
        self.inst, self.pool, self.start, self.unit, self.method = inst, pool, start, unit, method
        H = inst.horizon
        self.turn = inst.policy.turnover_days
        self.days = np.arange(H)
        n_units = len(inst.unit_ids)
        self.before = np.full((n_units, H), -1, dtype=np.int64)
        self.occupancy_cap = np.zeros((n_units, H), dtype=np.int64)
        for q in inst.pools:
            for u in q.units:
                for g0, g1 in q.gaps[u]:
                    inside = slice(max(g0, 0), min(g1, H))
                    self.before[u, inside] = q.departure_limit[inside] - self.days[inside]
                self.occupancy_cap[u] = np.minimum(q.occupancy_limit, H)
        placed = np.flatnonzero(pool >= 0)
        placed = placed[np.lexsort((start[placed], unit[placed]))]  # by unit, then start
        u_of, s = unit[placed], start[placed]
        e = np.minimum(s + inst.stay_days[placed] + self.turn, self.occupancy_cap[u_of, s])
        self.stay_end = np.full(inst.n_households, -1, dtype=np.int64)
        self.stay_end[placed] = e
        delta = np.zeros((n_units, H + 1), dtype=np.int64)
        np.add.at(delta, (u_of, s), 1)
        np.add.at(delta, (u_of, np.maximum(e, s)), -1)
        self.covered = np.cumsum(delta[:, :H], axis=1)  # new stays holding each unit each day
        self.after = self._longest(self.covered, slice(None))
        self.stay_of, self.stay_unit, self.stay_from, self.stay_to = placed, u_of, s, e
        self.stays_from = np.searchsorted(u_of, np.arange(n_units + 1))  # u: [from[u], from[u+1])
        final = Occupancy(inst)
        final.add_all(placed, pool[placed], start[placed])
        self.support_used, self.mediation_used = final.support_used, final.mediation_used
        # households x pools: allowed (size, access, pins, forbids), and by size and access only
        pools = np.arange(len(inst.pools))
        self.fit = fitting(inst, pools)
        cap = np.array([q.capacity for q in inst.pools], dtype=np.int64)
        access = np.array([q.accessible for q in inst.pools], dtype=bool)
        self.broad = (inst.size[:, None] <= cap) & (access | ~inst.needs_access[:, None])
        self.fit_kinds, self.fit_kind_of = distinct_rows(self.fit)
        self.broad_kinds, self.broad_kind_of = distinct_rows(self.broad)
        self._best: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
        has = inst.unit_pool >= 0
        self.units_with_pool = np.flatnonzero(has)
        units_in = np.bincount(inst.unit_pool[has], minlength=len(inst.pools))
        self.n_fitting_units = self.fit.astype(np.int64) @ units_in  # units, not pools
        self.rank = np.empty(inst.n_households, dtype=np.int64)
        self.rank[fcfs_order(inst)] = np.arange(inst.n_households)
        self.stay_rank = self.rank[placed]  # greedy's queue rank of each stay's household
        self._allowed: dict[int, Candidates] = {}
        self.allowed_s: dict[int, np.ndarray] = {}  # fit class: mask over positions in size order
        self._sized: dict[tuple[bool, bool | None], np.ndarray | None] = {}
        self._free_counts: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self._own: tuple[int, np.ndarray] = (-1, self.days)
        # size order, and the by-day arrays in it
        self.size_order = np.lexsort((np.arange(n_units), inst.unit_capacity))
        self.size_pos = np.empty(n_units, dtype=np.int64)
        self.size_pos[self.size_order] = np.arange(n_units)
        self.capacity_s = inst.unit_capacity[self.size_order]
        self.access_s = inst.unit_access[self.size_order]
        is_flat = np.array([k is UnitKind.FLAT for k in inst.unit_kind], dtype=bool)
        self.flat_s = is_flat[self.size_order]
        self.before_s = self.before[self.size_order].T.copy()
        self.after_s = self.after[self.size_order].T.copy()

    def _longest(self, covered: np.ndarray, rows) -> np.ndarray:
        """`Occupancy._longest_stays` for single units: the next day held by a new stay ends
        what fits, unless the occupancy is not counted that far."""
        next_held = next_blocked_day(covered == 0)
        cap = self.occupancy_cap[rows]
        by_stays = np.where(next_held >= cap, NEVER, next_held - self.days - self.turn)
        return np.minimum(self.before[rows], by_stays)

    def _after_without(self, i: int) -> np.ndarray:
        """``after`` of household i's own unit with its own stay taken out (all days)."""
        if self._own[0] != i:
            u, t = int(self.unit[i]), int(self.start[i])
            row = self.covered[u].copy()
            row[t : self.stay_end[i]] -= 1
            self._own = (i, self._longest(row, u))
        return self._own[1]

    def _best_of(self, which: str, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Per day, the longest stay any unit household i may use can take, before and after the
        plan: ``which`` is "fit" (the planner's pins and forbids too) or "broad" (size and access
        only). Households that fit the same pools share the answer."""
        kinds, kind_of = (
            (self.fit_kinds, self.fit_kind_of)
            if which == "fit"
            else (self.broad_kinds, self.broad_kind_of)
        )
        k = int(kind_of[i])
        if (which, k) not in self._best:
            units = np.flatnonzero(kinds[k][self.inst.unit_pool[self.units_with_pool]])
            units = self.units_with_pool[units]
            none = np.full(self.inst.horizon, -1, dtype=np.int64)
            self._best[which, k] = (
                self.before[units].max(axis=0) if units.size else none,
                self.after[units].max(axis=0) if units.size and which == "fit" else none,
            )
        return self._best[which, k]

    def _allowed_units(self, i: int) -> Candidates:
        """Units household i may use (size, access, pins, forbids), and a mask over positions in
        size order that tells them (read-only: households that fit the same pools share it)."""
        k = int(self.fit_kind_of[i])
        if k not in self._allowed:
            mask = np.zeros(len(self.inst.unit_ids), dtype=bool)
            mask[self.units_with_pool] = self.fit_kinds[k][
                self.inst.unit_pool[self.units_with_pool]
            ]
            self.allowed_s[k] = mask = mask[self.size_order]
            at = np.flatnonzero(mask)
            span = (int(at[0]), int(at[-1]) + 1) if at.size else (0, 0)
            self._allowed[k] = (None, *span)
        return self._allowed[k]

    def _allowed_mask(self, i: int) -> np.ndarray:
        self._allowed_units(i)
        return self.allowed_s[int(self.fit_kind_of[i])]

    def _sized_units(
        self, i: int, flat: bool | None = None, below: int | None = None
    ) -> Candidates:
        """The units that fit household i's size and access needs, busy or not, allowed or not;
        of one kind only (flats or not) and with fewer than ``below`` beds when given."""
        inst = self.inst
        key = (bool(inst.needs_access[i]), flat)
        if key not in self._sized:
            mask = self.access_s.copy() if key[0] else np.ones_like(self.access_s)
            if flat is not None:
                mask &= self.flat_s == flat
            self._sized[key] = None if mask.all() else mask
        lo = int(np.searchsorted(self.capacity_s, inst.size[i]))  # capacity_s is sorted
        hi = self.capacity_s.size if below is None else int(np.searchsorted(self.capacity_s, below))
        return self._sized[key], lo, max(lo, hi)

    def _after_ok(self, i: int, d: int, lo: int, hi: int) -> np.ndarray:
        """Whether the units at positions [lo, hi) are free for household i's stay from day d in
        the final plan, its own stay not counted."""
        L = int(self.inst.stay_days[i])
        after_ok = self.after_s[d, lo:hi] >= L
        if self.pool[i] >= 0:
            own = int(self.size_pos[self.unit[i]]) - lo
            if 0 <= own < hi - lo:
                after_ok[own] = self._after_without(i)[d] >= L
        return after_ok

    def _first_free(self, i: int, d: int) -> int | None:
        """The smallest unit household i may use that is free for its stay from day d in the
        final plan (its own stay not counted; free then means free before the plan too)."""
        _, lo, hi = self._allowed_units(i)
        allowed = self._allowed_mask(i)
        for a in range(lo, hi, CHUNK):  # the smallest first, in parts
            b = min(a + CHUNK, hi)
            free = allowed[a:b] & self._after_ok(i, d, a, b)
            if free.any():
                return int(self.size_order[a + int(np.argmax(free))])
        return None

    def _taken_units(self, i: int, d: int, first: int) -> tuple[np.ndarray, int]:
        """The units household i may use that are free for its stay from day d before the plan
        and held by others in it: the ``first`` smallest, and how many there are."""
        _, lo, hi = self._allowed_units(i)
        L = int(self.inst.stay_days[i])
        allowed = self._allowed_mask(i)
        found: list[np.ndarray] = []
        a, n = lo, 0
        while a < hi and n < first:  # the smallest first, in growing parts
            b = min(a + max(64, 4 * (a - lo)), hi)
            taken = allowed[a:b] & (self.before_s[d, a:b] >= L) & ~self._after_ok(i, d, a, b)
            found.append(np.flatnonzero(taken)[: first - n] + a)
            n += found[-1].size
            a = b
        units = self.size_order[np.concatenate(found)] if found else np.zeros(0, dtype=np.int64)
        # how many: free for the stay before the plan and not in it (after <= before)
        k = int(self.fit_kind_of[i])
        if (k, d) not in self._free_counts:
            on = np.flatnonzero(allowed[lo:hi]) + lo
            top = int(self.inst.stay_days.max()) + 1

            def at_least(longest: np.ndarray) -> np.ndarray:
                count = np.bincount(np.clip(longest[on] + 1, 0, top + 1), minlength=top + 2)
                return np.cumsum(count[::-1])[::-1]  # [L + 1]: units taking a stay of L nights

            self._free_counts[k, d] = (at_least(self.before_s[d]), at_least(self.after_s[d]))
        before, after = self._free_counts[k, d]
        count = int(before[L + 1] - after[L + 1])
        if self.pool[i] >= 0:  # its own unit, held by its own stay only
            own = int(self.size_pos[self.unit[i]])
            if allowed[own] and self.before_s[d, own] >= L > self.after_s[d, own]:
                count -= int(self._after_without(i)[d] >= L)
        return units, count

    @staticmethod
    def _positions(units: Candidates) -> np.ndarray:
        """The positions of a set of candidate units, in size order."""
        mask, lo, hi = units
        if mask is None:
            return np.arange(lo, hi)
        return np.flatnonzero(mask[lo:hi]) + lo

    def _capacity(self, i: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Whether accompaniment and mediation capacity allow household i to start on each day
        of [lo, hi), every other household's stay counted (as `Occupancy.valid_starts`)."""
        inst = self.inst
        L, j = int(inst.stay_days[i]), int(inst.language[i])
        reach = np.minimum(self.days[lo:hi] + L, inst.horizon)
        own = slice(int(self.start[i]), int(self.start[i]) + L) if self.pool[i] >= 0 else None

        def allows(free: np.ndarray | None, used: np.ndarray | None, need: int) -> np.ndarray:
            if free is None or used is None:
                return np.ones(hi - lo, dtype=bool)
            used = used.copy()
            if own is not None:
                used[own] -= need
            return next_blocked_day(free - used >= need)[lo:hi] >= reach

        support = allows(inst.support_free, self.support_used, int(inst.load[i]))
        mediation = allows(inst.mediation_free.get(j), self.mediation_used.get(j), 1)
        return support, mediation

    def _start_days(self, i: int, hi: int) -> Days:
        """What held household i back on each day from its release to ``hi``."""
        lo, L = int(self.inst.release[i]), int(self.inst.stay_days[i])
        anywhere = self._best_of("broad", i)[0][lo:hi] >= L
        before, after = self._best_of("fit", i)
        after = after[lo:hi]
        if self.pool[i] >= 0:
            after = np.maximum(after, self._after_without(i)[lo:hi])
        support, mediation = self._capacity(i, lo, hi)
        return Days(lo, anywhere, before[lo:hi] >= L, after >= L, support, mediation)

    def _overlapping(self, i: int, d: int, stays: np.ndarray) -> np.ndarray:
        """Which placed stays of ``stays`` (indices into ``stay_of``) overlap household i's stay
        from day d, were it in their unit; i's own stay aside."""
        u = self.stay_unit[stays]
        end = np.minimum(d + self.inst.stay_days[i] + self.turn, self.occupancy_cap[u, d])
        hit = (self.stay_from[stays] < end) & (self.stay_to[stays] > d)
        return stays[hit & (self.stay_of[stays] != i)]

    def _stays_in(self, units: np.ndarray) -> np.ndarray:
        """The placed stays (indices into ``stay_of``) in the given units."""
        if units.size <= 4:
            ranges = [np.arange(self.stays_from[u], self.stays_from[u + 1]) for u in units.tolist()]
            return np.concatenate(ranges) if ranges else np.zeros(0, dtype=np.int64)
        lo, hi = self.stays_from[units], self.stays_from[units + 1]
        n = hi - lo
        if not n.sum():
            return np.zeros(0, dtype=np.int64)
        # each unit's range [lo, hi) in turn
        offsets = np.repeat(lo - np.cumsum(n) + n, n)
        return offsets + np.arange(int(n.sum()))

    def _held_ahead(self, i: int, d: int, units: np.ndarray) -> np.ndarray:
        """Which of the units (ids) are held over household i's stay from day d by a household
        ahead of i in greedy's queue."""
        stays = self._stays_in(units)
        stays = stays[self.stay_rank[stays] < self.rank[i]]
        held = np.zeros(len(self.inst.unit_ids), dtype=bool)
        held[self.stay_unit[self._overlapping(i, d, stays)]] = True
        return held[units]
