"""One replication under one policy: who gets which unit and when.

Policies
--------
``solver`` / ``greedy``
    The real engine: every week `allocator.engine.planning.decide` (what `allocator.plan` runs
    before writing its tables) is called with the requests known that day, the current stays fixed
    (the stays table) and the departures as planners know them: a realised departure is known
    ``exit_notice_days`` ahead, before that the planner assumes the expected end (never earlier
    than the notice window). Placements starting before the next planning day are committed; the
    rest are planned again next week.
``fcfs_fast``
    The engine's greedy rule (need order, then urgency; earliest-freeing fitting unit, the
    smallest, the kind the support level suits) run in one pass with the same weekly decision
    days but exact departure dates. Orders of magnitude faster; equals ``greedy`` when planners
    know departures in time (tested).
``fcfs_event``
    The same rule decided at every event (no weekly batching): the queueing-theory mode.
    Both fast policies place a household in one unit only: connecting rooms (`Unit.group`) are
    the engine policies', so a household no single unit fits waits in a hotel under them.
``hotel``
    Nobody is placed: every household stays in a hotel (or shelter) for its whole stay.

Times are whole days counted from the run's first day (the scenario's start less its warm-up).
Each household's pathway sets its clock. On a ``placement`` clock its stay runs for the drawn
duration from move-in; waiting in a hotel does not shorten it (the standard queueing convention).
On an ``exit_date`` clock it leaves on need day + duration wherever it is: placed later, it stays
fewer nights; still waiting then, it leaves from the hotel and is never placed. The engine gets
such a household with an ``expected_exit_date`` (the pathway's mean from the need day until the
real date is announced, ``exit_notice_days`` ahead), the others with ``expected_stay_days``.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from allocator.domain import Household, Stay, Support, Unit
from allocator.simulation.queueing import fcfs_kernel
from allocator.simulation.sampling import SUPPORT_LEVELS, Households, UnitArrays
from allocator.simulation.scenario import Scenario

if TYPE_CHECKING:
    from pathlib import Path

    from allocator.engine.params import EngineParams
    from allocator.engine.planning import Decision

POLICIES = ("solver", "greedy", "fcfs_fast", "fcfs_event", "hotel")
ENGINE_POLICIES = {"solver", "greedy"}
HIGH, LOW = SUPPORT_LEVELS.index(Support.HIGH), SUPPORT_LEVELS.index(Support.LOW)


@dataclass(frozen=True)
class Allocation:
    """Per household: unit index (-1 = never placed in the horizon) and start day (NaN)."""

    unit: np.ndarray
    start: np.ndarray
    plan_calls: int = 0
    # announcements (`simulation.announcing`): made, and ended kept or changed before move-in
    announced: int = 0
    announcements_kept: int = 0
    announcements_changed: int = 0
    announcements_forced: int = 0  # of the changed, forced by a hard rule
    # households placed in connecting rooms (`Unit.group`): the rooms besides ``unit``
    joined: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def rooms(self) -> np.ndarray:
        """Per household, the units it holds: 1 in one unit, 2+ in connecting rooms, 0 unplaced."""
        n = (self.unit >= 0).astype(np.int64)
        for i, others in self.joined.items():
            n[i] += len(others)
        return n


def _fit_classes(units: UnitArrays, hh: Households) -> tuple[np.ndarray, list[np.ndarray], list]:
    """Class per household (size, access, kind preference) and each class's units, best first."""
    pref = np.where(hh.support == HIGH, 1, np.where(hh.support == LOW, 2, 0))
    key = np.stack([hh.size, hh.accessible.astype(np.int64), pref], axis=1)
    uniq, classes = np.unique(key, axis=0, return_inverse=True)
    masks = []
    for size, acc, _ in uniq:
        masks.append((units.capacity >= size) & (units.accessible | (acc == 0)))
    return classes.reshape(-1), masks, [int(p) for _, _, p in uniq]


def run_fast(scenario: Scenario, units: UnitArrays, hh: Households, *, event: bool) -> Allocation:
    """``fcfs_fast`` (weekly decision days) or ``fcfs_event`` (every event) in one pass."""
    need = hh.need_day.astype(float)
    classes, masks, prefs = _fit_classes(units, hh)
    # ties between equally early units: smallest capacity, then the kind the support suits
    ranks = []
    for p in prefs:
        mismatch = np.zeros(len(units))
        if p == 1:
            mismatch = units.is_flat.astype(float)
        elif p == 2:
            mismatch = (~units.is_flat).astype(float)
        ranks.append(units.capacity + 0.5 * mismatch)
    not_before = None
    if not event:
        known = np.maximum(need - scenario.arrivals.notice_days, 0)
        not_before = np.ceil(known / 7) * 7
    unit, start = fcfs_kernel(
        need,
        hh.stay.astype(float),
        (classes, masks),
        ranks,
        turnover=float(scenario.policy.turnover_days),
        not_before=not_before,
        urgency=hh.urgency,
        horizon=float(scenario.run_days),
        leave=hh.leave,
    )
    return Allocation(unit=unit, start=start)


# The weekly batches of a simulation are small (Milan: 15 households on average, 32 at most) and
# their LPs converge in two or three rounds: on breakpoint rows GLOP takes a third of the time
# (docs/engine.md, "Breakpoint rows"). Larger batches, an overloaded programme's, keep the
# running totals, on which column generation needs fewer rounds.
BREAKPOINT_ROWS_UP_TO = 40


# A weekly LP holds a few hundred columns at most: a round that adds fewer per household keeps
# each solve small, and more cheapest columns at the start save a round (docs/measurements.md,
# "fourth pass", compares them with the engine's 3 and 20).
WEEKLY_INITIAL_COLUMNS = 5
WEEKLY_COLUMNS_ADDED = 5


def weekly_engine() -> EngineParams:
    """The engine's defaults but for the weekly batches' settings: breakpoint rows, smaller
    column generation rounds, and MIPs that only prove (lean, no larger MIP before the proof, no
    fixing at an interior point), since a weekly MIP's incumbent is nearly always the optimum
    already (docs/engine.md, `lean_mips`)."""
    from allocator.engine.params import MAX_THRESHOLD, EngineParams

    return EngineParams(
        initial_columns_per_household=WEEKLY_INITIAL_COLUMNS,
        columns_added_per_household=WEEKLY_COLUMNS_ADDED,
        breakpoint_rows_up_to=BREAKPOINT_ROWS_UP_TO,
        lean_mips=True,
        grow_before_proof=math.inf,
        central_fixing_from=MAX_THRESHOLD,
    )


def weekly_engine_from_file(path: str | Path) -> EngineParams:
    """Solver settings from a TOML file (`EngineParams.from_file`), the fields it leaves out
    kept at the weekly loop's (`weekly_engine`), not the engine's defaults: what a simulating
    command's ``--engine`` and a report's settings file mean."""
    from allocator.engine.params import EngineParams

    return EngineParams.from_file(path, base=weekly_engine())


def run_hotel(hh: Households) -> Allocation:
    return Allocation(unit=np.full(len(hh), -1, dtype=np.int64), start=np.full(len(hh), np.nan))


def run_engine(
    scenario: Scenario,
    units: UnitArrays,
    hh: Households,
    *,
    method: str,
    time_limit: float = 10.0,
    seed: int = 0,
    announce_weeks: int = 0,
    announce_firm_only: bool = False,
    warm_start: bool = False,
    engine: EngineParams | None = None,
) -> Allocation:
    """The weekly loop around the engine (see the module docstring).

    Each planning day asks `decide` about the requests known by then and still unplaced, with the
    stays as the planner believes them; only the placements before the next planning day are
    committed, at the real days the units free up. A household the plan puts in connecting rooms
    holds every one of them for its stay (a stay with ``joined_units`` the next weeks see), and
    is committed only when all of them are really free. ``announce_weeks`` > 0: the plan's
    placements up to that many weeks after this one are announced to the families, and later plans keep
    them unless a change is worth ``Policy.announcement_weight`` (`simulation.announcing`);
    ``announce_firm_only``: only those behind a departure already known. ``warm_start``
    (``solver``): each week's LP starts from last week's LP columns
    (`allocator.engine.optimiser.warm`): the same optimum, not always the same plan among equal
    ones, and no faster on Milan (docs/engine.md, "Warm starts"); off by default. ``engine``: the
    solver's settings, every week (None: `weekly_engine`'s).
    """
    # imported here: the engine loads OR-Tools, which the other policies never need
    from allocator.engine.optimiser.warm import WarmStart
    from allocator.engine.planning import decide
    from allocator.simulation.announcing import Announcing, firm_units

    H = scenario.run_days
    start_date = scenario.run_start
    need = hh.need_day
    known = need - scenario.arrivals.notice_days
    leave = hh.leave
    ids = np.array([f"H{i:06d}" for i in range(len(hh))], dtype=object)
    support = np.array([s.value for s in SUPPORT_LEVELS], dtype=object)[hh.support]
    household_of = _household_maker(hh, ids, support, start_date)
    unit_table = _engine_units(units)
    placed = _Committed.empty(len(hh), len(units))
    stay_of = _stay_maker(hh, units, ids, support, placed, start_date)
    unit_order_of = _unit_order(units)
    notice = scenario.exit_notice_days
    calls = 0
    warm = WarmStart() if warm_start and method == "solver" else None
    told = Announcing(announce_weeks, list(units.unit_id), start_date, announce_firm_only)
    if engine is None:
        engine = weekly_engine()  # made once, not every week
    for today in range(0, H, 7):
        # a household whose exit day has come left from the hotel: nobody plans for it
        todo = np.flatnonzero((known <= today) & (placed.unit < 0) & (leave > today))
        if todo.size == 0:
            continue
        # an exit date as planners know it: the real one once announced, else the expected one
        exit_day = np.where(
            leave[todo] <= today + notice,
            leave[todo],
            np.maximum(hh.expected_end(todo, need[todo]), today + notice + 1),
        )
        batch = decide(
            [
                household_of(i, e if dated else -1)
                for i, e, dated in zip(
                    todo.tolist(), exit_day.tolist(), hh.exit_dated[todo].tolist(), strict=True
                )
            ],
            unit_table,
            _believed_stays(scenario, hh, placed, stay_of, today),
            start=start_date + dt.timedelta(days=today),
            policy=scenario.policy,
            method=method,
            time_limit=time_limit,
            workers=1,
            seed=seed,
            announced=told.for_engine(todo, ids) if announce_weeks else None,
            warm=warm,
            trusted=True,
            engine=engine,
        )
        calls += 1
        order = unit_order_of(batch.inst.unit_ids)
        _commit(placed, hh, todo, today, batch, order, scenario)
        if announce_weeks:
            firm = firm_units(placed.last, placed.start, hh, today, notice)
            told.after_week(today, todo, batch, order, placed.unit, placed.start, firm)
    return Allocation(
        unit=placed.unit,
        start=placed.start,
        plan_calls=calls,
        announced=told.made,
        announcements_kept=told.kept,
        announcements_changed=told.changed,
        announcements_forced=told.forced,
        joined=placed.joined,
    )


def _household_maker(
    hh: Households, ids: np.ndarray, support: np.ndarray, start: dt.date
) -> Callable[[int, int], Household]:
    """``household_of(i, exit day)``: the engine's validated model, cached (`decide` takes it as
    it is, with no table to re-check). The exit day is -1 on a placement clock: the household then
    gives ``expected_stay_days``, else ``expected_exit_date``."""
    need = hh.need_day

    @functools.cache
    def household_of(i: int, exit_day: int) -> Household:
        clock: dict[str, object] = (
            {"expected_stay_days": int(hh.expected_stay[i])}
            if exit_day < 0
            else {"expected_exit_date": start + dt.timedelta(days=exit_day)}
        )
        return Household(
            household_id=ids[i],
            size=int(hh.size[i]),
            minors=int(hh.minors[i]),
            urgency=int(hh.urgency[i]),
            need_date=start + dt.timedelta(days=int(need[i])),
            support=support[i],
            accessible=bool(hh.accessible[i]),
            language=hh.language[i] or None,
            anchor_district=None if hh.anchor is None else hh.anchor[i],
            **clock,
        )

    return household_of


def _engine_units(units: UnitArrays) -> list[Unit]:
    """The scenario's units as the engine's models, made once for every planning day."""
    return [
        Unit(
            unit_id=units.unit_id[k],
            kind="flat" if units.is_flat[k] else "hub_room",
            capacity=int(units.capacity[k]),
            accessible=bool(units.accessible[k]),
            district=None if units.district is None else units.district[k],
            group=None if units.group is None else units.group[k],
        )
        for k in range(len(units))
    ]


def _unit_order(units: UnitArrays) -> Callable[[list[str]], np.ndarray]:
    """Maps the engine's unit ids back to the scenario's unit indices."""
    unit_index = {u: k for k, u in enumerate(units.unit_id)}
    same_order = np.arange(len(units))

    def unit_order_of(ids: list[str]) -> np.ndarray:
        """The engine keeps the units' order; map by id only if it ever did not."""
        if list(ids) == list(units.unit_id):
            return same_order
        return np.array([unit_index[u] for u in ids], dtype=np.int64)

    return unit_order_of


@dataclass
class _Committed:
    """What the weekly loop has committed so far, in real days."""

    unit: np.ndarray  # per household: unit index, -1 while not placed
    start: np.ndarray  # per household: start day, NaN while not placed
    last: np.ndarray  # per unit: the last household placed in it, -1 if none
    free_at: np.ndarray  # per unit: the real day it is free again
    # per household in connecting rooms: the rooms besides ``unit`` (each has it as ``last``)
    joined: dict[int, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def empty(cls, n_households: int, n_units: int) -> _Committed:
        return cls(
            unit=np.full(n_households, -1, dtype=np.int64),
            start=np.full(n_households, np.nan),
            last=np.full(n_units, -1, dtype=np.int64),
            free_at=np.zeros(n_units, dtype=np.int64),
        )

    def rooms_of(self, i: int) -> tuple[int, ...]:
        """Every unit household ``i`` holds (its unit first)."""
        return (int(self.unit[i]), *self.joined.get(i, ()))


def _stay_maker(
    hh: Households,
    units: UnitArrays,
    ids: np.ndarray,
    support: np.ndarray,
    placed: _Committed,
    start_date: dt.date,
) -> Callable[[int, int, int], Stay]:
    """``stay_of(household, start, believed end)``, cached: most weeks a stay is last week's.
    A household in connecting rooms holds them all (``joined_units``) until it leaves."""

    # as Python lists: a stay is made for every household placed and every end believed
    id_of, unit_id, size = ids.tolist(), units.unit_id.tolist(), hh.size.tolist()
    support_of, language = support.tolist(), hh.language.tolist()

    # the last stay made per (household, start): a later belief about its end is a copy of it
    # with that end (the loop keeps the end after the start: no need to check the record again)
    made: dict[tuple[int, int], Stay] = {}

    @functools.cache
    def stay_of(i: int, a: int, b: int) -> Stay:
        end = start_date + dt.timedelta(days=b)
        before = made.get((i, a))
        if before is not None:
            made[i, a] = stay = before.model_copy(update={"expected_end": end})
            return stay
        made[i, a] = stay = Stay(
            household_id=id_of[i],
            unit_id=unit_id[placed.unit[i]],
            joined_units=tuple(unit_id[u] for u in placed.joined.get(i, ())),
            start=start_date + dt.timedelta(days=a),
            expected_end=end,
            size=size[i],
            support=support_of[i],
            language=language[i] or None,
        )
        return stay

    return stay_of


def _believed_stays(
    scenario: Scenario,
    hh: Households,
    placed: _Committed,
    stay_of: Callable[[int, int, int], Stay],
    today: int,
) -> list[Stay] | None:
    """The current stays as planners know them on ``today``.

    A realised departure is known ``exit_notice_days`` ahead; before that the planner assumes the
    expected end, never earlier than the notice window. None when no unit is occupied.
    """
    turnover = scenario.policy.turnover_days
    notice = scenario.exit_notice_days
    occ = placed.last[(placed.last >= 0)]
    if placed.joined:
        occ = np.unique(occ)  # a household in connecting rooms is the last of each of them
    s = placed.start[occ].astype(np.int64)
    real_end = s + hh.length(occ, s)
    keep = real_end + turnover > today
    occ, s, real_end = occ[keep], s[keep], real_end[keep]
    if not occ.size:
        return None
    believed = np.where(
        real_end <= today + notice,
        real_end,
        np.maximum(hh.expected_end(occ, s), today + notice + 1),
    )
    return [
        stay_of(i, a, b)
        for i, a, b in zip(occ.tolist(), s.tolist(), believed.tolist(), strict=True)
    ]


def _commit(
    placed: _Committed,
    hh: Households,
    todo: np.ndarray,
    today: int,
    batch: Decision,
    unit_order: np.ndarray,
    scenario: Scenario,
) -> None:
    """Keep the placements that start before the next planning day and whose unit is really free.

    The rest are planned again next week; a unit still busy means the planner's belief about a
    departure was wrong (a notice shorter than a week), and so does a household whose real exit
    date comes before the start (it leaves from the hotel). A committed stay lasts its real length.
    """
    H = scenario.run_days
    turnover = scenario.policy.turnover_days
    planned = np.flatnonzero(batch.unit >= 0)
    days = today + batch.start[planned].astype(np.int64)
    # each one's real nights if it moves in on its planned day
    nights_from = hh.length(todo[planned], days).tolist()
    for j, day, nights in zip(planned.tolist(), days.tolist(), nights_from, strict=True):
        if day >= today + 7 or day >= H:
            continue  # planned again next week
        i = todo[j]
        # its unit, and in connecting rooms the others it takes for the same stay
        rooms = [int(unit_order[u]) for u in (batch.unit[j], *batch.joined.get(int(j), ()))]
        if any(placed.free_at[u] > day for u in rooms):
            continue  # the planner's belief was wrong (notice shorter than a week)
        if nights < 1:
            continue  # its exit date came first: it leaves from the hotel
        placed.unit[i], placed.start[i] = rooms[0], day
        if len(rooms) > 1:
            placed.joined[int(i)] = tuple(rooms[1:])
        for u in rooms:
            placed.last[u] = i
            placed.free_at[u] = day + nights + turnover


def allocate(
    policy: str,
    scenario: Scenario,
    units: UnitArrays,
    hh: Households,
    *,
    time_limit: float = 10.0,
    announce_weeks: int | None = None,
    announce_firm_only: bool | None = None,
    warm_start: bool = False,
    engine: EngineParams | None = None,
) -> Allocation:
    """One replication under ``policy``; the engine policies announce placements as the
    scenario says (``announce_weeks``, ``announce_firm_only``) unless the arguments override it,
    with ``engine``'s settings (None: `weekly_engine`'s)."""
    if policy in ENGINE_POLICIES:
        return run_engine(
            scenario,
            units,
            hh,
            method=policy,
            time_limit=time_limit,
            announce_weeks=scenario.announce_weeks if announce_weeks is None else announce_weeks,
            announce_firm_only=(
                scenario.announce_firm_only if announce_firm_only is None else announce_firm_only
            ),
            warm_start=warm_start,
            engine=engine,
        )
    if policy == "fcfs_fast":
        return run_fast(scenario, units, hh, event=False)
    if policy == "fcfs_event":
        return run_fast(scenario, units, hh, event=True)
    if policy == "hotel":
        return run_hotel(hh)
    raise ValueError(f"unknown policy {policy!r}; expected one of {', '.join(POLICIES)}")
