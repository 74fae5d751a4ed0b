"""Reasons for households in connecting rooms, or that only connecting rooms could hold.

A *combination* (`engine.rooms`) is a pool with parts and no units of its own: a household
placed in one holds a stay in each of its rooms (the plan's ``joined``, `FreeTime` counts them
all). A set of connecting rooms is *free together* for a stay from day d when, for each part, as
many of its pool's rooms as the combination takes are free for the stay (as a single unit is, see
`allocator.engine.explain_free`) and the stay departs by the combination's departure limit (its
turnover before any of its rooms leaves the programme).

The wording follows a single unit's: a placed household's rooms, beds and why together (no
single unit has its beds; under the ``comfort`` policy, what the single units that fit offered
then); when it starts and why not earlier; a household left out that no unit holds, whether a
group's rooms could (the policy, pins and forbids, or the first day and who took them). Each
piece is a message id (`allocator.errors._N`) with its Italian in the errors catalogue; the
reason joins the pieces as English text.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from allocator.choices import ConnectingRooms
from allocator.domain import JOINED_SEPARATOR
from allocator.engine.columns import kind_mismatch, placement_cost
from allocator.engine.explain_days import _capacity_rows, own_rows
from allocator.engine.explain_free import FreeTime
from allocator.engine.result import Method
from allocator.engine.rooms import MAX_ROOMS
from allocator.errors import _N, Message


class RoomDays(NamedTuple):
    """What held a household back from connecting rooms on each day from ``lo`` to ``hi``, as
    `explain_days.Days` for units: ``anywhere`` the first day rooms that hold it (pins and
    forbids aside) are free together before the plan; ``planner`` the first such day on which
    none it may use are (``n_planner`` days); ``taken`` the first day rooms it may use are,
    within capacity, and none are in the final plan; ``full`` the first day they are, beyond
    accompaniment or mediation capacity (``n_full`` days, ``full_support``,
    ``full_mediation``); ``room``, some day within capacity; ``after``, free in the final plan
    some day; ``choice``, the first such day within capacity. -1: no such day."""

    anywhere: int
    allowed: bool
    planner: int
    n_planner: int
    taken: int
    full: int
    n_full: int
    full_support: bool
    full_mediation: bool
    room: bool
    after: bool
    choice: int


class RoomTime(FreeTime):
    """`FreeTime` and the connecting rooms: which sets of rooms are free together, and words.

    The words of a unit, a wait and a cost are `explain._PlanFacts`'; they are declared here."""

    need_l: list[int]  # each household's need day (before the plan's start: negative)
    largest_step_free: int  # the beds of the largest step-free unit

    def __init__(self, *plan) -> None:
        super().__init__(*plan)
        self._part_positions: dict[int, np.ndarray] = {}  # `_positions_of`
        self._holding: dict[tuple[int, bool], list[int]] = {}  # `_combinations`, by need
        self._forbidden: dict[int, set[int]] | None = None  # household: pools forbidden to it
        self._layouts: dict[tuple[int, ...], tuple[np.ndarray, ...]] = {}  # `_layout`
        self._group_beds: dict[bool, tuple[int, str | None]] = {}  # by step-free need

    # --- from explain._PlanFacts ------------------------------------------------------------------

    def _date(self, d: int) -> str:
        raise NotImplementedError

    def _stay(self, i: int) -> str:
        raise NotImplementedError

    def _unit(self, u: int) -> str:
        raise NotImplementedError

    def _went_to(
        self,
        i: int,
        d: int,
        units: list[int],
        verb: bool,
        count: int | None = None,
        rooms: bool = False,
    ) -> tuple[str, int]:
        raise NotImplementedError

    def _capacity_words(self, support: bool, mediation: bool, i: int) -> str:
        raise NotImplementedError

    def _unplaced(self, i: int) -> float:
        raise NotImplementedError

    @staticmethod
    def _sign(delta: float, reference: float) -> int:
        raise NotImplementedError

    # --- facts ------------------------------------------------------------------------------------

    def together(self, i: int) -> bool:
        """Whether household i is placed in connecting rooms."""
        p = int(self.pool[i])
        return p >= 0 and not self.physical[p]

    def rooms_of(self, i: int) -> list[int]:
        """The units household i holds: its unit, then its connecting rooms."""
        return [self.unit_l[i], *self.joined.get(i, ())]

    def pool_cost(self, i: int, p: int, d: int) -> float:
        """Household i's objective term were it placed in pool p on day d."""
        one = np.array([i])
        return float(placement_cost(self.inst, one, np.array([p]), np.array([d]))[0])

    def _combinations(self, i: int) -> tuple[list[int], set[int]]:
        """The combinations that hold household i (size, access, no room spare; pins and
        forbids aside, as long as the policy lets it combine), and those it may use: as
        `Instance.fits` has it, none for a pinned household, none with a room forbidden."""
        inst = self.inst
        if not inst.may_combine[i]:
            return [], set()
        key = (self.size_l[i], self.access_l[i])
        if key not in self._holding:
            pools = inst.pools
            size, access = key
            self._holding[key] = [
                c
                for c in np.flatnonzero(~self.physical).tolist()
                if pools[c].capacity - pools[c].smallest_part < size <= pools[c].capacity
                and (pools[c].accessible or not access)
            ]
        holding = self._holding[key]
        if inst.pinned_pool[i] >= 0:
            return holding, set()
        if self._forbidden is None:
            self._forbidden = {}
            for j, c in inst.forbidden:
                self._forbidden.setdefault(j, set()).add(c)
        return holding, set(holding) - self._forbidden.get(i, set())

    def group_beds(self, i: int) -> tuple[int, str | None]:
        """The most beds the connecting rooms of one group hold together for household i (2 to
        `MAX_ROOMS` rooms, step-free ones if it needs step-free), in the units table, busy or
        not, and that group (None: no group has 2 such rooms)."""
        access = self.access_l[i]
        if access not in self._group_beds:
            beds: dict[str, list[int]] = {}
            for u in self.inst.tables.units:
                if u.group is not None and (u.accessible or not access):
                    beds.setdefault(u.group, []).append(u.capacity)
            best, name = 0, None
            for group in sorted(beds):
                rooms = sorted(beds[group], reverse=True)[:MAX_ROOMS]
                if len(rooms) >= 2 and sum(rooms) > best:
                    best, name = sum(rooms), group
            self._group_beds[access] = (best, name)
        return self._group_beds[access]

    def _positions_of(self, p: int) -> np.ndarray:
        """The positions in size order of physical pool p's units, in that order (kept)."""
        if p not in self._part_positions:
            units = np.array(self.inst.pools[p].units, dtype=np.int64)
            self._part_positions[p] = np.sort(self.size_pos[units])
        return self._part_positions[p]

    def _after_at(self, i: int, lo: int, hi: int, at: np.ndarray) -> np.ndarray:
        """``after_s`` on days [lo, hi) at the positions ``at``, household i's own stays taken
        out of its rooms."""
        after = self.after_s[lo:hi, at]
        if self.pool[i] >= 0:
            own = self.size_pos[np.array(self.rooms_of(i), dtype=np.int64)]
            mine = np.flatnonzero(np.isin(at, own))
            if mine.size:
                rows = own_rows(self, np.full(mine.size, i), at[mine])
                after[:, mine] = rows[:, lo:hi].T
        return after

    def _free_together(
        self, i: int, lo: int, hi: int, combos: list[int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per combination and day in [lo, hi): free together for household i's stay before
        the plan and in it (its own stays out); and the nights of the stay from each day."""
        inst = self.inst
        days = np.arange(lo, hi)
        L = inst.stay_length(np.full(days.size, i), days)
        if not combos:
            empty = np.zeros((0, days.size), dtype=bool)
            return empty, empty, L
        at_all, first, which, need, starts, departs = self._layout(tuple(combos))
        nights = L[:, None]
        free_before = np.add.reduceat(self.before_s[lo:hi, at_all] >= nights, first, axis=1)
        free_after = np.add.reduceat(self._after_at(i, lo, hi, at_all) >= nights, first, axis=1)
        by_parts = np.logical_and.reduceat(free_before[:, which] >= need, starts, axis=1).T
        by_parts_after = np.logical_and.reduceat(free_after[:, which] >= need, starts, axis=1).T
        departs = departs[:, lo:hi]
        fits = (L >= 1)[None, :] & ((days + L)[None, :] <= departs)
        before = fits & by_parts
        after = before & by_parts_after
        return before, after, L

    def _layout(self, combos: tuple[int, ...]) -> tuple[np.ndarray, ...]:
        """For `_free_together`, kept per set of combinations: the positions of their parts'
        rooms in one row, where each part starts in it, each combination's parts (one entry per
        part: the part and how many rooms it takes), where each combination starts among the
        entries, and the combinations' departure limits."""
        if combos not in self._layouts:
            pools = self.inst.pools
            parts = sorted({part for c in combos for part, _ in pools[c].parts})
            at = [self._positions_of(part) for part in parts]
            column = {part: k for k, part in enumerate(parts)}
            entries = [(column[part], k) for c in combos for part, k in pools[c].parts]
            self._layouts[combos] = (
                np.concatenate(at),
                np.cumsum([0] + [a.size for a in at[:-1]]),
                np.array([e[0] for e in entries], dtype=np.int64),
                np.array([e[1] for e in entries], dtype=np.int64),
                np.cumsum([0] + [len(pools[c].parts) for c in combos[:-1]]),
                np.stack([pools[c].departure_limit for c in combos]),
            )
        return self._layouts[combos]

    def room_days(self, i: int, lo: int, hi: int) -> RoomDays:
        """`RoomDays` of household i from day lo to day hi."""
        holding, allowed = self._combinations(i)
        before, after, _ = self._free_together(i, lo, hi, holding)
        mine = np.array([c in allowed for c in holding], dtype=bool)
        anywhere = np.asarray(before.any(axis=0))
        ok_before = np.asarray(before[mine].any(axis=0))
        ok_after = np.asarray(after[mine].any(axis=0))
        H = self.inst.horizon
        Ls = self.inst.stay_length(np.array([i])[:, None], self.days[None, :])
        support, mediation = _capacity_rows(self, np.array([i]), Ls)
        room = np.ones(hi - lo, dtype=bool)
        by_support = room if support is None else support[0, lo:hi]
        by_mediation = room if mediation is None else mediation[0, lo:hi]
        room = by_support & by_mediation
        planner = anywhere & ~ok_before
        full = ok_before & ~room
        assert hi <= H

        def first(flags: np.ndarray) -> int:
            return lo + int(np.argmax(flags)) if flags.any() else -1

        return RoomDays(
            anywhere=first(anywhere),
            allowed=bool(ok_before.any()),
            planner=first(planner),
            n_planner=int(np.count_nonzero(planner)),
            taken=first(ok_before & room & ~ok_after),
            full=first(full),
            n_full=int(np.count_nonzero(full)),
            full_support=bool((full & ~by_support).any()),
            full_mediation=bool((full & by_support & ~by_mediation).any()),
            room=bool((ok_before & room).any()),
            after=bool((ok_before & ok_after).any()),
            choice=first(ok_after & room),
        )

    def _rooms_on(self, i: int, d: int, free: bool) -> tuple[list[int], int]:
        """On day d, for household i's stay: with ``free``, the rooms of the cheapest set it may
        use that is free together in the final plan (and that set's pool); else, of the first set
        it may use that is free together before the plan, the rooms others hold in it (and -1)."""
        holding, allowed = self._combinations(i)
        combos = [c for c in holding if c in allowed]
        before, after, L = self._free_together(i, d, d + 1, combos)
        nights = int(L[0])
        if free:
            ok = np.array([c for r, c in enumerate(combos) if after[r, 0]], dtype=np.int64)
            n = ok.size
            cost = placement_cost(self.inst, np.full(n, i), ok, np.full(n, d))
            best = int(ok[np.lexsort((ok, cost))[0]])  # the cheapest, then the first
            rooms = []
            for part, k in self.inst.pools[best].parts:
                at = self._positions_of(part)
                rooms += at[self._after_at(i, d, d + 1, at)[0] >= nights][:k].tolist()
            return [self.size_order_l[p] for p in rooms], best
        # the first set free together before the plan: its rooms others hold in it
        r = int(np.argmax(before[:, 0]))
        held: list[int] = []
        for part, _ in self.inst.pools[combos[r]].parts:
            at = self._positions_of(part)
            busy = (self.before_s[d, at] >= nights) & (self._after_at(i, d, d + 1, at)[0] < nights)
            held += at[busy].tolist()
        return [self.size_order_l[p] for p in sorted(held)], -1

    # --- words ------------------------------------------------------------------------------------

    def _names(self, units: list[int]) -> str:
        return JOINED_SEPARATOR.join(self.inst.unit_ids[u] for u in units)

    def placed_together(self, i: int, near: str | None = None) -> str:
        """ "connecting rooms H1.01+H1.02 (group H1-east, 8 beds for 7): no single unit has 7
        beds", or under ``comfort`` what the single units that fit offered at its start;
        ``near``, the distance to its anchor district, after the rooms."""
        inst = self.inst
        q = inst.pools[int(self.pool[i])]
        head = Message(
            _N("connecting rooms {rooms} (group {group}, {beds} beds for {size})"),
            rooms=self._names(self.rooms_of(i)),
            group=q.group,
            beds=q.capacity,
            size=self.size_l[i],
        )
        return f"{head}{', ' + near if near else ''}: {self._why_together(i)}"

    def _single_too_small(self, i: int) -> str | None:
        """ "no single unit has 7 beds", when none in the units table does (step-free where it
        needs step-free)."""
        size = self.size_l[i]
        if self.access_l[i] and size > self.largest_step_free:
            return Message(_N("no single step-free unit has {size} beds"), size=size)
        if size > (self.capacity_l[-1] if self.capacity_l else 0):
            return Message(_N("no single unit has {size} beds"), size=size)
        return None

    def _why_together(self, i: int) -> str:
        """Why connecting rooms, not a single unit: none has the beds, or (``comfort``) what
        the single units that fit offered on its start day."""
        too_small = self._single_too_small(i)
        if too_small is not None:
            return too_small
        p, t = int(self.pool[i]), self.start_l[i]
        at = self._look(i, t, self._sized_units(i), passed=False)
        if at.first is not None:
            v = at.first
            here, there = self.pool_cost(i, p, t), self.pool_cost(i, int(self.inst.unit_pool[v]), t)
            unit = self._unit(v)
            if self.method is Method.GREEDY:  # at one start: the fewest beds, then the kind
                inst, q = self.inst, self.inst.pools[p]
                if q.capacity < self.capacity_u[v]:
                    return Message(
                        _N("{unit} was free too: greedy takes the fewest beds first"), unit=unit
                    )
                support = inst.support[i]
                if kind_mismatch(inst, inst.unit_kind[v], support) > kind_mismatch(
                    inst, q.kind, support
                ):
                    return Message(
                        _N("{unit} was free too: greedy prefers the kind its support level suits"),
                        unit=unit,
                    )
                return Message(_N("{unit} was free too: greedy's order of preference"), unit=unit)
            sign = self._sign(here - there, there)
            if sign < 0:
                return Message(
                    _N("cheaper under the policy's weights than {unit}, free too"), unit=unit
                )
            if sign == 0:
                return Message(
                    _N("{unit} was free too: an equal choice under the policy's weights"),
                    unit=unit,
                )
            return Message(
                _N("{unit} was free too: the search stopped before this improvement"), unit=unit
            )
        if at.n_taken:
            went = self._went_to(i, t, at.taken, True, at.n_taken)[0]
            return Message(_N("no single unit that fits was free: {taken}"), taken=went)
        if at.forbidden:
            names = ", ".join(self._unit(v) for v in at.forbidden)
            return Message(_N("the planner forbade {units}, free then"), units=names)
        return Message(_N("no single unit that fits was free for the whole stay"))

    def waited_together(self, i: int) -> str:
        """Why household i, placed in connecting rooms, starts on its day and not earlier."""
        t, r = self.start_l[i], self.release_l[i]
        since = "" if self.need_l[i] >= 0 else " from the plan's start"
        if t == r:
            return "free on the need date" if self.need_l[i] >= 0 else "free at the plan's start"
        days = self.room_days(i, r, t)
        waits = f"waits {t - r} day{'' if t - r == 1 else 's'}{since}"
        pieces: list[str] = []
        if days.anywhere < 0 or days.anywhere > r:
            first = t if days.anywhere < 0 else days.anywhere
            pieces.append(
                Message(
                    _N(
                        "no connecting rooms that hold it were free together for the whole stay "
                        "before {date}"
                    ),
                    date=self._date(first),
                )
            )
        pieces.extend(self._held_back_together(i, days, placed=True))
        return f"{waits}: " + ", ".join(pieces)

    def too_large(self, i: int, base: str) -> str:
        """Household i is left out and no single unit has its beds (``base`` says so): whether
        connecting rooms could hold it, and if so what kept them from it."""
        inst = self.inst
        if not any(u.group for u in inst.tables.units):
            return base
        beds, group = self.group_beds(i)
        size = self.size_l[i]
        if beds < size:
            if group is None:
                return base
            return f"{base}; " + Message(
                _N(
                    "nor do the connecting rooms of any group together (at most {beds} beds, "
                    "group {group})"
                ),
                beds=beds,
                group=group,
            )
        if inst.policy.connecting_rooms is ConnectingRooms.NEVER:
            return f"{base}; " + Message(
                _N(
                    "connecting rooms could hold it (group {group}), but the policy does not "
                    "combine rooms"
                ),
                group=group,
            )
        if inst.pinned_pool[i] >= 0:
            return f"{base}; " + Message(
                _N("pinned by the planner to one unit, so it takes no connecting rooms")
            )
        holding, allowed = self._combinations(i)
        if not holding:
            return f"{base}; " + Message(
                _N(
                    "the connecting rooms that could hold it are busy or out of the programme "
                    "through the horizon"
                )
            )
        if not allowed:
            return f"{base}; " + Message(
                _N("the planner forbade a room of every set of connecting rooms that holds it")
            )
        days = self.room_days(i, min(int(inst.release[i]), inst.horizon), inst.horizon)
        stay = self._stay(i)
        if days.anywhere < 0:
            return f"{base}; " + Message(
                _N(
                    "no connecting rooms that hold it are free together for a {stay} within the "
                    "horizon"
                ),
                stay=stay,
            )
        if not days.allowed:
            return f"{base}; " + Message(
                _N(
                    "the only connecting rooms free together for its {stay} within the horizon "
                    "are forbidden for it by the planner"
                ),
                stay=stay,
            )
        return f"{base}; " + "; ".join(self._held_back_together(i, days, placed=False))

    def _held_back_together(self, i: int, days: RoomDays, placed: bool) -> list[str]:
        """`explain._PlanFacts._held_back` for connecting rooms."""
        pieces: list[str] = []
        if days.planner >= 0:
            if days.n_planner == 1:
                template = _N(
                    "on {date} the only connecting rooms free together for the stay "
                    "are forbidden for it by the planner"
                )
            else:
                template = _N(
                    "on {n} days from {date} the only connecting rooms free together "
                    "for the stay are forbidden for it by the planner"
                )
            pieces.append(Message(template, date=self._date(days.planner), n=days.n_planner))
        if days.taken >= 0:
            d = days.taken
            rooms, _ = self._rooms_on(i, d, free=False)
            went = self._went_to(i, d, rooms, True, rooms=True)[0]
            if placed or days.after:
                template = _N(
                    "connecting rooms that hold it were free together from {date}, but {taken}"
                )
            else:
                template = _N(
                    "every set of connecting rooms free together for its {stay} was "
                    "taken, starting with those free from {date}: {taken}"
                )
            pieces.append(Message(template, date=self._date(d), taken=went, stay=self._stay(i)))
        if days.full >= 0:
            which = self._capacity_words(days.full_support, days.full_mediation, i)
            if not placed and not days.room:
                template = _N(
                    "{capacity} would be exceeded on every day connecting rooms that "
                    "hold it are free together"
                )
                pieces.append(Message(template, capacity=which))
            else:
                template = _N(
                    "{capacity} would be exceeded by a start on {date} in connecting "
                    "rooms free together then"
                )
                pieces.append(Message(template, capacity=which, date=self._date(days.full)))
        if days.choice >= 0:
            d = days.choice
            rooms, c = self._rooms_on(i, d, free=True)
            pieces.append(
                Message(
                    _N("connecting rooms {rooms} were free together from {date}: {why}"),
                    rooms=self._names(rooms),
                    date=self._date(d),
                    why=self._instead_together(i, c, d),
                )
            )
        return pieces

    def _instead_together(self, i: int, c: int, d: int) -> str:
        """Why household i is not in combination c from day d, free and within capacity."""
        cost = self.pool_cost(i, c, d)
        if self.pool[i] < 0:
            reference = self._unplaced(i)
            if self._sign(cost - reference, reference) < 0:
                return "the search stopped before placing it"
            return "leaving it out costs no more under the policy's weights"
        reference = self.pool_cost(i, int(self.pool[i]), self.start_l[i])
        sign = self._sign(cost - reference, reference)
        if sign < 0:
            return "the search stopped before this improvement"
        if sign == 0:
            return "an equal choice under the policy's weights"
        return Message(_N("the policy weighs that start in them more than the wait"))
