"""The day-indexed view of one planning run that every method (solver, greedy) works on.

Days are integers counted from the plan's start (day 0). Units that are interchangeable for the
rest of the horizon are grouped into *pools*: same capacity, kind and accessibility, and one free
stretch that starts on some day (which may differ between units) and ends on the same day for all.
Counting stays per pool and day is then exact: whenever no day has more stays than free units, a
concrete unit can be given to every stay (`allocator.engine.assign`). A unit that is free, then
busy, then free again (a booked stay later in the horizon), or that a planner pinned or forbade,
forms a pool of its own, where the count is exact by construction.

Every stay, new or existing, occupies its unit from its start to its departure plus the turnover
days; two stays in a unit may not share a day of that. A stay must depart by the day its unit leaves
the programme (turnover then does not matter).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from allocator.districts import distance_table
from allocator.districts import resolve as resolve_districts
from allocator.domain import Stay, Support, Unit, UnitKind
from allocator.engine import rooms
from allocator.engine.announcements import Announcements, announced_units
from allocator.engine.announcements import resolve as resolve_announcements
from allocator.engine.memo import LastKept
from allocator.engine.pool import NEVER as NEVER
from allocator.engine.pool import Pool as Pool
from allocator.errors import InputError
from allocator.limits import MAX_COEFFICIENT, parse_date
from allocator.policy import Policy, validate_policy
from allocator.tables import Tables


@dataclass(frozen=True)
class Overrides:
    """A planner's pins (household -> unit it must go to) and forbidden (household, unit) pairs,
    and the placements told to families (household -> (unit, start); `engine.announcements`)."""

    pins: dict[str, str] = field(default_factory=dict)
    forbids: frozenset[tuple[str, str]] = frozenset()
    announced: dict[str, tuple[str, dt.date]] = field(default_factory=dict)

    @classmethod
    def of(cls, pins=None, forbids=None, announced=None) -> Overrides:
        return cls(
            dict(pins or {}),
            frozenset(tuple(p) for p in (forbids or ())),
            {h: _announced(h, told) for h, told in (announced or {}).items()},
        )


def _announced(household: object, told: object) -> tuple[str, dt.date]:
    """One announcement's (unit, start), checked: an `InputError` on field ``announced``."""
    if (
        isinstance(told, str)
        or not isinstance(told, tuple | list)
        or len(told) != 2
        or not isinstance(told[0], str)
    ):
        raise InputError(
            f"announcement for household {household!r}: expected a (unit, start date) pair, "
            f"got {told!r}",
            field="announced",
        )
    return told[0], parse_date(told[1], field="announced")


@dataclass
class Instance:
    start: dt.date
    horizon: int
    policy: Policy
    tables: Tables
    # households, in input order
    household_ids: list[str]
    size: np.ndarray
    urgency: np.ndarray
    weight: np.ndarray  # urgency weight of one hotel person-night
    need_day: np.ndarray  # need date as a day number (may be negative: already waiting)
    release: np.ndarray  # first day a stay may start: max(need_day, 0)
    # nights of the stay if it starts on its release day; for an exit-dated household the stay
    # shortens as the start moves later: use `stay_length` for any other start
    stay_days: np.ndarray
    exit_dated: np.ndarray  # True where the stay ends on a set day rather than after a length
    exit_day: np.ndarray  # that day as a day number (meaningless where not exit_dated)
    needs_access: np.ndarray
    support: list[Support]
    load: np.ndarray
    language: np.ndarray  # index into `languages`, -1 when no mediation is needed
    pinned_pool: np.ndarray  # pool index a pin forces, -1 if none
    # units
    unit_ids: list[str]
    unit_capacity: np.ndarray
    unit_kind: list[UnitKind]
    unit_access: np.ndarray
    unit_cost: np.ndarray  # nightly cost, NaN when not given
    unit_pool: np.ndarray  # -1 when the unit has no free day in the horizon
    pools: list[Pool]
    forbidden: set[tuple[int, int]]  # (household, pool) pairs a forbid removes
    # accompaniment and mediation capacity left per day after the current stays, None = unlimited
    support_free: np.ndarray | None
    languages: list[str]
    mediation_free: dict[int, np.ndarray]
    # districts (`allocator.districts`): the names in use, each household's anchor and each unit's
    # district as an index into them (-1 none), and the distances anchor x unit district, with a
    # last column for a unit whose district is not known
    districts: list[str] = field(default_factory=list)
    anchor: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    unit_district: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    district_distance: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), np.int64))
    # placements told to families, checked against this instance (None: no announcement)
    announcements: Announcements | None = None
    # households that may take connecting rooms together (`Policy.connecting_rooms`)
    may_combine: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def has_combinations(self) -> bool:
        return any(q.parts for q in self.pools)

    @property
    def by_district(self) -> bool:
        """Whether districts enter the objective: a positive ``district_weight`` and some
        household with an anchor. Only then are pools split by district."""
        return self.policy.district_weight > 0 and bool((self.anchor >= 0).any())

    @property
    def n_households(self) -> int:
        return len(self.household_ids)

    def stay_length(self, households, starts) -> np.ndarray:
        """Nights of each household's stay if it moves in on each start day (broadcasting).

        A length counted from move-in does not depend on the start. An exit date does: the stay
        runs to it, capped by the programme's maximum stay counted from move-in. A result below 1
        means the household cannot start on that day at all.
        """
        h = np.asarray(households, dtype=np.int64)
        s = np.asarray(starts, dtype=np.int64)
        if not self.exit_dated.any():  # the usual batch: no work per start (columns by millions)
            lengths = self.stay_days[h]
            shape = np.broadcast_shapes(h.shape, s.shape)
            return lengths if lengths.shape == shape else np.broadcast_to(lengths, shape).copy()
        to_exit = np.minimum(self.exit_day[h] - s, self.policy.max_stay_days)
        return np.where(self.exit_dated[h], to_exit, self.stay_days[h])

    def stay_length_at(self, i: int, start: int) -> int:
        """`stay_length` of one household and one start day, without numpy's per-call cost."""
        if self.exit_dated[i]:
            return min(int(self.exit_day[i]) - start, self.policy.max_stay_days)
        return int(self.stay_days[i])

    def day(self, d: int) -> dt.date:
        return self.start + dt.timedelta(days=int(d))

    def fits(self, i: int, p: int) -> bool:
        """Whether household i may use pool p at all (size, access, pins, forbids)."""
        pool = self.pools[p]
        if pool.capacity < self.size[i] or (self.needs_access[i] and not pool.accessible):
            return False
        if self.pinned_pool[i] >= 0 and self.pinned_pool[i] != p:
            return False
        if pool.parts and not (
            self.may_combine[i] and self.size[i] > pool.capacity - pool.smallest_part
        ):
            return False
        return (i, p) not in self.forbidden


def _free_gaps(
    window: tuple[int, int], busy: Sequence[tuple[int, int]]
) -> list[tuple[int, int, bool]]:
    """Free stretches [a, b) of a window; the flag says whether b is a busy period's start.

    Every unit of every weekly plan asks: most hold no stay or one, which need no sort."""
    gaps = []
    cursor = window[0]
    for s, e in sorted(busy) if len(busy) > 1 else busy:
        if s > cursor and cursor < window[1]:
            end = min(s, window[1])
            gaps.append((cursor, end, end == s))
        cursor = max(cursor, e)
    if cursor < window[1]:
        gaps.append((cursor, window[1], False))
    return gaps


# the last policy checked and what checking it gave: the simulation plans every week of ten
# years with one policy object (frozen: the same object is the same policy)
_checked_policies: LastKept[Policy, Policy] = LastKept(operator.is_)


def _checked_policy(policy: Policy) -> Policy:
    """The policy checked again: `model_copy(update=...)` makes a policy without checking it."""
    return _checked_policies.get(
        policy, lambda: validate_policy(policy.model_dump(), source="policy")
    )


@dataclass(frozen=True)
class _UnitFacts:
    """What an instance reads of its units that does not depend on the plan's start or stays.

    The simulation plans every week of a run with the same list of units (frozen records): this
    is worked out once for them, not every week (`_unit_facts`). Instances get copies."""

    units: tuple[Unit, ...]
    index: dict[str, int]
    ids: list[str]
    capacity: np.ndarray
    kind: list[UnitKind]
    access: np.ndarray
    cost: np.ndarray
    district_names: frozenset[str]
    # per unit: capacity, kind, accessibility, group, and its window's ends as date ordinals
    rows: list[tuple[int, UnitKind, bool, str | None, int | None, int | None]]


def _same_records(kept: tuple[Unit, ...], units: tuple[Unit, ...]) -> bool:
    return len(kept) == len(units) and all(map(operator.is_, kept, units))


# the units last seen and their facts: the same records are the same facts
_kept_unit_facts: LastKept[tuple[Unit, ...], _UnitFacts] = LastKept(_same_records)


def _unit_facts(units: list[Unit]) -> _UnitFacts:
    """`_UnitFacts` of ``units``, kept while the same records come again in the same order."""
    records = tuple(units)
    return _kept_unit_facts.get(records, lambda: _facts_of(records))


def _facts_of(units: tuple[Unit, ...]) -> _UnitFacts:
    return _UnitFacts(
        units=units,
        index={u.unit_id: k for k, u in enumerate(units)},
        ids=[u.unit_id for u in units],
        capacity=np.array([u.capacity for u in units], dtype=np.int64),
        kind=[u.kind for u in units],
        access=np.array([u.accessible for u in units], dtype=bool),
        cost=np.array(
            [np.nan if u.nightly_cost is None else u.nightly_cost for u in units], dtype=float
        ),
        district_names=frozenset(u.district for u in units if u.district),
        rows=[
            (
                u.capacity,
                u.kind,
                u.accessible,
                u.group,
                None if u.available_from is None else u.available_from.toordinal(),
                None if u.available_until is None else u.available_until.toordinal(),
            )
            for u in units
        ],
    )


def build_instance(
    tables: Tables, start: dt.date, policy: Policy, overrides: Overrides | None = None
) -> Instance:
    """The day-indexed view of validated tables: pools, per-household arrays, capacity left.

    Raises `InputError` when a pin or forbid names an unknown household or unit, or pins and
    forbids the same pair, or when the objective's largest coefficient would leave the range the
    solvers handle exactly (`check_coefficients`).
    """
    overrides = overrides or Overrides()
    policy = _checked_policy(policy)
    H = policy.horizon_days
    hh, units, stays = tables.households, tables.units, tables.stays
    facts = _unit_facts(units)
    unit_index = facts.index
    hh_index = {h.household_id: k for k, h in enumerate(hh)}
    _check_overrides(overrides, hh_index, unit_index)
    special_units = {unit_index[u] for u in overrides.pins.values()}
    special_units |= {unit_index[u] for _, u in overrides.forbids}
    special_units |= announced_units(overrides, unit_index)
    busy = _busy_spans(stays, unit_index, start, policy.turnover_days)
    districts, anchor, unit_district, distance = _districts(tables, policy, facts)
    split = policy.district_weight > 0 and bool((anchor >= 0).any())
    size = np.array([h.size for h in hh], dtype=np.int64)
    needs_access = np.array([h.accessible for h in hh], dtype=bool)
    combine = rooms.may_combine(tables, policy, size, needs_access)
    # rooms pool by group only when some household may combine them: otherwise a city's
    # grouped rooms would be as many pools as groups for nothing
    pools, unit_pool = _pools(
        units,
        busy,
        special_units,
        start,
        policy,
        unit_district if split else None,
        by_group=bool(combine.any()),
        facts=facts,
    )
    pools += rooms.combinations(pools, set(size[combine].tolist()), H, policy.turnover_days)
    pinned, forbidden = _overrides_on_pools(overrides, hh_index, unit_index, unit_pool, len(hh))
    forbidden |= {
        (i, c) for i, p in forbidden for c, q in enumerate(pools) if any(p == r for r, _ in q.parts)
    }
    need_day = np.array([(h.need_date - start).days for h in hh], dtype=np.int64)
    release = np.maximum(need_day, 0)
    exit_dated = np.array([h.exit_dated for h in hh], dtype=bool)
    exit_day = np.array(
        [(h.expected_exit_date - start).days if h.expected_exit_date else 0 for h in hh],
        dtype=np.int64,
    )
    stay_days = np.array([h.expected_stay_days or 0 for h in hh], dtype=np.int64)
    stay_days = np.where(
        exit_dated, np.minimum(exit_day - release, policy.max_stay_days), stay_days
    ).astype(np.int64)
    languages = sorted(
        {h.language for h in hh if h.language} | {s.language for s in stays if s.language}
    )
    lang_index = {g: j for j, g in enumerate(languages)}
    support_free, mediation_free = _capacity_left(policy, stays, start, lang_index)
    loads = policy.support_loads
    inst = Instance(
        start=start,
        horizon=H,
        policy=policy,
        tables=tables,
        household_ids=[h.household_id for h in hh],
        size=size,
        urgency=np.array([h.urgency for h in hh], dtype=np.int64),
        weight=np.array([policy.urgency_weights[h.urgency] for h in hh], dtype=float),
        need_day=need_day,
        release=release,
        stay_days=stay_days,
        exit_dated=exit_dated,
        exit_day=exit_day,
        needs_access=needs_access,
        support=[h.support for h in hh],
        load=np.array([loads[h.support] for h in hh], dtype=np.int64),
        language=np.array(
            [lang_index[h.language] if h.language else -1 for h in hh], dtype=np.int64
        ),
        pinned_pool=pinned,
        unit_ids=list(facts.ids),
        unit_capacity=facts.capacity.copy(),
        unit_kind=list(facts.kind),
        unit_access=facts.access.copy(),
        unit_cost=facts.cost.copy(),
        unit_pool=unit_pool,
        pools=pools,
        forbidden=forbidden,
        support_free=support_free,
        languages=languages,
        mediation_free=mediation_free,
        districts=districts,
        anchor=anchor,
        unit_district=unit_district,
        district_distance=distance,
        may_combine=combine,
    )
    inst.announcements = resolve_announcements(inst, overrides)
    check_coefficients(inst)
    return inst


def unplaced_nights(inst: Instance) -> np.ndarray:
    """Hotel nights each household is counted for if it is not placed in this plan.

    To the horizon's end plus ``terminal_wait_days`` (it will likely wait on after the horizon),
    but never past an exit date: an exit-dated household leaves the hotel on that day.
    """
    nights = np.maximum(inst.horizon - inst.release, 0) + inst.policy.terminal_wait_days
    to_exit = np.maximum(inst.exit_day - inst.release, 0)
    return np.where(inst.exit_dated, np.minimum(nights, to_exit), nights)


def check_coefficients(inst: Instance) -> None:
    """Refuse an instance whose objective has a coefficient above `MAX_COEFFICIENT` (1e9).

    The largest is a household left unplaced: urgency weight x size x (nights to the horizon's
    end + ``terminal_wait_days``), times ``pin_weight`` if pinned (`columns.unplaced_cost`).
    Beyond 1e9 a reduced cost's rounding error (2.2e-16 of it) reaches the solvers' absolute
    tolerances, and their answers are noise (`allocator.limits`). The policy's fields are each
    in range; this checks their product on the households at hand.
    """
    if inst.n_households == 0:
        return
    policy = inst.policy
    # a bound first, the factors' largest multiplied in the cost's order, one at a time
    # (rounding is monotone, so it stays above every household's; another grouping of the
    # factors can round below one): a household waits at most to the horizon's end plus the
    # terminal wait
    bound = float(inst.weight.max()) * int(inst.size.max())
    bound *= inst.horizon + policy.terminal_wait_days
    bound *= max(policy.pin_weight, 1.0)
    if bound <= MAX_COEFFICIENT:
        return
    nights = unplaced_nights(inst)
    pinned = inst.pinned_pool >= 0
    cost = inst.weight * inst.size * nights * np.where(pinned, policy.pin_weight, 1.0)
    i = int(np.argmax(cost))
    if cost[i] <= MAX_COEFFICIENT:
        return
    pin = f" x pin_weight {policy.pin_weight:g}" if pinned[i] else ""
    raise InputError(
        f"the objective's largest coefficient would be {cost[i]:.3g} (household "
        f"{inst.household_ids[i]} left unplaced: urgency weight {inst.weight[i]:g} x "
        f"{inst.size[i]} persons x {nights[i]} nights{pin}), above {MAX_COEFFICIENT:g}, the "
        "most the solvers handle exactly: lower urgency_weights, pin_weight, "
        "terminal_wait_days or horizon_weeks",
        source="policy",
    )


def _busy_spans(
    stays: list[Stay], unit_index: dict[str, int], start: dt.date, turn: int
) -> dict[int, list[tuple[int, int]]]:
    """Per unit, the days [from, to) its current stays hold it, turnover included."""
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    day0 = start.toordinal()
    for s in stays:
        span = (s.start.toordinal() - day0, s.expected_end.toordinal() - day0 + turn)
        busy[unit_index[s.unit_id]].append(span)
        for unit_id in s.joined_units:  # a stay in connecting rooms holds each of them
            busy[unit_index[unit_id]].append(span)
    return busy


def _pools(
    units: list[Unit],
    busy: dict[int, list[tuple[int, int]]],
    special_units: set[int],
    start: dt.date,
    policy: Policy,
    unit_district: np.ndarray | None = None,
    by_group: bool = False,
    facts: _UnitFacts | None = None,
) -> tuple[list[Pool], np.ndarray]:
    """Group the units into pools, and each unit's pool (-1: no free day in the horizon).

    A unit with one free stretch joins the pool of its capacity, kind, access and stretch end; a
    unit with several stretches, or one a planner pinned or forbade, is a pool of its own, so that
    counting free units per pool and day stays exact. With ``unit_district`` (districts in the
    objective) the district is part of the pool's key too; with ``by_group`` (some household may
    combine connecting rooms) the group is. ``facts``: the units' `_UnitFacts`, if at hand.
    """
    facts = facts or _unit_facts(units)
    H = policy.horizon_days
    turn = policy.turnover_days
    day0 = start.toordinal()
    districts = None if unit_district is None else unit_district.tolist()
    # per pool: its first unit, its departure and occupancy limits if it is a shared one (a key;
    # else -1 and 0), its units and their gaps; the shared pools' stretches as cells [from, to)
    # of a pools x (H + 1) table, a pool of its own's stretches (from, to, latest departure,
    # end of counted occupancy) as they are. The arrays come after the loop
    width = H + 1
    first_unit: list[int] = []
    pool_departure: list[int] = []
    pool_occupancy: list[int] = []
    shared_from: list[int] = []
    shared_to: list[int] = []
    own: list[tuple[int, list[tuple[int, int, int, int]]]] = []
    members: list[list[int]] = []
    gaps_of: list[dict[int, list[tuple[int, int]]]] = []
    pool_by_key: dict[tuple, int] = {}
    unit_pool = [-1] * len(units)
    for k, (capacity, kind, accessible, group, w_from, w_until) in enumerate(facts.rows):
        window_end = NEVER if w_until is None else w_until - day0
        window_start = 0 if w_from is None else max(0, w_from - day0)
        gaps = [g for g in _free_gaps((window_start, window_end), busy.get(k, ())) if g[0] < H]
        if not gaps:
            continue
        if len(gaps) == 1 and k not in special_units:  # a shared pool's unit: one stretch
            g0, g1, ends_busy = gaps[0]
            departure = g1 - turn if ends_busy else g1
            occupancy = g1 if g1 < NEVER else NEVER
            key: tuple = (capacity, kind, accessible, departure, occupancy)
            if districts is not None:
                key = (*key, districts[k])
            if by_group and group is not None:
                key = (*key, group)  # only rooms of one group connect
            p = pool_by_key.get(key)
            if p is None:
                p = pool_by_key[key] = len(first_unit)
                first_unit.append(k)
                members.append([])
                gaps_of.append({})
                pool_departure.append(departure)
                pool_occupancy.append(occupancy)
            shared_from.append(p * width + max(g0, 0))
            shared_to.append(p * width + min(g1, H))
            members[p].append(k)
            gaps_of[p][k] = [(g0, g1)]
            unit_pool[k] = p
            continue
        # a pool of its own
        limits = [
            (g0, g1, g1 - turn if ends_busy else g1, g1 if g1 < NEVER else NEVER)
            for g0, g1, ends_busy in gaps
        ]
        p = len(first_unit)
        first_unit.append(k)
        members.append([k])
        gaps_of.append({k: [(g0, g1) for g0, g1, _, _ in limits]})
        pool_departure.append(-1)
        pool_occupancy.append(0)
        own.append((p, limits))
        unit_pool[k] = p
    free, departure_limit, occupancy_limit = _count_free(
        H, shared_from, shared_to, pool_departure, pool_occupancy, own
    )
    pools = []
    for p, k in enumerate(first_unit):
        capacity, kind, accessible, group = facts.rows[k][:4]
        pools.append(
            Pool(
                capacity=capacity,
                kind=kind,
                accessible=accessible,
                free=free[p],
                departure_limit=departure_limit[p],
                occupancy_limit=occupancy_limit[p],
                units=members[p],
                gaps=gaps_of[p],
                district=-1 if districts is None else districts[k],
                group=group if by_group else None,
            )
        )
    return pools, np.array(unit_pool, dtype=np.int64)


def _count_free(
    H: int,
    shared_from: list[int],
    shared_to: list[int],
    departure: list[int],
    occupancy: list[int],
    own: list[tuple[int, list[tuple[int, int, int, int]]]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pools x days: free units, and the departure and occupancy limits of the free days (-1
    and 0 elsewhere).

    The shared pools' stretches come as cells of a pools x (H + 1) table, [from, to); each
    shared pool's units have its key's limits (``departure``, ``occupancy``: -1 and 0 for a pool
    of its own), so every free day has them and one count of all shared pools' stretches does.
    A pool of its own is one unit, whose few stretches (from, to, departure, occupancy; ``own``)
    do not overlap and are written one by one.
    """
    n = len(departure)
    cells = n * (H + 1)
    delta = np.bincount(np.array(shared_from, dtype=np.int64), minlength=cells) - np.bincount(
        np.array(shared_to, dtype=np.int64), minlength=cells
    )
    free = np.cumsum(delta.reshape(n, H + 1)[:, :H], axis=1)
    dep = np.array(departure, dtype=np.int64)
    occ = np.array(occupancy, dtype=np.int64)
    departure_limit = np.where(free > 0, dep[:, None], -1)
    occupancy_limit = np.where(free > 0, occ[:, None], 0)
    for p, mine in own:
        for g0, g1, d, o in mine:
            inside = slice(max(g0, 0), min(g1, H))
            free[p, inside] += 1
            departure_limit[p, inside] = d
            occupancy_limit[p, inside] = o
    return free, departure_limit, occupancy_limit


# the units' facts, district names and map last seen, and their units' districts and distances
_kept_districts: LastKept[tuple, tuple[np.ndarray, np.ndarray]] = LastKept(
    lambda kept, key: kept[0] is key[0] and kept[1] == key[1] and kept[2] is key[2]
)


def _districts(
    tables: Tables, policy: Policy, facts: _UnitFacts | None = None
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """The district names in use, anchors and units' districts as indices into them (-1 none),
    and their distances (`allocator.districts.distance_table`). A name the policy's map does
    not list is an `InputError` naming the row and column."""
    hh, units = tables.households, tables.units
    facts = facts or _unit_facts(units)
    names = sorted({h.anchor_district for h in hh if h.anchor_district} | facts.district_names)
    index = {name: k for k, name in enumerate(names)}
    anchor = np.array([index.get(h.anchor_district or "", -1) for h in hh], dtype=np.int64)

    def tables_of_units() -> tuple[np.ndarray, np.ndarray]:
        unit_district = np.array([index.get(u.district or "", -1) for u in units], dtype=np.int64)
        distance, unknown = distance_table(policy.districts, names)
        if unknown:
            raise _unknown_district(unknown[0], tables, policy)
        return unit_district, distance

    # the same units, names and map as last time (every week of a simulation): the same tables
    unit_district, distance = _kept_districts.get((facts, names, policy.districts), tables_of_units)
    return names, anchor, unit_district.copy(), distance.copy()


def _unknown_district(name: str, tables: Tables, policy: Policy) -> InputError:
    where = [("units", u.unit_id, "district") for u in tables.units if u.district == name]
    where += [
        ("households", h.household_id, "anchor_district")
        for h in tables.households
        if h.anchor_district == name
    ]
    listed = resolve_districts(policy.districts)
    return InputError(
        f"district {name!r} is not in the policy's district map; expected one of "
        f"{', '.join(listed.names if listed else [])}",
        source=where[0][0],
        row=where[0][1],
        column=where[0][2],
    )


def _overrides_on_pools(
    overrides: Overrides,
    hh_index: dict[str, int],
    unit_index: dict[str, int],
    unit_pool: np.ndarray,
    n_households: int,
) -> tuple[np.ndarray, set[tuple[int, int]]]:
    """Pins as the pool each household must use, forbids as (household, pool) pairs.

    A pin to a unit with no free day points at the pool ``NEVER`` (no pool fits: the household
    stays unplaced); a forbid of such a unit changes nothing and is dropped.
    """
    pinned = np.full(n_households, -1, dtype=np.int64)
    for h_id, u_id in overrides.pins.items():
        pinned[hh_index[h_id]] = (
            unit_pool[unit_index[u_id]] if unit_pool[unit_index[u_id]] >= 0 else NEVER
        )
    forbidden = {
        (hh_index[h_id], int(unit_pool[unit_index[u_id]]))
        for h_id, u_id in overrides.forbids
        if unit_pool[unit_index[u_id]] >= 0
    }
    return pinned, forbidden


def _capacity_left(
    policy: Policy, stays: list[Stay], start: dt.date, lang_index: dict[str, int]
) -> tuple[np.ndarray | None, dict[int, np.ndarray]]:
    """Accompaniment load and mediation places left per day once the current stays are counted.

    None (support) or no entry (a language) where the policy sets no cap.
    """
    H = policy.horizon_days
    loads = policy.support_loads
    support_free = None
    if policy.support_capacity is not None:
        support_free = np.full(H, policy.support_capacity, dtype=np.int64)
    mediation_free: dict[int, np.ndarray] = {}
    for g, j in lang_index.items():
        cap = policy.mediation_cap(g)
        if cap is not None:
            mediation_free[j] = np.full(H, cap, dtype=np.int64)
    if support_free is None and not mediation_free:
        return support_free, mediation_free  # no cap: the stays use nothing counted
    for s in stays:
        inside = slice(max((s.start - start).days, 0), max((s.expected_end - start).days, 0))
        if support_free is not None:
            support_free[inside] -= loads[s.support or policy.existing_stay_support]
        if s.language and lang_index[s.language] in mediation_free:
            mediation_free[lang_index[s.language]][inside] -= 1
    return support_free, mediation_free


def _check_overrides(overrides: Overrides, hh_index: dict, unit_index: dict) -> None:
    for h_id, u_id in overrides.pins.items():
        if h_id not in hh_index:
            raise InputError(
                f"pin names unknown household {h_id!r}", source="overrides", field="pin"
            )
        if u_id not in unit_index:
            raise InputError(f"pin names unknown unit {u_id!r}", source="overrides", field="pin")
    for h_id, u_id in overrides.forbids:
        if h_id not in hh_index:
            raise InputError(
                f"forbid names unknown household {h_id!r}", source="overrides", field="forbid"
            )
        if u_id not in unit_index:
            raise InputError(
                f"forbid names unknown unit {u_id!r}", source="overrides", field="forbid"
            )
        if overrides.pins.get(h_id) == u_id:
            raise InputError(
                f"household {h_id!r} is both pinned to and forbidden from unit {u_id!r}",
                source="overrides",
                field="forbid",
            )
    for h_id in overrides.announced:
        if h_id not in hh_index:
            raise InputError(
                f"announcement names unknown household {h_id!r}",
                source="overrides",
                field="announced",
            )
