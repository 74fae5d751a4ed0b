"""Before any MIP: the converged LP tightened by clique cuts, its columns priced as they go.

`cliques` finds the cuts (sets of placements of which at most one is in any plan); here they join
the column generation's own LP, back at its optimal basis, as rows ``0 <= sum of members <= 1``.
Each round re-solves with dual simplex, then prices every column with the cuts' duals too
(`priced_with_cuts`: a binding cut raises its members' reduced costs). Columns that price out join
the LP with their entries in the cuts' rows, so the bound holds for every plan of every column,
while the LP stays a small fraction of the columns whose reduced cost is below the gap. It stops
when the bound reaches the cutoff (no plan below it), the LP turns integral (the best plan of all)
or it breaks no cut.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from allocator.engine.columns import Columns, objective
from allocator.engine.instance import Instance
from allocator.engine.optimiser import cliques
from allocator.engine.optimiser.column_generation import Optimum
from allocator.engine.optimiser.incumbents import Plan
from allocator.engine.optimiser.model import column_entries, is_integral, plan_from
from allocator.engine.optimiser.outcome import SolveOutcome, cutoff
from allocator.engine.optimiser.pricing import Bound, Lowest, Pricer, lowest_per_household
from allocator.engine.params import EngineParams


def settle_by_cliques(
    inst: Instance,
    cols: Columns,
    x: np.ndarray,
    lp_bound: float,
    at_optimum: Callable[[], Optimum],
    outcome: SolveOutcome,
    relative_gap: float,
    deadline: float,
    params: EngineParams,
) -> str | None:
    """Improve the outcome's plan and bound by the LP with clique cuts; return a note, or None
    when the LP breaks no clique. The cuts get ``params.cut_share_of_time`` of the time left,
    the MIPs keep the rest; their seconds count as the MIPs' (the stage after the LP)."""
    if time.perf_counter() >= deadline:
        return None
    below = cutoff(outcome.objective, relative_gap)
    began = time.perf_counter()
    until = began + params.cut_share_of_time * (deadline - began)
    value, plan, cuts, n_columns = lp_with_cliques(
        inst, cols, x, at_optimum, below, until, params.clique_rounds
    )
    outcome.mip_seconds += time.perf_counter() - began
    if not cuts:
        return None
    if plan is not None and objective(inst, *plan) < outcome.objective:
        # the LP turned integral below the cutoff: the best plan of all
        outcome.pool, outcome.start = plan
        outcome.objective, outcome.source = objective(inst, *plan), "lp with cuts"
    bound = max(lp_bound, value)
    outcome.best_bound = max(outcome.best_bound, bound)
    return f"LP with {len(cuts)} clique cuts over {n_columns} columns: bound {bound:.6g}"


def lp_with_cliques(
    inst: Instance,
    cols: Columns,
    x: np.ndarray,
    at_optimum: Callable[[], Optimum],
    cutoff: float,
    deadline: float,
    clique_rounds: int,
) -> tuple[float, Plan | None, list[cliques.Clique], int]:
    """The LP tightened by clique cuts until its bound reaches the cutoff, it turns integral, no
    cut is violated or ``clique_rounds`` rounds of cuts are in: (a bound on every plan, the plan
    when the LP turned integral below the cutoff, the cuts added, the LP's columns at the end).

    ``x`` is the converged LP's solution (per column), so the first cuts come without a solve;
    ``at_optimum`` gives the LP itself at its optimal basis (`ColumnGeneration.at_optimum`).
    The bound is -inf when no cut was violated or the LP failed.
    """
    cuts = cliques.violated(inst, cols, x)
    if not cuts:
        return -np.inf, None, [], 0
    N = inst.n_households
    optimum = at_optimum()
    lp = _CutLP(inst, cols, optimum)
    lp.add_cuts(cuts)
    bound: float = -np.inf
    plan, rounds, dual = None, 1, True
    while time.perf_counter() < deadline:
        answer = lp.lp.solve(deadline - time.perf_counter(), dual=dual)
        if not (answer.optimal and answer.values is not None and answer.duals is not None):
            break
        rc, here = priced_with_cuts(
            optimum.price, optimum.lowest, optimum.lagrangian, answer.duals, lp.members
        )
        bound = max(bound, here)
        if bound >= cutoff:
            break
        tol = 1e-9 * max(1.0, abs(answer.objective))
        negative = np.flatnonzero((rc < -tol) & ~lp.in_lp)
        if negative.size:
            lp.add_columns(lowest_per_household(cols, rc, N, optimum.per_household, among=negative))
            dual = False  # new columns: the basis stays primal feasible
            continue
        bound = max(bound, answer.objective)  # no column prices out: the LP's value is a bound
        x_lp = answer.values[lp.n0 :]
        if bound >= cutoff:
            break
        if is_integral(answer.values[:N]) and is_integral(x_lp):
            plan = plan_from(cols.take(lp.columns), x_lp, N)
            break
        found = cliques.violated(inst, cols.take(lp.columns), x_lp)
        new = [cut for cut in found if cut not in lp.cuts]
        if not new or rounds >= clique_rounds:
            break
        lp.add_cuts(new)
        rounds, dual = rounds + 1, True
    return bound, plan, lp.cuts, int(lp.columns.size)


class _CutLP:
    """The column generation's LP with cut rows after its own, and the columns priced in since
    (with their entries in the cut rows)."""

    def __init__(self, inst: Instance, cols: Columns, optimum: Optimum) -> None:
        self.inst, self.cols, self.lp = inst, cols, optimum.lp
        self.columns = optimum.columns  # the column of each LP variable after the base ones
        self.n0, self.n_base_rows = self.lp.n_vars - self.columns.size, self.lp.n_rows
        self.in_lp = np.zeros(len(cols), dtype=bool)
        self.in_lp[self.columns] = True
        # per cut, its members' column indices (boolean masks over every column would cost far
        # more in each pricing round)
        self.members: list[np.ndarray] = []
        self.cuts: list[cliques.Clique] = []

    def add_cuts(self, new: list[cliques.Clique]) -> None:
        self.members.extend(np.flatnonzero(cliques.members(self.inst, self.cols, c)) for c in new)
        rows = [np.flatnonzero(np.isin(self.columns, m)) for m in self.members[-len(new) :]]
        self.lp.add_rows(
            self.n0 + np.concatenate(rows),
            np.repeat(np.arange(len(rows)), [r.size for r in rows]),
            np.ones(len(rows)),
        )
        self.cuts.extend(new)

    def add_columns(self, columns: np.ndarray) -> None:
        rows, local, vals = column_entries(self.inst, self.cols.take(columns), 0)
        hits = [np.flatnonzero(np.isin(columns, m)) for m in self.members]
        cut_rows = (np.full(h.size, self.n_base_rows + k) for k, h in enumerate(hits))
        self.lp.add_columns(
            self.cols.cost[columns],
            np.concatenate([rows, *cut_rows]),
            np.concatenate([local, *hits]),
            np.concatenate([vals, np.ones(sum(h.size for h in hits))]),
        )
        self.columns = np.concatenate([self.columns, columns])
        self.in_lp[columns] = True


def priced_with_cuts(
    price: Pricer, lowest: Lowest, lagrangian: Bound, duals: np.ndarray, members: list[np.ndarray]
) -> tuple[np.ndarray, float]:
    """Every column's reduced cost, and the Lagrangian bound, under duals of the model's rows
    followed by those of cut rows ``0 <= sum of members <= 1`` (``members``: column indices per
    cut). A cut's dual mu is taken from each member's reduced cost (a cut binding at 1 has mu at
    most 0, which raises them: the cut keeps its members from pricing out together), and
    min(mu, 0) joins the bound (the row's activity lies between 0 and 1, so it holds for a
    dual of either sign). ``price``, ``lowest`` and ``lagrangian`` are the column generation's."""
    mu = duals[duals.size - len(members) :]
    rc = price(duals)
    for k in np.flatnonzero(mu != 0):
        rc[members[k]] -= mu[k]
    return rc, lagrangian(duals, lowest(rc)) + float(np.minimum(mu, 0.0).sum())
