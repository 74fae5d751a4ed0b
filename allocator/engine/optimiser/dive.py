"""The dive: a solution of the restricted LP made integral by fixing its fractional choices.

Each round fixes, per household left fractional, its highest choice (a column, or staying
unplaced) at 1 when that value is at least ``fix_at``, or else the single highest choice of all,
and re-solves from the last basis with dual simplex (a few pivots; primal simplex took twice the
time). A fixing that makes the LP infeasible is undone; a single one is then forbidden instead.
The LP is nearly integral, so the dive changes little and ends near the LP bound, where rounding
the LP in one pass ends far above it.

With ``fix_share`` a round that finds no firm choice fixes the highest choices of that share of
the fractional households (at least one) together, not the single highest: large LPs are often
half-integral over dozens of households linked through full pool-days, which one fixing a round
takes many re-solves to untangle. When such a joint fixing is infeasible it is undone, the
single highest is fixed instead, and the rest of the dive fixes one at a time.

With ``grow`` the dive also prices: after each round, ``grow(answer, settled)`` appends to the
LP the columns that the round's duals price out for households not yet settled and returns their
households, and the LP is re-solved with them. A dive over the restricted LP's columns only can
just pick among what the LP needed before anything was fixed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from allocator.engine.optimiser import backend
from allocator.engine.optimiser.breakpoint_lp import RestrictedLP

Grow = Callable[[backend.SolverAnswer, np.ndarray], np.ndarray]


def dive(
    lp: RestrictedLP,
    values: np.ndarray,
    owner: np.ndarray,
    n0: int,
    deadline: float,
    grow: Grow | None = None,
    max_rounds: float = np.inf,
    *,
    fix_at: float,
    fix_share: float = 0.0,
) -> tuple[np.ndarray, bool]:
    """The LP's last values and whether they are integral.

    ``owner`` gives the household of each choice: the unplaced flags (variables 0..N-1), then
    the restricted LP's columns (from variable n0 on). Out of time or rounds (a limit in rounds,
    unlike one in seconds, gives the same plan on a busy machine) the values of the last round
    still hold most households fixed, and rounding them beats rounding the LP. The bounds the
    dive changed are restored either way, so the LP can be dived again.
    """
    N = int(owner.size - (values.size - n0))
    settled = np.zeros(N, dtype=bool)
    changed: list[tuple[np.ndarray, str]] = []
    x, rounds, several = values, 0, fix_share > 0
    try:
        while time.perf_counter() < deadline and rounds < max_rounds:
            rounds += 1
            choice = np.concatenate([np.arange(N), n0 + np.arange(owner.size - N)])
            v = x[choice]
            fractional = np.flatnonzero((v > 1e-6) & (v < 1 - 1e-6))
            if fractional.size == 0:
                return x, True
            share = fix_share if several else 0.0
            fix, single, firm = _to_fix(v, owner, fractional, fix_at, share)
            answer, fix, clashed = _fix(lp, choice, fix, single, deadline, changed)
            if clashed and not firm:  # a share that clashed: one at a time from now on
                several = False
            settled[owner[fix]] = True
            if answer.optimal and grow is not None:
                added = grow(answer, settled)
                if added.size:
                    owner = np.concatenate([owner, added])
                    answer = lp.solve(deadline - time.perf_counter())
            if not answer.optimal:  # out of time mid-solve: the last round's values stand
                break
            assert answer.values is not None
            x = answer.values
        return x, False
    finally:
        for positions, kind in changed:
            if kind == "lower":
                lp.set_bounds(positions, lower=0.0)
            else:
                lp.set_bounds(positions, upper=1.0)


def _to_fix(
    v: np.ndarray, owner: np.ndarray, fractional: np.ndarray, fix_at: float, share: float
) -> tuple[np.ndarray, np.intp, bool]:
    """The choices to fix this round (positions in ``v``), the single highest of all, and whether
    the choices are firm ones (at ``fix_at`` or above)."""
    by_owner = fractional[np.lexsort((-v[fractional], owner[fractional]))]
    highest = by_owner[np.unique(owner[by_owner], return_index=True)[1]]
    firm = highest[v[highest] >= fix_at]
    single = highest[np.argmax(v[highest])]
    if firm.size:
        return firm, single, True
    if share > 0:
        by_value = highest[np.argsort(-v[highest], kind="stable")]
        return by_value[: max(1, int(np.ceil(share * highest.size)))], single, False
    return np.array([single]), single, False


def _fix(
    lp: RestrictedLP,
    choice: np.ndarray,
    fix: np.ndarray,
    single: np.intp,
    deadline: float,
    changed: list[tuple[np.ndarray, str]],
) -> tuple[backend.SolverAnswer, np.ndarray, bool]:
    """Fix the choices at 1 and re-solve: (the answer, the choices fixed, whether fixing several
    together clashed). Fixed together, they may clash: then the highest alone; when that cannot
    be either, it is forbidden instead. Every bound changed is recorded in ``changed``."""

    def solve() -> backend.SolverAnswer:
        return lp.solve(deadline - time.perf_counter(), dual=True)

    lp.set_bounds(choice[fix], lower=1.0)
    answer = solve()
    clashed = bool(answer.infeasible and fix.size > 1)
    if clashed:
        lp.set_bounds(choice[fix], lower=0.0)
        fix = np.array([single])
        lp.set_bounds(choice[fix], lower=1.0)
        answer = solve()
    if answer.infeasible:  # the highest alone cannot be: forbid it
        lp.set_bounds(choice[fix], lower=0.0)
        lp.set_bounds(choice[fix], upper=0.0)
        changed.append((choice[fix], "upper"))
        return solve(), fix[:0], clashed
    changed.append((choice[fix], "lower"))
    return answer, fix, clashed
