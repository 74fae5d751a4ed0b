"""Candidate placements (household, pool, start day) and what each costs: the objective, once.

Both the optimiser and greedy choose among these candidates and are scored by `objective`, so the
two can be compared on equal terms. See `allocator.policy` for how the weights trade off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.domain import Support, UnitKind
from allocator.instance import NEVER, Instance


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


def fitting_households(inst: Instance, p: int) -> np.ndarray:
    pool = inst.pools[p]
    ok = (inst.size <= pool.capacity) & (pool.accessible | ~inst.needs_access)
    ok &= (inst.pinned_pool < 0) | (inst.pinned_pool == p)
    idx = np.flatnonzero(ok)
    if inst.forbidden:
        idx = np.array([i for i in idx if (i, p) not in inst.forbidden], dtype=np.int64)
    return idx


def placement_cost(inst: Instance, household: np.ndarray, pool: np.ndarray, start: np.ndarray):
    """Objective contribution of placing each household in its pool on its start day."""
    pol = inst.policy
    cap = np.array([q.capacity for q in inst.pools], dtype=np.int64)[pool]
    mismatch = np.array(
        [[kind_mismatch(inst, q.kind, s) for s in Support] for q in inst.pools], dtype=float
    ).reshape(len(inst.pools), len(Support))
    support_code = np.array([list(Support).index(s) for s in inst.support], dtype=np.int64)
    size = inst.size[household]
    return (
        inst.weight[household] * size * (start - inst.release[household])
        + pol.wasted_bed_night_weight * (cap - size) * inst.stay_days[household]
        + pol.kind_mismatch_weight * mismatch[pool, support_code[household]]
    )


def unplaced_cost(inst: Instance) -> np.ndarray:
    """Cost of leaving each household out: hotel nights to the horizon's end, plus a terminal wait."""
    nights = np.maximum(inst.horizon - inst.release, 0) + inst.policy.terminal_wait_days
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


def objective(inst: Instance, pool: np.ndarray, start: np.ndarray) -> float:
    """Total objective of a plan given as per-household pool and start (-1 = not placed)."""
    placed = pool >= 0
    idx = np.flatnonzero(placed)
    total = placement_cost(inst, idx, pool[idx], start[idx]).sum()
    return float(total + unplaced_cost(inst)[~placed].sum())


__all__ = ["NEVER", "Columns", "build_columns", "objective", "placement_cost", "unplaced_cost"]
