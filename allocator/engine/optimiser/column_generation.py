"""The LP relaxation over every column, solved by column generation on one GLOP model.

The master problem is the restricted LP: the model's rows over the columns generated so far, kept
alive in GLOP between rounds so that each round starts from the last basis. Pricing is numpy over
every candidate column (`pricing.pricer`): a column whose reduced cost is negative improves the
LP, and each round adds each household's few lowest. Every round's duals give a Lagrangian bound
(`pricing.lagrangian_bound`), valid whether or not the LP has converged, and the LP's exact value
once no column prices out. docs/engine.md states the problems in mathematics.

Columns that stay out of the basis with a positive reduced cost leave the restricted LP (one of
every column ever generated grows large and makes each round slow); they are priced with all the
others and come back if they price out again, so the LP's value is unchanged. From
``remove_once_from`` households a column that came back stays: each column leaves at most once,
so removals cannot make the rounds cycle.

With ``smoothing`` (alpha) the columns that price out under the LP's duals are ranked, per
household, by their reduced cost at alpha x the centre + (1 - alpha) x the LP's duals, among those
that price out there too. The centre is the first smoothed round's duals, then each such point
whose Lagrangian bound beats the centre's (Wentges: the LP's own duals never become the centre);
every point's bound counts. Convergence is still decided by the LP's own duals.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import numpy as np

from allocator.engine.columns import Columns
from allocator.engine.instance import Instance
from allocator.engine.optimiser import backend
from allocator.engine.optimiser import dive as diving
from allocator.engine.optimiser.breakpoint_lp import BreakpointLP, RestrictedLP
from allocator.engine.optimiser.callbacks import SolveCallbacks
from allocator.engine.optimiser.model import base_bounds, base_model, column_entries
from allocator.engine.optimiser.pricing import (
    Bound,
    Lowest,
    Pricer,
    columns_added_per_household,
    lagrangian_bound,
    lowest_per_household,
    per_household_minimum,
    pricer,
)
from allocator.engine.params import EngineParams

Enough = Callable[[float, float], bool]  # (the bound so far, the restricted LP's value) -> stop?


@dataclass(frozen=True)
class LPState:
    """Where the rounds stand after a run of them."""

    answer: backend.SolverAnswer  # the restricted LP's last answer solved to optimality
    columns: np.ndarray  # the column of each of its variables after the base ones
    reduced_costs: np.ndarray  # of every column, at the last round's duals
    bound: float  # the best Lagrangian bound so far: the LP's value once converged
    converged: bool  # no column prices out: the answer is the LP over every column
    rounds: int  # rounds since the start, resumed ones included
    # the LP can be dived from this answer (not when it is an earlier round's than the LP's
    # columns, which an interrupted round leaves behind, nor when a resume returned at once)
    divable: bool


class Dived(NamedTuple):
    """A dive's end: the LP's values, the LP's columns then, and whether the values are integral."""

    values: np.ndarray
    columns: np.ndarray
    integral: bool


@dataclass(frozen=True)
class Optimum:
    """The converged LP back at its optimal basis, with what its rounds price by: for cuts."""

    lp: RestrictedLP
    columns: np.ndarray
    price: Pricer
    lowest: Lowest
    lagrangian: Bound
    per_household: int  # columns a pricing round adds per household


class ColumnGeneration:
    """The restricted LP and the rounds that grow it; `run` goes on from where it stopped.

    ``initial`` marks the first columns; ``start_plan``, when given, is a plan's columns (sorted,
    all among the initial ones) whose basis the first solve starts from.
    """

    def __init__(
        self,
        inst: Instance,
        cols: Columns,
        initial: np.ndarray,
        params: EngineParams,
        start_plan: np.ndarray | None = None,
        smoothing: float = 0.0,
        callbacks: SolveCallbacks | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        N = inst.n_households
        self.inst, self.cols, self.params, self.smoothing = inst, cols, params, smoothing
        self.callbacks = callbacks or SolveCallbacks()
        self.stop = stop  # once set, no further round starts (as out of time)
        breakpoints = N <= params.breakpoint_rows_up_to
        self.base = base_bounds(inst) if breakpoints else base_model(inst)
        self.lp: RestrictedLP
        if breakpoints:  # the same LP in fewer rows, no running totals
            self.lp = BreakpointLP(inst, self.base)
            self.n0 = N  # the unplaced flags come first, the columns after them
        else:
            self.lp = backend.IncrementalLP(self.base)
            self.n0 = len(self.base.cost)  # the base variables first, the columns after them
            # the running totals' values are never read (plans and dives read choices only)
            self.lp.leave_values_out(N, self.n0)
        self.lp_cols = np.zeros(0, dtype=np.int64)  # the column of each LP variable after n0
        self.in_lp = np.zeros(len(cols), dtype=bool)
        self.rc = np.zeros(len(cols))  # every column's reduced cost at the last round's duals
        self.bound = -np.inf
        self.rounds = 0
        self.price = pricer(inst, cols)
        self.lowest = per_household_minimum(cols.household, N)
        self.lagrangian = lagrangian_bound(inst, self.base)
        self.per_household = columns_added_per_household(N, params)
        self._idle = np.zeros(0, dtype=np.int64)  # rounds each spent non-basic with rc > 0
        self._remove_once = N >= params.remove_once_from
        self._removed = np.zeros(len(cols), dtype=bool)
        self._lp_basis: tuple[np.ndarray, np.ndarray] | None = None  # before dives, to resume
        self._last: tuple[backend.SolverAnswer, np.ndarray] | None = None  # last optimal round
        self._took = 0.0  # seconds the last optimal round's solve took
        self._pending: np.ndarray | None = None  # what priced out when the rounds stopped
        self._centre: np.ndarray | None = None  # the point of the best smoothed bound
        self._centre_bound = -np.inf
        self._add(np.flatnonzero(initial))
        if start_plan is not None:
            self._start_from(start_plan)

    def run(
        self, deadline: float, growth: float | None = None, enough: Enough | None = None
    ) -> LPState:
        """Rounds until no column prices out or the next round would not finish in time.

        A round may take ``growth`` times the last one (``params.round_growth`` unless given): an
        LP that nothing follows can afford to try a round that may not finish. ``enough(bound,
        value)``, when given, is asked before each further round whether the bound so far and the
        restricted LP's value are enough; it stops the rounds as running out of time would. With
        less time left than ``growth`` times the last round, the last answer comes back at once;
        so does it once ``stop`` is set.
        """
        growth = self.params.round_growth if growth is None else growth
        stopped = self.stop is not None and self.stop.is_set()
        if self._last is not None and (
            stopped or time.perf_counter() + growth * self._took >= deadline
        ):
            # resumed with less time left than a round takes (or stopped): the round would be
            # cut off at the deadline and give nothing
            return self._state(*self._last, converged=False, divable=False)
        self._restore_basis()
        if self._pending is not None:  # re-solving the stopped round's LP would only repeat it
            self._extend(self._pending[~self.in_lp[self._pending]], self.rc)  # a dive may have
            self._pending = None  # added some since
        while True:
            self.rounds += 1
            began = time.perf_counter()
            # GLOP looks at its clock now and then: stopped a little early, it ends in time
            answer = self.lp.solve((deadline - began) * (1.0 - self.params.glop_stop_margin))
            seconds = time.perf_counter() - began
            kept = self.lp_cols
            if not (answer.optimal and answer.duals is not None):
                if self._last is not None:  # out of time mid-round: the previous round counts
                    answer, kept = self._last
                return self._state(answer, kept, converged=False, divable=False)
            self._last, self._took = (answer, kept), seconds
            self.rc = self.price(answer.duals)
            tol = 1e-9 * max(1.0, abs(answer.objective))
            negative = np.flatnonzero((self.rc < -tol) & ~self.in_lp)
            if negative.size == 0:  # converged: the bound is the LP's value, no need of its own
                self.bound = answer.objective
                return self._state(answer, kept, converged=True, divable=True)
            own_bound = self.lagrangian(answer.duals, self.lowest(self.rc))
            self.bound = max(self.bound, own_bound)
            # a round that would not finish in time is not started: an interrupted round is
            # time lost to the MIP, and it leaves the LP's columns out of step with its answer
            if (
                time.perf_counter() + growth * self._took >= deadline
                or (self.stop is not None and self.stop.is_set())
                or (enough is not None and enough(self.bound, answer.objective))
            ):
                self._pending = negative
                return self._state(answer, kept, converged=False, divable=True)
            ranking = self.rc
            if self.smoothing > 0:
                at_point = self._smoothed(answer.duals, own_bound)
                both = negative[at_point[negative] < -tol]
                if both.size:  # else the smoothed point prices out nothing new: the LP's own
                    negative, ranking = both, at_point
            self._extend(negative, ranking)

    def dive(
        self,
        answer: backend.SolverAnswer,
        deadline: float,
        price_columns: bool,
        fix_at: float,
        fix_share: float = 0.0,
    ) -> Dived:
        """Dive from this answer (`dive.dive`) on the LP itself, pricing columns in as it goes
        when ``price_columns``; the rounds resume afterwards from the LP's basis before it."""
        start, owner = self._dive_start(answer)
        if self._lp_basis is None:
            self._lp_basis = self.lp.basis()
        grow, max_rounds = (
            (self._grow, self.params.pricing_dive_rounds) if price_columns else (None, np.inf)
        )
        self.callbacks.dive_started(_glop_of(self.lp))
        values, integral = diving.dive(
            self.lp,
            start,
            owner,
            self.n0,
            deadline,
            grow,
            max_rounds,
            fix_at=fix_at,
            fix_share=fix_share,
        )
        self.callbacks.dive_ended(values, integral)
        # a round that priced columns in and then ran out of time left them out of its values
        values = np.pad(values, (0, self.n0 + self.lp_cols.size - values.size))
        return Dived(values, self.lp_cols, integral)

    def dive_on_a_copy(
        self, answer: backend.SolverAnswer, deadline: float, fix_at: float
    ) -> Callable[[], Dived]:
        """The LP as it stands copied into a second GLOP, and a function that dives on the copy
        from this answer (without pricing): another thread can run it while the rounds go on."""
        start, owner = self._dive_start(answer)
        copy: RestrictedLP
        if isinstance(self.lp, BreakpointLP):
            copy = self.lp.copy()
        else:
            copy = backend.IncrementalLP(self.base)
            copy.leave_values_out(self.inst.n_households, self.n0)
            sub = self.cols.take(self.lp_cols)
            rows, var, vals = column_entries(self.inst, sub, 0)
            copy.add_columns(sub.cost, rows, var, vals)
        basis = self.lp.basis()
        if basis is not None:
            copy.set_basis(*basis)
        columns = self.lp_cols.copy()
        return partial(self._dive_copy, copy, start, owner, deadline, fix_at, columns)

    def at_optimum(self) -> Optimum:
        """The converged LP, back at its optimal basis, for cuts: it is neither resumed nor dived
        after them (its rows would price with the cuts' duals)."""
        self._restore_basis()
        return Optimum(
            self.lp, self.lp_cols, self.price, self.lowest, self.lagrangian, self.per_household
        )

    def _state(
        self, answer: backend.SolverAnswer, kept: np.ndarray, *, converged: bool, divable: bool
    ) -> LPState:
        return LPState(answer, kept, self.rc, self.bound, converged, self.rounds, divable)

    def _start_from(self, start_plan: np.ndarray) -> None:
        """The plan as the first basis: per household its column or unplaced flag, and every
        running total (triangular, so a basis; primal feasible as the plan is), or on breakpoint
        rows every breakpoint's slack: the first solve starts from the plan's cost."""
        N, n0 = self.inst.n_households, self.n0
        chosen = np.searchsorted(self.lp_cols, start_plan)
        assert np.array_equal(self.lp_cols[chosen], start_plan)
        status = np.full(self.lp.n_vars, backend.AT_LOWER)
        status[N:n0] = backend.BASIC
        status[:N] = backend.BASIC
        status[self.cols.household[start_plan]] = backend.AT_LOWER
        status[n0 + chosen] = backend.BASIC
        self.lp.set_basis(status, self.lp.plan_row_status())

    def _add(self, idx: np.ndarray) -> None:
        sub = self.cols.take(idx)
        if isinstance(self.lp, BreakpointLP):
            self.lp.add_placements(self.inst, sub)
        else:
            rows, var, vals = column_entries(self.inst, sub, 0)
            self.lp.add_columns(sub.cost, rows, var, vals)
        self.lp_cols = np.concatenate([self.lp_cols, idx])
        self._idle = np.concatenate([self._idle, np.zeros(idx.size, dtype=np.int64)])
        self.in_lp[idx] = True

    def _remove_idle(self) -> None:
        """Columns non-basic with a positive reduced cost for ``idle_rounds_before_removal``
        rounds leave the LP (not below ``min_columns_to_remove``: a small LP gains nothing)."""
        if self.lp_cols.size < self.params.min_columns_to_remove:
            return
        lp_cols = self.lp_cols
        idle_now = self.lp.nonbasic_at_zero()[self.n0 :] & (self.rc[lp_cols] > 0)
        self._idle = np.where(idle_now, self._idle + 1, 0)
        out = self._idle >= self.params.idle_rounds_before_removal
        if self._remove_once:
            out &= ~self._removed[lp_cols]
        if out.any():
            self.lp.remove(self.n0 + np.flatnonzero(out))
            self.in_lp[lp_cols[out]] = False
            self._removed[lp_cols[out]] = True
            self.lp_cols, self._idle = lp_cols[~out], self._idle[~out]

    def _add_lowest(self, candidates: np.ndarray, reduced: np.ndarray) -> np.ndarray:
        """Add each household's lowest-``reduced`` candidates (``per_household`` of them)."""
        new = lowest_per_household(
            self.cols, reduced, self.inst.n_households, self.per_household, among=candidates
        )
        self._add(new)
        return new

    def _extend(self, negative: np.ndarray, ranking: np.ndarray) -> None:
        self._remove_idle()
        self._add_lowest(negative, ranking)

    def _grow(self, answer: backend.SolverAnswer, settled: np.ndarray) -> np.ndarray:
        """For a pricing dive: add the columns that price out for unsettled households; return
        their households (the rounds' own reduced costs stay those of their last round)."""
        assert answer.duals is not None
        rc = self.price(answer.duals)
        tol = 1e-9 * max(1.0, abs(answer.objective))
        negative = np.flatnonzero((rc < -tol) & ~self.in_lp & ~settled[self.cols.household])
        return self.cols.household[self._add_lowest(negative, rc)]

    def _smoothed(self, duals: np.ndarray, own_bound: float) -> np.ndarray:
        """Reduced costs at the smoothed duals; the bound and the centre follow them."""
        if self._centre is None:  # the first smoothed round starts from its own duals
            self._centre, self._centre_bound = duals, own_bound
        point = self.smoothing * self._centre + (1.0 - self.smoothing) * duals
        ranking = self.price(point)
        here = self.lagrangian(point, self.lowest(ranking))
        self.bound = max(self.bound, here)
        if here > self._centre_bound:
            self._centre, self._centre_bound = point, here
        return ranking

    def _restore_basis(self) -> None:
        """After dives: back to the LP's own optimal basis, not the last dive's."""
        if self._lp_basis is not None:
            var_status, row_status = self._lp_basis
            added = np.full(self.lp.n_vars - var_status.size, backend.AT_LOWER)
            self.lp.set_basis(np.concatenate([var_status, added]), row_status)
            self._lp_basis = None

    def _dive_start(self, answer: backend.SolverAnswer) -> tuple[np.ndarray, np.ndarray]:
        """The answer's values over the LP's variables now (columns a pricing dive added are at
        0), and the household of each choice: unplaced flags, then the LP's columns."""
        assert answer.values is not None
        N = self.inst.n_households
        owner = np.concatenate([np.arange(N), self.cols.household[self.lp_cols]])
        start = np.zeros(self.n0 + self.lp_cols.size)
        start[: answer.values.size] = answer.values
        return start, owner

    def _dive_copy(
        self,
        copy: RestrictedLP,
        start: np.ndarray,
        owner: np.ndarray,
        deadline: float,
        fix_at: float,
        columns: np.ndarray,
    ) -> Dived:
        self.callbacks.dive_started(_glop_of(copy))
        values, integral = diving.dive(copy, start, owner, self.n0, deadline, fix_at=fix_at)
        self.callbacks.dive_ended(values, integral)
        return Dived(values, columns, integral)


def _glop_of(lp: RestrictedLP) -> backend.IncrementalLP:
    """The GLOP model that solves this LP: what the dive hook is handed."""
    return lp.glop if isinstance(lp, BreakpointLP) else lp
