"""`plan`: the engine's one entry point for a weekly batch."""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar, cast

import numpy as np
import pandas as pd

from allocator.choices import DEFAULT_GAP
from allocator.domain import JOINED_SEPARATOR, Household, Stay, Unit
from allocator.engine import announcements, districts, explain_fair
from allocator.engine.assign import assign_units
from allocator.engine.columns import objective
from allocator.engine.explain import KIND_LABEL, explain
from allocator.engine.greedy import solve_greedy
from allocator.engine.instance import Instance, Overrides, build_instance
from allocator.engine.optimiser import fairness
from allocator.engine.optimiser.fairness import FairnessRecord
from allocator.engine.optimiser.outcome import SolveOutcome, within_gap
from allocator.engine.optimiser.size import checked_max_memory, solve_within_limits
from allocator.engine.optimiser.warm import WarmStart
from allocator.engine.params import EngineParams
from allocator.engine.result import PLAN_COLUMNS, Method, Plan, Status
from allocator.engine.run import RunSettings
from allocator.errors import AllocatorError, InputError
from allocator.limits import (
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_TIME_LIMIT,
    MAX_WORKERS,
    parse_date,
)
from allocator.policy import Policy
from allocator.tables import Source, TableLike, Tables, validate_tables

log = logging.getLogger("allocator")
R = TypeVar("R", Household, Unit, Stay)


def _as_date(value: dt.date | str) -> dt.date:
    """The plan's start: an ISO date within `allocator.limits`' range of dates (1900 to 2199)."""
    day = parse_date(value, field="start")
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise InputError(
            f"expected a date from {EARLIEST_DATE} to {LATEST_DATE}, got {day}", field="start"
        )
    return day


@dataclass
class Decision:
    """A batch decided but not yet written up: pools, start days and units as arrays.

    `plan` turns it into DataFrames with reasons; the simulation, which calls the engine every
    week of ten years, reads the arrays directly (days count from ``inst.start``).
    """

    inst: Instance
    method: Method
    pool: np.ndarray
    start: np.ndarray
    unit: np.ndarray
    status: Status
    best_bound: float | None
    seed: int
    workers: int
    started: float
    details: dict = field(default_factory=dict)
    # per household in connecting rooms, the rooms it takes besides ``unit`` (`engine.rooms`)
    joined: dict[int, list[int]] = field(default_factory=dict)
    # what the fairness bound did (method solver with `Policy.fair_wait_days` set), else None
    fairness: FairnessRecord | None = None


def plan(
    households: TableLike,
    units: TableLike,
    stays: TableLike = None,
    *,
    start: dt.date | str,
    policy: Policy | None = None,
    method: Method | str = Method.SOLVER,
    pins: Mapping[str, str] | None = None,
    forbids: Iterable[tuple[str, str]] | None = None,
    time_limit: float = 60.0,
    workers: int | None = None,
    seed: int = 0,
    relative_gap: float = DEFAULT_GAP,
    sources: dict[str, Source] | None = None,
    reasons: bool = True,
    engine: EngineParams | None = None,
    stop: threading.Event | None = None,
    on_search_start: Callable[[], None] | None = None,
    max_memory: float | None = None,
    announced: Mapping[str, tuple[str, dt.date | str]] | None = None,
    previous: pd.DataFrame | None = None,
) -> Plan:
    """Plan one week's batch: a unit and start day for each household, or a reason why not.

    Tables may be DataFrames or lists of `Household`/`Unit`/`Stay` models (or dicts). The solver
    stops at ``time_limit`` seconds (wall clock, model building included) and then returns the
    best plan found, never worse than greedy's. ``workers`` (default: the machine's cores) are
    the threads the solver may use: with two or more, where no MIP follows an unconverged LP
    (city size), the dive runs on a copy of the LP beside the LP's resumed rounds.
    ``reasons=False`` skips the explanations. ``engine`` holds the optimiser's settings
    (`EngineParams`; its defaults when None). Raises `InputError` for bad input, naming the
    table, row and column.

    ``stop``, set from another thread (a signal handler, a button), ends the solver's search
    early: the best plan found so far comes back with status ``interrupted`` (``optimal`` if it
    is already within the gap). Greedy's plan is always made first, so there is a plan from the
    moment the search starts; ``on_search_start`` is called then (method ``solver`` only).

    ``max_memory`` (bytes; default half of the machine's memory) bounds the solver's model, as
    ``time_limit`` bounds its time: a model estimated larger, or too slow to build in the time,
    is not built, and the batch is planned by a method that fits (decomposition by week of need,
    or greedy's and the cost-aware plans), with status ``feasible`` and
    ``details["size_limit"]`` saying why (`allocator.engine.optimiser.size`).

    ``announced`` (household -> (unit, start)) are placements told to families: the plan keeps
    each unless changing it saves more than ``policy.announcement_weight``, or a hard rule forces
    the change; the reason says which (`allocator.engine.announcements`). ``Plan.changes`` lists
    per household what changed against ``previous`` (the last approved plan's placements:
    household_id, unit_id, start), or against the announcements when it is None.
    """
    previous = announcements.checked_previous(previous)
    d = decide(
        households,
        units,
        stays,
        start=start,
        policy=policy,
        method=method,
        pins=pins,
        forbids=forbids,
        time_limit=time_limit,
        workers=workers,
        seed=seed,
        relative_gap=relative_gap,
        sources=sources,
        engine=engine,
        stop=stop,
        on_search_start=on_search_start,
        max_memory=max_memory,
        announced=announced,
    )
    return _written_up(d, reasons, previous)


def _written_up(d: Decision, reasons: bool, previous: pd.DataFrame | None = None) -> Plan:
    """The decision as a `Plan`: the placements' table with reasons, the hotel and wasted
    nights, the objective and the solve's time."""
    inst, pool, start_day, unit = d.inst, d.pool, d.start, d.unit
    why = (
        explain(inst, pool, start_day, unit, d.method, d.joined) if reasons else [None] * len(pool)
    )
    # what the fairness bound decided: a sentence on those households' reasons, the rest as is
    fair = explain_fair.fair_sentences(inst, d.fairness, pool, start_day, unit, d.joined)
    if reasons:
        explain_fair.add_sentences(why, fair)
    d.details.update(explain_fair.fair_details(d.fairness, fair))
    table = _plan_table(inst, pool, start_day, unit, why, d.joined)
    placed = pool >= 0
    # an exit-dated household waiting in a hotel leaves it on its exit day
    waits_until = np.where(inst.exit_dated, np.minimum(inst.horizon, inst.exit_day), inst.horizon)
    hotel = np.where(placed, start_day - inst.release, np.maximum(waits_until - inst.release, 0))
    # the pool's beds: a household in connecting rooms has all of its rooms' beds
    cap = np.array([q.capacity for q in inst.pools], dtype=np.int64)[pool[placed]]
    nights = inst.stay_length(np.flatnonzero(placed), start_day[placed])
    obj = objective(inst, pool, start_day)
    if d.method is Method.GREEDY:
        d.details["greedy_objective"] = round(obj, 6)
    d.details.update(districts.summary(inst, unit))  # nothing when no household has an anchor
    elapsed = time.perf_counter() - d.started
    log.info("planned %d households with %s in %.2f s", len(pool), d.method.value, elapsed)
    return Plan(
        placements=table,
        status=d.status,
        method=d.method,
        objective=obj,
        best_bound=d.best_bound,
        solve_seconds=elapsed,
        seed=d.seed,
        workers=d.workers,
        plan_start=inst.start.isoformat(),
        horizon_weeks=inst.policy.horizon_weeks,
        hotel_person_nights=int((hotel * inst.size).sum()),
        wasted_bed_nights=int(((cap - inst.size[placed]) * nights).sum()),
        details=d.details,
        changes=_changes(d, table, previous),
    )


def _changes(d: Decision, table: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """What changed per household against the previous plan, or the announcements."""
    ann = d.inst.announcements
    if previous is None and ann is not None:
        previous = pd.DataFrame(
            [(h, u, s) for h, (u, s) in ann.told.items()],
            columns=["household_id", "unit_id", "start"],
        )
    told = announcements.notes(d.inst, d.pool, d.start, d.unit, d.method is Method.SOLVER)
    by_id = {d.inst.household_ids[i]: note for i, note in told.items()}
    return announcements.changes(previous, table, by_id)


def decide(
    households: TableLike,
    units: TableLike,
    stays: TableLike = None,
    *,
    start: dt.date | str,
    policy: Policy | None = None,
    method: Method | str = Method.SOLVER,
    pins: Mapping[str, str] | None = None,
    forbids: Iterable[tuple[str, str]] | None = None,
    time_limit: float = 60.0,
    workers: int | None = None,
    seed: int = 0,
    relative_gap: float = DEFAULT_GAP,
    sources: dict[str, Source] | None = None,
    engine: EngineParams | None = None,
    stop: threading.Event | None = None,
    on_search_start: Callable[[], None] | None = None,
    max_memory: float | None = None,
    announced: Mapping[str, tuple[str, dt.date | str]] | None = None,
    warm: WarmStart | None = None,
    trusted: bool = False,
) -> Decision:
    """`plan` without the write-up: the same checks, instance and methods, arrays out.

    ``trusted``: the tables are lists of `Household`, `Unit` and `Stay` the caller made and
    keeps consistent itself (the simulation's weekly loop), not checked again.

    ``warm`` (method ``solver``): a `WarmStart` the caller keeps from one week's batch to the
    next; the solver's LP starts from the last solve's columns and leaves its own there (the
    simulation's weekly loop: `allocator.engine.optimiser.warm`)."""
    t0 = time.perf_counter()
    method, run = _settings(
        method, time_limit, workers, seed, relative_gap, engine, stop, max_memory, t0
    )
    return _decide(
        households,
        units,
        stays,
        start,
        policy,
        method,
        pins,
        forbids,
        sources,
        run,
        t0,
        on_search_start,
        announced,
        warm,
        trusted,
    )


def _settings(
    method: Method | str,
    time_limit: float,
    workers: int | None,
    seed: int,
    relative_gap: float,
    engine: EngineParams | None,
    stop: threading.Event | None,
    max_memory: float | None,
    started: float,
) -> tuple[Method, RunSettings]:
    """The method and the run's settings, once every argument is checked (in this order: an
    `InputError` names the first bad one)."""
    method = _checked(method, time_limit, seed, relative_gap, workers)
    if engine is not None and not isinstance(engine, EngineParams):
        raise InputError(f"expected EngineParams, got {engine!r}", field="engine")
    run = RunSettings(
        deadline=started + time_limit,
        workers=workers or os.cpu_count() or 1,
        seed=seed,
        relative_gap=relative_gap,
        engine=engine or EngineParams(),
        stop=stop,
        max_memory=checked_max_memory(max_memory),
    )
    return method, run


def _decide(
    households: TableLike,
    units: TableLike,
    stays: TableLike,
    start: dt.date | str,
    policy: Policy | None,
    method: Method,
    pins: Mapping[str, str] | None,
    forbids: Iterable[tuple[str, str]] | None,
    sources: dict[str, Source] | None,
    run: RunSettings,
    started: float,
    on_search_start: Callable[[], None] | None,
    announced: Mapping[str, tuple[str, dt.date | str]] | None = None,
    warm: WarmStart | None = None,
    trusted: bool = False,
) -> Decision:
    """`decide` once its settings are checked: the tables checked, the instance built and
    the batch planned by ``method``."""
    policy = policy or Policy()
    plan_start = _as_date(start)
    if trusted:
        tables = Tables(
            households=_own_records(households, Household),
            units=_own_records(units, Unit),
            stays=_own_records(stays or [], Stay),
        )
    else:
        tables = validate_tables(
            households,
            units,
            stays,
            sources=sources,
            start=plan_start,
            turnover_days=policy.turnover_days,
        )
    # none of them (the simulation's weeks): the instance's default, no empty ones to make
    overrides = Overrides.of(pins, forbids, announced) if pins or forbids or announced else None
    inst = build_instance(tables, plan_start, policy, overrides)
    n = inst.n_households
    details: dict = {}
    best_bound: float | None = None
    status = Status.HEURISTIC
    fair: FairnessRecord | None = None
    if method is Method.HOTEL:
        pool = np.full(n, -1, dtype=np.int64)
        start_day = pool.copy()
    else:
        pool, start_day = solve_greedy(inst)
        if method is Method.SOLVER:
            greedy_objective = objective(inst, pool, start_day)
            details["greedy_objective"] = round(greedy_objective, 6)
            if on_search_start is not None:
                on_search_start()
            pool, start_day, best_bound, status, fair = _optimised(
                inst, (pool, start_day), run, details, warm, greedy_objective
            )
    unit, joined = assign_units(inst, pool, start_day)
    return Decision(
        inst=inst,
        method=method,
        pool=pool,
        start=start_day,
        unit=unit,
        status=status,
        best_bound=best_bound,
        seed=run.seed,
        workers=run.workers,
        started=started,
        details=details,
        joined=joined,
        fairness=fair,
    )


def _own_records(table: TableLike, kind: type[R]) -> list[R]:
    """A caller's own list of records (``trusted``), as it is: anything else is a bug there."""
    if not (isinstance(table, list) and set(map(type, table)) <= {kind}):
        raise AllocatorError(f"internal: trusted tables must be lists of {kind.__name__}")
    return cast(list[R], table)


def _optimised(
    inst: Instance,
    greedy_plan: tuple[np.ndarray, np.ndarray],
    run: RunSettings,
    details: dict,
    warm: WarmStart | None = None,
    greedy_objective: float | None = None,
) -> tuple[np.ndarray, np.ndarray, float | None, Status, FairnessRecord | None]:
    """The solver's plan within the run's limits, vetted against greedy's; adds to ``details``.

    With the fairness bound on, every path's plan honours it (`fairness.honour` repairs a plan
    no fairness stage saw) and is vetted against greedy's plan repaired: greedy does not honour
    the bound exactly. Returns the plan, its bound and status, and what the bound did."""
    out, size_details = solve_within_limits(inst, greedy_plan, run, warm, greedy_objective)
    details.update(size_details)
    if inst.policy.fair_wait_days is not None:
        if out.fairness is None:  # no fairness stage saw this plan (a model too large)
            fairness.honour(inst, out, greedy_plan, run.deadline)
        greedy_plan = fairness.repair(inst, None, *greedy_plan)
        greedy_objective = objective(inst, *greedy_plan)
    best_bound = out.best_bound if np.isfinite(out.best_bound) else None
    gap_ok = best_bound is not None and within_gap(out.objective, best_bound, run.relative_gap)
    status = Status.OPTIMAL if (out.proven_optimal or gap_ok) else Status.FEASIBLE
    if status is Status.FEASIBLE and run.stop is not None and run.stop.is_set():
        status = Status.INTERRUPTED
    details.update(_solver_details(out))
    pool, start, bound, status = vetted(
        inst, out, greedy_plan, best_bound, status, details, greedy_objective
    )
    record = out.fairness
    if record is not None:  # vetting may have kept greedy's repaired plan
        record.binding = not (
            np.array_equal(pool, record.before_pool) and np.array_equal(start, record.before_start)
        )
    return pool, start, bound, status, record


def _checked(
    method: Method | str, time_limit: float, seed: int, relative_gap: float, workers: int | None
) -> Method:
    """The method, once every argument is checked: an `InputError` names the bad one."""
    try:
        method = Method(method)
    except ValueError:
        raise InputError(
            f"unknown method {method!r}; expected one of {', '.join(m.value for m in Method)}",
            field="method",
        ) from None
    if not (
        isinstance(time_limit, int | float)
        and math.isfinite(time_limit)
        and 0 < time_limit <= MAX_TIME_LIMIT
    ):
        raise InputError(
            f"expected a number of seconds above 0 and at most {MAX_TIME_LIMIT:g}, got "
            f"{time_limit!r}",
            field="time_limit",
        )
    if not (isinstance(seed, int) and 0 <= seed < 2**31):
        raise InputError(f"expected an integer from 0 to 2^31-1, got {seed!r}", field="seed")
    if not (isinstance(relative_gap, int | float) and 0 <= relative_gap < 1):
        raise InputError(
            f"expected a relative gap from 0 to below 1, got {relative_gap!r}",
            field="relative_gap",
        )
    if workers is not None and not (
        isinstance(workers, int) and not isinstance(workers, bool) and 1 <= workers <= MAX_WORKERS
    ):
        raise InputError(
            f"expected a whole number from 1 to {MAX_WORKERS}, got {workers!r}", field="workers"
        )
    return method


def vetted(
    inst: Instance,
    out: SolveOutcome,
    greedy_plan: tuple[np.ndarray, np.ndarray],
    best_bound: float | None,
    status: Status,
    details: dict,
    greedy_objective: float | None = None,
) -> tuple[np.ndarray, np.ndarray, float | None, Status]:
    """The solver's answer, checked against what its plan says before it is called optimal.

    The objective is recomputed from the plan (`columns.objective`, the one the checker and
    greedy use too). A plan worse than greedy's beyond the solvers' tolerance (1e-6 relative)
    means the solver's numerics cannot be trusted: greedy's plan is kept, status ``feasible``
    (or ``interrupted``). A reported objective that differs from the plan's, or a bound above
    it, means nothing is proven: status ``feasible`` and no bound. Either way
    ``details["warning"]`` says why and the log warns. docs/engine.md, "Numeric ranges".
    """
    ours = objective(inst, out.pool, out.start)
    greedy = objective(inst, *greedy_plan) if greedy_objective is None else greedy_objective
    kept = status if status is Status.INTERRUPTED else Status.FEASIBLE
    if not math.isfinite(ours) or ours > greedy + _tolerance(greedy):
        details["warning"] = (
            f"the solver's numerics were not trusted: its plan ({ours:.9g}) is worse than "
            f"greedy's ({greedy:.9g}); greedy's plan is kept"
        )
        details["plan_source"] = "greedy"
        log.warning(details["warning"])
        return greedy_plan[0], greedy_plan[1], None, kept
    problems = []
    if not abs(ours - out.objective) <= _tolerance(ours):
        problems.append(
            f"the solver reported objective {out.objective:.9g} where its plan's is {ours:.9g}"
        )
    if best_bound is not None and best_bound > ours + _tolerance(ours):
        problems.append(f"its bound {best_bound:.9g} is above its plan's objective {ours:.9g}")
    if problems:
        details["warning"] = (
            "the solver's numerics were not trusted: " + "; ".join(problems) + ": not proven"
        )
        log.warning(details["warning"])
        return out.pool, out.start, None, kept if status is Status.OPTIMAL else status
    return out.pool, out.start, best_bound, status


def _tolerance(value: float) -> float:
    """The solvers' tolerance on an objective: 1e-6 relative, and absolute below 1."""
    return 1e-6 * max(1.0, abs(value))


def _solver_details(out: SolveOutcome) -> dict:
    """What the optimiser did, for `Plan.details`."""
    return dict(
        plan_source=out.source,
        solver_detail=out.detail,
        columns=out.columns,
        mip_columns=out.mip_columns,
        lp_bound=round(out.lp_bound, 6) if np.isfinite(out.lp_bound) else None,
        lp_seconds=round(out.lp_seconds, 3),
        mip_seconds=round(out.mip_seconds, 3),
    )


def _plan_table(inst: Instance, pool, start, unit, reasons, joined=None) -> pd.DataFrame:
    """The placements table, one row per household; dates and labels are looked up, not worked
    out again for each of a city's thousands of rows."""
    placed = pool >= 0
    date_of = [inst.day(d) for d in range(inst.horizon)]
    start_dates = [date_of[s] if s >= 0 else None for s in np.where(placed, start, -1).tolist()]
    nights = np.zeros(inst.n_households, dtype=np.int64)
    nights[placed] = inst.stay_length(np.flatnonzero(placed), start[placed])
    # not placed: the wait runs to the horizon's end, or to an earlier exit date
    waits_until = np.where(inst.exit_dated, np.minimum(inst.horizon, inst.exit_day), inst.horizon)
    kind_of = [KIND_LABEL[k].replace(" ", "_") for k in inst.unit_kind]
    units = unit.tolist()
    rows = {
        "household_id": inst.household_ids,
        "unit_id": [inst.unit_ids[u] if u >= 0 else None for u in units],
        "joined_units": [
            JOINED_SEPARATOR.join(inst.unit_ids[u] for u in (joined or {}).get(i, ()))
            for i in range(inst.n_households)
        ],
        "kind": [kind_of[u] if u >= 0 else None for u in units],
        "start": start_dates,
        "expected_end": [
            d + dt.timedelta(days=L) if d else None
            for d, L in zip(start_dates, nights.tolist(), strict=True)
        ],
        # days from the need date to the start, or to the horizon's end (or an earlier exit
        # date) when not placed
        "wait_days": np.maximum(0, np.where(placed, start, waits_until) - inst.need_day),
        "status": np.where(placed, "placed", "not_placed"),
        "reason": reasons,
    }
    return districts.with_districts(inst, pd.DataFrame(rows, columns=PLAN_COLUMNS), unit)
