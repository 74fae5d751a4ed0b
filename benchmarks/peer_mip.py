"""The MIP a user would write first, as a peer for the engine's solver.

One binary per (household, unit, start day), and per unit and day "at most one stay covers this
day". A stay started on day s in unit u covers [s, s + stay + turnover), clipped to the end of the
unit's free stretch and to the horizon; it must lie inside one free stretch of the unit (existing
stays and availability windows, taken from `Instance.pools[p].gaps`) and depart by that stretch's
departure limit, exactly as `allocator.engine.columns.build_columns` allows per pool. Each household is
placed at most once. The objective is `allocator.engine.columns`' one: placement cost per binary, the
unplaced cost for each household left out (written as an objective offset minus the unplaced cost
on every binary of that household). Support and mediation caps are not modelled: the benchmark's
default policy has none, and `build` refuses an instance that has them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.engine.columns import fitting_households, objective, placement_cost, unplaced_cost
from allocator.engine.instance import Instance


@dataclass
class Stretch:
    """One free stretch of one unit, with the starts each fitting household may use there."""

    unit: int  # unit index
    pool: int
    row0: int  # model row of (this unit, day 0)
    households: np.ndarray
    first: np.ndarray  # first allowed start per household
    count: np.ndarray  # number of allowed starts per household (>= 0)
    span: np.ndarray  # days covered: stay + turnover per household
    cap: int  # coverage is clipped to this day: min(occupancy limit, horizon)


@dataclass
class Size:
    binaries: int
    nnz: int
    rows: int


def has_caps(inst: Instance) -> bool:
    return inst.support_free is not None or bool(inst.mediation_free)


def stretches(inst: Instance) -> tuple[list[Stretch], int]:
    """Every unit's free stretches in the horizon, and the number of unit-day rows."""
    H = inst.horizon
    turn = inst.policy.turnover_days
    N = inst.n_households
    fit_cache: dict[int, np.ndarray] = {}
    out = []
    n_units = 0
    for k, p in enumerate(inst.unit_pool):
        if p < 0:
            continue
        pool = inst.pools[p]
        if p not in fit_cache:
            fit_cache[p] = fitting_households(inst, int(p))
        hh = fit_cache[p]
        row0 = N + n_units * H
        n_units += 1
        for g0, g1 in pool.gaps[k]:
            dep = int(pool.departure_limit[g0])  # same for every day of the stretch
            cap = int(min(pool.occupancy_limit[g0], H))
            L = inst.stay_days[hh]
            first = np.maximum(inst.release[hh], g0)
            last = np.minimum(min(g1, H), dep - L + 1)  # exclusive
            count = np.maximum(last - first, 0)
            ok = count > 0
            out.append(
                Stretch(int(k), int(p), row0, hh[ok], first[ok], count[ok], L[ok] + turn, cap)
            )
    return out, n_units * H


def size_of(inst: Instance) -> Size:
    """Binaries and matrix non-zeros, in closed form (nothing per binary is allocated)."""
    parts, unit_rows = stretches(inst)
    binaries = nnz = 0
    for st in parts:
        a, b = st.first, st.first + st.count
        t = st.cap - st.span  # starts up to t cover a full span, later ones are clipped at cap
        n1 = np.maximum(np.minimum(b, t + 1) - a, 0)
        s0 = np.maximum(a, t + 1)
        n2 = np.maximum(b - s0, 0)
        covered = n1 * st.span + n2 * st.cap - (s0 + b - 1) * n2 // 2
        binaries += int(st.count.sum())
        nnz += int(st.count.sum() + covered.sum())
    return Size(binaries, nnz, inst.n_households + unit_rows)


@dataclass
class PeerModel:
    household: np.ndarray  # per binary
    unit: np.ndarray
    pool: np.ndarray
    start: np.ndarray
    cost: np.ndarray  # objective coefficient (placement minus unplaced cost)
    offset: float  # every household unplaced
    a_start: np.ndarray  # CSC, int32
    a_index: np.ndarray
    n_rows: int

    @property
    def nnz(self) -> int:
        return int(self.a_start[-1])


def build(inst: Instance) -> PeerModel:
    if has_caps(inst):
        raise ValueError("the peer MIP does not model support or mediation caps")
    parts, unit_rows = stretches(inst)
    size = size_of(inst)
    if size.nnz >= 2**31:
        raise ValueError(f"{size.nnz} non-zeros do not fit HiGHS' 32-bit indices")
    B = size.binaries
    household = np.empty(B, dtype=np.int64)
    unit = np.empty(B, dtype=np.int64)
    pool = np.empty(B, dtype=np.int64)
    start = np.empty(B, dtype=np.int64)
    a_start = np.empty(B + 1, dtype=np.int32)
    a_start[0] = 0
    a_index = np.empty(size.nnz, dtype=np.int32)
    b = e = 0  # next binary, next entry
    for st in parts:
        n = int(st.count.sum())
        if n == 0:
            continue
        owner = np.repeat(np.arange(st.households.size), st.count)
        s = st.first[owner] + (np.arange(n) - np.repeat(np.cumsum(st.count) - st.count, st.count))
        end = np.minimum(s + st.span[owner], st.cap)
        length = 1 + end - s  # the household's row, then the covered days
        col_start = e + np.concatenate([[0], np.cumsum(length)[:-1]])
        m = int(length.sum())
        pos = np.arange(m) - np.repeat(col_start - e, length)
        a_index[e : e + m] = np.repeat(st.row0 + s - 1, length) + pos
        a_index[col_start] = st.households[owner]
        sl = slice(b, b + n)
        household[sl], unit[sl], pool[sl], start[sl] = st.households[owner], st.unit, st.pool, s
        a_start[b + 1 : b + n + 1] = col_start + length
        b, e = b + n, e + m
    assert b == B and e == size.nnz, (b, B, e, size.nnz)
    unplaced = unplaced_cost(inst)
    cost = placement_cost(inst, household, pool, start) - unplaced[household]
    return PeerModel(
        household, unit, pool, start, cost, float(unplaced.sum()), a_start, a_index, size.rows
    )


def solve(
    inst: Instance, model: PeerModel, *, time_limit: float, threads: int, rel_gap: float
) -> dict:
    """Solve with HiGHS; the plan found is re-scored with `allocator.engine.columns.objective`."""
    import highspy

    B, R = len(model.cost), model.n_rows
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", rel_gap)
    h.setOptionValue("threads", threads)
    status = h.passModel(
        B,
        R,
        model.nnz,
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        model.offset,
        model.cost,
        np.zeros(B),
        np.ones(B),
        np.full(R, -highspy.kHighsInf),
        np.ones(R),
        model.a_start[:-1],
        model.a_index,
        np.ones(model.nnz),
        np.ones(B, dtype=np.int32),  # kInteger
    )
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS rejected the peer model")
    h.run()
    info = h.getInfo()
    out = {
        "status": h.modelStatusToString(h.getModelStatus()),
        "bound": float(info.mip_dual_bound),
        "objective": None,
        "rescored": None,
    }
    if info.primal_solution_status == 2:  # kSolutionStatusFeasible
        x = np.asarray(h.getSolution().col_value)
        chosen = np.flatnonzero(x > 0.5)
        pool = np.full(inst.n_households, -1, dtype=np.int64)
        start = pool.copy()
        pool[model.household[chosen]] = model.pool[chosen]
        start[model.household[chosen]] = model.start[chosen]
        out["objective"] = float(info.objective_function_value)
        out["rescored"] = objective(inst, pool, start)
        out["placed"] = int(chosen.size)
    return out
