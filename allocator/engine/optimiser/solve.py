"""The optimiser's outline: `solve_optimal` runs its stages in order, and each may end the solve.

1. Greedy's plan is the first incumbent; it is optimal when no column exists or when it meets
   the bound of every household planned alone (most weeks of a simulation).
2. Cost-aware greedy plans (`incumbents`) improve it and give the LP its first columns and basis.
3. The LP relaxation by column generation (`column_generation`), with a dive as soon as its bound
   leaves room within the gap (`dive`); an integral LP is the optimum.
4. Incumbents from the LP: rounded in one pass, then dived, without and with pricing.
5. City size, where the LP has not converged and is too large for a MIP: the time left goes to
   more rounds of the LP (a tighter bound), with the dive on a copy beside them.
6. Clique cuts on the LP (`cuts`), then restricted and proof MIPs (`mips`).

A ``stop`` event set from outside (Ctrl-C in the command line) ends the search between stages,
between the LP's rounds and inside a running solve (`backend.stopping`): the best plan so far
comes back, with the bound known then.

docs/engine.md states the model and each stage; `EngineParams` holds every setting.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from allocator.engine.columns import (
    Columns,
    build_columns,
    kept_unplaced_cost,
    objective,
    unplaced_cost,
)
from allocator.engine.instance import Instance
from allocator.engine.optimiser import backend, cuts, fairness, incumbents, mips
from allocator.engine.optimiser.callbacks import SolveCallbacks
from allocator.engine.optimiser.column_generation import ColumnGeneration, Dived, LPState
from allocator.engine.optimiser.incumbents import Plan
from allocator.engine.optimiser.model import is_integral, plan_from
from allocator.engine.optimiser.outcome import SolveOutcome, proven, within_gap
from allocator.engine.optimiser.pricing import column_finder, per_household_minimum
from allocator.engine.optimiser.warm import WarmStart
from allocator.engine.params import EngineParams
from allocator.engine.run import RunSettings

log = logging.getLogger("allocator")


def solve_optimal(
    inst: Instance,
    greedy_plan: Plan,
    *,
    deadline: float,
    workers: int,
    seed: int,
    relative_gap: float,
    params: EngineParams | None = None,
    callbacks: SolveCallbacks | None = None,
    stop: threading.Event | None = None,
) -> SolveOutcome:
    """Best plan found by the deadline; greedy's plan when the solver finds nothing better.

    ``params`` are the optimiser's settings (defaults when None); ``callbacks`` watch its stages.
    ``stop``, once set (from another thread), ends the search early with its best plan so far.
    """
    run = RunSettings(deadline, workers, seed, relative_gap, params or EngineParams(), stop)
    return solve_run(inst, greedy_plan, run, callbacks)


def solve_run(
    inst: Instance,
    greedy_plan: Plan,
    run: RunSettings,
    callbacks: SolveCallbacks | None = None,
    warm: WarmStart | None = None,
    cols: Columns | None = None,
    greedy_objective: float | None = None,
    whole_batch: bool = True,
) -> SolveOutcome:
    """`solve_optimal` with its settings in one `RunSettings` (``max_memory`` is not read).

    ``warm``, when given, adds the last solve's LP columns to the LP's first ones (`warm`) and
    keeps this solve's for the next one. ``cols``: the instance's columns (`build_columns`)
    when the caller has built them; ``greedy_objective``: `objective` of ``greedy_plan`` when
    the caller has it. ``whole_batch`` False: the instance is a slice of the batch
    (`size`), whose fairness bound the caller honours on the whole plan, so no fairness stage."""
    fair = whole_batch and inst.policy.fair_wait_days is not None
    staged = run
    if fair:  # the fairness stage keeps a share of the time for its MIPs
        now = time.perf_counter()
        share = 1.0 - run.engine.fair_share_of_time
        staged = dataclasses.replace(run, deadline=now + share * max(run.deadline - now, 0.0))
    search = _Search(
        inst, greedy_plan, staged, callbacks or SolveCallbacks(), warm, cols, greedy_objective
    )
    with backend.stopping(run.stop):
        outcome = _stages(search)
        if fair:
            lp_columns = search.cg.lp_cols if hasattr(search, "cg") else None
            record = fairness.enforce(inst, search.cols, outcome, greedy_plan, run, lp_columns)
            outcome.detail = f"{outcome.detail}; {record.note}" if outcome.detail else record.note
    if warm is not None:
        search.keep_for_next_week()
    return outcome


def _stages(search: _Search) -> SolveOutcome:
    """The outline: each stage may end the solve, and so may a stop between them."""
    if search.greedy_is_optimal():
        return search.outcome
    if search.stopped():
        return search.interrupted()
    search.take_heuristic_plans()
    lp = search.solve_lp()
    if search.stopped():
        return search.interrupted()
    if not (lp.answer.optimal and lp.answer.values is not None):
        return search.lp_stopped(lp)
    search.read_solution(lp)
    if search.lp_is_integral(lp):
        return search.outcome
    search.round_and_dive(lp)
    if search.settled():
        return search.within_the_gap()
    if search.stopped():
        return search.interrupted()
    if search.no_mip(lp):
        return search.more_lp_rounds_instead_of_mips(lp)
    return search.cuts_then_mips(lp)


def lp_relaxation(
    inst: Instance, deadline: float, cols: Columns | None = None, params: EngineParams | None = None
) -> tuple[float, float, bool, int]:
    """The LP relaxation over every column: (value, bound, converged, rounds).

    The solver's own LP stage run alone to its end: the reference bound of the benchmark where the
    whole LP does not fit in HiGHS (city size). The value is the LP optimum when converged; the
    bound holds either way. ``cols`` are the instance's columns (`build_columns`) when the
    caller has them already.
    """
    params = params or EngineParams()
    cols = build_columns(inst) if cols is None else cols
    if len(cols) == 0:
        value = float(unplaced_cost(inst).sum())
        return value, value, True, 0
    columns_of = column_finder(inst, cols)
    plans = incumbents.cost_aware_plans(inst, params.heuristic_stay_exponents)
    best = min(plans, key=lambda plan: objective(inst, *plan))
    initial = incumbents.initial_columns(
        inst, cols, columns_of, plans, params.initial_columns_per_household
    )
    cg = ColumnGeneration(inst, cols, initial, params, start_plan=np.sort(columns_of(*best)))
    lp = cg.run(deadline)
    return float(lp.answer.objective), float(lp.bound), lp.converged, lp.rounds


def plan_objective(
    cols: Columns, chosen: np.ndarray, placed: np.ndarray, unplaced: np.ndarray
) -> float:
    """`objective` of the plan whose placed households (``placed``) take the columns ``chosen``,
    one each; ``unplaced``: `unplaced_cost`. The same numbers summed in the same order (a
    column's cost is its `placement_cost`, number by number), without pricing them again."""
    by_household = chosen[np.argsort(cols.household[chosen])]
    return float(cols.cost[by_household].sum() + unplaced[~placed].sum())


class _Search:
    """One solve's state between its stages: the best plan so far (``outcome``), the bound that
    decides whether it is within the gap (``lp_bound``) and the column generation."""

    def __init__(
        self,
        inst: Instance,
        greedy_plan: Plan,
        run: RunSettings,
        callbacks: SolveCallbacks,
        warm: WarmStart | None = None,
        cols: Columns | None = None,
        greedy_objective: float | None = None,
    ) -> None:
        self.inst, self.greedy_plan, self.deadline = inst, greedy_plan, run.deadline
        self.warm = warm
        self.workers, self.seed, self.relative_gap = run.workers, run.seed, run.relative_gap
        self.params, self.callbacks, self.stop = run.engine, callbacks, run.stop
        params = run.engine
        self.greedy_objective = (
            objective(inst, *greedy_plan) if greedy_objective is None else greedy_objective
        )
        self.cols = build_columns(inst) if cols is None else cols
        self.outcome = SolveOutcome.of_greedy(greedy_plan, self.greedy_objective, len(self.cols))
        self.lp_bound = -np.inf
        N = inst.n_households
        self.fix_share = params.dive_fix_share if N >= params.dive_fix_share_from else 0.0
        self.cg: ColumnGeneration  # the stages below set these
        self.columns_of: Callable[[np.ndarray, np.ndarray], np.ndarray]
        self.greedy_columns: np.ndarray
        self.initial: np.ndarray
        self.start_plan: np.ndarray
        self.x: np.ndarray  # the LP's values per column
        self.generated = ""  # what the column generation did, for the outcome's detail

    def greedy_is_optimal(self) -> bool:
        """No column, or greedy meets the bound of every household planned alone: no LP needed."""
        outcome, g_obj = self.outcome, self.greedy_objective
        if len(self.cols) == 0:  # nobody can be placed anywhere: the empty plan is optimal
            outcome.best_bound, outcome.proven_optimal, outcome.source = g_obj, True, "lp"
            return True
        alone = per_household_minimum(self.cols.household, self.inst.n_households)(self.cols.cost)
        independent = float(np.minimum(alone, kept_unplaced_cost(self.inst)).sum())
        if g_obj <= independent + 1e-9 * max(1.0, abs(g_obj)):
            outcome.best_bound, outcome.proven_optimal = independent, True
            outcome.detail = "greedy meets the bound of every household planned alone"
            return True
        return False

    def take_heuristic_plans(self) -> None:
        """Cost-aware plans as incumbents; their columns and greedy's start the LP, the best of
        all plans is its first basis."""
        inst, cols, params = self.inst, self.cols, self.params
        self.columns_of = column_finder(inst, cols)
        self.greedy_columns = self.columns_of(*self.greedy_plan)
        plans = []
        if inst.n_households >= params.heuristic_plans_from:
            plans = incumbents.cost_aware_plans(inst, params.heuristic_stay_exponents)
        for plan in plans:
            self.consider("heuristic", plan)
        self.initial = incumbents.initial_columns(
            inst, cols, self.columns_of, plans, params.initial_columns_per_household
        )
        self.initial[self.greedy_columns] = True  # found once, above
        if self.warm is not None:
            self.initial[self.warm.columns_in(inst, cols)] = True
        outcome = self.outcome
        if outcome.pool is self.greedy_plan[0] and outcome.start is self.greedy_plan[1]:
            self.start_plan = np.sort(self.greedy_columns)  # no plan beat greedy's
        else:
            self.start_plan = np.sort(self.columns_of(outcome.pool, outcome.start))

    def solve_lp(self) -> LPState:
        """The LP gets most of the time, the MIPs the rest (a plan from a restricted MIP beats
        greedy's). Its rounds stop for a dive once their bound leaves room within the gap."""
        params, outcome = self.params, self.outcome
        t_lp = time.perf_counter()
        lp_deadline = t_lp + params.lp_share_of_time * max(self.deadline - t_lp, 0.0)
        smoothing = 0.0
        if (
            self.relative_gap >= params.smoothing_from_gap
            and self.inst.n_households >= params.smoothing_from
        ):
            smoothing = params.dual_smoothing
        self.cg = ColumnGeneration(
            self.inst,
            self.cols,
            self.initial,
            params,
            self.start_plan,
            smoothing,
            self.callbacks,
            self.stop,
        )
        self.callbacks.column_generation(self.cg)
        lp = self.cg.run(lp_deadline, enough=self._near)
        self.callbacks.lp_solved(lp, time.perf_counter() - t_lp)
        lp, early_dive = self._early_dive(lp, lp_deadline)
        outcome.lp_seconds = time.perf_counter() - t_lp - early_dive
        self.lp_bound = outcome.lp_bound = lp.bound
        if np.isfinite(lp.bound):
            outcome.best_bound = lp.bound
        return lp

    def _near(self, bound: float, value: float) -> bool:
        """The bound is close enough to the restricted LP's value for a dive to settle the gap."""
        excess = self.params.dive_excess
        return value - bound <= (self.relative_gap - excess) * max(abs(value), 1e-9)

    def _early_dive(self, lp: LPState, lp_deadline: float) -> tuple[LPState, float]:
        """When the rounds stopped with their bound within part of the gap of the restricted LP's
        value, a dive may settle the gap without the last rounds; if not, they go on within the
        LP's share of the time. Returns the LP as it ends and the dive's seconds."""
        if not (
            not lp.converged
            and lp.divable
            and lp.columns.size <= self.params.max_unconverged_mip_columns  # a MIP may follow
            and self._near(lp.bound, lp.answer.objective)
        ):
            return lp, 0.0
        began = time.perf_counter()
        until = began + self.params.dive_share_of_time * (lp_deadline - began)
        self._dive_for_a_plan(lp, until, False, self.params.dive_fix_at, self.fix_share)
        early_dive = time.perf_counter() - began
        if not within_gap(self.outcome.objective, lp.bound, self.relative_gap):
            lp = self._resume(lp_deadline)
        return lp, early_dive

    def _resume(
        self, deadline: float, growth: float | None = None, enough: Callable | None = None
    ) -> LPState:
        began = time.perf_counter()
        lp = self.cg.run(deadline, growth, enough)
        self.callbacks.lp_solved(lp, time.perf_counter() - began)
        return lp

    def stopped(self) -> bool:
        """The caller has asked the search to stop."""
        return self.stop is not None and self.stop.is_set()

    def interrupted(self) -> SolveOutcome:
        """Stopped from outside: the best plan so far, with the bound known by then."""
        outcome = self.outcome
        outcome.proven_optimal = proven(outcome)
        done = f" ({self.generated})" if self.generated else ""
        outcome.detail = f"interrupted; plan from {outcome.source}{done}"
        return outcome

    def lp_stopped(self, lp: LPState) -> SolveOutcome:
        self.outcome.detail = f"LP stopped: {lp.answer.reason}; plan from {self.outcome.source}"
        return self.outcome

    def read_solution(self, lp: LPState) -> None:
        """The LP's values per column (every column outside the restricted LP is at zero)."""
        assert lp.answer.values is not None
        C = len(self.cols)
        self.x = np.zeros(C)
        self.x[lp.columns] = lp.answer.values[self.cg.n0 :]
        self.generated = f"{lp.columns.size} of {C} columns generated in {lp.rounds} rounds"

    def lp_is_integral(self, lp: LPState) -> bool:
        """A converged integral LP is the plan, and optimal (checked over the restricted LP's
        columns and unplaced flags: every other column is zero)."""
        values, n0, N = lp.answer.values, self.cg.n0, self.inst.n_households
        assert values is not None
        if not (lp.converged and is_integral(np.concatenate([values[n0:], values[:N]]))):
            return False
        outcome = self.outcome
        pool, start = plan_from(self.cols, self.x, N)
        chosen, placed = np.flatnonzero(self.x > 0.5), pool >= 0
        if chosen.size == np.count_nonzero(placed):  # one column per placed household
            obj = plan_objective(self.cols, chosen, placed, kept_unplaced_cost(self.inst))
        else:
            obj = objective(self.inst, pool, start)
        if obj <= self.greedy_objective + 1e-9:
            outcome.pool, outcome.start, outcome.objective, outcome.source = pool, start, obj, "lp"
        outcome.proven_optimal = obj <= self.greedy_objective + 1e-9
        outcome.detail = f"LP relaxation integral ({self.generated})"
        return True

    def round_and_dive(self, lp: LPState) -> None:
        """Incumbents for the MIPs to beat: the LP rounded in one pass (quick), then dived
        (nearly optimal), first over the LP's columns, then, from a converged LP at size,
        pricing new ones as it goes. An unconverged LP dives too, without pricing (that would be
        column generation again): its value comes close to the LP optimum long before the last
        columns are priced. Where the dive runs beside the LP's resumed rounds, not here."""
        if not self.settled():
            self.consider("rounding", incumbents.round_lp(self.inst, self.cols, self.x))
        if not lp.divable or self._dive_beside(lp):
            return
        pricing = lp.converged and self.inst.n_households >= self.params.pricing_dive_from
        for price_columns in (False, True) if pricing else (False,):
            if self.settled():
                break
            now = time.perf_counter()
            until = now + self._dive_share(lp) * (self.deadline - now)
            # an unconverged LP dives in fewer, larger steps already: no share
            share = self.fix_share if lp.converged else 0.0
            self._dive_for_a_plan(lp, until, price_columns, self._fix_at(lp), share)

    def settled(self) -> bool:
        """The plan is within the gap of the LP's bound (which holds, converged or not)."""
        return within_gap(self.outcome.objective, self.lp_bound, self.relative_gap)

    def within_the_gap(self) -> SolveOutcome:
        outcome = self.outcome
        outcome.proven_optimal = proven(outcome)
        outcome.detail = f"plan from {outcome.source} within the requested gap ({self.generated})"
        return outcome

    def no_mip(self, lp: LPState) -> bool:
        """An unconverged LP too large for a MIP (city size): such MIPs found no plan at all."""
        return not lp.converged and lp.columns.size > self.params.max_unconverged_mip_columns

    def _dive_share(self, lp: LPState) -> float:
        """With no MIP to follow, the dive gets most of what the LP leaves."""
        no_mip = self.no_mip(lp)
        return self.params.unconverged_dive_share if no_mip else self.params.dive_share_of_time

    def _fix_at(self, lp: LPState) -> float:
        """An unconverged LP is dived against the clock, in fewer and larger steps."""
        return self.params.dive_fix_at if lp.converged else self.params.unconverged_dive_fix_at

    def _dive_beside(self, lp: LPState) -> bool:
        """Without a MIP to follow and with two workers, the dive runs on a copy of the LP on a
        second core while the LP's rounds resume on this one (GLOP releases the GIL)."""
        return self.no_mip(lp) and self.workers >= 2

    def more_lp_rounds_instead_of_mips(self, lp: LPState) -> SolveOutcome:
        """The time left goes to more rounds of the LP, which tighten the bound; an LP that
        converges with time left over is dived once more, as a converged one would have been."""
        outcome, params = self.outcome, self.params
        beside = None
        if self._dive_beside(lp) and lp.divable:
            now = time.perf_counter()
            until = now + self._dive_share(lp) * (self.deadline - now)
            beside = _DiveBeside(self, self.cg.dive_on_a_copy(lp.answer, until, self._fix_at(lp)))
        t_more = time.perf_counter()
        try:
            enough = beside.enough if beside is not None else None
            later = self._resume(self.deadline, params.resumed_growth, enough)
            outcome.lp_seconds += time.perf_counter() - t_more
            if beside is not None:
                beside.take()
        finally:
            if beside is not None:
                beside.close()
        self.lp_bound = later.bound
        if later.converged and later.divable and not self.settled() and not self.stopped():
            self._dive_for_a_plan(later, self.deadline, False, params.dive_fix_at, self.fix_share)
        outcome.lp_bound = outcome.best_bound = later.bound
        outcome.proven_optimal = proven(outcome)  # the bound holds converged or not
        state = "converged" if later.converged else "not converged"
        outcome.detail = (
            f"{'interrupted; ' if self.stopped() else ''}plan from {outcome.source}; LP {state}"
            f" after {later.rounds} rounds (no MIP over its {lp.columns.size} columns)"
        )
        return outcome

    def cuts_then_mips(self, lp: LPState) -> SolveOutcome:
        """The first MIP's columns, then clique cuts on the converged LP (they may settle the gap
        alone), then MIPs until the gap is settled or time is out."""
        outcome, params, gap = self.outcome, self.params, self.relative_gap
        ctx = mips.MipContext(
            inst=self.inst,
            cols=self.cols,
            rc=lp.reduced_costs,
            lp_bound=self.lp_bound,
            converged=lp.converged,
            deadline=self.deadline,
            workers=self.workers,
            seed=self.seed,
            relative_gap=gap,
            params=params,
        )
        keep = mips.first_mip_columns(ctx, self.x, self.greedy_columns, lp.columns, outcome)
        stages = []
        if self.stopped():
            return self.interrupted()
        if lp.converged and params.clique_rounds:  # clique_rounds = 0 turns the cuts off
            note = cuts.settle_by_cliques(
                self.inst,
                self.cols,
                self.x,
                self.lp_bound,
                self.cg.at_optimum,
                outcome,
                gap,
                self.deadline,
                params,
            )
            if note is not None:
                stages.append(note)
                outcome.proven_optimal = proven(outcome)
                if within_gap(outcome.objective, outcome.best_bound, gap):
                    outcome.detail = f"LP: {self.generated}; {note}"
                    return outcome
        if self.stopped():
            return self.interrupted()
        mips.settle_by_mips(ctx, keep, outcome, stages, self.generated)
        if self.stopped():
            outcome.detail = f"interrupted; {outcome.detail}"
        return outcome

    def keep_for_next_week(self) -> None:
        """The restricted LP's columns, or the plan's where no LP ran, for `warm`."""
        assert self.warm is not None
        if hasattr(self, "cg"):
            lp_columns = self.cg.lp_cols
        elif len(self.cols):
            lp_columns = column_finder(self.inst, self.cols)(self.outcome.pool, self.outcome.start)
        else:
            lp_columns = np.zeros(0, dtype=np.int64)
        self.warm.keep(self.inst, self.cols, lp_columns)

    def consider(self, source: str, plan: Plan) -> None:
        """The plan becomes the incumbent if it is better."""
        obj = objective(self.inst, *plan)
        log.debug(
            "incumbent candidate %s: %.6f (best so far %.6f)", source, obj, self.outcome.objective
        )
        if obj < self.outcome.objective - 1e-9:
            self.outcome.pool, self.outcome.start = plan
            self.outcome.objective, self.outcome.source = obj, source

    def consider_dived(self, dived: Dived) -> None:
        """A dive's plan: its values when integral, else rounded (they hold most households
        fixed already, which beats rounding the LP)."""
        x_dived, dived_cols = dived.values[self.cg.n0 :], self.cols.take(dived.columns)
        N = self.inst.n_households
        if dived.integral:
            plan = plan_from(dived_cols, x_dived, N)
        else:
            plan = incumbents.round_lp(self.inst, dived_cols, x_dived)
        self.consider("dive", plan)

    def _dive_for_a_plan(
        self, lp: LPState, until: float, price_columns: bool, fix_at: float, share: float = 0.0
    ) -> None:
        self.consider_dived(self.cg.dive(lp.answer, until, price_columns, fix_at, share))


class _DiveBeside:
    """A dive on a copy of the LP in a second thread while the LP's rounds resume in this one."""

    def __init__(self, search: _Search, task: Callable[[], Dived]) -> None:
        self._search = search
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dive")
        # in a copy of this thread's context, so that its solves see the search's stop
        self._dived = self._pool.submit(contextvars.copy_context().run, task)
        self._taken = False

    def take(self) -> None:
        """Wait for the dive and consider its plan, once."""
        if not self._taken:
            self._taken = True
            self._search.consider_dived(self._dived.result())

    def enough(self, bound: float, value: float) -> bool:
        """For the resumed rounds: the dive has ended with a plan within the gap of the bound."""
        if not self._dived.done():
            return False
        self.take()
        return within_gap(self._search.outcome.objective, bound, self._search.relative_gap)

    def close(self) -> None:
        self._pool.shutdown()
