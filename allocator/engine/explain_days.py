"""What held each household back, day by day before its start, for `allocator.engine.explain`.

For each household that waited (placed after its release) or was not placed, and each day from
its release to its start (or the horizon's end): whether a unit it fits was free for its stay
from that day before the plan, one the planner allows it, one still free in the final plan, and
whether accompaniment and mediation capacity allow the stay (`Days`). A reason reads only the
first such day of each kind and how many there are, so the days are worked out for every
household at once, households x days in parts, and only that summary is kept.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from allocator.engine.instance import NEVER
from allocator.engine.occupancy import next_blocked_day

if TYPE_CHECKING:
    from allocator.engine.explain_free import FreeTime

NAMED_UNITS = 3  # units named in one claim, then "and k more units"
DAY_CHUNK = 1 << 19  # households x days worked on at once by `day_table`
TAKEN_LOOK = 16  # units looked at per household by `taken_table`


class Days(NamedTuple):
    """What held one household back on each day from its release ``lo`` to its start (or the
    horizon's end when it is not placed). Before the plan, on a possible start day, a unit with
    the beds and access it needs may be free for the stay ("anywhere"), and one the planner allows
    it ("allowed"); in the final plan an allowed unit may still be free for it ("after", its own
    stay not counted); accompaniment and mediation capacity may allow the stay ("room", every
    other household's stay counted). Days are day numbers, -1 for none."""

    lo: int
    anywhere: int  # the first day a unit is free anywhere
    allowed: bool  # an allowed unit is, some day
    planner: int  # the first day one is free anywhere and none allowed is
    n_planner: int  # ... on how many days
    taken: int  # the first day an allowed unit is, within capacity, and none after the plan
    full: int  # the first day an allowed unit is, beyond capacity
    n_full: int  # ... on how many days
    full_support: bool  # ... some day beyond accompaniment capacity
    full_mediation: bool  # ... some day within it, beyond mediation capacity
    room: bool  # an allowed unit is free some day within capacity
    after: bool  # an allowed unit is free in the final plan some day
    choice: int  # the first day that is so within capacity


_DAY_FIELDS = ("anywhere", "planner", "taken", "full", "choice")  # days, -1 for none


def day_table(free: FreeTime) -> list[list]:
    """`Days` of every household, as one list per field (a household's `Days` is made when
    asked for: a hundred thousand tuples kept alive cost the garbage collector more than making
    them). Worked out households x days in parts; only households that waited (placed after
    their release) or were not placed have any such day."""
    inst = free.inst
    H, N = inst.horizon, inst.n_households
    lo = np.minimum(inst.release, H)
    hi = np.where(free.pool >= 0, free.start, H)
    out = {name: np.full(N, -1 if name in _DAY_FIELDS else 0) for name in Days._fields}
    out["lo"] = lo
    best = {which: best_of_kinds(free, which) for which in ("broad", "fit")}
    waited = np.flatnonzero(lo < hi)
    step = max(1, DAY_CHUNK // max(H, 1))
    for a in range(0, waited.size, step):
        part = waited[a : a + step]
        for name, values in _day_part(free, part, lo[part], hi[part], best).items():
            out[name][part] = values
    return [out[name].tolist() for name in Days._fields]


def best_of_kinds(free: FreeTime, which: str) -> dict[str, np.ndarray]:
    """Per kind of household (fit or broad), per day, the longest stay any unit it may use
    can take, before the plan and ("fit") in it."""
    if which not in free._best_cache:
        kinds = free.fit_kinds if which == "fit" else free.broad_kinds
        arrays = [free.before_s, free.after_s] if which == "fit" else [free.before_s]
        H = free.inst.horizon
        best = [np.empty((len(kinds), H), dtype=np.int32) for _ in arrays]
        for k, row in enumerate(kinds):
            units = free._in_pools(row)
            for arr, out in zip(arrays, best, strict=True):
                out[k] = _longest_in(free, arr, units)
        after = best[1] if which == "fit" else np.empty((0, H), dtype=np.int32)
        free._best_cache[which] = {"before": best[0], "after": after}
    return free._best_cache[which]


def _longest_in(free: FreeTime, longest: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Per day, the most of ``longest`` (before_s or after_s) over the positions ``units``
    marks, -1 if none. A household's units are often every unit in a pool from some
    capacity on (step-free ones only, or all): those are read from per-capacity maxima."""
    at = np.flatnonzero(units)
    if at.size:
        g = bisect_right(free.group_at, int(at[0])) - 1
        pooled = (free.pool_s >= 0) & (np.arange(units.size) >= free.group_at[g])
        for step_free in (False, True):
            if np.array_equal(units, pooled & free.access_s if step_free else pooled):
                tops = _group_tops(free, longest)
                return tops[g, 1] if step_free else np.maximum(tops[g, 0], tops[g, 1])
    return longest.max(axis=1, where=units[None, :], initial=-1)


def _group_tops(free: FreeTime, longest: np.ndarray) -> np.ndarray:
    """``[g, a, d]``: the most of ``longest`` on day d over the pooled units of capacity
    groups g and above, step-free (a = 1) or not (a = 0); -1 for none."""
    name = "before" if longest is free.before_s else "after"
    if name not in free._tops:
        G, H = len(free.group_at) - 1, free.inst.horizon
        tops = np.full((G + 1, 2, H), -1, dtype=np.int32)
        pooled = free.pool_s >= 0
        for g in range(G - 1, -1, -1):
            a, b = free.group_at[g], free.group_at[g + 1]
            for step_free in (0, 1):
                on = pooled[a:b] & (free.access_s[a:b] == bool(step_free))
                top = longest[:, a:b].max(axis=1, where=on[None, :], initial=-1)
                tops[g, step_free] = np.maximum(top, tops[g + 1, step_free])
        free._tops[name] = tops
    return free._tops[name]


def _day_part(free: FreeTime, part, lo, hi, best) -> dict[str, np.ndarray]:
    """`day_table` for some households: rows of flags over days, then each row's summary."""
    inst = free.inst
    days = free.days[None, :]
    span = (days >= lo[:, None]) & (days < hi[:, None])
    if inst.exit_dated[part].any():  # nights left from each day: none from the exit on
        L = inst.stay_length(part[:, None], days)
        span &= L >= 1
    else:
        L = inst.stay_days[part][:, None]
    anywhere = (best["broad"]["before"][free.broad_kind_of[part]] >= L) & span
    fit = free.fit_kind_of[part]
    allowed = (best["fit"]["before"][fit] >= L) & span
    after = (best["fit"]["after"][fit] >= L) & span
    # its own unit, free for the stay without its own stay: only where it was before the plan
    placed = free.pool[part] >= 0
    if placed.any():
        mine = np.flatnonzero(placed)
        own = free.size_pos[free.unit[part[mine]]]
        maybe = _any((free.before_s[:, own].T >= L[mine]) & span[mine] & ~after[mine])
        if maybe.any():
            mine = mine[maybe]
            after[mine] |= (own_rows(free, part[mine]) >= L[mine]) & span[mine]
    planner = anywhere & ~allowed
    out = {
        "anywhere": _first(anywhere),
        "allowed": _any(allowed),
        "planner": _first(planner),
        "n_planner": np.count_nonzero(planner, axis=1),
        "after": _any(allowed & after),
    }
    support, mediation = _capacity_rows(free, part, L)
    if support is None and mediation is None:  # no cap: capacity allows every start
        none, no = np.full(part.size, -1), np.zeros(part.size, dtype=bool)
        out.update(taken=_first(allowed & ~after), full=none, n_full=no, room=out["allowed"])
        out.update(full_support=no, full_mediation=no, choice=_first(after))
        return out
    support = np.ones_like(span) if support is None else support
    mediation = np.ones_like(span) if mediation is None else mediation
    room = support & mediation
    full = allowed & ~room
    out.update(
        taken=_first(allowed & room & ~after),
        full=_first(full),
        n_full=np.count_nonzero(full, axis=1),
        full_support=_any(full & ~support),
        full_mediation=_any(full & support & ~mediation),
        room=_any(allowed & room),
        choice=_first(after & room),
    )
    return out


def _capacity_rows(free: FreeTime, part, L) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Households x days: whether accompaniment and mediation capacity allow each one to
    start on each day, every other household's stay counted (as `Occupancy.valid_starts`);
    None where no cap applies to any of them."""
    inst = free.inst
    H = inst.horizon
    language = inst.language[part]
    capped = [j for j in inst.mediation_free if j in free.mediation_used]
    if inst.support_free is None and not np.isin(language, capped).any():
        return None, None
    days = free.days[None, :]
    placed = free.pool[part] >= 0
    t = np.where(placed, free.start[part], H)
    L_t = inst.stay_length(part, np.minimum(t, H - 1))
    mine = placed[:, None] & (days >= t[:, None]) & (days < (t + L_t)[:, None])
    reach = np.minimum(days + L, H)
    support = None
    if inst.support_free is not None:
        load = inst.load[part][:, None]
        left = inst.support_free - free.support_used + np.where(mine, load, 0)
        support = next_blocked_day(left >= load) >= reach
    mediation = np.ones((part.size, H), dtype=bool)
    for j in capped:
        rows = np.flatnonzero(language == j)
        if rows.size:
            left = inst.mediation_free[j] - free.mediation_used[j] + mine[rows]
            mediation[rows] = next_blocked_day(left >= 1) >= reach[rows]
    return support, mediation


def own_rows(
    free: FreeTime, households: np.ndarray, positions: np.ndarray | None = None
) -> np.ndarray:
    """For placed households, by day: the longest stay their own unit (or the unit at each of
    ``positions`` in size order: a connecting room) can take in the final plan with their own
    stays taken out (`_own_after` on every day)."""
    p = free.size_pos[free.unit[households]] if positions is None else positions
    first, last = free.stays_at[p], free.stays_at[p + 1]
    n = last - first
    row = np.repeat(np.arange(households.size), n)
    stay = np.repeat(first - np.cumsum(n) + n, n) + np.arange(int(n.sum()))
    other = free.stay_of[stay] != households[row]
    row, stay = row[other], stay[other]
    H = free.inst.horizon
    covered = interval_days(
        free.stay_from[stay],
        np.maximum(free.stay_to[stay], free.stay_from[stay]),
        row,
        households.size,
        H,
    )
    return longest(free, covered, free.before_s[:, p], free.occupancy_s[:, p]).T


def longest(free: FreeTime, covered: np.ndarray, before: np.ndarray, occupancy: np.ndarray):
    """`Occupancy._longest_stays` for single units (columns; days down the rows, from the
    plan's start): the next day held by a new stay ends what fits, unless the occupancy is
    not counted that far."""
    H = before.shape[0]
    days = free.days.astype(np.int32)[:, None]
    next_held = np.minimum.accumulate(np.where(covered == 0, H, days)[::-1], axis=0)[::-1]
    by_stays = np.where(next_held >= occupancy, NEVER, next_held - days - free.turn)
    return np.minimum(before, by_stays).astype(np.int32)


def interval_days(begin, end, columns, width: int, n_days: int) -> np.ndarray:
    """Days x ``width``: how many of the intervals [begin, end) in each column cover each day."""
    n_days = max(n_days, int(np.max(end, initial=0)))
    cells = (n_days + 1) * width
    delta = np.bincount(begin * width + columns, minlength=cells)
    delta -= np.bincount(end * width + columns, minlength=cells)
    return np.cumsum(delta.reshape(n_days + 1, width)[:n_days], axis=0, dtype=np.int32)


def _first(flags: np.ndarray) -> np.ndarray:
    """Each row's first True column, -1 where none."""
    at = flags.argmax(axis=1)
    return np.where(np.take_along_axis(flags, at[:, None], axis=1)[:, 0], at, -1)


def _any(flags: np.ndarray) -> np.ndarray:
    """Whether each row has a True column (argmax is quicker on booleans than any)."""
    return _first(flags) >= 0


class Taken(NamedTuple):
    """`taken_table`: household i's row is ``row_of[i]`` (-1: not worked out); on that row, its
    day, the first ``found`` of ``units`` and how many there are. Kept as a few lists and an array: tens
    of thousands of small lists kept alive would cost the garbage collector more."""

    row_of: list[int]
    day: list[int]
    units: np.ndarray
    found: list[int]
    n_taken: list[int]

    def get(self, i: int, d: int) -> tuple[list[int], int] | None:
        """Household i's first taken units and their number on day d, if worked out."""
        r = self.row_of[i] if self.row_of else -1
        if r < 0 or self.day[r] != d:
            return None
        return self.units[r, : self.found[r]].tolist(), self.n_taken[r]


def taken_table(free: FreeTime, taken: np.ndarray) -> Taken:
    """`FreeTime._taken_units` of each household on its day in ``taken`` (-1 for none), for
    all at once: its first `NAMED_UNITS` taken units and how many there are.

    A waiting household's reason names the smallest units free for its stay before the plan and
    held by others in it; where units are busy they are among the first few it may use, so the
    first `TAKEN_LOOK` of those are read for every household together, and the counts from
    `FreeTime._counts`. Households the planner's pins or forbids concern (`FreeTime._plain`),
    and those whose units are not all found there, are left out: `_taken_units` looks for them.
    """
    inst = free.inst
    rows = np.flatnonzero(taken >= 0)
    rows = rows[[free._plain(i) for i in rows.tolist()]]
    if not rows.size:
        return NO_TAKEN
    d = taken[rows]
    L = inst.stay_length(rows, d)
    present, kinds = np.unique(free.fit_kind_of[rows], return_inverse=True)
    one = dict(zip(free.fit_kind_of[rows].tolist()[::-1], rows.tolist()[::-1], strict=True))
    spans = np.array([free._allowed_units(one[k])[1:3] for k in present.tolist()])
    allowed = np.stack([free.allowed_s[k] for k in present.tolist()])
    lo, hi = spans[kinds, 0], spans[kinds, 1]
    at = lo[:, None] + np.arange(TAKEN_LOOK)[None, :]
    inside = at < hi[:, None]
    at = np.minimum(at, len(free.capacity_l) - 1)
    day, nights = d[:, None], L[:, None]
    ok = inside & allowed[kinds[:, None], at] & (free.before_s[day, at] >= nights)
    after = free.after_s[day, at] >= nights
    own = np.where(free.pool[rows] >= 0, free.size_pos[np.maximum(free.unit[rows], 0)], -1)
    for r, c in zip(*np.nonzero(ok & (at == own[:, None])), strict=True):  # its own stay aside
        after[r, c] = free._own_after(int(rows[r]), int(d[r])) >= L[r]
    hit = ok & ~after
    found = np.minimum(np.count_nonzero(hit, axis=1), NAMED_UNITS)
    done = (found == NAMED_UNITS) | ~inside[:, -1]
    first = np.take_along_axis(at, np.argsort(~hit, axis=1, kind="stable"), axis=1)
    units = free.size_order[first[:, :NAMED_UNITS]]
    # how many: free before the plan, not in it, among the units its size and access fit
    count = np.zeros(rows.size, dtype=np.int64)
    g0 = np.searchsorted(free.group_at, np.searchsorted(free.capacity_s, inst.size[rows]))
    G = len(free.group_at) - 1
    access = inst.needs_access[rows]
    for step_free in (False, True):
        sel = np.flatnonzero(access == step_free)
        if sel.size:
            b, a = free._counts((step_free, None))
            k = L[sel] + 1
            count[sel] = (b[G, d[sel], k] - b[g0[sel], d[sel], k]) - (
                a[G, d[sel], k] - a[g0[sel], d[sel], k]
            )
    valid_own = own >= 0
    mine = np.flatnonzero(valid_own)
    own_ok = allowed[kinds[mine], own[mine]]
    own_ok &= free.before_s[d[mine], own[mine]] >= L[mine]
    own_ok &= free.after_s[d[mine], own[mine]] < L[mine]
    for r in mine[own_ok].tolist():  # its own unit, held by its own stay only
        count[r] -= int(free._own_after(int(rows[r]), int(d[r])) >= L[r])
    row_of = np.full(inst.n_households, -1, dtype=np.int64)
    row_of[rows[done]] = np.flatnonzero(done)
    return Taken(row_of.tolist(), d.tolist(), units, found.tolist(), count.tolist())


NO_TAKEN = Taken([], [], np.zeros((0, NAMED_UNITS), dtype=np.int64), [], [])
