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

Why a named household holds a unit: for greedy, what put it ahead in greedy's queue (a pin, an
earlier need date, the same need date and more urgency, the table's order); for the solver, the
first two of these that hold: a pin, more urgent, it needed exactly that many beds or has more
persons, an earlier need date, the unit's kind suits its support better, fewer units fit it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.domain import Support, UnitKind
from allocator.engine.columns import placement_cost, unplaced_cost
from allocator.engine.explain_free import Candidates, Days, FreeTime
from allocator.engine.instance import Instance
from allocator.engine.result import Method

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
NAMED_UNITS = 3  # units named in one claim, then "and k more units"
NAMED_HOUSEHOLDS = 2  # households named per unit
PASSED_FIRST = 8  # greedy: taken units looked at first for one passed over


def explain(
    inst: Instance, pool: np.ndarray, start: np.ndarray, unit: np.ndarray, method: Method
) -> list[str]:
    """One reason per household, in input order."""
    if inst.n_households == 0:
        return []
    facts = _PlanFacts(inst, pool, start, unit, method)
    return [facts.reason(i) for i in range(inst.n_households)]


def _suits(support: Support, kind: UnitKind) -> int:
    return _SUITS.get((support, kind), 0)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _days(k: int) -> str:
    return "1 day" if k == 1 else f"{k} days"


def _on(days: Days, flags: np.ndarray, inst: Instance) -> str:
    """ "on 2026-12-08" or "on 3 days from 2026-12-08": the days ``flags`` marks."""
    first = inst.day(days.first(flags))
    k = int(flags.sum())
    return f"on {first}" if k == 1 else f"on {_days(k)} from {first}"


def _more(k: int, what: str) -> str:
    return f"{k} more {what}" + ("" if k == 1 else "s")


@dataclass
class _Units:
    """Candidate units on one day (see `_PlanFacts._at`), each a mask over the positions [lo,
    lo + len) in size order; `smallest` lists a union as unit ids, smallest first."""

    facts: _PlanFacts
    lo: int
    forbidden: np.ndarray
    free: np.ndarray
    taken: np.ndarray
    passed: np.ndarray

    def smallest(self, *names: str) -> np.ndarray:
        mask = getattr(self, names[0])
        for n in names[1:]:
            mask = mask | getattr(self, n)
        return self.facts.size_order[np.flatnonzero(mask) + self.lo]

    def has(self, name: str, u: int) -> bool:
        """Whether unit u is among ``name``."""
        p = int(self.facts.size_pos[u]) - self.lo
        mask = getattr(self, name)
        return 0 <= p < mask.size and bool(mask[p])


class _PlanFacts(FreeTime):
    """The plan's facts (`FreeTime`) put into words, household by household."""

    _unplaced_cost: np.ndarray | None = None  # each household's cost left out, once needed

    def _at(self, i: int, d: int, candidates: Candidates, passed: bool = False) -> _Units:
        """The candidate units on day d for household i's stay: "forbidden" (free, but the
        planner does not allow it), "free" (still free in the final plan, i's own stay not
        counted), "taken" (free before the plan, held by others in it) and, with ``passed`` and
        greedy, "passed": taken only by households behind i in greedy's queue, so free when i's
        turn came (looked for only before the first free unit, and until one is found: only the
        smallest of "free" and "passed" is named). The rest were busy before the plan."""
        L = int(self.inst.stay_days[i])
        mask, lo, hi = candidates
        ok = self.before_s[d, lo:hi] >= L
        if mask is not None:
            ok &= mask[lo:hi]
        allowed = self._allowed_mask(i)[lo:hi]
        after_ok = self._after_ok(i, d, lo, hi)
        ok_allowed = ok & allowed
        at = _Units(
            self,
            lo,
            forbidden=ok & ~allowed,
            free=ok_allowed & after_ok,
            taken=ok_allowed & ~after_ok,
            passed=np.zeros_like(ok),
        )
        if passed and self.method is Method.GREEDY and at.taken.any():
            # only the smallest passed unit is named, and taken units only when none passed:
            # look before the first free unit, the smallest first
            taken = np.flatnonzero(at.taken)
            if at.free.any():
                taken = taken[taken < np.argmax(at.free)]
            done = 0
            while done < taken.size:  # in growing parts, until one passed is found
                part = taken[done : max(PASSED_FIRST, 4 * done)]
                done += part.size
                behind = part[~self._held_ahead(i, d, self.size_order[part + lo])]
                at.passed[behind] = True
                at.taken[behind] = False
                if behind.size:
                    break
        return at

    # --- words ------------------------------------------------------------------------------------

    def _unit(self, u: int) -> str:
        inst = self.inst
        return f"the {inst.unit_capacity[u]}-bed {KIND_LABEL[inst.unit_kind[u]]} {inst.unit_ids[u]}"

    def _went_to(
        self, i: int, d: int, units: np.ndarray, verb: bool, count: int | None = None
    ) -> tuple[str, int]:
        """ "the 3-bed flat F1 [went] to household A2 (why), the 2-bed hub room R2 to households
        A3 (why) and A4 (why), and 1 more unit", and how many households (up to 2) hold the units
        over household i's stay from day d. For greedy, the holders ahead of i in its queue are
        named when there are any: they made the unit busy at i's turn. ``count``: how many units
        there are, when ``units`` are only the first of them."""
        count = units.size if count is None else count
        items, holders = [], 0
        hit = self._overlapping(i, d, self._stays_in(units[:NAMED_UNITS]))
        for k, u in enumerate(units[:NAMED_UNITS].tolist()):
            takers = self.stay_of[hit[self.stay_unit[hit] == u]]
            holders += takers.size
            if self.method is Method.GREEDY:
                ahead = takers[self.rank[takers] < self.rank[i]]
                takers = ahead if ahead.size else takers
            names = [
                f"{self.inst.household_ids[j]} ({self._why(j, i, u)})"
                for j in takers[:NAMED_HOUSEHOLDS].tolist()
            ]
            if takers.size > NAMED_HOUSEHOLDS:
                names.append(_more(takers.size - NAMED_HOUSEHOLDS, "household"))
            to = "went to" if verb and k == 0 else "to"
            who = "household" if takers.size == 1 else "households"
            items.append(f"{self._unit(u)} {to} {who} {_and(names)}")
        if count > NAMED_UNITS:
            items.append("and " + _more(count - NAMED_UNITS, "unit"))
        return ", ".join(items), min(holders, 2)

    def _why(self, j: int, i: int, u: int) -> str:
        """Why household j, not i, holds unit u: what put j first in greedy's queue; for the
        solver, the first two of what its objective weighs that favour j (a pin, urgency, the
        unit's size, the need date, the kind for the support level, fewer units fitting)."""
        inst = self.inst
        if self.method is Method.GREEDY and self.rank[j] < self.rank[i]:
            if inst.pinned_pool[j] >= 0 and inst.pinned_pool[i] < 0:
                return "pinned by the planner"
            if inst.need_day[j] < inst.need_day[i]:
                return "earlier need date"
            if inst.urgency[j] > inst.urgency[i]:
                return f"same need date, more urgent: {inst.urgency[j]} against {inst.urgency[i]}"
            return "same need date and urgency, listed first"
        facts = []
        if inst.pinned_pool[j] >= 0 and inst.pinned_pool[i] < 0:
            facts.append("pinned by the planner")
        if inst.urgency[j] > inst.urgency[i]:
            facts.append(f"more urgent: {inst.urgency[j]} against {inst.urgency[i]}")
        cap = int(inst.unit_capacity[u])
        if inst.size[j] == cap and inst.size[i] != cap:
            facts.append(f"needed exactly {cap} beds")
        elif inst.size[j] > inst.size[i]:
            facts.append(f"more persons: {inst.size[j]} against {inst.size[i]}")
        if inst.need_day[j] < inst.need_day[i]:
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
        if self.n_fitting_units[j] < self.n_fitting_units[i]:
            facts.append("fewer units fit it")
        if not facts:
            return "the solver's choice for the plan's total cost"
        return ", ".join(facts[:2])

    def _cost(self, i: int, u: int, d: int) -> float:
        """Household i's objective term were it placed in unit u on day d."""
        idx = np.array([i])
        return float(placement_cost(self.inst, idx, self.inst.unit_pool[[u]], np.array([d]))[0])

    def _instead(self, i: int, v: int, d: int) -> str:
        """Why household i is not in unit v from day d, though v is free for the stay and
        capacity allows it: greedy's preference, or what the policy's weights make of the move
        (for the solver: more than it saves, a tie, or a search that stopped before it)."""
        inst = self.inst
        if self.pool[i] < 0:
            if self._unplaced_cost is None:
                self._unplaced_cost = unplaced_cost(inst)
            reference = float(self._unplaced_cost[i])
            if self._sign(self._cost(i, v, d) - reference, reference) < 0:
                return "the search stopped before placing it"
            return "leaving it out costs no more under the policy's weights"
        u, t = int(self.unit[i]), int(self.start[i])
        more_beds = inst.unit_capacity[v] > inst.unit_capacity[u]
        if self.method is Method.GREEDY and d == t and more_beds:
            return "it has more beds (greedy takes the smallest unit first)"
        reference = self._cost(i, u, t)
        sign = self._sign(self._cost(i, v, d) - reference, reference)
        if sign < 0:
            return "the search stopped before this improvement"
        worse = ["it has more beds"] if more_beds else []
        support = inst.support[i]
        if _suits(support, inst.unit_kind[v]) < _suits(support, inst.unit_kind[u]):
            worse.append(f"a {KIND_LABEL[inst.unit_kind[v]]} suits {support.value} support less")
        if sign == 0 or not worse:
            return "an equal choice under the policy's weights"
        than = "" if d == t else " than the wait"
        return f"{' and '.join(worse)}, which the policy weighs more{than}"

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
        inst = self.inst
        p, u = int(self.pool[i]), int(self.unit[i])
        q = inst.pools[p]
        beds = "1 bed" if q.capacity == 1 else f"{q.capacity} beds"
        parts = [f"{KIND_LABEL[q.kind]} {inst.unit_ids[u]} ({beds} for {int(inst.size[i])})"]
        if inst.pinned_pool[i] == p:
            parts.append("pinned by the planner")
        parts.append(self._when(i))
        parts.append(self._size(i))
        kind = self._kind(i)
        if kind:
            parts.append(kind)
        return "; ".join(parts)

    def _when(self, i: int) -> str:
        inst = self.inst
        t, r = int(self.start[i]), int(inst.release[i])
        if t == r:
            return "free on the need date" if inst.need_day[i] >= 0 else "free at the plan's start"
        days = self._start_days(i, t)
        # days counted from the release: the plan's start for a household already waiting
        since = "" if inst.need_day[i] >= 0 else " from the plan's start"
        if not days.anywhere.any():
            return f"the first day a fitting unit frees up ({_days(t - r)} of waiting{since})"
        pieces = []
        if not days.anywhere[0]:
            pieces.append(
                f"no unit that fits was free for the whole stay before "
                f"{inst.day(days.first(days.anywhere))}"
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
        planner = days.anywhere & ~days.allowed
        if planner.any() and (placed or inst.pinned_pool[i] < 0):
            when = _on(days, planner, inst)
            if inst.pinned_pool[i] >= 0:
                pieces.append(
                    f"{when} only units other than its pinned one {were} free for the stay"
                )
            else:
                pieces.append(
                    f"{when} the only units free for the stay {were} forbidden for it by the planner"
                )
        room = days.support & days.mediation
        taken = days.allowed & room & ~days.after
        if taken.any():
            # for greedy, every unit here has a household ahead of i in its queue (the unit's
            # pool was full at i's turn, capacity allowing): `_went_to` names those
            d = days.first(taken)
            units, count = self._taken_units(i, d, NAMED_UNITS)
            went, n = self._went_to(i, d, units, False, count)
            one = count == 1
            others = "another household" if n == 1 else "other households"
            if placed or (days.allowed & days.after).any():
                lead = (
                    f"the fitting unit{'' if one else 's'} free from {inst.day(d)} went to {others}"
                )
            else:
                lead = f"every fitting unit free for its {int(inst.stay_days[i])}-night stay "
                lead += f"went to {others}, starting with {'that' if one else 'those'} "
                lead += f"free from {inst.day(d)}"
            pieces.append(f"{lead}: {went}")
        full = days.allowed & ~room
        if full.any():
            which = self._capacity_words(
                bool((full & ~days.support).any()),
                bool((full & days.support & ~days.mediation).any()),
                i,
            )
            if not placed and not (days.allowed & room).any():
                pieces.append(f"{which} would be exceeded on every day a fitting unit is free")
            else:
                would = "would have been" if placed else "would be"
                starts = _on(days, full, inst)
                if full.sum() > 1:
                    starts = starts.replace("on ", "on any of ", 1)
                pieces.append(f"{which} {would} exceeded by a start {starts}")
        choice = days.after & room
        if choice.any():
            d = days.first(choice)
            u = self._first_free(i, d)
            assert u is not None  # an allowed unit is free then
            pieces.append(self._choice(i, u, d, placed))
        return pieces

    def _choice(self, i: int, u: int, d: int, placed: bool) -> str:
        """Unit u was free from day d, within capacity: why household i is not there."""
        was = "was" if placed else "is"
        return f"{self._unit(u)} {was} free from {self.inst.day(d)}: {self._instead(i, u, d)}"

    def _size(self, i: int) -> str:
        """Smallest unit size that fits, or why no smaller unit was used."""
        inst = self.inst
        u, t = int(self.unit[i]), int(self.start[i])
        c = int(inst.unit_capacity[u])
        smaller = self._sized_units(i, below=c)
        if not self._positions(smaller).size:
            return "smallest unit size that fits"
        if inst.pinned_pool[i] >= 0:
            return "larger than needed (the planner's pin)"
        at = self._at(i, t, smaller)
        if at.free.any():
            v = int(at.smallest("free")[0])
            return f"larger than needed: {self._unit(v)} was free too: {self._instead(i, v, t)}"
        if at.taken.any():
            return "larger than needed: " + self._went_to(i, t, at.smallest("taken"), True)[0]
        if at.forbidden.any():
            names = _and([self._unit(v) for v in at.smallest("forbidden")[:NAMED_UNITS].tolist()])
            return f"larger than needed: the planner forbade {names}, free then"
        sizes = sorted({int(k) for k in self.capacity_s[self._positions(smaller)]})
        label = _and([f"{k}-" for k in sizes[:-1]] + [f"{sizes[-1]}-bed"]).replace(" and ", " or ")
        return f"larger than needed: no fitting {label} unit was free for the whole stay"

    def _kind(self, i: int) -> str | None:
        """The kind against the support level; for a mismatch, why no unit of the other kind."""
        inst = self.inst
        u, t = int(self.unit[i]), int(self.start[i])
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
        at = self._at(i, t, candidates, passed=True)
        if at.free.any() or at.passed.any():
            v = int(at.smallest("free", "passed")[0])
            when = "was free when its turn came" if at.has("passed", v) else "was free too"
            why = self._instead(i, v, t)
            return f"{head} {self._unit(v)} {when}: {why}"
        if at.taken.any():
            return f"{head} {self._went_to(i, t, at.smallest('taken'), True)[0]}"
        if at.forbidden.any():
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
                f"need date {inst.day(inst.need_day[i])} is after the horizon ends "
                f"({inst.day(H)}): plan it in a later batch"
            )
        big = inst.unit_capacity >= size
        if not big.any():
            return f"no unit has {size} beds (the largest has {int(inst.unit_capacity.max())})"
        if inst.needs_access[i] and not (big & inst.unit_access).any():
            return f"needs a step-free unit and no step-free unit has {size} beds"
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
        days = self._start_days(i, H)
        L = int(inst.stay_days[i])
        if not days.anywhere.any():
            n = int(self._positions(self._sized_units(i)).size)
            return prefix + (
                f"no fitting unit is free for a {L}-night stay within the horizon ({n} "
                f"unit{'' if n == 1 else 's'} fit, all busy, not yet open or leaving the "
                "programme)"
            )
        if not days.allowed.any():
            if prefix:
                return prefix + f"it is not free for a {L}-night stay within the horizon"
            return (
                f"the only units free for its {L}-night stay within the horizon are forbidden "
                "for it by the planner"
            )
        return prefix + "; ".join(self._held_back(i, days, placed=False))
