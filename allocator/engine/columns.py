"""Candidate placements (household, pool, start day) and what each costs: the objective, once.

Both the optimiser and greedy choose among these candidates and are scored by `objective`, so the
two can be compared on equal terms. See `allocator.policy` for how the weights trade off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.domain import Support, UnitKind
from allocator.engine import announcements
from allocator.engine.districts import district_cost
from allocator.engine.instance import NEVER, Instance, Pool, unplaced_nights
from allocator.engine.memo import kept_on


@dataclass
class Columns:
    """One entry per candidate placement; all arrays have the same length."""

    household: np.ndarray
    pool: np.ndarray
    start: np.ndarray
    occupancy_end: np.ndarray  # first day the unit is free again for the next stay
    departure: np.ndarray  # start + the stay's nights: accompaniment and mediation end here
    cost: np.ndarray

    def __len__(self) -> int:
        return len(self.household)

    def take(self, idx: np.ndarray) -> Columns:
        return Columns(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))


def kind_mismatch(inst: Instance, pool_kind: UnitKind, support: Support) -> bool:
    """High support belongs in the hub (staff on site), low support in a flat (autonomy)."""
    return (support is Support.HIGH and pool_kind is UnitKind.FLAT) or (
        support is Support.LOW and pool_kind is UnitKind.HUB_ROOM
    )


def mismatch_table(inst: Instance) -> np.ndarray:
    """1.0 where a pool's kind does not suit a support level: pools x `support_codes`."""
    kinds = list(UnitKind)
    by_kind = np.array([[kind_mismatch(inst, k, s) for s in Support] for k in kinds], dtype=float)
    return by_kind[[kinds.index(q.kind) for q in inst.pools]].reshape(len(inst.pools), len(Support))


def support_codes(inst: Instance) -> np.ndarray:
    """Each household's support level as a column index of `mismatch_table`."""
    levels = list(Support)
    return np.array([levels.index(s) for s in inst.support], dtype=np.int64)


def fitting(inst: Instance, pools: np.ndarray) -> np.ndarray:
    """Households x ``pools``: True where the household may use the pool at all."""
    pools = np.asarray(pools, dtype=np.int64)
    cap = np.array([inst.pools[p].capacity for p in pools], dtype=np.int64)
    access = np.array([inst.pools[p].accessible for p in pools], dtype=bool)
    ok = (inst.size[:, None] <= cap) & (access | ~inst.needs_access[:, None])
    pinned = inst.pinned_pool[:, None]
    ok &= (pinned < 0) | (pinned == pools)
    together = np.array([inst.pools[p].is_combination for p in pools], dtype=bool)
    if together.any():  # connecting rooms: households the policy lets combine, no room spare
        spare = cap - np.array([inst.pools[p].smallest_part for p in pools], dtype=np.int64)
        ok[:, together] &= inst.may_combine[:, None] & (inst.size[:, None] > spare[together])
    if inst.forbidden:
        column = {int(p): k for k, p in enumerate(pools)}
        for i, p in inst.forbidden:
            if p in column:
                ok[i, column[p]] = False
    return ok


def fitting_all(inst: Instance) -> np.ndarray:
    """`fitting` of every pool, read-only: kept on the instance, keyed by what it reads (the
    columns and greedy's order both ask it)."""
    reads = (
        inst.pools,
        inst.household_ids,
        inst.size,
        inst.needs_access,
        inst.pinned_pool,
        inst.may_combine,
        inst.forbidden,
    )

    def make() -> np.ndarray:
        ok = fitting(inst, np.arange(len(inst.pools)))
        ok.setflags(write=False)
        return ok

    return kept_on(inst, "_fitting_all", reads, make, (len(inst.pools), len(inst.forbidden)))


def distinct_rows(ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a boolean matrix, in order of first appearance, and each row's index
    among them: households that fit the same pools are a few dozen kinds, not thousands."""
    packed = np.packbits(ok, axis=1)
    width = packed.shape[1]
    raw = packed.tobytes()
    seen: dict[bytes, int] = {}
    kind_of = np.array(
        [seen.setdefault(raw[k * width : (k + 1) * width], len(seen)) for k in range(len(ok))],
        dtype=np.int64,
    )
    _, firsts = np.unique(kind_of, return_index=True)  # kinds are numbered as they appear
    return ok[firsts], kind_of


def fitting_households(inst: Instance, p: int) -> np.ndarray:
    return np.flatnonzero(fitting(inst, np.array([p]))[:, 0])


def placement_cost(
    inst: Instance,
    household: np.ndarray,
    pool: np.ndarray,
    start: np.ndarray,
    nights: np.ndarray | None = None,
):
    """Objective contribution of placing each household in its pool on its start day.

    The wasted bed-nights count the stay's real nights from that start (`Instance.stay_length`;
    ``nights`` when the caller has them already): an exit-dated household placed later wastes
    fewer. A column that changes an announced placement costs `Policy.announcement_weight` more
    (`engine.announcements`). A household with an anchor district pays ``district_weight`` per
    district to the pool's (`engine.districts`).
    """
    household = np.asarray(household)
    pool = np.asarray(pool)
    if nights is None:
        nights = inst.stay_length(household, start)
    terms = _cost_terms(inst)
    if terms is None:  # a large instance: the terms column by column
        pol = inst.policy
        cap = np.array([q.capacity for q in inst.pools], dtype=np.int64)[pool]
        size = inst.size[household]
        mismatch = mismatch_table(inst).ravel()
        wait = inst.weight[household] * size * (start - inst.release[household])
        wasted = pol.wasted_bed_night_weight * (cap - size) * nights
        kind = (
            pol.kind_mismatch_weight
            * mismatch[pool * len(Support) + support_codes(inst)[household]]
        )
    else:  # the same products, looked up per (household, pool) and per household
        per_person_night, per_night, kind_term = terms
        cell = household * kind_term.shape[1] + pool
        wait = per_person_night[household] * (start - inst.release[household])
        wasted = per_night.take(cell) * nights
        kind = kind_term.take(cell)
    cost = wait + wasted + kind
    # the announcement and district terms are 0.0 when off: adding them would change nothing
    for extra in (
        announcements.change_cost(inst, household, pool, start),
        district_cost(inst, household, pool),
    ):
        if not (isinstance(extra, float) and extra == 0.0):
            cost = cost + extra
    return cost


# (household, pool) cells up to which `placement_cost` keeps its terms per cell
_COST_TABLE_CELLS = 1 << 18


def _cost_terms(inst: Instance) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Per household its urgency weight x size, and per (household, pool), flattened, the
    weight of a wasted bed-night x the beds left and the kind mismatch's weight or 0: the
    factors `placement_cost` would gather column by column, each the same product. Cached on
    the instance, keyed by its households' and pools' lists (the optimiser's slices of an
    instance get their own); None for an instance with too many cells (a city's batch)."""
    n, n_pools = inst.n_households, len(inst.pools)
    if n * n_pools > _COST_TABLE_CELLS:
        return None
    reads = (inst.household_ids, inst.pools, inst.policy, inst.size, inst.weight, inst.support)

    def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pol = inst.policy
        cap = np.array([q.capacity for q in inst.pools], dtype=np.int64)
        per_night = pol.wasted_bed_night_weight * (cap[None, :] - inst.size[:, None])
        kind_term = pol.kind_mismatch_weight * mismatch_table(inst)[:, support_codes(inst)].T
        return inst.weight * inst.size, per_night.reshape(-1), np.ascontiguousarray(kind_term)

    return kept_on(inst, "_cost_terms", reads, make, (n, n_pools))


def unplaced_cost(inst: Instance) -> np.ndarray:
    """Cost of leaving each household out: its hotel nights (`instance.unplaced_nights`), and
    the announcement weight for an announced household."""
    nights = unplaced_nights(inst)
    cost = inst.weight * inst.size * nights
    cost = np.where(inst.pinned_pool >= 0, cost * inst.policy.pin_weight, cost)
    return cost + announcements.unplaced_change_cost(inst)


def build_columns(inst: Instance) -> Columns:
    """Every start day on which each household fits each pool, ignoring the other households.

    A start is feasible when the stay from it has at least one night and departs by the pool's
    departure limit; an exit-dated household's stay shortens as the start moves later
    (`Instance.stay_length`), so its nights are worked out per start day. Columns come pool by
    pool, each pool's by household, then start (`pricing.column_finder` counts on that order).
    """
    H, N, P = inst.horizon, inst.n_households, len(inst.pools)
    empty = np.zeros(0, dtype=np.int64)
    if N == 0 or P == 0:
        return Columns(empty, empty, empty, empty, empty, np.zeros(0))
    days = np.arange(H)
    turn = inst.policy.turnover_days
    fit = fitting_all(inst)  # households x pools, in one pass
    dated = inst.exit_dated.any()
    # nights from each day: one column when nobody is exit-dated (a length from move-in)
    L = inst.stay_length(np.arange(N)[:, None], days[None, :]) if dated else inst.stay_days[:, None]
    # a pool where some fitting household is exit-dated also needs a night left
    night_left = (fit & inst.exit_dated[:, None]).any(axis=0)
    free = np.array([q.free for q in inst.pools]) > 0
    departure_limit = np.array([q.departure_limit for q in inst.pools])
    occupancy_limit = np.array([q.occupancy_limit for q in inst.pools])
    after_release = days[None, :] >= inst.release[:, None]  # households x days
    ends = days[None, :] + L  # households x days (or x 1)
    parts = []
    # pools x households x days at a time, a few million cells at most: pools in slices
    step = max(1, (1 << 22) // max(N * H, 1))
    for p0 in range(0, P, step):
        p1 = min(P, p0 + step)
        ok = fit.T[p0:p1, :, None] & after_release[None, :, :] & free[p0:p1, None, :]
        ok &= ends[None, :, :] <= departure_limit[p0:p1, None, :]
        if dated:
            ok &= (L >= 1)[None, :, :] | ~night_left[p0:p1, None, None]
        # np.nonzero's (pool, household, day) from the flat cells, in the same order, and the
        # household x day cell (the nights' index) on the way
        pool_idx, cell = np.divmod(np.flatnonzero(ok), N * H)
        pool_idx += p0
        parts.append((pool_idx, cell))
    pool_idx, cell = (np.concatenate(x) for x in zip(*parts, strict=True))
    if cell.size == 0:
        return Columns(empty, empty, empty, empty, empty, np.zeros(0))
    house, start = np.divmod(cell, H)
    nights = L.ravel().take(cell) if dated else L.ravel().take(house)
    occ_end = np.minimum(start + nights + turn, occupancy_limit.ravel().take(pool_idx * H + start))
    return Columns(
        household=house,
        pool=pool_idx,
        start=start,
        occupancy_end=occ_end,
        departure=start + nights,
        cost=placement_cost(inst, house, pool_idx, start, nights),
    )


def count_columns(inst: Instance) -> np.ndarray:
    """Each household's number of columns in `build_columns`, without building them.

    A household (release r, stay L) has a column in pool p on each day d >= r with a free unit
    and d + L <= the pool's departure limit on d. Pools that differ only in their days count
    alike for the same households, so per class of (capacity, step-free) one table holds, for
    every release day and stay length, how many (pool, day) pairs qualify: one pass over the
    pools' days and one look-up per household and class. An exit-dated household (exit e) has
    one on each such day d < e with min(e, d + max_stay_days) <= the departure limit: a second
    table per class, by release day and exit day (`_exit_start_counts`). Pins and forbids, a
    few households, are counted pool by pool. Memory and time are O(households x classes + pools
    x days + days x distinct stays and exits), where the columns may be hundreds of millions.
    """
    N, H = inst.n_households, inst.horizon
    counts = np.zeros(N, dtype=np.int64)
    if N == 0 or not inst.pools:
        return counts
    dated = inst.exit_dated
    lengths = np.unique(inst.stay_days[~dated])
    length_rank = np.searchsorted(lengths, inst.stay_days)  # read only where not exit-dated
    exits = np.unique(inst.exit_day[dated])
    exit_rank = np.searchsorted(exits, inst.exit_day)  # read only where exit-dated
    release = np.minimum(inst.release, H)  # a release at or after the horizon has no day
    pinned = inst.pinned_pool >= 0
    classes: dict[tuple[int, bool, int], list[int]] = {}
    for p, q in enumerate(inst.pools):
        classes.setdefault((q.capacity, q.accessible, _spare(q)), []).append(p)
    for (capacity, accessible, spare), members in classes.items():
        pools = [inst.pools[p] for p in members]
        fits = (inst.size <= capacity) & (accessible | ~inst.needs_access) & ~pinned
        if spare >= 0:  # connecting rooms: households that may combine, with no room spare
            fits &= inst.may_combine & (inst.size > spare)
        if lengths.size:
            idx = np.flatnonzero(fits & ~dated)
            counts[idx] += _start_counts(pools, lengths, H)[release[idx], length_rank[idx]]
        if exits.size:
            idx = np.flatnonzero(fits & dated)
            table = _exit_start_counts(pools, exits, inst.policy.max_stay_days, H)
            counts[idx] += table[release[idx], exit_rank[idx]]
    for i, p in inst.forbidden:
        q = inst.pools[p]
        fits_otherwise = q.capacity >= inst.size[i] and (q.accessible or not inst.needs_access[i])
        if q.parts:
            fits_otherwise &= bool(inst.may_combine[i]) and inst.size[i] > _spare(q)
        if not pinned[i] and fits_otherwise:
            counts[i] -= _starts_in_pool(inst, q, i, int(release[i]))
    for i in np.flatnonzero(pinned).tolist():
        p = int(inst.pinned_pool[i])
        counts[i] = 0
        if p < len(inst.pools) and inst.fits(i, p):
            counts[i] = _starts_in_pool(inst, inst.pools[p], i, int(release[i]))
    return counts


def _spare(q: Pool) -> int:
    """A combination's beds less its smallest room: a household of at most this many would
    leave that room spare and may not take it (`engine.rooms`); -1 for a pool of units."""
    return q.capacity - q.smallest_part if q.parts else -1


def _start_counts(pools: list[Pool], lengths: np.ndarray, H: int) -> np.ndarray:
    """(H + 1) x len(lengths): for release day r and stay ``lengths[k]``, the (pool, day) pairs
    with d >= r, a free unit on d, and d + lengths[k] <= the departure limit on d."""
    days = np.arange(H)
    K = lengths.size
    cells = []
    for q in pools:
        d = days[q.free > 0]
        # the stay lengths that fit from day d: the first `fit` of the sorted lengths
        fit = np.searchsorted(lengths, q.departure_limit[d] - d, side="right")
        cells.append(d * (K + 1) + fit)
    hist = np.bincount(np.concatenate(cells), minlength=H * (K + 1))
    # pairs with fit > k serve a stay of lengths[k]: a suffix sum over fit, then over days
    by_fit = hist.reshape(H, K + 1)[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]
    table = np.zeros((H + 1, K), dtype=np.int64)
    table[:H] = by_fit[::-1].cumsum(axis=0)[::-1]
    return table


def _exit_start_counts(pools: list[Pool], exits: np.ndarray, max_stay: int, H: int) -> np.ndarray:
    """(H + 1) x len(exits): for release day r and exit day ``exits[j]``, the (pool, day) pairs
    with r <= d < exits[j], a free unit on d, and min(exits[j], d + max_stay) <= the departure
    limit dep on d: the stay from d has a night, and departs in time, capped or at its exit.

    A pair with dep - d >= max_stay serves every exit after d; any other, the exits up to dep.
    So each pair serves the sorted exits from the first after d to the last it can reach (`fit`):
    the same suffix sums as `_start_counts`, once the exits at or before d are masked out.
    """
    days = np.arange(H)
    J = exits.size
    cells = []
    for q in pools:
        d = days[q.free > 0]
        dep = q.departure_limit[d]
        fit = np.where(dep - d >= max_stay, J, np.searchsorted(exits, dep, side="right"))
        cells.append(d * (J + 1) + fit)
    hist = np.bincount(np.concatenate(cells), minlength=H * (J + 1))
    by_fit = hist.reshape(H, J + 1)[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]
    by_fit[exits[None, :] <= days[:, None]] = 0  # a start on or after the exit has no night
    table = np.zeros((H + 1, J), dtype=np.int64)
    table[:H] = by_fit[::-1].cumsum(axis=0)[::-1]
    return table


def _starts_in_pool(inst: Instance, q: Pool, i: int, release: int) -> int:
    """One household's start days in one pool, as `build_columns` finds them."""
    days = np.arange(release, inst.horizon)
    nights = inst.stay_length(i, days)
    fits = (q.free[days] > 0) & (nights >= 1) & (days + nights <= q.departure_limit[days])
    return int(np.count_nonzero(fits))


def objective(inst: Instance, pool: np.ndarray, start: np.ndarray) -> float:
    """Total objective of a plan given as per-household pool and start (-1 = not placed).

    The last plans scored on an instance are remembered with their objectives: a week's plan
    is scored by the method that made it and again when it is vetted (`planning.vetted`)."""
    pool, start = np.asarray(pool), np.asarray(start)
    reads = (
        inst.household_ids,
        inst.pools,
        inst.policy,
        inst.announcements,
        inst.weight,
        inst.size,
        inst.release,
        inst.stay_days,
        inst.exit_dated,
        inst.exit_day,
        inst.pinned_pool,
        inst.anchor,
        inst.support,
        inst.district_distance,
        inst.horizon,
    )
    memo: list[tuple[np.ndarray, np.ndarray, float]] = kept_on(inst, "_objectives", reads, list)
    for known_pool, known_start, value in memo:
        if np.array_equal(known_pool, pool) and np.array_equal(known_start, start):
            return value
    placed = pool >= 0
    idx = np.flatnonzero(placed)
    total = placement_cost(inst, idx, pool[idx], start[idx]).sum()
    value = float(total + kept_unplaced_cost(inst)[~placed].sum())
    memo.insert(0, (pool.copy(), start.copy(), value))
    del memo[_OBJECTIVES_KEPT:]
    return value


_OBJECTIVES_KEPT = 4  # plans per instance whose objective `objective` remembers


def kept_unplaced_cost(inst: Instance) -> np.ndarray:
    """`unplaced_cost`, kept on the instance (read-only) for the callers that ask it of one
    instance again and again: `objective`, the optimiser's stages."""
    reads = (
        inst.household_ids,
        inst.announcements,
        inst.policy,
        inst.weight,
        inst.size,
        inst.release,
        inst.exit_dated,
        inst.exit_day,
        inst.pinned_pool,
        inst.horizon,
    )

    def make() -> np.ndarray:
        cost = unplaced_cost(inst)
        cost.setflags(write=False)
        return cost

    return kept_on(inst, "_unplaced_costs", reads, make)


__all__ = [
    "NEVER",
    "Columns",
    "build_columns",
    "count_columns",
    "kept_unplaced_cost",
    "objective",
    "placement_cost",
    "unplaced_cost",
]
