"""Candidate placements (household, pool, start day) and what each costs: the objective, once.

Both the optimiser and greedy choose among these candidates and are scored by `objective`, so the
two can be compared on equal terms. See `allocator.policy` for how the weights trade off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.domain import Support, UnitKind
from allocator.engine.instance import NEVER, Instance, Pool, unplaced_nights


@dataclass
class Columns:
    """One entry per candidate placement; all arrays have the same length."""

    household: np.ndarray
    pool: np.ndarray
    start: np.ndarray
    occupancy_end: np.ndarray  # first day the unit is free again for the next stay
    departure: np.ndarray  # start + expected stay: accompaniment and mediation end here
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
    return np.array(
        [[kind_mismatch(inst, q.kind, s) for s in Support] for q in inst.pools], dtype=float
    ).reshape(len(inst.pools), len(Support))


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
    if inst.forbidden:
        column = {int(p): k for k, p in enumerate(pools)}
        for i, p in inst.forbidden:
            if p in column:
                ok[i, column[p]] = False
    return ok


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


def placement_cost(inst: Instance, household: np.ndarray, pool: np.ndarray, start: np.ndarray):
    """Objective contribution of placing each household in its pool on its start day."""
    pol = inst.policy
    cap = np.array([q.capacity for q in inst.pools], dtype=np.int64)[pool]
    mismatch = mismatch_table(inst)
    support_code = support_codes(inst)
    size = inst.size[household]
    return (
        inst.weight[household] * size * (start - inst.release[household])
        + pol.wasted_bed_night_weight * (cap - size) * inst.stay_days[household]
        + pol.kind_mismatch_weight * mismatch[pool, support_code[household]]
    )


def unplaced_cost(inst: Instance) -> np.ndarray:
    """Cost of leaving each household out: its hotel nights (`instance.unplaced_nights`)."""
    nights = unplaced_nights(inst)
    cost = inst.weight * inst.size * nights
    return np.where(inst.pinned_pool >= 0, cost * inst.policy.pin_weight, cost)


def build_columns(inst: Instance) -> Columns:
    """Every start day on which each household fits each pool, ignoring the other households."""
    H = inst.horizon
    days = np.arange(H)
    turn = inst.policy.turnover_days
    parts = []
    for p, pool in enumerate(inst.pools):
        hh = fitting_households(inst, p)
        if hh.size == 0:
            continue
        L = inst.stay_days[hh][:, None]
        ok = (days[None, :] >= inst.release[hh][:, None]) & (pool.free > 0)[None, :]
        ok &= days[None, :] + L <= pool.departure_limit[None, :]
        rows, starts = np.nonzero(ok)
        if rows.size == 0:
            continue
        house = hh[rows]
        occ_end = np.minimum(starts + inst.stay_days[house] + turn, pool.occupancy_limit[starts])
        parts.append((house, np.full(rows.size, p), starts, occ_end))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Columns(empty, empty, empty, empty, empty, np.zeros(0))
    house, pool_idx, start, occ_end = (np.concatenate(x) for x in zip(*parts, strict=True))
    return Columns(
        household=house,
        pool=pool_idx,
        start=start,
        occupancy_end=occ_end,
        departure=start + inst.stay_days[house],
        cost=placement_cost(inst, house, pool_idx, start),
    )


def count_columns(inst: Instance) -> np.ndarray:
    """Each household's number of columns in `build_columns`, without building them.

    A household (release r, stay L) has a column in pool p on each day d >= r with a free unit
    and d + L <= the pool's departure limit on d. Pools that differ only in their days count
    alike for the same households, so per class of (capacity, step-free) one table holds, for
    every release day and stay length, how many (pool, day) pairs qualify: one pass over the
    pools' days and one look-up per household and class. Pins and forbids, a few households,
    are counted pool by pool. Memory and time are O(households x classes + pools x days + days x
    distinct stays), where the columns themselves may be hundreds of millions.
    """
    N, H = inst.n_households, inst.horizon
    counts = np.zeros(N, dtype=np.int64)
    if N == 0 or not inst.pools:
        return counts
    lengths = np.unique(inst.stay_days)
    length_rank = np.searchsorted(lengths, inst.stay_days)
    release = np.minimum(inst.release, H)  # a release at or after the horizon has no day
    pinned = inst.pinned_pool >= 0
    classes: dict[tuple[int, bool], list[int]] = {}
    for p, q in enumerate(inst.pools):
        classes.setdefault((q.capacity, q.accessible), []).append(p)
    for (capacity, accessible), members in classes.items():
        table = _start_counts([inst.pools[p] for p in members], lengths, H)
        fits = (inst.size <= capacity) & (accessible | ~inst.needs_access) & ~pinned
        idx = np.flatnonzero(fits)
        counts[idx] += table[release[idx], length_rank[idx]]
    for i, p in inst.forbidden:
        q = inst.pools[p]
        fits_otherwise = q.capacity >= inst.size[i] and (q.accessible or not inst.needs_access[i])
        if not pinned[i] and fits_otherwise:
            counts[i] -= _starts_in_pool(q, int(release[i]), int(inst.stay_days[i]), H)
    for i in np.flatnonzero(pinned).tolist():
        p = int(inst.pinned_pool[i])
        counts[i] = 0
        if p < len(inst.pools) and inst.fits(i, p):
            counts[i] = _starts_in_pool(inst.pools[p], int(release[i]), int(inst.stay_days[i]), H)
    return counts


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


def _starts_in_pool(q: Pool, release: int, stay: int, H: int) -> int:
    """One household's start days in one pool, as `build_columns` finds them."""
    days = np.arange(release, H)
    return int(np.count_nonzero((q.free[days] > 0) & (days + stay <= q.departure_limit[days])))


def objective(inst: Instance, pool: np.ndarray, start: np.ndarray) -> float:
    """Total objective of a plan given as per-household pool and start (-1 = not placed)."""
    placed = pool >= 0
    idx = np.flatnonzero(placed)
    total = placement_cost(inst, idx, pool[idx], start[idx]).sum()
    return float(total + unplaced_cost(inst)[~placed].sum())


__all__ = [
    "NEVER",
    "Columns",
    "build_columns",
    "count_columns",
    "objective",
    "placement_cost",
    "unplaced_cost",
]
