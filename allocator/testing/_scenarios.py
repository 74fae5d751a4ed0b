"""Small random planning runs with every feature the rules cover, seeded, for property tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from allocator.choices import ConnectingRooms
from allocator.engine.result import Plan
from allocator.policy import Policy
from allocator.testing._plans import check_plan, objective_of
from allocator.testing._raw import RawInstance, parse_instance

if TYPE_CHECKING:
    from allocator.engine.instance import Instance
    from allocator.engine.planning import Decision


@dataclass
class Scenario:
    """One planning run's input, ready to plan and to check."""

    households: pd.DataFrame
    units: pd.DataFrame
    stays: pd.DataFrame
    start: dt.date
    policy: Policy
    pins: dict[str, str] = field(default_factory=dict)
    forbids: list[tuple[str, str]] = field(default_factory=list)

    def plan(self, method: str = "solver", **kwargs: Any) -> Plan:
        from allocator.engine.planning import plan

        return plan(*self._tables(), **self._settings(method), **kwargs)

    def decide(self, method: str = "solver", **kwargs: Any) -> Decision:
        """`allocator.engine.planning.decide` on the scenario: the plan as arrays, no reasons."""
        from allocator.engine.planning import decide

        return decide(*self._tables(), **self._settings(method), **kwargs)

    def _tables(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        return self.households, self.units, self.stays

    def _settings(self, method: str) -> dict[str, Any]:
        return dict(
            start=self.start,
            policy=self.policy,
            method=method,
            pins=self.pins,
            forbids=self.forbids,
        )

    def raw(self) -> RawInstance:
        return parse_instance(
            self.households,
            self.units,
            self.stays,
            self.start,
            self.policy,
            pins=self.pins,
            forbids=self.forbids,
        )

    def check(self, plan: Plan | pd.DataFrame) -> list[str]:
        return check_plan(
            plan,
            self.households,
            self.units,
            self.stays,
            self.start,
            self.policy,
            pins=self.pins,
            forbids=self.forbids,
        )

    def objective(self, plan: Plan | pd.DataFrame) -> float:
        return objective_of(
            plan, self.households, self.units, self.start, self.policy, pins=self.pins
        )


def random_scenario(
    seed: int | np.random.Generator,
    *,
    n_households: int,
    n_units: int,
    horizon_weeks: int = 2,
    start: dt.date = dt.date(2026, 12, 7),
    max_stay_days: int = 30,
    stays: bool = True,
    windows: bool = True,
    caps: bool = True,
    overrides: bool = True,
    languages: Sequence[str] = ("arabic", "tigrinya"),
    exit_dated_share: float = 0.0,
    max_beds: int = 6,
    groups: int = 0,
    large_share: float = 0.0,
    connecting_rooms: ConnectingRooms | str | None = None,
    joined_stays: bool = True,
) -> Scenario:
    """A small random scenario with every feature the rules cover, seeded.

    Sizes 1-6, some step-free needs and units, need dates before, inside and after the horizon,
    availability windows, current stays (before and during the horizon), support and mediation
    caps, pins and forbidden pairs: each feature can be switched off.

    ``exit_dated_share`` of the households (drawn one by one) give an ``expected_exit_date``
    instead of a length: 1 to ``max_stay_days`` days after the need date, so some fall before
    the plan start or inside the horizon; half the time ``policy.max_stay_days`` is then drawn
    from 1 to ``max_stay_days`` too, so that it caps some stays. These draws come after all the
    others, so a seed with the default share gives the same scenario as it always did.

    ``groups`` groups of 2-4 connecting rooms are made of the units (as many as there are units
    for), each of one kind; with ``joined_stays`` some current stays in them hold a further room
    of their group (``joined_units``); ``large_share`` of the households get more persons than
    any unit has beds (1-4 more); ``connecting_rooms`` sets the policy's mode. These draws come last of all, and
    the tables get the ``group`` and ``joined_units`` columns only with ``groups``. Units have 1
    to ``max_beds`` beds.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    H = 7 * horizon_weeks
    # the draws happen in this order (units, stays, households, policy, overrides), so that a seed
    # gives the same scenario as it always did
    unit_rows = _random_units(rng, n_units, H, start, windows, max_beds)
    stay_rows = _random_stays(rng, unit_rows, start, languages) if stays else []
    hh_rows = _random_households(rng, n_households, H, start, max_stay_days, languages)
    policy = _random_policy(rng, horizon_weeks, caps, languages)
    pins: dict[str, str] = {}
    forbids: list[tuple[str, str]] = []
    if overrides and n_households and n_units:
        pins, forbids = _random_overrides(rng, n_households, n_units)
    if exit_dated_share > 0:
        policy = _with_exit_dates(rng, hh_rows, policy, exit_dated_share, max_stay_days)
    stay_columns = ["household_id", "unit_id", "start", "expected_end", "support", "language"]
    stay_rows = following_the_rules(stay_rows, unit_rows, policy.turnover_days)
    if groups:
        _with_groups(rng, unit_rows, stay_rows, groups, policy.turnover_days, joined_stays)
        stay_columns.append("joined_units")
    if large_share > 0:
        largest = max((u["capacity"] for u in unit_rows), default=0)
        for row in hh_rows:
            if rng.random() < large_share:
                row["size"] = min(largest + int(rng.integers(1, 5)), 30)
    if connecting_rooms is not None:
        policy = policy.model_copy(update={"connecting_rooms": ConnectingRooms(connecting_rooms)})
    return Scenario(
        households=pd.DataFrame(hh_rows),
        units=pd.DataFrame(unit_rows),
        stays=pd.DataFrame(stay_rows, columns=stay_columns),
        start=start,
        policy=policy,
        pins=pins,
        forbids=forbids,
    )


def random_instance(seed: int, n: int, m: int, weeks: int, rooms: bool) -> Instance:
    """The engine's instance of a random scenario of ``n`` households and ``m`` units, caps at
    random, with connecting rooms when ``rooms``: for property tests of the optimiser's parts,
    which take an instance rather than tables."""
    from allocator.engine.instance import Overrides, build_instance
    from allocator.tables import validate_tables

    sc = random_scenario(
        seed,
        n_households=n,
        n_units=m,
        horizon_weeks=weeks,
        max_stay_days=25,
        groups=1 if rooms else 0,
        large_share=0.2 if rooms else 0.0,
        connecting_rooms="when_needed" if rooms else None,
    )
    tables = validate_tables(sc.households, sc.units, sc.stays)
    return build_instance(tables, sc.start, sc.policy, Overrides.of(sc.pins, sc.forbids))


def following_the_rules(
    stay_rows: list[dict[str, Any]], unit_rows: list[dict[str, Any]], turnover_days: int
) -> list[dict[str, Any]]:
    """The drawn stays that `plan` and the ledger accept (`allocator.rules`): inside their unit's
    availability window, and the turnover days after the last stay kept in the unit. Stays are
    drawn in order within each unit."""
    from allocator.rules import overlaps

    units = {u["unit_id"]: u for u in unit_rows}
    kept: list[dict[str, Any]] = []
    last: dict[str, tuple[dt.date, dt.date]] = {}
    for row in stay_rows:
        unit = units[row["unit_id"]]
        span = (row["start"], row["expected_end"])
        if unit["available_from"] is not None and span[0] < unit["available_from"]:
            continue
        if unit["available_until"] is not None and span[1] > unit["available_until"]:
            continue
        before = last.get(row["unit_id"])
        if before is not None and overlaps(span, before, turnover_days):
            continue
        kept.append(row)
        last[row["unit_id"]] = span
    return kept


def _random_units(
    rng: np.random.Generator, n_units: int, H: int, start: dt.date, windows: bool, max_beds: int
) -> list[dict[str, Any]]:
    """Units of 1-``max_beds`` beds, both kinds, some step-free, some with an availability
    window."""
    unit_rows = []
    for k in range(n_units):
        frm = until = None
        if windows and rng.random() < 0.3:
            frm = _day(start, rng.integers(-3, H))
        if windows and rng.random() < 0.3:
            lo = 1 if frm is None else (frm - start).days + 1
            until = _day(start, rng.integers(max(lo, 1), max(lo, 1) + H + 10))
        unit_rows.append(
            {
                "unit_id": f"U{k}",
                "kind": str(rng.choice(["flat", "hub_room"])),
                "capacity": int(rng.integers(1, max_beds + 1)),
                "accessible": bool(rng.random() < 0.3),
                "available_from": frm,
                "available_until": until,
            }
        )
    return unit_rows


def _with_groups(
    rng: np.random.Generator,
    unit_rows: list[dict[str, Any]],
    stay_rows: list[dict[str, Any]],
    groups: int,
    turnover_days: int,
    joined_stays: bool,
) -> None:
    """Make ``groups`` groups of 2-4 connecting rooms of the units, each of its first room's
    kind, and (``joined_stays``) let about a third of the current stays in them hold one more room
    of their group where that room is free then (in place)."""
    from allocator.rules import overlaps

    order = [int(k) for k in rng.permutation(len(unit_rows))]
    members: dict[str, list[dict[str, Any]]] = {}
    for g in range(groups):
        take = min(int(rng.integers(2, 5)), len(order))
        if take < 2:
            break
        rooms = [unit_rows[k] for k in order[:take]]
        order = order[take:]
        members[f"G{g}"] = rooms
        for room in rooms:
            room["group"] = f"G{g}"
            room["kind"] = rooms[0]["kind"]
    for room in unit_rows:
        room.setdefault("group", None)
    group_of = {u["unit_id"]: u["group"] for u in unit_rows}
    for row in stay_rows:
        row["joined_units"] = ""
    for row in stay_rows if joined_stays else []:
        group = group_of[row["unit_id"]]
        if group is None or rng.random() >= 1 / 3:
            continue
        span = (row["start"], row["expected_end"])
        mates = [u for u in members[group] if u["unit_id"] != row["unit_id"]]
        mate = mates[int(rng.integers(0, len(mates)))]
        if mate["available_from"] is not None and span[0] < mate["available_from"]:
            continue
        if mate["available_until"] is not None and span[1] > mate["available_until"]:
            continue
        held = [
            (o["start"], o["expected_end"])
            for o in stay_rows
            if mate["unit_id"] == o["unit_id"] or mate["unit_id"] in o["joined_units"].split("+")
        ]
        if not any(overlaps(span, other, turnover_days) for other in held):
            row["joined_units"] = mate["unit_id"]


def _random_stays(
    rng: np.random.Generator,
    unit_rows: list[dict[str, Any]],
    start: dt.date,
    languages: Sequence[str],
) -> list[dict[str, Any]]:
    """Up to two current stays per unit, one after the other, before and into the horizon."""
    stay_rows: list[dict[str, Any]] = []
    for u in unit_rows:
        cursor = -40
        until = None if u["available_until"] is None else (u["available_until"] - start).days
        for _ in range(int(rng.integers(0, 3))):
            s = cursor + int(rng.integers(0, 25))
            e = s + int(rng.integers(1, 45))
            if until is not None and s >= until:
                break  # a current stay after the unit leaves the programme is not realistic
            if e > -5:
                stay_rows.append(
                    {
                        "household_id": f"S{len(stay_rows)}",
                        "unit_id": u["unit_id"],
                        "start": _day(start, s),
                        "expected_end": _day(start, e),
                        "support": str(rng.choice(["low", "medium", "high"]))
                        if rng.random() < 0.5
                        else None,
                        "language": str(rng.choice(list(languages)))
                        if rng.random() < 0.3
                        else None,
                    }
                )
            cursor = e
    return stay_rows


def _random_households(
    rng: np.random.Generator,
    n_households: int,
    H: int,
    start: dt.date,
    max_stay_days: int,
    languages: Sequence[str],
) -> list[dict[str, Any]]:
    """Households of 1-6 persons needing a unit before, inside or just after the horizon."""
    hh_rows = []
    for k in range(n_households):
        hh_rows.append(
            {
                "household_id": f"H{k}",
                "size": int(rng.integers(1, 7)),
                "urgency": int(rng.integers(1, 6)),
                "need_date": _day(start, rng.integers(-10, H + 3)),
                "expected_stay_days": int(rng.integers(1, max_stay_days + 1)),
                "support": str(rng.choice(["low", "medium", "high"])),
                "accessible": bool(rng.random() < 0.2),
                "language": str(rng.choice(list(languages))) if rng.random() < 0.35 else None,
            }
        )
    return hh_rows


def _with_exit_dates(
    rng: np.random.Generator,
    hh_rows: list[dict[str, Any]],
    policy: Policy,
    share: float,
    max_stay_days: int,
) -> Policy:
    """Give about ``share`` of the households an exit date instead of a length (in place), and
    half the time a programme maximum stay that may cap them; the policy to plan with."""
    for row in hh_rows:
        if rng.random() < share:
            after = int(rng.integers(1, max_stay_days + 1))
            row["expected_exit_date"] = _day(row["need_date"], after)
            row["expected_stay_days"] = None
        else:
            row["expected_exit_date"] = None
    if rng.random() < 0.5:
        cap = int(rng.integers(1, max_stay_days + 1))
        policy = Policy(**{**policy.model_dump(), "max_stay_days": cap})
    return policy


def _random_policy(
    rng: np.random.Generator, horizon_weeks: int, caps: bool, languages: Sequence[str]
) -> Policy:
    """A turnover of 0-3 days and, half the time each, a support cap and mediation caps."""
    policy_args: dict[str, Any] = {
        "horizon_weeks": horizon_weeks,
        "turnover_days": int(rng.integers(0, 4)),
    }
    if caps and rng.random() < 0.5:
        policy_args["support_capacity"] = int(rng.integers(2, 12))
    if caps and rng.random() < 0.5:
        policy_args["mediation_capacity"] = int(rng.integers(0, 3))
        if rng.random() < 0.5:
            policy_args["mediation_capacity_by_language"] = {languages[0]: int(rng.integers(0, 3))}
    return Policy(**policy_args)


def _random_overrides(
    rng: np.random.Generator, n_households: int, n_units: int
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """About one household in eight pinned to a random unit, about one in six forbidden one."""
    pins: dict[str, str] = {}
    forbids: list[tuple[str, str]] = []
    for k in range(n_households):
        r = rng.random()
        uid = f"U{int(rng.integers(0, n_units))}"
        if r < 0.12:
            pins[f"H{k}"] = uid
        elif r < 0.3:
            forbids.append((f"H{k}", uid))
    return pins, forbids


def _day(start: dt.date, d: Any) -> dt.date:
    return start + dt.timedelta(days=int(d))
