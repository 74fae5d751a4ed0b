"""Plan tables: read the placements a table describes, check a plan, recompute its objective.

These are the entry points an analyst calls with what was given to `allocator.plan`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from allocator.engine.result import Method, Plan
from allocator.policy import Policy
from allocator.testing._fair import overtaking_violations
from allocator.testing._objective import assignment_objective
from allocator.testing._raw import (
    Placement,
    RawInstance,
    _date,
    _room_list,
    _text,
    joined,
    parse_instance,
    rooms_of,
)
from allocator.testing._rules import assignment_violations


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
        others = _room_list(row.get("joined_units"))
        who = f"household {hid}"
        if status == "placed":
            if uid is None or begin is None:
                problems.append(f"{who} is marked placed but has no unit or no start")
                continue
            nights = inst.stay_length(hid, inst.day(begin))
            if "expected_end" in table.columns and end != begin + dt.timedelta(days=nights):
                problems.append(
                    f"{who} starts on {begin} for {nights} days but its expected_end is {end}"
                )
            unit = inst.units.get(uid)
            kind = _text(row.get("kind"))
            if unit is not None and "kind" in table.columns and kind != unit.kind.value:
                problems.append(f"{who}: unit {uid} is a {unit.kind.value}, the plan says {kind}")
            placements[hid] = (joined((uid, *others)), inst.day(begin))
        elif status == "not_placed":
            if uid is not None or begin is not None or end is not None or others:
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
    fair: bool | None = None,
) -> list[str]:
    """Every rule the plan breaks, in plain words; an empty list means the plan is valid.

    ``plan`` is a `Plan` or its placements table; the other arguments are what was given to
    `allocator.plan` (tables as DataFrames or lists of records, the start date, the policy, pins
    and forbidden pairs). See the module's docstring for the rules.

    With a policy bound (``fair_wait_days``), the overtakings the bound forbids are problems too
    (`allocator.testing._fair`) for a plan the solver made (a `Plan` of method ``solver``), or
    for any plan with ``fair=True``; ``fair=False`` leaves them out. Greedy and the hotel
    baseline are not bound.
    """
    inst = parse_instance(households, units, stays, start, policy, pins=pins, forbids=forbids)
    placements, problems = placements_of(inst, plan)
    problems += assignment_violations(inst, placements)
    if fair is None:
        fair = isinstance(plan, Plan) and plan.method is Method.SOLVER
    return problems + (overtaking_violations(inst, placements) if fair else [])


def objective_of(
    plan_table: Plan | pd.DataFrame,
    households: Any,
    units: Any,
    start: dt.date | str,
    policy: Policy | None = None,
    *,
    pins: Mapping[str, str] | None = None,
    announced: Mapping[str, tuple[str, dt.date | str]] | None = None,
) -> float:
    """The plan's objective, recomputed from its table and the raw rows.

    The terms are those of `allocator.engine.columns`.

    Placed: urgency weight x size x days waited from the release day, plus the wasted bed-nights'
    weight x empty beds x stay days, plus the kind-mismatch weight for a high-support household in
    a flat or a low-support one in a hub room. Not placed: urgency weight x size x (days from the
    release to the horizon's end + the terminal wait), times ``pin_weight`` for a pinned household.
    The release day is the need date counted from the plan start, or 0 if that is earlier. An
    exit-dated household's stay days run from its start to its exit date, at most
    ``policy.max_stay_days``; not placed, it waits at most until its exit date. With
    ``announced`` (household -> (unit, start date)), ``policy.announcement_weight`` for each
    announced household elsewhere, unless its announced placement breaks a rule on its own. With
    districts, ``policy.district_weight`` per district between the unit and the anchor. Connecting
    rooms (a row with ``joined_units``) count as one unit of their beds added up, of their
    group's kind and district.
    """
    inst = parse_instance(households, units, None, start, policy, pins=pins, announced=announced)
    placements, _ = placements_of(inst, plan_table)
    return assignment_objective(inst, placements)


def plan_table(inst: RawInstance, placements: Mapping[str, Placement]) -> pd.DataFrame:
    """A plan table (the columns `check_plan` reads) for the given placements: connecting rooms
    give ``unit_id`` the first room and ``joined_units`` the others ("R2+R3"), as a plan does."""
    rows = []
    for hid in inst.households:
        if hid in placements:
            text, day = placements[hid]
            uid, *others = rooms_of(text)
            begin = inst.date(day)
            nights = inst.stay_length(hid, day)
            rows.append(
                {
                    "household_id": hid,
                    "unit_id": uid,
                    "joined_units": joined(others),
                    "kind": inst.units[uid].kind.value if uid in inst.units else None,
                    "start": begin,
                    "expected_end": begin + dt.timedelta(days=nights),
                    "status": "placed",
                }
            )
        else:
            rows.append(
                {
                    "household_id": hid,
                    "unit_id": None,
                    "joined_units": "",
                    "kind": None,
                    "start": None,
                    "expected_end": None,
                    "status": "not_placed",
                }
            )
    return pd.DataFrame(rows)
