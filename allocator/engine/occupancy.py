"""Day-by-day use of pools, accompaniment and mediation as stays are added one at a time.

Greedy builds its plan with it, the explanations ask it what still fits once a plan is made, and
both ask the same question: on which first day can this household start in each of these pools?
Greedy asks it once per household, one after another, so the answer is kept to a few numpy calls:
each pool's longest possible stay from each day is kept up to date as stays are added
(`Occupancy.longest`), and a start is valid where the stay is no longer than that. The
explanations ask it of every household at once (`Occupancy.first_starts`).

An exit-dated household's stay shortens as its start moves later (`Instance.stay_length`): its
length is then one number per day rather than one in all, compared day by day the same way, and
a day from which no night is left before the exit is never valid.
"""

from __future__ import annotations

import numpy as np

from allocator.engine import rooms
from allocator.engine.columns import distinct_rows
from allocator.engine.instance import NEVER, Instance

CHUNK = 1 << 21  # array elements worked on at once by the batch questions: about 16 MB


def next_blocked_day(ok: np.ndarray, days: np.ndarray | None = None) -> np.ndarray:
    """For each day (last axis), the first day from it on where ``ok`` is False (length if none).
    ``days``: ``np.arange`` of the last axis's length, when the caller keeps one."""
    n = ok.shape[-1]
    blocked = np.where(ok, n, np.arange(n) if days is None else days)  # broadcasts over the rest
    return np.minimum.accumulate(blocked[..., ::-1], axis=-1)[..., ::-1]


def _interval_counts(n_rows: int, width: int, rows, begin, end, weight) -> np.ndarray:
    """Rows x days: the sum of ``weight`` over the intervals [begin, end) that cover each day.

    A difference array and one cumulative sum, so a whole plan is loaded at once; an interval
    with ``end <= begin`` adds nothing, as an empty slice would.
    """
    end = np.maximum(end, begin)
    delta = np.zeros((n_rows, width + 1), dtype=np.int64)
    np.add.at(delta, (rows, begin), weight)
    np.add.at(delta, (rows, end), -weight)
    return np.cumsum(delta[:, :width], axis=1)


def _day_counts(width: int, begin, end, weight) -> np.ndarray:
    """`_interval_counts` for one row of days."""
    return _interval_counts(1, width, np.zeros_like(begin), begin, end, weight)[0]


class Occupancy:
    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        H = inst.horizon
        self.days = np.arange(H)
        shape = (len(inst.pools), H)  # integers even with no pool at all: they index days
        self.free = np.array([p.free for p in inst.pools], dtype=np.int64).reshape(shape)
        self.departure_limit = np.array(
            [p.departure_limit for p in inst.pools], dtype=np.int64
        ).reshape(shape)
        self.occupancy_limit = np.array(
            [p.occupancy_limit for p in inst.pools], dtype=np.int64
        ).reshape(shape)
        # a stay's occupancy ends at its pool's limit or at the horizon, whichever comes first
        self.occupancy_cap = np.minimum(self.occupancy_limit, H)
        self.departure_room = self.departure_limit - self.days
        # a stay of L nights from day d occupies its unit to d + L + turnover
        self._days_turn = self.days + inst.policy.turnover_days
        self.room = self.free.copy()  # units still free per pool and day
        # connecting rooms (`engine.rooms`): per pool, the physical pools a stay in it takes
        # units of, and per physical pool the combinations that take its units; None without
        self._parts: list[tuple[tuple[int, int], ...]] | None = None
        self._users: dict[int, list[int]] = {}
        if inst.has_combinations:
            self._parts = [q.parts or ((p, 1),) for p, q in enumerate(inst.pools)]
            for c, q in enumerate(inst.pools):
                for part, _ in q.parts:
                    self._users.setdefault(part, []).append(c)
        self.next_full = next_blocked_day(self.room > 0)
        self.longest = self._longest_stays(self.next_full, slice(None))
        self.support_used = np.zeros(H, dtype=np.int64)
        self.mediation_used = {j: np.zeros(H, dtype=np.int64) for j in inst.mediation_free}
        # per household, as Python ints: greedy reads them for every household and every
        # stay it adds, and a list is quicker to read one item from than an array
        self._release = inst.release.tolist()
        self._stay_days = inst.stay_days.tolist()
        self._exit_dated = inst.exit_dated.tolist()
        self._exit_day = inst.exit_day.tolist()
        self._max_stay = inst.policy.max_stay_days
        self._language = inst.language.tolist()

    def _longest_stays(self, next_full: np.ndarray, rows) -> np.ndarray:
        """The longest stay each pool (of ``rows``) can take starting on each day.

        A stay of L nights fits from day d when its occupancy (L + turnover, cut at the pool's
        occupancy limit) ends by the pool's next full day, and it departs by the pool's
        departure limit: that is L <= this number. Kept up to date as stays are added, it turns
        every question about a start into one comparison.
        """
        by_occupancy = np.where(
            next_full >= self.occupancy_cap[rows], NEVER, next_full - self._days_turn
        )
        return np.minimum(by_occupancy, self.departure_room[rows])

    def add(self, i: int, p: int, t: int) -> None:
        """Count household i's stay in pool p from day t."""
        inst = self.inst
        H = inst.horizon
        L = self._stay_days[i]
        if self._exit_dated[i]:
            L = min(self._exit_day[i] - t, self._max_stay)
        occ_end = min(t + L + inst.policy.turnover_days, int(self.occupancy_cap[p, t]))
        if self._parts is not None and (self._parts[p] != ((p, 1),) or p in self._users):
            self._take_rooms(p, t, occ_end)
        else:  # one unit of this pool alone: no combination shares it
            room = self.room[p, t:occ_end]
            room -= 1
            # the pool's free runs only change where this stay took a day's last free unit
            if room.size and np.minimum.reduce(room) <= 0:
                self.next_full[p] = next_blocked_day(self.room[p] > 0, self.days)
                self.longest[p] = self._longest_stays(self.next_full[p], p)
        stay = slice(t, min(t + L, H))
        if inst.support_free is not None:
            self.support_used[stay] += inst.load[i]
        j = self._language[i]
        if j in self.mediation_used:
            self.mediation_used[j][stay] += 1

    def _take_rooms(self, p: int, t: int, occ_end: int) -> None:
        """Take a stay's units from every physical pool it occupies, then count again the sets
        each combination that shares those pools can still make."""
        assert self._parts is not None
        touched = [part for part, _ in self._parts[p]]
        for part, k in self._parts[p]:
            self.room[part, t:occ_end] -= k
        changed = set(touched) | {c for part in touched for c in self._users.get(part, ())}
        self._refresh(sorted(changed))

    def _refresh(self, rows: list[int]) -> None:
        """A combination's free sets from its parts' free units, and the longest stays of
        ``rows`` again."""
        assert self._parts is not None
        for c in rows:
            if self.inst.pools[c].parts:
                self.room[c] = np.min([self.room[part] // k for part, k in self._parts[c]], axis=0)
        if rows:
            self.next_full[rows] = next_blocked_day(self.room[rows] > 0)
            self.longest[rows] = self._longest_stays(self.next_full[rows], rows)

    def add_all(self, households: np.ndarray, pools: np.ndarray, starts: np.ndarray) -> None:
        """`add` for each (household, pool, start) at once: the explanations load a whole plan."""
        inst = self.inst
        H = inst.horizon
        L = inst.stay_length(households, starts)
        occ_end = np.minimum(
            starts + L + inst.policy.turnover_days, self.occupancy_cap[pools, starts]
        )
        if self._parts is None:
            self.room -= _interval_counts(len(self.room), H, pools, starts, occ_end, 1)
        else:  # each stay takes units of every pool it occupies
            where, count = rooms.footprint(inst.pools)
            for j in range(where.shape[1]):
                taken = _interval_counts(
                    len(self.room), H, where[pools, j], starts, occ_end, count[pools, j]
                )
                self.room -= taken
            self._refresh([c for c, q in enumerate(inst.pools) if q.parts])
        self.next_full = next_blocked_day(self.room > 0)
        self.longest = self._longest_stays(self.next_full, slice(None))
        stay_end = np.minimum(starts + L, H)
        self.support_used += _day_counts(H, starts, stay_end, inst.load[households])
        lang = inst.language[households]
        for j, used in self.mediation_used.items():
            mine = lang == j
            used += _day_counts(H, starts[mine], stay_end[mine], 1)

    def earliest_starts(self, i: int, pools: np.ndarray, **limits) -> np.ndarray:
        """First feasible start of household i in each pool, -1 where none lies in the horizon
        (``limits``: those of `valid_starts`)."""
        first, valid = self.valid_starts(i, pools, **limits)
        if valid.shape[1] == 0:
            return np.full(pools.size, -1, dtype=np.int64)
        return np.where(valid.any(axis=1), valid.argmax(axis=1) + first, -1)

    def valid_starts(
        self,
        i: int,
        pools: np.ndarray,
        *,
        support: bool = True,
        mediation: bool = True,
        not_before: int = 0,
    ) -> tuple[int, np.ndarray]:
        """Where household i may start: (first, pools x days from ``first`` on, True if valid).

        Days before the household's release (or ``not_before``) cannot be valid, so they are not
        looked at; ``first`` says where the columns begin (no columns when it is past the horizon).
        """
        inst = self.inst
        H = inst.horizon
        first = min(max(self._release[i], int(not_before)), H)
        days = self.days[first:]
        L: int | np.ndarray = self._stay_days[i]
        if self._exit_dated[i]:  # nights left from each day: none from the exit on
            L = np.minimum(self._exit_day[i] - days, self._max_stay)
            valid = (self.longest.take(pools, axis=0)[:, first:] >= L) & (L >= 1)
        else:
            valid = self.longest.take(pools, axis=0)[:, first:] >= L
        if first == H:
            return first, valid
        if support and inst.support_free is not None:
            ok = inst.support_free[first:] - self.support_used[first:] >= inst.load[i]
            valid &= next_blocked_day(ok) + first >= np.minimum(days + L, H)
        j = self._language[i]
        if mediation and j in self.mediation_used:
            ok = inst.mediation_free[j][first:] - self.mediation_used[j][first:] >= 1
            valid &= next_blocked_day(ok) + first >= np.minimum(days + L, H)
        return first, valid

    def first_starts(self, households: np.ndarray, fit: np.ndarray) -> np.ndarray:
        """Per household, its first start in any pool that ``fit`` (households x pools, all
        households) allows, counting units only, not support or mediation; -1 where none.

        The same answer as the least of ``earliest_starts(i, pools, support=False,
        mediation=False)``, for many households at once: the explanations ask it of every
        household. A stay of L nights can start on day d in some fitting pool exactly when the
        longest stay those pools can take from d is at least L, and households that fit the
        same pools share that day-by-day longest stay.
        """
        inst = self.inst
        households = np.asarray(households, dtype=np.int64)
        first = np.full(len(households), -1, dtype=np.int64)
        if len(households) == 0:
            return first
        kinds, kind_of = distinct_rows(fit[households])
        none = np.full(inst.horizon, -1, dtype=np.int64)  # no pool: no stay of >= 1 night fits
        longest = np.stack([self.longest[k].max(axis=0) if k.any() else none for k in kinds])
        per_part = max(1, CHUNK // max(1, inst.horizon))
        for lo in range(0, len(households), per_part):
            part = slice(lo, lo + per_part)
            i = households[part]
            dated = inst.exit_dated[i]
            if dated.any():  # per day where exit-dated: nights left from each day
                L = inst.stay_length(i[:, None], self.days[None, :])
                valid = (longest[kind_of[part]] >= L) & (L >= 1)
            else:
                valid = longest[kind_of[part]] >= inst.stay_days[i, None]
            valid &= self.days >= inst.release[i, None]
            first[part] = np.where(valid.any(axis=1), valid.argmax(axis=1), -1)
        return first
