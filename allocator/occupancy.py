"""Day-by-day use of pools, accompaniment and mediation as stays are added one at a time.

Greedy builds its plan with it, the explanations ask it what still fits once a plan is made, and
both ask the same question: on which first day can this household start in each of these pools?
"""

from __future__ import annotations

import numpy as np

from allocator.instance import Instance


def next_blocked_day(ok: np.ndarray) -> np.ndarray:
    """For each day (last axis), the first day from it on where ``ok`` is False (length if none)."""
    n = ok.shape[-1]
    blocked = np.where(ok, n, np.arange(n))  # broadcasts over the leading axes
    return np.minimum.accumulate(blocked[..., ::-1], axis=-1)[..., ::-1]


class Occupancy:
    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        H = inst.horizon
        self.days = np.arange(H)
        self.free = np.array([p.free for p in inst.pools]).reshape(len(inst.pools), H)
        self.departure_limit = np.array([p.departure_limit for p in inst.pools]).reshape(
            len(inst.pools), H
        )
        self.occupancy_limit = np.array([p.occupancy_limit for p in inst.pools]).reshape(
            len(inst.pools), H
        )
        self.used = np.zeros_like(self.free)
        self.next_full = next_blocked_day(self.free > self.used)
        self.support_used = np.zeros(H, dtype=np.int64)
        self.mediation_used = {j: np.zeros(H, dtype=np.int64) for j in inst.mediation_free}

    def add(self, i: int, p: int, t: int) -> None:
        inst = self.inst
        H = inst.horizon
        L = int(inst.stay_days[i])
        occ_end = min(t + L + inst.policy.turnover_days, int(self.occupancy_limit[p, t]), H)
        self.used[p, t:occ_end] += 1
        self.next_full[p] = next_blocked_day(self.free[p] > self.used[p])
        stay = slice(t, min(t + L, H))
        self.support_used[stay] += inst.load[i]
        j = int(inst.language[i])
        if j in self.mediation_used:
            self.mediation_used[j][stay] += 1

    def earliest_starts(
        self,
        i: int,
        pools: np.ndarray,
        *,
        support: bool = True,
        mediation: bool = True,
        not_before: int = 0,
    ) -> np.ndarray:
        """First feasible start of household i in each pool, -1 where none lies in the horizon."""
        inst = self.inst
        H = inst.horizon
        if pools.size == 0:
            return np.zeros(0, dtype=np.int64)
        days = self.days
        L = int(inst.stay_days[i])
        ends = np.minimum(
            np.minimum(days + L + inst.policy.turnover_days, self.occupancy_limit[pools]), H
        )
        valid = self.next_full[pools] >= ends
        valid &= self.departure_limit[pools] >= days + L
        valid &= days >= max(int(inst.release[i]), not_before)
        stay_end = np.minimum(days + L, H)
        if support and inst.support_free is not None:
            ok = inst.support_free - self.support_used >= inst.load[i]
            valid &= (next_blocked_day(ok) >= stay_end)[None, :]
        j = int(inst.language[i])
        if mediation and j in self.mediation_used:
            ok = inst.mediation_free[j] - self.mediation_used[j] >= 1
            valid &= (next_blocked_day(ok) >= stay_end)[None, :]
        return np.where(valid.any(axis=1), valid.argmax(axis=1), -1)
