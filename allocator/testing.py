"""Independent checks of a plan: the rules every plan must satisfy, and its objective, recomputed.

Everything here works from the raw tables (households, units, current stays), the plan start and
the `Policy`, day by day and unit by unit, without the engine's pools, columns or occupancy
counters. It is meant for tests and for analysts who want to audit a plan, whatever method made it::

    problems = check_plan(plan, households, units, stays, start, policy, pins=pins, forbids=forb)
    assert problems == []  # a valid plan
    objective_of(plan, households, units, start, policy, pins=pins)  # == plan.objective

The rules (days count from the plan start, day 0; H = the horizon in days):

* every household appears exactly once in the plan table; a placed household has one unit and one
  start; the unit has at least as many beds as the household has persons, and is step-free when
  the household needs it;
* a stay starts on or after the household's need date and the plan start, and before day H; it
  departs (``expected_end``) ``expected_stay_days`` after its start;
* a stay occupies its unit from its start to its departure plus ``policy.turnover_days``; a current
  stay from its start to its ``expected_end`` plus the turnover; no new stay shares a day of that
  with another stay in the same unit. A unit is used only inside its availability window: the stay
  starts on or after ``available_from`` and departs by ``available_until``; as the unit leaves the
  programme then, no turnover is counted from ``available_until`` on;
* with ``policy.support_capacity`` set, on every day of the horizon the support load of the
  households present (a stay is present from its start to its departure, excluded) is at most the
  cap; a current stay counts with its own support level, or ``policy.existing_stay_support``. On a
  day the current stays alone already exceed the cap, the plan may add no load. The same holds for
  mediation: per language with a cap, the number of households present that need it;
* a pinned household, when placed, is in its pinned unit; a forbidden (household, unit) pair is
  never used.

A pinned household may stay unplaced (when its unit cannot take it); the objective then charges its
waiting cost ``policy.pin_weight`` times.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from allocator.domain import Support, UnitKind
from allocator.policy import Policy
from allocator.engine.result import Plan

__all__ = [
    "HouseholdRow",
    "Placement",
    "RawInstance",
    "Scenario",
    "StayRow",
    "UnitRow",
    "assignment_objective",
    "assignment_violations",
    "check_plan",
    "free_days",
    "household_cost",
    "objective_of",
    "parse_instance",
    "placement_violations",
    "placements_of",
    "plan_table",
    "random_scenario",
]

Placement = tuple[str, int]  # (unit id, start day counted from the plan start)


# --------------------------------------------------------------------------- raw tables


def _is_blank(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and value.strip() == "":
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _date(value: Any) -> dt.date | None:
    if _is_blank(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    return dt.date.fromisoformat(str(value).strip()[:10])


def _text(value: Any) -> str | None:
    if _is_blank(value):
        return None
    return str(value.value if hasattr(value, "value") else value).strip()


def _flag(value: Any) -> bool:
    if _is_blank(value):
        return False
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1", "y"}
    return bool(value)


def _rows(table: Any) -> list[dict[str, Any]]:
    if table is None:
        return []
    if isinstance(table, pd.DataFrame):
        return table.to_dict(orient="records")
    return [r.model_dump() if isinstance(r, BaseModel) else dict(r) for r in table]


@dataclass(frozen=True)
class HouseholdRow:
    household_id: str
    size: int
    urgency: int
    need_date: dt.date
    stay_days: int
    support: Support
    accessible: bool
    language: str | None


@dataclass(frozen=True)
class UnitRow:
    unit_id: str
    kind: UnitKind
    capacity: int
    accessible: bool
    available_from: dt.date | None
    available_until: dt.date | None


@dataclass(frozen=True)
class StayRow:
    household_id: str
    unit_id: str
    start: dt.date
    expected_end: dt.date
    support: Support | None
    language: str | None


@dataclass(frozen=True)
class RawInstance:
    """The raw tables of one run, read row by row; nothing precomputed beyond day numbers."""

    start: dt.date
    policy: Policy
    households: dict[str, HouseholdRow]  # in table order
    units: dict[str, UnitRow]
    stays: list[StayRow]
    pins: dict[str, str] = field(default_factory=dict)
    forbids: frozenset[tuple[str, str]] = frozenset()

    @property
    def horizon(self) -> int:
        return self.policy.horizon_days

    def day(self, date: dt.date) -> int:
        return (date - self.start).days

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=int(day))

    def release(self, household_id: str) -> int:
        """First day a stay may start: the need date, or the plan start when that is later."""
        return max(0, self.day(self.households[household_id].need_date))


def parse_instance(
    households: Any,
    units: Any,
    stays: Any = None,
    start: dt.date | str | None = None,
    policy: Policy | None = None,
    *,
    pins: Mapping[str, str] | None = None,
    forbids: Iterable[tuple[str, str]] | None = None,
) -> RawInstance:
    """Read the tables (DataFrames, lists of dicts or of domain models) into plain rows."""
    if start is None:
        raise ValueError("start (the plan start date) is required")
    policy = policy or Policy()
    hh = {}
    for r in _rows(households):
        hid = _text(r["household_id"])
        support = _text(r.get("support"))
        hh[hid] = HouseholdRow(
            household_id=hid,
            size=int(r["size"]),
            urgency=int(r["urgency"]),
            need_date=_date(r["need_date"]),
            stay_days=int(r["expected_stay_days"]),
            support=Support(support) if support else Support.MEDIUM,
            accessible=_flag(r.get("accessible")),
            language=_text(r.get("language")),
        )
    un = {}
    for r in _rows(units):
        uid = _text(r["unit_id"])
        un[uid] = UnitRow(
            unit_id=uid,
            kind=UnitKind(_text(r["kind"])),
            capacity=int(r["capacity"]),
            accessible=_flag(r.get("accessible")),
            available_from=_date(r.get("available_from")),
            available_until=_date(r.get("available_until")),
        )
    st = []
    for r in _rows(stays):
        support = _text(r.get("support"))
        st.append(
            StayRow(
                household_id=_text(r["household_id"]),
                unit_id=_text(r["unit_id"]),
                start=_date(r["start"]),
                expected_end=_date(r["expected_end"]),
                support=Support(support) if support else None,
                language=_text(r.get("language")),
            )
        )
    return RawInstance(
        start=_date(start),
        policy=policy,
        households=hh,
        units=un,
        stays=st,
        pins=dict(pins or {}),
        forbids=frozenset(tuple(p) for p in (forbids or ())),
    )


# --------------------------------------------------------------------------- the rules


def placement_violations(inst: RawInstance, household_id: str, unit_id: str, day: int) -> list[str]:
    """Rules that concern one placement alone (fit, dates, window, pins, forbids)."""
    h = inst.households[household_id]
    u = inst.units.get(unit_id)
    who = f"household {household_id}"
    if u is None:
        return [f"{who} is placed in unit {unit_id}, which is not in the units table"]
    out = []
    if u.capacity < h.size:
        out.append(f"{who} has {h.size} persons but unit {unit_id} has only {u.capacity} beds")
    if h.accessible and not u.accessible:
        out.append(f"{who} needs a step-free unit but unit {unit_id} is not step-free")
    begin = inst.date(day)
    if day < 0:
        out.append(f"{who} starts on {begin}, before the plan start {inst.start}")
    if day >= inst.horizon:
        out.append(
            f"{who} starts on {begin}, after the horizon's last day {inst.date(inst.horizon - 1)}"
        )
    if begin < h.need_date:
        out.append(f"{who} starts on {begin}, before its need date {h.need_date}")
    if u.available_from is not None and begin < u.available_from:
        out.append(
            f"{who} starts in unit {unit_id} on {begin}, before the unit is available "
            f"({u.available_from})"
        )
    departure = begin + dt.timedelta(days=h.stay_days)
    if u.available_until is not None and departure > u.available_until:
        out.append(
            f"{who} departs unit {unit_id} on {departure}, after the unit leaves the programme "
            f"({u.available_until})"
        )
    pin = inst.pins.get(household_id)
    if pin is not None and pin != unit_id:
        out.append(f"{who} is pinned to unit {pin} but placed in unit {unit_id}")
    if (household_id, unit_id) in inst.forbids:
        out.append(f"{who} is placed in unit {unit_id}, which the planner forbade for it")
    return out


def _occupancy_violations(inst: RawInstance, placements: Mapping[str, Placement]) -> list[str]:
    turn = inst.policy.turnover_days
    # per unit: (first day, first day free again, label, is new); days may be negative
    spans: dict[str, list[tuple[int, int, str, bool]]] = defaultdict(list)
    for s in inst.stays:
        spans[s.unit_id].append(
            (
                inst.day(s.start),
                inst.day(s.expected_end) + turn,
                f"current stay {s.household_id}",
                False,
            )
        )
    for hid, (uid, day) in placements.items():
        if uid not in inst.units:
            continue
        spans[uid].append(
            (day, day + inst.households[hid].stay_days + turn, f"household {hid}", True)
        )
    out = []
    for uid, items in spans.items():
        unit = inst.units.get(uid)
        if unit is not None and unit.available_until is not None:
            # the unit leaves the programme: no turnover (nor anything else) is counted after that
            limit = inst.day(unit.available_until)
            items = [(a, min(b, limit), who, new) for a, b, who, new in items]
        items = sorted(items)
        for k, (a1, b1, who1, new1) in enumerate(items):
            for a2, b2, who2, new2 in items[k + 1 :]:
                if a2 >= b1:
                    break
                if (new1 or new2) and a1 < b1 and a2 < b2:
                    out.append(
                        f"unit {uid}: {who1} (days {inst.date(a1)} to {inst.date(b1)}, turnover "
                        f"included) overlaps {who2} (from {inst.date(a2)})"
                    )
    return out


def _presence(start_day: int, end_day: int, horizon: int) -> range:
    return range(max(start_day, 0), min(end_day, horizon))


def _capacity_violations(inst: RawInstance, placements: Mapping[str, Placement]) -> list[str]:
    pol = inst.policy
    H = inst.horizon
    out = []
    if pol.support_capacity is not None:
        current = np.zeros(H, dtype=np.int64)
        new = np.zeros(H, dtype=np.int64)
        for s in inst.stays:
            level = s.support or pol.existing_stay_support
            for d in _presence(inst.day(s.start), inst.day(s.expected_end), H):
                current[d] += pol.support_loads[level]
        for hid, (_, day) in placements.items():
            h = inst.households[hid]
            for d in _presence(day, day + h.stay_days, H):
                new[d] += pol.support_loads[h.support]
        bad = np.flatnonzero((new > 0) & (current + new > pol.support_capacity))
        if bad.size:
            d = int(bad[0])
            out.append(
                f"support load {int(current[d] + new[d])} ({int(current[d])} from current stays) "
                f"exceeds the cap {pol.support_capacity} on {inst.date(d)} "
                f"({bad.size} day(s) in all)"
            )
    languages = {h.language for h in inst.households.values() if h.language}
    for g in sorted(languages):
        cap = pol.mediation_cap(g)
        if cap is None:
            continue
        current = np.zeros(H, dtype=np.int64)
        new = np.zeros(H, dtype=np.int64)
        for s in inst.stays:
            if s.language == g:
                for d in _presence(inst.day(s.start), inst.day(s.expected_end), H):
                    current[d] += 1
        for hid, (_, day) in placements.items():
            h = inst.households[hid]
            if h.language == g:
                for d in _presence(day, day + h.stay_days, H):
                    new[d] += 1
        bad = np.flatnonzero((new > 0) & (current + new > cap))
        if bad.size:
            d = int(bad[0])
            out.append(
                f"{int(current[d] + new[d])} households need {g} mediation on {inst.date(d)} "
                f"({int(current[d])} from current stays), above the cap {cap} "
                f"({bad.size} day(s) in all)"
            )
    return out


def assignment_violations(inst: RawInstance, placements: Mapping[str, Placement]) -> list[str]:
    """Every rule a set of placements breaks (households not in ``placements`` are not placed).

    Removing a placement never breaks a rule, so this also decides whether a partial plan can still
    be completed (by leaving the rest out): handy for enumerating plans.
    """
    out = []
    for hid, (uid, day) in placements.items():
        if hid not in inst.households:
            out.append(f"household {hid} is not in the households table")
            continue
        out.extend(placement_violations(inst, hid, uid, day))
    known = {h: p for h, p in placements.items() if h in inst.households}
    out.extend(_occupancy_violations(inst, known))
    out.extend(_capacity_violations(inst, known))
    return out


def free_days(inst: RawInstance, unit_id: str) -> list[int]:
    """Days of the horizon on which a unit is in the programme and free of current stays.

    A current stay occupies its unit up to its ``expected_end`` plus the turnover. These are the
    days a new stay could start there, households' sizes, dates and lengths aside.
    """
    u = inst.units[unit_id]
    first = 0 if u.available_from is None else max(0, inst.day(u.available_from))
    last = (
        inst.horizon
        if u.available_until is None
        else min(inst.horizon, inst.day(u.available_until))
    )
    turn = inst.policy.turnover_days
    busy = [
        (inst.day(s.start), inst.day(s.expected_end) + turn)
        for s in inst.stays
        if s.unit_id == unit_id
    ]
    return [d for d in range(first, last) if not any(a <= d < b for a, b in busy)]


# --------------------------------------------------------------------------- the objective


def household_cost(inst: RawInstance, household_id: str, placement: Placement | None) -> float:
    """One household's term of the objective (see `allocator.engine.columns`), from the raw rows."""
    pol = inst.policy
    h = inst.households[household_id]
    weight = pol.urgency_weights[h.urgency]
    release = inst.release(household_id)
    if placement is None:
        cost = weight * h.size * (max(inst.horizon - release, 0) + pol.terminal_wait_days)
        return cost * pol.pin_weight if household_id in inst.pins else cost
    uid, day = placement
    u = inst.units[uid]
    mismatch = (h.support is Support.HIGH and u.kind is UnitKind.FLAT) or (
        h.support is Support.LOW and u.kind is UnitKind.HUB_ROOM
    )
    return (
        weight * h.size * (day - release)
        + pol.wasted_bed_night_weight * (u.capacity - h.size) * h.stay_days
        + pol.kind_mismatch_weight * float(mismatch)
    )


def assignment_objective(inst: RawInstance, placements: Mapping[str, Placement]) -> float:
    return float(sum(household_cost(inst, h, placements.get(h)) for h in inst.households))


# --------------------------------------------------------------------------- plan tables


def _table(plan: Plan | pd.DataFrame) -> pd.DataFrame:
    return plan.placements if isinstance(plan, Plan) else plan


def placements_of(
    inst: RawInstance, plan: Plan | pd.DataFrame
) -> tuple[dict[str, Placement], list[str]]:
    """The placements a plan table describes, and what is wrong with the table as such."""
    table = _table(plan)
    problems = []
    missing = [c for c in ("household_id", "unit_id", "start", "status") if c not in table.columns]
    if missing:
        return {}, [f"the plan table lacks the column(s) {', '.join(missing)}"]
    placements: dict[str, Placement] = {}
    seen: dict[str, int] = defaultdict(int)
    for row in table.to_dict(orient="records"):
        hid = _text(row["household_id"])
        seen[hid] += 1
        if hid not in inst.households:
            problems.append(f"the plan lists household {hid}, which is not in the households table")
            continue
        status = _text(row["status"])
        uid = _text(row["unit_id"])
        begin = _date(row["start"])
        end = _date(row.get("expected_end"))
        who = f"household {hid}"
        if status == "placed":
            if uid is None or begin is None:
                problems.append(f"{who} is marked placed but has no unit or no start")
                continue
            h = inst.households[hid]
            if "expected_end" in table.columns and end != begin + dt.timedelta(days=h.stay_days):
                problems.append(
                    f"{who} starts on {begin} for {h.stay_days} days but its expected_end is {end}"
                )
            unit = inst.units.get(uid)
            kind = _text(row.get("kind"))
            if unit is not None and "kind" in table.columns and kind != unit.kind.value:
                problems.append(f"{who}: unit {uid} is a {unit.kind.value}, the plan says {kind}")
            placements[hid] = (uid, inst.day(begin))
        elif status == "not_placed":
            if uid is not None or begin is not None or end is not None:
                problems.append(f"{who} is marked not placed but has a unit or dates")
        else:
            problems.append(f"{who} has status {status!r}; expected 'placed' or 'not_placed'")
    for hid in inst.households:
        if seen[hid] == 0:
            problems.append(f"household {hid} is missing from the plan")
        elif seen[hid] > 1:
            problems.append(f"household {hid} appears {seen[hid]} times in the plan")
    return placements, problems


def check_plan(
    plan: Plan | pd.DataFrame,
    households: Any,
    units: Any,
    stays: Any = None,
    start: dt.date | str | None = None,
    policy: Policy | None = None,
    *,
    pins: Mapping[str, str] | None = None,
    forbids: Iterable[tuple[str, str]] | None = None,
) -> list[str]:
    """Every rule the plan breaks, in plain words; an empty list means the plan is valid.

    ``plan`` is a `Plan` or its placements table; the other arguments are what was given to
    `allocator.plan` (tables as DataFrames or lists of records, the start date, the policy, pins
    and forbidden pairs). See the module's docstring for the rules.
    """
    inst = parse_instance(households, units, stays, start, policy, pins=pins, forbids=forbids)
    placements, problems = placements_of(inst, plan)
    return problems + assignment_violations(inst, placements)


def objective_of(
    plan_table: Plan | pd.DataFrame,
    households: Any,
    units: Any,
    start: dt.date | str,
    policy: Policy | None = None,
    *,
    pins: Mapping[str, str] | None = None,
) -> float:
    """The plan's objective, recomputed from its table and the raw rows (`allocator.engine.columns`).

    Placed: urgency weight x size x days waited from the release day, plus the wasted bed-nights'
    weight x empty beds x stay days, plus the kind-mismatch weight for a high-support household in
    a flat or a low-support one in a hub room. Not placed: urgency weight x size x (days from the
    release to the horizon's end + the terminal wait), times ``pin_weight`` for a pinned household.
    The release day is the need date counted from the plan start, or 0 if that is earlier.
    """
    inst = parse_instance(households, units, None, start, policy, pins=pins)
    placements, _ = placements_of(inst, plan_table)
    return assignment_objective(inst, placements)


def plan_table(inst: RawInstance, placements: Mapping[str, Placement]) -> pd.DataFrame:
    """A plan table (the columns `check_plan` reads) for the given placements."""
    rows = []
    for hid, h in inst.households.items():
        if hid in placements:
            uid, day = placements[hid]
            begin = inst.date(day)
            rows.append(
                {
                    "household_id": hid,
                    "unit_id": uid,
                    "kind": inst.units[uid].kind.value if uid in inst.units else None,
                    "start": begin,
                    "expected_end": begin + dt.timedelta(days=h.stay_days),
                    "status": "placed",
                }
            )
        else:
            rows.append(
                {
                    "household_id": hid,
                    "unit_id": None,
                    "kind": None,
                    "start": None,
                    "expected_end": None,
                    "status": "not_placed",
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- random scenarios


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

        return plan(
            self.households,
            self.units,
            self.stays,
            start=self.start,
            policy=self.policy,
            method=method,
            pins=self.pins,
            forbids=self.forbids,
            **kwargs,
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
) -> Scenario:
    """A small random scenario with every feature the rules cover, seeded.

    Sizes 1-6, some step-free needs and units, need dates before, inside and after the horizon,
    availability windows, current stays (before and during the horizon), support and mediation
    caps, pins and forbidden pairs: each feature can be switched off.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    H = 7 * horizon_weeks
    day = lambda d: start + dt.timedelta(days=int(d))  # noqa: E731
    unit_rows = []
    for k in range(n_units):
        frm = until = None
        if windows and rng.random() < 0.3:
            frm = day(rng.integers(-3, H))
        if windows and rng.random() < 0.3:
            lo = 1 if frm is None else (frm - start).days + 1
            until = day(rng.integers(max(lo, 1), max(lo, 1) + H + 10))
        unit_rows.append(
            {
                "unit_id": f"U{k}",
                "kind": str(rng.choice(["flat", "hub_room"])),
                "capacity": int(rng.integers(1, 7)),
                "accessible": bool(rng.random() < 0.3),
                "available_from": frm,
                "available_until": until,
            }
        )
    stay_rows = []
    if stays:
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
                            "start": day(s),
                            "expected_end": day(e),
                            "support": str(rng.choice(["low", "medium", "high"]))
                            if rng.random() < 0.5
                            else None,
                            "language": str(rng.choice(list(languages)))
                            if rng.random() < 0.3
                            else None,
                        }
                    )
                cursor = e
    hh_rows = []
    for k in range(n_households):
        hh_rows.append(
            {
                "household_id": f"H{k}",
                "size": int(rng.integers(1, 7)),
                "urgency": int(rng.integers(1, 6)),
                "need_date": day(rng.integers(-10, H + 3)),
                "expected_stay_days": int(rng.integers(1, max_stay_days + 1)),
                "support": str(rng.choice(["low", "medium", "high"])),
                "accessible": bool(rng.random() < 0.2),
                "language": str(rng.choice(list(languages))) if rng.random() < 0.35 else None,
            }
        )
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
    pins: dict[str, str] = {}
    forbids: list[tuple[str, str]] = []
    if overrides and n_households and n_units:
        for k in range(n_households):
            r = rng.random()
            uid = f"U{int(rng.integers(0, n_units))}"
            if r < 0.12:
                pins[f"H{k}"] = uid
            elif r < 0.3:
                forbids.append((f"H{k}", uid))
    stay_columns = ["household_id", "unit_id", "start", "expected_end", "support", "language"]
    return Scenario(
        households=pd.DataFrame(hh_rows),
        units=pd.DataFrame(unit_rows),
        stays=pd.DataFrame(stay_rows, columns=stay_columns),
        start=start,
        policy=Policy(**policy_args),
        pins=pins,
        forbids=forbids,
    )
