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
  departs (``expected_end``) ``expected_stay_days`` after its start. A household with an
  ``expected_exit_date`` instead starts before that date and departs on it, or
  ``policy.max_stay_days`` after its start if that comes first (`RawInstance.stay_length`);
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
  never used;
* connecting rooms (a plan row with ``joined_units`` "R2+R3", a placement ``("R1+R2+R3", day)``):
  2 to 4 distinct rooms of one ``group``, minimal for the household (their beds hold it, and
  would not without the smallest room), every room step-free if it needs one, available from the
  start, and left at least the turnover days before any room leaves the programme. Each room is
  occupied as a single unit would be (a current stay with ``joined_units`` blocks every room it
  holds). The policy must let the household combine (``connecting_rooms``: ``never``; ``when_needed``
  only when it has more persons than every unit, every step-free unit if it needs one, has beds;
  ``comfort``). A pinned household is never combined; a forbidden room forbids every combination
  with it. Support and mediation count the household once. In the objective the rooms are one unit
  of their beds added up, of their group's kind and district.

The fairness bound (``policy.fair_wait_days`` = N, for the solver's plans): no household that
has waited N days since its need date, has not moved in and is not pinned sees a household that
asked later (and is not pinned) move in that day into a unit, or connecting rooms, it could have
held itself from that day for its whole stay, on its own (`could_hold`: it fits, is permitted,
and the stay ends before the unit leaves the programme and before the turnover ahead of a current
stay booked later in it).

A pinned household may stay unplaced (when its unit cannot take it); the objective then charges its
waiting cost ``policy.pin_weight`` times. An exit-dated household left unplaced waits in a hotel
until the horizon's end plus ``policy.terminal_wait_days``, or its exit date if that comes first.

Everything public is imported from here; the private modules behind it hold one part each: the raw
rows (`_raw`), the rules (`_rules`), the fairness bound (`_fair`), the objective (`_objective`),
the exact optimum of a tiny
instance by bounded search (`_brute`), plan tables and the checks an
analyst calls (`_plans`), and random scenarios for property tests (`_scenarios`).
"""

from allocator.testing._brute import brute_force_optimum, placement_options, room_choices
from allocator.testing._fair import (
    Overtaking,
    could_hold,
    overtaking_judge,
    overtaking_violations,
    overtakings,
)
from allocator.testing._objective import assignment_objective, household_cost
from allocator.testing._plans import check_plan, objective_of, placements_of, plan_table
from allocator.testing._raw import (
    HouseholdRow,
    Placement,
    RawInstance,
    StayRow,
    UnitRow,
    joined,
    parse_instance,
    rooms_of,
)
from allocator.testing._rules import (
    MAX_ROOMS,
    assignment_violations,
    combined_violations,
    free_days,
    may_combine,
    placement_violations,
)
from allocator.testing._scenarios import Scenario, random_instance, random_scenario

__all__ = [
    "MAX_ROOMS",
    "HouseholdRow",
    "Overtaking",
    "Placement",
    "RawInstance",
    "Scenario",
    "StayRow",
    "UnitRow",
    "assignment_objective",
    "assignment_violations",
    "brute_force_optimum",
    "check_plan",
    "combined_violations",
    "could_hold",
    "free_days",
    "household_cost",
    "joined",
    "may_combine",
    "objective_of",
    "overtaking_judge",
    "overtaking_violations",
    "overtakings",
    "parse_instance",
    "placement_options",
    "placement_violations",
    "placements_of",
    "plan_table",
    "random_instance",
    "random_scenario",
    "room_choices",
    "rooms_of",
]
