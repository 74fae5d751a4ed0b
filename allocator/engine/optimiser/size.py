"""Whether the optimiser's model fits the memory and the time it is given, and how a batch is
planned when it does not.

The model's size is known before it is built: `count_columns` counts the candidate columns
(household, pool, start day) in a few numpy passes over the households and the pools' days,
where building them is the work of the solve. Its memory is the columns times
``params.model_bytes_per_column`` (the `Columns` arrays, the plan look-up, the pricing and
reduced-cost arrays of the column generation; more with support or mediation caps), its time to
build the columns times ``params.model_seconds_per_column`` plus the heuristic plans that start
the LP. The model is built only when the memory fits ``max_memory`` and the building takes at
most ``params.build_share_of_time`` of the time left. Otherwise, instead of dying of memory or
overrunning the time limit, the batch is planned by

* *heuristic plans*: the best of greedy's plan and the cost-aware greedy plans the solver starts
  from (`incumbents.cost_aware_plans`), as many of them as the time allows; then, when only the
  memory was short and the time suffices,
* *decomposition*: the households, in the order of the best of those plans (by weight x size /
  stay^a, pins first), are cut into at most ``params.max_slices`` slices whose models fit the
  memory. Each slice is solved by the optimiser in its share of the time, on the units,
  accompaniment and mediation the earlier slices left: their placements count as existing
  stays, so the plan is valid for the whole batch. It is kept when it beats the heuristic plan.

Either way the plan is valid, its status is feasible (no bound is known), and the outcome's
detail says why: "model too large: ~N columns, ~X GB > limit Y GB; planned by <method>".
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from allocator.engine.columns import build_columns, count_columns, objective
from allocator.engine.greedy import fcfs_order, solve_greedy
from allocator.engine.instance import Instance
from allocator.engine.occupancy import Occupancy
from allocator.engine.optimiser.incumbents import Plan, cost_aware_plans, processing_days
from allocator.engine.optimiser.outcome import SolveOutcome
from allocator.engine.optimiser.solve import solve_run
from allocator.engine.optimiser.warm import WarmStart
from allocator.engine.params import EngineParams
from allocator.engine.run import RunSettings
from allocator.errors import InputError

log = logging.getLogger("allocator")

GB = 1e9
MEMORY_SHARE = 0.5  # the default limit: this share of the machine's memory
FALLBACK_MEMORY = 4 * 10**9  # where the machine's memory cannot be read
MAX_MEMORY = 2**62  # above any machine's, exact in int64
# one greedy plan's time per household, for the heuristic plans' part of the estimate (1.0 to
# 1.1 s for 100,000 households on two busy cores)
PLAN_SECONDS_PER_HOUSEHOLD = 2e-5


@dataclass(frozen=True)
class ModelSize:
    """The optimiser's model as estimated before it is built."""

    columns: int  # exact
    bytes: float
    build_seconds: float  # building it, up to the LP's first round


def model_size(inst: Instance, params: EngineParams, counts: np.ndarray | None = None) -> ModelSize:
    """The model's columns, memory and time to build; ``counts``: `count_columns(inst)` when
    the caller has them."""
    counts = count_columns(inst) if counts is None else counts
    return _size_of(inst, params, int(counts.sum()))


def _size_of(inst: Instance, params: EngineParams, columns: int) -> ModelSize:
    """The memory and time to build of a model of ``columns`` columns."""
    heuristics = 0.0
    if inst.n_households >= params.heuristic_plans_from:
        n_plans = len(params.heuristic_stay_exponents)
        heuristics = n_plans * inst.n_households * PLAN_SECONDS_PER_HOUSEHOLD
    return ModelSize(
        columns=columns,
        bytes=float(columns * bytes_per_column(inst, params)),
        build_seconds=columns * params.model_seconds_per_column + heuristics,
    )


def bytes_per_column(inst: Instance, params: EngineParams) -> int:
    """Support and mediation caps add rows that every column is priced on: more arrays."""
    capped = inst.support_free is not None or bool(inst.mediation_free)
    return params.model_bytes_per_column + (params.capped_bytes_per_column if capped else 0)


def machine_memory() -> int | None:
    """The memory this process may use: the physical memory, or a container's lower limit."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        return None
    try:  # cgroup v2: a container's limit, "max" when there is none
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            total = min(total, int(limit))
    except OSError:
        pass
    return total if total > 0 else None


def default_max_memory() -> int:
    """Half of the machine's memory: the tables, the instance and the rest need the other.

    The machine's memory is read again once `MEMORY_READ_EVERY` seconds have passed, not at each
    call: a simulation plans a batch every week of every replication (reading /sys costs a
    tenth of a second per replication)."""
    global _memory_read
    now = time.monotonic()
    if _memory_read is None or now - _memory_read[0] >= MEMORY_READ_EVERY:
        _memory_read = (now, machine_memory())
    total = _memory_read[1]
    return int(MEMORY_SHARE * total) if total else FALLBACK_MEMORY


MEMORY_READ_EVERY = 60.0  # seconds
_memory_read: tuple[float, int | None] | None = None  # when, and what machine_memory said


def checked_max_memory(value: float | None) -> int:
    """``max_memory`` in bytes: the default when None; an `InputError` unless from 1 to 2^62."""
    if value is None:
        return default_max_memory()
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not (number and math.isfinite(value) and 1 <= value <= MAX_MEMORY):
        raise InputError(
            f"expected a number of bytes from 1 to 2^62, got {value!r}", field="max_memory"
        )
    return int(value)


def in_units(n_bytes: float) -> str:
    """A memory size for people: 12.3 GB, 512 MB, 64 KB (powers of 1000)."""
    for unit, scale in (("GB", GB), ("MB", 1e6), ("KB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes:.0f} B"


def solve_within_limits(
    inst: Instance,
    greedy_plan: Plan,
    run: RunSettings,
    warm: WarmStart | None = None,
    greedy_objective: float | None = None,
) -> tuple[SolveOutcome, dict[str, object]]:
    """`solve_optimal` when its model fits ``run.max_memory`` bytes (the default when None) and
    the time left before ``run.deadline``; else a method that fits (see the module's docstring).
    Returns the outcome and, for `Plan.details`, the model's estimated size and, in
    ``size_limit``, the limit it broke and the method used. ``warm`` (`warm.WarmStart`) starts
    the LP from the last solve's columns when the model is built whole; ``greedy_objective``,
    `objective` of ``greedy_plan`` when the caller has it (not worked out again)."""
    deadline, params, stop = run.deadline, run.engine, run.stop
    max_memory = default_max_memory() if run.max_memory is None else run.max_memory
    left = deadline - time.perf_counter()
    # a model that fits even with every household on every day of every pool (a simulation's
    # weekly batch) is built at once: counting its columns first would take as long again
    cols, counts = None, None
    most = _size_of(inst, params, inst.n_households * len(inst.pools) * inst.horizon)
    if most.bytes <= max_memory and most.build_seconds <= params.build_share_of_time * left:
        cols = build_columns(inst)
        size = _size_of(inst, params, len(cols))
    else:
        counts = count_columns(inst)
        size = model_size(inst, params, counts)
        left = deadline - time.perf_counter()
    # no column: nothing to build, and the solver proves the empty plan optimal at once
    too_large = size.columns > 0 and size.bytes > max_memory
    too_slow = size.columns > 0 and size.build_seconds > params.build_share_of_time * left
    details: dict[str, object] = {
        "model_columns_estimate": size.columns,
        "model_bytes_estimate": round(size.bytes),
        "max_memory": max_memory,
        "size_limit": None,
    }
    if not (too_large or too_slow):
        out = solve_run(
            inst, greedy_plan, run, warm=warm, cols=cols, greedy_objective=greedy_objective
        )
        return out, details
    if too_large:
        reason = (
            f"model too large: ~{size.columns:,} columns, ~{in_units(size.bytes)} > limit"
            f" {in_units(max_memory)}"
        )
    else:
        reason = (
            f"model too slow to build: ~{size.columns:,} columns, ~{_seconds(size.build_seconds)}"
            f" > {params.build_share_of_time:.0%} of the {_seconds(max(left, 0.0))} left"
        )
    out, exponent = _heuristic(inst, greedy_plan, deadline, params, stop)
    if not too_slow:
        assert counts is not None  # a model built at once fits
        budget = max_memory // bytes_per_column(inst, params)
        slices = _slices(counts, priority_order(inst, exponent), budget, params.max_slices)
        if slices is not None:
            out = _Slicing(inst, counts, run).solve(slices, out)
    out.detail = f"{reason}; planned by {out.detail}"
    details["size_limit"] = out.detail
    log.warning("%s", out.detail)
    return out, details


def _seconds(x: float) -> str:
    return f"{x:.1f} s" if x < 10 else f"{x:.0f} s"


def _outcome(plan: Plan, obj: float, source: str, detail: str, columns: int = 0) -> SolveOutcome:
    """A plan with no bound (its status is feasible)."""
    out = SolveOutcome.of_greedy(plan, obj, columns)
    out.source, out.detail = source, detail
    return out


def _stopped(stop: threading.Event | None) -> bool:
    return stop is not None and stop.is_set()


def _heuristic(
    inst: Instance,
    greedy_plan: Plan,
    deadline: float,
    params: EngineParams,
    stop: threading.Event | None,
) -> tuple[SolveOutcome, float | None]:
    """The best of greedy's plan and the cost-aware plans (the solver's first incumbents, one per
    exponent), each made only if the last one's time still fits before the deadline; and the
    best plan's exponent (None for greedy's)."""
    best, best_obj, source = greedy_plan, objective(inst, *greedy_plan), "greedy"
    exponent = None
    made = 0
    if inst.n_households >= params.heuristic_plans_from:
        took = inst.n_households * PLAN_SECONDS_PER_HOUSEHOLD  # until one is measured
        for a in params.heuristic_stay_exponents:
            began = time.perf_counter()
            if began + took > deadline or _stopped(stop):
                break
            plan = cost_aware_plans(inst, (a,))[0]
            took = time.perf_counter() - began
            made += 1
            obj = objective(inst, *plan)
            if obj < best_obj - 1e-9:  # as the solver takes an incumbent
                best, best_obj, source, exponent = plan, obj, "heuristic", a
    detail = f"the best of greedy's plan and {made} cost-aware greedy plans (plan from {source})"
    return _outcome(best, best_obj, source, detail), exponent


def priority_order(inst: Instance, exponent: float | None) -> np.ndarray:
    """The order in which a plan placed the households: greedy's (``exponent`` None), or the
    cost-aware plan's (`incumbents.cost_aware_plans`)."""
    if exponent is None:
        return fcfs_order(inst)
    ws = inst.weight * inst.size
    p = processing_days(inst)
    ids = np.arange(inst.n_households)
    return np.lexsort((ids, -ws / p**exponent, inst.pinned_pool < 0))


def _slices(
    counts: np.ndarray, order: np.ndarray, budget: int, max_slices: int
) -> list[np.ndarray] | None:
    """``order`` cut into as few slices as the budget allows, of about equal columns, each of at
    most ``budget``; None when that takes more than ``max_slices`` slices, or a household alone
    has more columns than the budget."""
    total = int(counts.sum())
    if total == 0 or int(counts.max()) > budget:  # one household alone does not fit
        return None
    cols = counts[order]
    n_slices = math.ceil(total / budget)
    while n_slices <= max_slices:
        # the k-th slice: the households whose columns start within the k-th n_slices-th
        before = np.cumsum(cols) - cols
        slice_of = before * n_slices // total
        sizes = np.bincount(slice_of, weights=cols, minlength=n_slices)
        if sizes.max() <= budget:
            slices = np.split(order, np.searchsorted(slice_of, np.arange(1, n_slices)))
            return [piece for piece in slices if piece.size]
        n_slices += 1
    return None


class _Slicing:
    """The optimiser on one slice after another, each on what the earlier slices left."""

    def __init__(
        self,
        inst: Instance,
        counts: np.ndarray,
        run: RunSettings,
    ) -> None:
        self.inst, self.counts, self.run = inst, counts, run
        self.deadline, self.params, self.stop = run.deadline, run.engine, run.stop
        self.taken = Occupancy(inst)  # the placements of the slices solved so far

    def solve(
        self,
        slices: list[np.ndarray],
        baseline: SolveOutcome,
    ) -> SolveOutcome:
        """The slices' plans together, or ``baseline`` when it is better. Each slice gets the
        time left in proportion to its columns; a slice whose model would take more than
        ``build_share_of_time`` of that to build is planned by greedy on what is left, and so
        is the rest once ``stop`` is set."""
        inst = self.inst
        pool = np.full(inst.n_households, -1, dtype=np.int64)
        start = pool.copy()
        remaining = int(self.counts.sum())
        built = optimised = 0
        for k, members in enumerate(slices):
            last = _stopped(self.stop)
            if last:
                members = np.concatenate(slices[k:])
            sub = self._slice(members)
            plan = solve_greedy(sub)
            columns = int(self.counts[members].sum())
            now = time.perf_counter()
            until = now + (self.deadline - now) * columns / max(remaining, 1)
            remaining -= columns
            share = self.params.build_share_of_time * (until - now)
            if not last and model_size(sub, self.params).build_seconds <= share:
                # the bound is the whole batch's: `planning` honours it on the joined plan
                run = dataclasses.replace(self.run, deadline=until)
                out = solve_run(sub, plan, run, whole_batch=False)
                plan = (out.pool, out.start)
                built += out.columns
                optimised += 1
            pool[members], start[members] = plan
            placed = members[plan[0] >= 0]
            self.taken.add_all(placed, pool[placed], start[placed])
            if last:
                break
        obj = objective(inst, pool, start)
        what = (
            f"decomposition into {len(slices)} slices in the order of the {baseline.source}"
            f" plan, {optimised} optimised ({built:,} columns built)"
        )
        if obj < baseline.objective - 1e-9:
            return _outcome((pool, start), obj, "decomposition", what, built)
        baseline.detail = f"{baseline.detail}, better than the {what}"
        return baseline

    def _slice(self, members: np.ndarray) -> Instance:
        """The slice's households on what is left: units free per pool and day, accompaniment
        and mediation places, after the earlier slices' placements."""
        inst, taken = self.inst, self.taken
        at = {i: k for k, i in enumerate(members.tolist())}
        pools = [
            dataclasses.replace(q, free=taken.room[p].copy()) for p, q in enumerate(inst.pools)
        ]
        support_free = None
        if inst.support_free is not None:
            support_free = inst.support_free - taken.support_used
        mediation_free = {
            j: free - taken.mediation_used[j] for j, free in inst.mediation_free.items()
        }
        return dataclasses.replace(
            inst,
            household_ids=[inst.household_ids[i] for i in members.tolist()],
            size=inst.size[members],
            urgency=inst.urgency[members],
            weight=inst.weight[members],
            need_day=inst.need_day[members],
            release=inst.release[members],
            stay_days=inst.stay_days[members],
            exit_dated=inst.exit_dated[members],
            exit_day=inst.exit_day[members],
            needs_access=inst.needs_access[members],
            support=[inst.support[i] for i in members.tolist()],
            load=inst.load[members],
            language=inst.language[members],
            anchor=inst.anchor[members],
            may_combine=inst.may_combine[members],
            pinned_pool=inst.pinned_pool[members],
            pools=pools,
            forbidden={(at[i], p) for i, p in inst.forbidden if i in at},
            support_free=support_free,
            mediation_free=mediation_free,
        )
