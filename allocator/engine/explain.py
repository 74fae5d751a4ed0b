"""A reason a planner can read for every household, placed or not.

Reasons are worked out from the instance and the final plan, not from the solver's internals, so
the same wording serves every method. They name units, households' ids, dates, sizes, support and
urgency levels, never personal data.

Every claim is true of the plan it explains (tests/engine/test_reasons.py reads them back). A unit
is *free for a stay* from day d when the stay fits its availability window and [d, departure +
turnover), cut where the unit leaves the programme, misses its current stays ("before the plan")
and, in the final plan, every other household's stay too. A placed household's reason gives its
unit and beds; "pinned by the planner"; when it starts (on its need date, or why not earlier: no
unit with its beds and access free for the stay before some day, the only units free forbidden or
not the pinned one, the fitting units free then went to named households, accompaniment or
mediation capacity, or a unit free and a search that stopped); its size ("smallest unit size that
fits" in the whole units table, or why no smaller unit: none free for the stay before the plan,
named households took them, the planner forbade them, or one was free and the plan preferred
this one, and why); its kind against its support level, in the same terms. A household not placed
gets why no start in the horizon works, in the same terms.

The stay in each claim is the one from the start it is about: an exit-dated household's runs
from that day to its exit date (`Instance.stay_length`), so it is shorter the later it starts.
Placed, such a household is said to stay until its exit date (or until the programme's longest
stay ends, when that comes first). Not placed, when its exit date has passed, or no unit that
fits is free even for one night before the plan between its release and its exit, that is its
reason, with the first day a unit is.

Why a named household holds a unit: for greedy, what put it ahead in greedy's queue (a pin, an
earlier need date, the same need date and more urgency, the table's order); for the solver, the
first two of these that hold: a pin, more urgent, it needed exactly that many beds or has more
persons, an earlier need date, the unit's kind suits its support better, fewer units fit it.
Connecting rooms (`allocator.engine.explain_rooms`) count as units a household holds; one
household's rooms are named together, and a household in them is held there because no single
unit has its beds.
"""

from __future__ import annotations

import numpy as np

from allocator.domain import JOINED_SEPARATOR, Support, UnitKind
from allocator.engine import announcements, districts
from allocator.engine.columns import placement_cost, unplaced_cost
from allocator.engine.explain_days import best_of_kinds
from allocator.engine.explain_free import NAMED_UNITS, Days
from allocator.engine.explain_rooms import RoomTime
from allocator.engine.instance import Instance
from allocator.engine.result import Method
from allocator.engine.rooms import MAX_ROOMS

KIND_LABEL = {UnitKind.HUB_ROOM: "hub room", UnitKind.FLAT: "flat"}
_KINDS_LABEL = {UnitKind.HUB_ROOM: "hub rooms", UnitKind.FLAT: "flats"}
# how well a unit's kind suits a support level: hub rooms (staff on site) for high support, flats
# (autonomy) for low support; `columns.kind_mismatch` is the -1
_SUITS = {
    (Support.HIGH, UnitKind.HUB_ROOM): 1,
    (Support.LOW, UnitKind.FLAT): 1,
    (Support.HIGH, UnitKind.FLAT): -1,
    (Support.LOW, UnitKind.HUB_ROOM): -1,
}
NAMED_HOUSEHOLDS = 2  # households named per unit


def explain(
    inst: Instance,
    pool: np.ndarray,
    start: np.ndarray,
    unit: np.ndarray,
    method: Method,
    joined: dict[int, list[int]] | None = None,
) -> list[str]:
    """One reason per household, in input order. ``joined``: for a household in connecting
    rooms, the rooms it holds besides its unit (`assign.assign_units`)."""
    if inst.n_households == 0:
        return []
    facts = _PlanFacts(inst, pool, start, unit, method, joined)
    why: list[str] = [""] * inst.n_households
    # by start day: greedy's search for units free at a household's turn reads the stays by
    # day, and keeps the last day's
    for i in np.argsort(np.where(pool >= 0, start, inst.horizon), kind="stable").tolist():
        why[i] = facts.reason(i)
    # what became of each announced placement, and the hard rule that changed it if one did
    for i, note in announcements.notes(inst, pool, start, unit, method is Method.SOLVER).items():
        why[i] = announcements.with_note(why[i], note)
    return why


def _suits(support: Support, kind: UnitKind) -> int:
    return _SUITS.get((support, kind), 0)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _days(k: int) -> str:
    return "1 day" if k == 1 else f"{k} days"


def _on(first: int, k: int, inst: Instance) -> str:
    """ "on 2026-12-08" or "on 3 days from 2026-12-08": k days, the first of them given."""
    return f"on {inst.day(first)}" if k == 1 else f"on {_days(k)} from {inst.day(first)}"


def _more(k: int, what: str) -> str:
    return f"{k} more {what}" + ("" if k == 1 else "s")


class _PlanFacts(RoomTime):
    """The plan's facts (`FreeTime`, `RoomTime`) put into words, household by household."""

    _unplaced_cost: np.ndarray | None = None  # each household's cost left out, once needed

    # --- words ------------------------------------------------------------------------------------

    def __init__(self, *plan) -> None:
        super().__init__(*plan)
        inst = self.inst
        # as Python values: a reason reads a few households' at a time
        self.pinned_l: list[int] = inst.pinned_pool.tolist()
        self.need_l: list[int] = inst.need_day.tolist()
        self.urgency_l: list[int] = inst.urgency.tolist()
        self.n_fitting_l: list[int] = self.n_fitting_units.tolist()
        self._unit_words: dict[int, str] = {}
        self._dates: dict[int, str] = {}
        self.largest_step_free = int(inst.unit_capacity.max(where=inst.unit_access, initial=0))

    def _date(self, d: int) -> str:
        """Day d as a date, ISO (kept: a reason names a few of a few hundred days)."""
        if d not in self._dates:
            self._dates[d] = self.inst.day(d).isoformat()
        return self._dates[d]

    def _unit(self, u: int) -> str:
        if u not in self._unit_words:
            inst = self.inst
            kind = KIND_LABEL[inst.unit_kind[u]]
            self._unit_words[u] = f"the {inst.unit_capacity[u]}-bed {kind} {inst.unit_ids[u]}"
        return self._unit_words[u]

    def _went_to(
        self,
        i: int,
        d: int,
        units: list[int],
        verb: bool,
        count: int | None = None,
        rooms: bool = False,
    ) -> tuple[str, int]:
        """ "the 3-bed flat F1 [went] to household A2 (why), the 2-bed hub room R2 to households
        A3 (why) and A4 (why), and 1 more unit", and how many households (up to 2) hold the units
        over household i's stay from day d. For greedy, the holders ahead of i in its queue are
        named when there are any: they made the unit busy at i's turn. ``count``: how many units
        there are, when ``units`` are only the first of them. ``rooms``: connecting rooms, up to
        `MAX_ROOMS` named. Connecting rooms in a row held by the same households, all in
        connecting rooms, are named together ("the connecting rooms H1.01+H1.02 went to
        household B7 (why)")."""
        count = len(units) if count is None else count
        named = units[: MAX_ROOMS if rooms else NAMED_UNITS]
        entries: list[tuple[list[int], list[int]]] = []  # units, and the households named
        holders: set[int] = set()  # households, once (one holds all its connecting rooms)
        reach = d + self._nights(i, d) + self.turn  # where i's stay from day d would end
        rank, ids, greedy = self.rank_l, self.inst.household_ids, self.method is Method.GREEDY
        begin, until, of, at = self.stay_from_l, self.stay_to_l, self.stay_of_l, self.stays_at_l
        for u in named:
            # the stays in unit u, by start, that overlap i's stay there, but its own
            p = self.size_pos_l[u]
            end = min(reach, self.occupancy_s.item(d, p))
            takers = [
                of[x]
                for x in range(at[p], at[p + 1])
                if begin[x] < end and until[x] > d and of[x] != i
            ]
            holders.update(takers)
            if greedy:
                takers = [j for j in takers if rank[j] < rank[i]] or takers
            if entries and self._same_rooms(entries[-1], u, takers):
                entries[-1][0].append(u)
            else:
                entries.append(([u], takers))
        items = []
        for k, (us, takers) in enumerate(entries):
            u = us[0]
            names = [f"{ids[j]} ({self._why(j, i, u)})" for j in takers[:NAMED_HOUSEHOLDS]]
            if len(takers) > NAMED_HOUSEHOLDS:
                names.append(_more(len(takers) - NAMED_HOUSEHOLDS, "household"))
            to = "went to" if verb and k == 0 else "to"
            who = "household" if len(takers) == 1 else "households"
            label = self._unit(u)
            if len(us) > 1:
                label = "the connecting rooms " + JOINED_SEPARATOR.join(
                    self.inst.unit_ids[v] for v in us
                )
            items.append(f"{label} {to} {who} {_and(names)}")
        if count > len(named):
            items.append("and " + _more(count - len(named), "unit"))
        return ", ".join(items), min(len(holders), 2)

    def _same_rooms(self, entry: tuple[list[int], list[int]], u: int, takers: list[int]) -> bool:
        """Whether unit u joins ``entry`` (units, their holders) in `_went_to`: the same
        households, in connecting rooms, hold both, rooms of one group."""
        units = self.inst.tables.units
        group = units[u].group
        return (
            group is not None
            and entry[1] == takers
            and units[entry[0][0]].group == group
            and all(self.together(j) for j in takers)
        )

    def _why(self, j: int, i: int, u: int) -> str:
        """Why household j, not i, holds unit u: what put j first in greedy's queue; for the
        solver, the first two of what its objective weighs that favour j (a pin, urgency, the
        unit's size, the need date, the kind for the support level, fewer units fitting)."""
        inst = self.inst
        pinned, need, urgency, size = self.pinned_l, self.need_l, self.urgency_l, self.size_l
        if self.method is Method.GREEDY and self.rank_l[j] < self.rank_l[i]:
            if pinned[j] >= 0 and pinned[i] < 0:
                return "pinned by the planner"
            if need[j] < need[i]:
                return "earlier need date"
            if urgency[j] > urgency[i]:
                return f"same need date, more urgent: {urgency[j]} against {urgency[i]}"
            return "same need date and urgency, listed first"
        facts = []
        if pinned[j] >= 0 and pinned[i] < 0:
            facts.append("pinned by the planner")
        if urgency[j] > urgency[i]:
            facts.append(f"more urgent: {urgency[j]} against {urgency[i]}")
        cap = int(inst.unit_capacity[u])
        too_small = self._single_too_small(j) if self.together(j) else None
        if too_small is not None:  # it holds u with other connecting rooms
            facts.append(too_small)
        elif size[j] == cap and size[i] != cap and not self.together(j):
            facts.append(f"needed exactly {cap} beds")
        elif size[j] > size[i]:
            facts.append(f"more persons: {size[j]} against {size[i]}")
        if need[j] < need[i]:
            facts.append("earlier need date")
        kind = inst.unit_kind[u]
        sj, si = inst.support[j], inst.support[i]
        if _suits(sj, kind) > _suits(si, kind):
            if _suits(sj, kind) > 0:
                facts.append(
                    f"{sj.value} support: {_KINDS_LABEL[kind]} go first to {sj.value}-support "
                    "households"
                )
            else:
                facts.append(
                    f"{sj.value} support suits a {KIND_LABEL[kind]} better than {si.value} support"
                )
        if self.n_fitting_l[j] < self.n_fitting_l[i]:
            facts.append("fewer units fit it")
        if not facts:
            return "the solver's choice for the plan's total cost"
        return ", ".join(facts[:2])

    def _cost(self, i: int, u: int, d: int) -> float:
        """Household i's objective term were it placed in unit u on day d."""
        idx = np.array([i])
        return float(placement_cost(self.inst, idx, self.inst.unit_pool[[u]], np.array([d]))[0])

    def _unplaced(self, i: int) -> float:
        """Household i's objective term left out."""
        if self._unplaced_cost is None:
            self._unplaced_cost = unplaced_cost(self.inst)
        return float(self._unplaced_cost[i])

    def _instead(self, i: int, v: int, d: int) -> str:
        """Why household i is not in unit v from day d, though v is free for the stay and
        capacity allows it: greedy's preference, or what the policy's weights make of the move
        (for the solver: more than it saves, a tie, or a search that stopped before it)."""
        inst = self.inst
        if self.pool[i] < 0:
            reference = self._unplaced(i)
            if self._sign(self._cost(i, v, d) - reference, reference) < 0:
                return "the search stopped before placing it"
            return "leaving it out costs no more under the policy's weights"
        u, t, p = int(self.unit[i]), int(self.start[i]), int(self.pool[i])
        more_beds = inst.unit_capacity[v] > inst.pools[p].capacity  # its rooms' beds, together
        if self.method is Method.GREEDY and d == t and more_beds:
            return "it has more beds (greedy takes the smallest unit first)"
        reference = self.pool_cost(i, p, t)
        sign = self._sign(self._cost(i, v, d) - reference, reference)
        if sign < 0:
            return "the search stopped before this improvement"
        worse = ["it has more beds"] if more_beds else []
        support = inst.support[i]
        if _suits(support, inst.unit_kind[v]) < _suits(support, inst.unit_kind[u]):
            worse.append(f"a {KIND_LABEL[inst.unit_kind[v]]} suits {support.value} support less")
        farther = districts.farther_note(inst, i, v, u)
        if farther:
            worse.append(farther)
        if sign > 0 and self._changes_announcement(i, v, d):
            return "it would change the placement announced to the family"
        if sign == 0 or not worse:
            return "an equal choice under the policy's weights"
        than = "" if d == t else " than the wait"
        return f"{' and '.join(worse)}, which the policy weighs more{than}"

    def _changes_announcement(self, i: int, v: int, d: int) -> bool:
        """Whether unit v from day d changes household i's announcement, and its plan does not."""
        inst, idx = self.inst, np.array([i])
        move = announcements.change_cost(inst, idx, inst.unit_pool[[v]], np.array([d]))
        here = announcements.change_cost(
            inst, idx, np.array([self.pool[i]]), np.array([self.start[i]])
        )
        return bool(np.any(np.asarray(move) > np.asarray(here)))

    @staticmethod
    def _sign(delta: float, reference: float) -> int:
        """The sign of a change in the objective, ties within the solvers' tolerance."""
        if abs(delta) <= 1e-9 * max(1.0, abs(reference)):
            return 0
        return 1 if delta > 0 else -1

    def _capacity_words(self, support: bool, mediation: bool, i: int) -> str:
        inst = self.inst
        team = f"accompaniment capacity (team load cap {inst.policy.support_capacity})"
        if support and mediation:
            return "accompaniment or mediation capacity"
        if support:
            return team
        return f"mediation capacity for {inst.languages[int(inst.language[i])]}"

    # --- placed -----------------------------------------------------------------------------------

    def reason(self, i: int) -> str:
        return self._placed(i) if self.pool[i] >= 0 else self._not_placed(i)

    def _placed(self, i: int) -> str:
        if self.together(i):
            return self._placed_in_rooms(i)
        inst = self.inst
        p, u = int(self.pool[i]), self.unit_l[i]
        q = inst.pools[p]
        beds = "1 bed" if q.capacity == 1 else f"{q.capacity} beds"
        parts = [f"{KIND_LABEL[q.kind]} {inst.unit_ids[u]} ({beds} for {self.size_l[i]})"]
        near = districts.reason_note(inst, i, u)
        if near:  # "flat F3 (3 beds for 3), same district as the school/work"
            parts[0] += f", {near}"
        if self._exit_l[i] is not None:
            parts.append(self._until(i))
        if self.pinned_l[i] == p:
            parts.append("pinned by the planner")
        parts.append(self._when(i))
        parts.append(self._size(i))
        kind = self._kind(i)
        if kind:
            parts.append(kind)
        return "; ".join(parts)

    def _placed_in_rooms(self, i: int) -> str:
        """`_placed` for a household in connecting rooms (`RoomTime`): no pin takes it there, and
        no room is spare, so no smaller size is looked for."""
        near = districts.reason_note(self.inst, i, self.unit_l[i])
        parts = [self.placed_together(i, near)]
        if self._exit_l[i] is not None:
            parts.append(self._until(i))
        parts.append(self.waited_together(i))
        kind = self._kind(i)
        if kind:
            parts.append(kind)
        return "; ".join(parts)

    def _until(self, i: int) -> str:
        """When an exit-dated household placed on day t leaves: on its exit date, or earlier
        when the programme's longest stay (counted from move-in) ends first."""
        inst = self.inst
        t, exit_day = int(self.start[i]), int(inst.exit_day[i])
        end = t + self._nights(i, t)
        if end == exit_day:
            return f"stays until its expected exit on {self._date(exit_day)}"
        return (
            f"stays until {self._date(end)}, the programme's longest stay (expected exit on "
            f"{self._date(exit_day)})"
        )

    def _stay(self, i: int) -> str:
        """ "18-night stay", or for an exit-dated household "stay up to its expected exit on
        2027-01-10" (its length depends on the start)."""
        inst = self.inst
        if inst.exit_dated[i]:
            return f"stay up to its expected exit on {self._date(int(inst.exit_day[i]))}"
        return f"{int(inst.stay_days[i])}-night stay"

    def _exit_first(self, i: int) -> str | None:
        """For an exit-dated household: why no stay can start before its exit date (the exit
        has passed, or no unit that fits is free for even one night before it), if so."""
        inst = self.inst
        H, r, exit_day = inst.horizon, int(inst.release[i]), int(inst.exit_day[i])
        exit = self._date(exit_day)
        if exit_day <= r:
            if exit_day < r:
                return f"expected exit on {exit} has passed (the plan starts on {self._date(r)})"
            return f"expected exit on {exit} is the plan's start: no night is left to place it"
        night = best_of_kinds(self, "broad")["before"][self.broad_kind_of[i], r:H] >= 1
        if exit_day > H or night[: exit_day - r].any():
            return None  # a night is free before the exit, or the exit is past the horizon
        later = night[exit_day - r :]
        earliest = (
            f"earliest {self._date(exit_day + int(np.argmax(later)))}"
            if later.any()
            else "none is within the horizon"
        )
        return f"expected exit on {exit} comes before any fitting unit is free ({earliest})"

    def _when(self, i: int) -> str:
        t, r = self.start_l[i], self.release_l[i]
        if t == r:
            return "free on the need date" if self.need_l[i] >= 0 else "free at the plan's start"
        days = self._days(i)
        # days counted from the release: the plan's start for a household already waiting
        since = "" if self.need_l[i] >= 0 else " from the plan's start"
        if days.anywhere < 0:
            return f"the first day a fitting unit frees up ({_days(t - r)} of waiting{since})"
        pieces = []
        if days.anywhere != days.lo:
            pieces.append(
                f"no unit that fits was free for the whole stay before {self._date(days.anywhere)}"
            )
        pieces.extend(self._held_back(i, days, placed=True))
        return f"waits {_days(t - r)}{since}: " + ", ".join(pieces)

    def _held_back(self, i: int, days: Days, placed: bool) -> list[str]:
        """What kept household i from the days a unit that fits was free before the plan: the
        planner, accompaniment or mediation capacity, other households, or (the solver) a search
        that stopped. Capacity is looked at first: it holds whatever the unit."""
        inst = self.inst
        were = "were" if placed else "are"
        pieces = []
        if days.planner >= 0 and (placed or inst.pinned_pool[i] < 0):
            when = _on(days.planner, days.n_planner, inst)
            if inst.pinned_pool[i] >= 0:
                pieces.append(
                    f"{when} only units other than its pinned one {were} free for the stay"
                )
            else:
                pieces.append(
                    f"{when} the only units free for the stay {were} forbidden for it by the planner"
                )
        if days.taken >= 0:
            # for greedy, every unit here has a household ahead of i in its queue (the unit's
            # pool was full at i's turn, capacity allowing): `_went_to` names those
            d = days.taken
            units, count = self._taken_units(i, d, NAMED_UNITS)
            went, n = self._went_to(i, d, units, False, count)
            one = count == 1
            others = "another household" if n == 1 else "other households"
            if placed or days.after:
                lead = f"the fitting unit{'' if one else 's'} free from {self._date(d)} went to {others}"
            else:
                lead = f"every fitting unit free for its {self._stay(i)} "
                lead += f"went to {others}, starting with {'that' if one else 'those'} "
                lead += f"free from {self._date(d)}"
            pieces.append(f"{lead}: {went}")
        if days.full >= 0:
            which = self._capacity_words(days.full_support, days.full_mediation, i)
            if not placed and not days.room:
                pieces.append(f"{which} would be exceeded on every day a fitting unit is free")
            else:
                would = "would have been" if placed else "would be"
                starts = _on(days.full, days.n_full, inst)
                if days.n_full > 1:
                    starts = starts.replace("on ", "on any of ", 1)
                pieces.append(f"{which} {would} exceeded by a start {starts}")
        if days.choice >= 0:
            d = days.choice
            u = self._first_free(i, d)
            assert u is not None  # an allowed unit is free then
            pieces.append(self._choice(i, u, d, placed))
        return pieces

    def _choice(self, i: int, u: int, d: int, placed: bool) -> str:
        """Unit u was free from day d, within capacity: why household i is not there."""
        was = "was" if placed else "is"
        return f"{self._unit(u)} {was} free from {self._date(d)}: {self._instead(i, u, d)}"

    def _size(self, i: int) -> str:
        """Smallest unit size that fits, or why no smaller unit was used."""
        u, t = self.unit_l[i], self.start_l[i]
        smaller = self._sized_units(i, below=self.capacity_u[u])
        if not self._n_positions(smaller):
            return "smallest unit size that fits"
        if self.pinned_l[i] >= 0:
            return "larger than needed (the planner's pin)"
        at = self._look(i, t, smaller, passed=False)
        if at.first is not None:
            v = at.first
            return f"larger than needed: {self._unit(v)} was free too: {self._instead(i, v, t)}"
        if at.n_taken:
            return "larger than needed: " + self._went_to(i, t, at.taken, True, at.n_taken)[0]
        if at.forbidden:
            names = _and([self._unit(v) for v in at.forbidden])
            return f"larger than needed: the planner forbade {names}, free then"
        sizes = self._sizes(smaller)
        label = _and([f"{k}-" for k in sizes[:-1]] + [f"{sizes[-1]}-bed"]).replace(" and ", " or ")
        return f"larger than needed: no fitting {label} unit was free for the whole stay"

    def _kind(self, i: int) -> str | None:
        """The kind against the support level; for a mismatch, why no unit of the other kind."""
        inst = self.inst
        u, t = self.unit_l[i], self.start_l[i]
        support, kind = inst.support[i], inst.unit_kind[u]
        suits = _suits(support, kind)
        if suits > 0 and kind is UnitKind.HUB_ROOM:
            return "hub room for high support"
        if suits > 0:
            return "flat for autonomy (low support)"
        if suits == 0:
            return None
        other = UnitKind.FLAT if kind is UnitKind.HUB_ROOM else UnitKind.HUB_ROOM
        head = f"{support.value} support but"
        if inst.pinned_pool[i] >= 0:
            return f"{head} pinned to a {KIND_LABEL[kind]}"
        candidates = self._sized_units(i, flat=other is UnitKind.FLAT)
        at = self._look(i, t, candidates, passed=True)
        if at.first is not None:
            v = at.first
            when = "was free when its turn came" if at.passed else "was free too"
            why = self._instead(i, v, t)
            return f"{head} {self._unit(v)} {when}: {why}"
        if at.n_taken:
            return f"{head} {self._went_to(i, t, at.taken, True, at.n_taken)[0]}"
        if at.forbidden:
            return f"{head} the planner forbade the fitting {_KINDS_LABEL[other]} free then"
        return f"{head} no fitting {KIND_LABEL[other]} was free for this stay"

    # --- not placed -------------------------------------------------------------------------------

    def _not_placed(self, i: int) -> str:
        inst = self.inst
        H = inst.horizon
        size = int(inst.size[i])
        if self.method is Method.HOTEL:
            return "hotel-only baseline: nobody is placed"
        if inst.release[i] >= H:
            return (
                f"need date {self._date(int(inst.need_day[i]))} is after the horizon ends "
                f"({self._date(H)}): plan it in a later batch"
            )
        largest = self.capacity_l[-1] if self.capacity_l else 0  # capacity_l is sorted
        if size > largest:  # or connecting rooms together, if a group's could hold it
            return self.too_large(i, f"no unit has {size} beds (the largest has {largest})")
        if inst.needs_access[i] and size > self.largest_step_free:
            base = f"needs a step-free unit and no step-free unit has {size} beds"
            return self.too_large(i, base)
        if inst.exit_dated[i]:
            exit_first = self._exit_first(i)
            if exit_first:
                return exit_first
        prefix = ""
        p = int(inst.pinned_pool[i])
        if p >= 0:
            if p >= len(inst.pools):
                return (
                    "pinned by the planner to a unit that is busy or out of the programme "
                    "through the horizon"
                )
            q = inst.pools[p]
            unit = f"the {KIND_LABEL[q.kind]} {inst.unit_ids[q.units[0]]}"
            if q.capacity < size:
                beds = "1 bed" if q.capacity == 1 else f"{q.capacity} beds"
                return f"pinned by the planner to {unit}, which has only {beds}"
            if inst.needs_access[i] and not q.accessible:
                return f"pinned by the planner to {unit}, which is not step-free"
            prefix = f"pinned by the planner to {unit}: "
        elif not self.fit[i].any():
            sized = self.size_order[self._positions(self._sized_units(i))]
            # in a pool, yet not allowed: forbidden
            forbidden = int((inst.unit_pool[sized] >= 0).sum())
            access = " and step-free access" if inst.needs_access[i] else ""
            if forbidden == sized.size:
                return "every unit that fits is forbidden for it by the planner"
            if not forbidden:
                return (
                    f"every unit with {size} or more beds{access} is busy or out of the "
                    "programme through the horizon"
                )
            return (
                "every unit that fits is forbidden for it by the planner or busy through the "
                "horizon"
            )
        days = self._days(i)
        stay = self._stay(i)
        if days.anywhere < 0:
            n = self._n_positions(self._sized_units(i))
            return prefix + (
                f"no fitting unit is free for a {stay} within the horizon ({n} "
                f"unit{'' if n == 1 else 's'} fit, all busy, not yet open or leaving the "
                "programme)"
            )
        if not days.allowed:
            if prefix:
                return prefix + f"it is not free for a {stay} within the horizon"
            return (
                f"the only units free for its {stay} within the horizon are forbidden "
                "for it by the planner"
            )
        return prefix + "; ".join(self._held_back(i, days, placed=False))
