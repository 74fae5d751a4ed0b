"""Plans without a MIP: cost-aware greedy plans (the first incumbents, and where the column
generation starts from) and the LP rounded in one pass.

Ordering households by cost rather than arrival gives plans far closer to the optimum than first
come, first served; the best of them is the LP's first basis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from allocator.engine.columns import Columns
from allocator.engine.greedy import place_in_order, solve_guided
from allocator.engine.instance import Instance
from allocator.engine.optimiser.pricing import lowest_per_household

Plan = tuple[np.ndarray, np.ndarray]  # pool and start day per household, -1 where unplaced


def processing_days(inst: Instance) -> np.ndarray:
    """Each household's days in a unit, stay plus turnover, as the cost-aware orders weigh them.

    An exit-dated household's stay is taken from its release day (`Instance.stay_days`), its
    longest: a later start shortens it, so the order is approximate there, as a heuristic may be.
    At least one night, so that a household that can never start does not divide by zero.
    """
    return (np.maximum(inst.stay_days, 1) + inst.policy.turnover_days).astype(float)


def cost_aware_plans(inst: Instance, stay_exponents: Sequence[float]) -> list[Plan]:
    """Greedy plans with households by weight x size / (stay + turnover)^a, one per exponent a
    (a = 1 is Smith's rule), pins first, each at its earliest start."""
    ws = inst.weight * inst.size
    p = processing_days(inst)
    unpinned = inst.pinned_pool < 0
    ids = np.arange(inst.n_households)
    return [place_in_order(inst, np.lexsort((ids, -ws / p**a, unpinned))) for a in stay_exponents]


def initial_columns(
    inst: Instance,
    cols: Columns,
    columns_of: Callable[[np.ndarray, np.ndarray], np.ndarray],
    plans: Sequence[Plan],
    per_household: int,
) -> np.ndarray:
    """The first columns of column generation: every plan's, and each household's
    ``per_household`` cheapest."""
    initial = np.zeros(len(cols), dtype=bool)
    for plan in plans:
        initial[columns_of(*plan)] = True
    initial[lowest_per_household(cols, cols.cost, inst.n_households, per_household)] = True
    return initial


def round_lp(inst: Instance, cols: Columns, x: np.ndarray) -> Plan:
    """LP-guided greedy: each household's highest LP column, households by how firm it is."""
    N = inst.n_households
    firm = np.zeros(N)
    x_pool = np.full(N, -1, dtype=np.int64)
    x_start = np.full(N, -1, dtype=np.int64)
    by_value = np.argsort(-x, kind="stable")
    top = by_value[x[by_value] > 1e-9]
    first = np.unique(cols.household[top], return_index=True)[1]
    hh = cols.household[top[first]]
    firm[hh], x_pool[hh], x_start[hh] = x[top[first]], cols.pool[top[first]], cols.start[top[first]]
    return solve_guided(inst, x_pool, x_start, firm)
