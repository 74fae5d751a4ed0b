"""MIPs over subsets of the columns, searching only below the incumbent minus the gap.

A restricted MIP covers the LP's support, greedy's columns and the columns of lowest reduced cost.
A left-out column cannot improve a plan by more than its reduced cost above the LP bound, which
makes the restricted MIP's result a bound for the whole model (`left_out_bound`) and lets a MIP
over every column whose reduced cost is below the cutoff's distance from the LP settle the gap
(reduced-cost fixing): the proof MIP. Where the proof has too many columns, or many times the
restricted MIP's, larger restricted MIPs come first: a better plan lowers the cutoff and shrinks
the proof. A large MIP that settles the gap first drops the columns that duals from an interior
point of the LP's optimal face price above the cutoff (`below_cutoff_at_centre`).

`lean_mips` runs HiGHS without its restarts (a MIP whose root fixed many columns presolved
again) and without its primal heuristics (the cutoff is the incumbent: a proof wants the bound).
It suits batches whose first restricted MIP nearly always has the optimum already, as the
simulation's weekly ones: they also skip the larger restricted MIP before the proof and the
fixing at the centre (the measurements are in docs/engine.md, `lean_mips`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from allocator.engine.columns import Columns, objective
from allocator.engine.instance import Instance
from allocator.engine.optimiser import backend
from allocator.engine.optimiser.model import base_model, build_model, plan_from
from allocator.engine.optimiser.outcome import SolveOutcome, cutoff, proven, within_gap
from allocator.engine.optimiser.pricing import (
    household_shares,
    lagrangian_bound,
    lowest_per_household,
    per_household_minimum,
    reduced_costs,
)
from allocator.engine.params import EngineParams


@dataclass(frozen=True)
class MipContext:
    """What every MIP of one solve shares: the instance and its columns, the LP's reduced costs
    (of its last round) and bound, the clock, and HiGHS's and the engine's settings."""

    inst: Instance
    cols: Columns
    rc: np.ndarray
    lp_bound: float
    converged: bool  # the LP converged: its reduced costs, and so the MIPs' bounds, hold
    deadline: float
    workers: int
    seed: int
    relative_gap: float
    params: EngineParams


def first_mip_columns(
    ctx: MipContext,
    x: np.ndarray,
    greedy_columns: np.ndarray,
    lp_columns: np.ndarray,
    outcome: SolveOutcome,
) -> np.ndarray:
    """Per column, whether the first MIP covers it: the LP's support, greedy's columns, every
    column of an unconverged LP, and those of lowest reduced cost (per household and overall).
    When the proof MIP would be only a few times larger, the proof straight away: it finds what
    the restricted MIP would have found."""
    inst, cols, rc, params = ctx.inst, ctx.cols, ctx.rc, ctx.params
    keep = x > 1e-9
    keep[greedy_columns] = True
    if not ctx.converged:  # reduced costs are stale: take every column of the restricted LP
        keep[lp_columns] = True
    per_household = params.extra_columns_per_household
    keep[lowest_per_household(cols, rc, inst.n_households, per_household)] = True
    extra = min(len(cols), params.extra_columns_per_day * inst.horizon)
    keep[np.argpartition(rc, extra - 1)[:extra]] = True
    if ctx.converged:
        proof = keep | (rc < cutoff(outcome.objective, ctx.relative_gap) - ctx.lp_bound)
        straight = min(params.straight_to_proof_ratio * keep.sum(), params.max_proof_columns)
        if proof.sum() <= straight:
            keep = proof
    return keep


def settle_by_mips(
    ctx: MipContext, keep: np.ndarray, outcome: SolveOutcome, stages: list[str], generated: str
) -> None:
    """MIPs, from the columns kept, until the gap is settled, no MIP fits or time is out; each
    improves the outcome's plan and (over a converged LP) its bound. ``stages`` are the notes
    of the stages so far; ``generated`` says what the column generation did."""
    while True:
        # a MIP that settles the gap (no left-out column can be in a plan below the cutoff)
        threshold = cutoff(outcome.objective, ctx.relative_gap) - ctx.lp_bound
        settles = ctx.converged and not np.any(~keep & (ctx.rc < threshold))
        began = time.perf_counter()
        mip, bound, fixing = restricted_mip(ctx, keep, outcome, settles)
        took = time.perf_counter() - began
        stages.append(f"MIP on {int(keep.sum())} columns{fixing}: {mip.reason}")
        if ctx.converged:
            outcome.best_bound = max(outcome.best_bound, bound)
        outcome.proven_optimal = ctx.converged and proven(outcome)
        close_enough = ctx.converged and within_gap(
            outcome.objective, outcome.best_bound, ctx.relative_gap
        )
        wider = _next_columns(ctx, keep, outcome, took, close_enough)
        if wider is None:
            break
        keep = wider
    outcome.mip_columns = int(keep.sum())
    outcome.detail = f"LP: {generated}; " + "; ".join(stages)


def _next_columns(
    ctx: MipContext, keep: np.ndarray, outcome: SolveOutcome, took: float, close_enough: bool
) -> np.ndarray | None:
    """The next MIP's columns, or None when none follows.

    Reduced-cost fixing: a column whose reduced cost is at least the gap from the LP bound to the
    cutoff cannot be in a plan below the cutoff, so a MIP over all the others settles whether the
    plan is within the gap. Where that proof has more than ``max_proof_columns``, or more than
    ``grow_before_proof`` times the last MIP's, a larger restricted MIP comes first, over the
    columns of lowest reduced cost, while there is time for it.
    """
    params = ctx.params
    threshold = cutoff(outcome.objective, ctx.relative_gap) - ctx.lp_bound
    wider = keep | (ctx.rc < threshold)
    more = int(wider.sum() - keep.sum())
    if (
        outcome.proven_optimal
        or close_enough  # the caller's gap is met: no proof MIP to run
        or not ctx.converged
        or more == 0
        or time.perf_counter() >= ctx.deadline
    ):
        return None
    too_large = wider.sum() > params.max_proof_columns
    if too_large or wider.sum() > params.grow_before_proof * keep.sum():
        size = min(params.max_proof_columns, int(params.restricted_growth * keep.sum()))
        # HiGHS's presolve of a large MIP does not look at the clock: one started with too
        # little time left overshoots its limit
        left = ctx.deadline - time.perf_counter()
        if size > keep.sum() and left >= params.restricted_growth * took:
            out = np.flatnonzero(~keep)
            n_extra = size - int(keep.sum())
            wider = keep.copy()
            wider[out[np.argpartition(ctx.rc[out], n_extra - 1)[:n_extra]]] = True
        elif too_large:
            return None
        # else the proof runs in the time left: it is the only MIP that can settle the gap
    return wider


def restricted_mip(
    ctx: MipContext, keep: np.ndarray, outcome: SolveOutcome, settles: bool = False
) -> tuple[backend.SolverAnswer, float, str]:
    """Solve the MIP over the kept columns; improve the outcome's plan; return (answer, bound, a
    note on the columns fixed at the centre).

    The bound holds for the whole model: a plan either uses kept columns only (at least the
    restricted MIP's bound) or some left-out column, which costs at least its reduced cost above
    the LP optimum. When the MIP ``settles`` the gap and is large, HiGHS gets only the kept
    columns that `below_cutoff_at_centre` keeps: a dropped one is in no plan below the cutoff,
    which the MIP's bound never exceeds.
    """
    inst, lp_bound, deadline = ctx.inst, ctx.lp_bound, ctx.deadline
    sub = ctx.cols.take(np.flatnonzero(keep))
    below = cutoff(outcome.objective, ctx.relative_gap)
    left_out = left_out_bound(ctx.rc, keep, lp_bound, below)
    fixing = ""
    if settles and len(sub) >= ctx.params.central_fixing_from:
        began = time.perf_counter()
        # at most half the time left, so that the MIP keeps the rest if the interior point fails
        wanted = below_cutoff_at_centre(inst, sub, below, began + 0.5 * (deadline - began))
        outcome.mip_seconds += time.perf_counter() - began
        if wanted is not None:
            fixing = f" ({int(wanted.sum())} after fixing at the centre)"
            sub = sub.take(np.flatnonzero(wanted))
    mip = backend.solve(
        build_model(inst, sub, integer=True),
        time_limit=deadline - time.perf_counter(),
        threads=ctx.workers,
        seed=ctx.seed,
        relative_gap=ctx.relative_gap,
        cutoff=below,
        lean=ctx.params.lean_mips,
    )
    outcome.mip_seconds += mip.seconds
    if mip.ok and mip.values is not None:
        # the columns come last (fixing may have left none)
        pool, start = plan_from(sub, mip.values[mip.values.size - len(sub) :], inst.n_households)
        obj = objective(inst, pool, start)
        if obj <= outcome.objective + 1e-9:
            outcome.pool, outcome.start, outcome.objective, outcome.source = pool, start, obj, "mip"
    # a column fixed at the centre has no plan below the cutoff, and the MIP's bound is at most
    # the cutoff: its bound holds for every plan of kept columns
    restricted_bound = mip.bound if np.isfinite(mip.bound) else lp_bound
    return mip, max(lp_bound, min(restricted_bound, left_out)), fixing


def left_out_bound(rc: np.ndarray, keep: np.ndarray, lp_bound: float, cutoff: float) -> float:
    """A bound on every plan that uses a column left out: the LP bound plus the lowest reduced
    cost among them, or the cutoff when none of them is below its distance from the LP."""
    excluded_rc = rc[~keep]
    min_rc_out = float(excluded_rc.min()) if excluded_rc.size else np.inf
    if min_rc_out >= cutoff - lp_bound:  # every left-out column's plan is at the cutoff or above
        return max(lp_bound + min_rc_out, cutoff)
    return lp_bound + min_rc_out


def below_cutoff_at_centre(
    inst: Instance, sub: Columns, cutoff: float, deadline: float
) -> np.ndarray | None:
    """The columns that may still be in a plan below the cutoff, by duals from inside the LP's
    optimal face (None if the interior point gave none in time).

    The column generation's duals are a vertex of that face: they price many columns at or near
    zero, so reduced-cost fixing by them keeps most of a large MIP. Duals from an interior point,
    computed over the MIP's columns, spread the prices and keep far fewer; HiGHS then starts from
    a smaller model. Each column's bound is the Lagrangian with its household forced into it,
    valid for any duals, so an inexact interior point only fixes less.
    """
    answer = backend.solve(
        build_model(inst, sub, integer=False),
        time_limit=deadline - time.perf_counter(),
        threads=1,  # HiGHS's interior point runs on one thread, and gives one answer
        seed=0,
        want_duals=True,
        interior_point=True,
    )
    if answer.duals is None or not np.all(np.isfinite(answer.duals)):
        return None
    return forced_bounds(inst, sub, answer.duals) < cutoff + 1e-9 * max(1.0, abs(cutoff))


def forced_bounds(inst: Instance, sub: Columns, duals: np.ndarray) -> np.ndarray:
    """Per column, a lower bound on every plan of these columns that uses it, for any duals.

    The Lagrangian bound (`pricing.lagrangian_bound`) with the column's household forced into
    it: that household's share, its cheapest choice, becomes the column's dual value plus its
    reduced cost.
    """
    N = inst.n_households
    base = base_model(inst)
    rc = reduced_costs(inst, sub, duals)
    lowest = per_household_minimum(sub.household, N)(rc)
    bound = lagrangian_bound(inst, base)(duals, lowest)
    own = household_shares(base.cost[:N], duals, lowest)
    return bound - own[sub.household] + duals[sub.household] + rc
