"""Random draws for one replication: the units, the households that arrive and how long they stay.

Everything is vectorised numpy. Each replication gets its own `SeedSequence`; it is split into one
stream per component (arrivals, household attributes, stay lengths, baseline draws), so the
policies compared in a replication see exactly the same households (common random numbers), and a
variant that changes, say, stay lengths or clocks keeps the same arrivals.

Days are counted from the run's first day, ``scenario.run_start``: the scenario's start less its
warm-up. A household's drawn duration is read by its pathway's clock: from move-in
(``placement``) or from its need day to a fixed exit day (``exit_date``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from allocator.domain import Support, UnitKind
from allocator.engine.rooms import largest_single
from allocator.simulation.scenario import Distribution, Scenario, UnitGroup, Units

SUPPORT_LEVELS = [Support.LOW, Support.MEDIUM, Support.HIGH]


@dataclass(frozen=True)
class UnitArrays:
    """The programme's units; deterministic for a scenario (no sampling noise between runs)."""

    unit_id: np.ndarray
    is_flat: np.ndarray
    capacity: np.ndarray
    accessible: np.ndarray
    cost_per_night: np.ndarray  # operating + amortised renovation, per unit-night
    district: np.ndarray | None = None  # object array, None where not known; None: no districts
    # object array: the connecting group (`Unit.group`), None where none; None: no groups
    group: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.unit_id)

    def largest_fit(self, accessible: np.ndarray) -> np.ndarray:
        """Per household (whether it needs step-free access), the beds of the largest single
        unit that could ever take it: a household larger than that needs connecting rooms."""
        return largest_single(self.capacity, self.accessible, accessible)


@dataclass(frozen=True)
class Households:
    """One replication's households, in order of need (index = arrival order)."""

    need: np.ndarray  # need time (float days) counted from the run's first day
    size: np.ndarray
    minors: np.ndarray  # bool: the household has minors
    urgency: np.ndarray
    support: np.ndarray  # index into SUPPORT_LEVELS
    accessible: np.ndarray
    language: np.ndarray  # object array, None when no mediation is needed
    pathway: np.ndarray  # object array of ExitPathway values
    stay: np.ndarray  # realised duration in days (int >= 1), capped at the policy's max stay
    expected_stay: np.ndarray  # what the planner expects: the pathway's mean, capped
    shelter_draw: np.ndarray  # uniform(0, 1): below the scenario's shelter_share -> shelter
    # True where the pathway's clock is exit_date: the household leaves on need day + stay,
    # from a unit or from the hotel; False: the stay runs for ``stay`` nights from move-in
    exit_dated: np.ndarray
    # object array: the district of the school or work, None without one; None: no anchors
    anchor: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.need)

    @property
    def need_day(self) -> np.ndarray:
        """The need day (whole days), the first night a household needs a bed."""
        return np.floor(self.need).astype(np.int64)

    @property
    def leave(self) -> np.ndarray:
        """The day each household leaves wherever it is (float): need day + stay on an exit-date
        clock, ``inf`` on a placement clock (it leaves only after its stay in a unit)."""
        return np.where(self.exit_dated, self.need_day + self.stay, np.inf)

    def length(self, i: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Nights in a unit of households ``i`` for stays starting on ``start``: to the exit day
        on an exit-date clock (fewer the later it starts; <= 0: it has left), ``stay`` on a
        placement clock."""
        need = np.floor(self.need[i]).astype(np.int64)
        return np.where(self.exit_dated[i], need + self.stay[i] - start, self.stay[i])

    def expected_end(self, i: np.ndarray, start: np.ndarray) -> np.ndarray:
        """The end a planner expects for households ``i`` starting on ``start``, before the real
        one is announced: the pathway's mean from the need day (exit-date clock) or from the
        start (placement clock)."""
        need = np.floor(self.need[i]).astype(np.int64)
        return np.where(self.exit_dated[i], need, start) + self.expected_stay[i]


def _apportion(count: int, mix: dict[int, float]) -> np.ndarray:
    """``count`` values with shares as close to ``mix`` as whole numbers allow (largest remainder)."""
    keys = sorted(mix)
    quota = np.array([count * mix[k] for k in keys])
    n = np.floor(quota).astype(int)
    rest = count - n.sum()
    n[np.argsort(-(quota - n), kind="stable")[:rest]] += 1
    return np.repeat(keys, n)


def generated(spec: Units) -> list[tuple[UnitKind, UnitGroup]]:
    """The generated unit groups with their kind, hub rooms first (the units' order)."""
    kinds = ((UnitKind.HUB_ROOM, spec.hub_rooms), (UnitKind.FLAT, spec.flats))
    return [(kind, group) for kind, group in kinds if group is not None and group.count > 0]


GROUP_PREFIX = {UnitKind.HUB_ROOM: "RG", UnitKind.FLAT: "FG"}


def connecting_groups_of(group: UnitGroup, kind: UnitKind) -> list[str | None]:
    """Each generated unit's connecting group (None for most): ``connecting_groups.count``
    groups of ``rooms`` units, the largest units first, each within one district (the rooms of
    one group share kind and district); fewer when the units make fewer (a capacity sweep's
    small mixes), none when no district has ``rooms`` units."""
    spec = group.connecting_groups
    out: list[str | None] = [None] * group.count
    if spec is None or spec.count == 0:
        return out
    caps = _apportion(group.count, group.capacity_mix)
    districts = _districts_of(group.district_mix, group.count, kind)
    # within each district, its units from the largest (the later index first on a tie), in
    # runs of ``rooms``; then the runs with the most beds, the first district first on a tie
    runs: list[tuple[int, int, list[int]]] = []
    for d in sorted({str(x) for x in districts}):
        mine = [k for k in range(group.count) if str(districts[k]) == d]
        mine.sort(key=lambda k: (-int(caps[k]), -k))
        for j in range(0, len(mine) - spec.rooms + 1, spec.rooms):
            run = mine[j : j + spec.rooms]
            runs.append((-sum(int(caps[k]) for k in run), len(runs), run))
    for g, (_, _, run) in enumerate(sorted(runs)[: spec.count]):
        for k in run:
            out[k] = f"{GROUP_PREFIX[kind]}{g + 1:02d}"
    return out


def build_units(scenario: Scenario) -> UnitArrays:
    spec = scenario.units
    ids, flat, cap, acc, cost, district = [], [], [], [], [], []
    groups: list[str | None] = []
    night_years = 365.0 * spec.amortisation_years
    for kind, group in generated(spec):
        caps = _apportion(group.count, group.capacity_mix)
        # accessible units spread evenly over the capacities, not all among the smallest
        n_acc = round(group.accessible_share * group.count)
        acc_idx = set(np.linspace(0, group.count - 1, n_acc).round().astype(int).tolist())
        prefix = "R" if kind is UnitKind.HUB_ROOM else "F"
        for k, c in enumerate(caps):
            ids.append(f"{prefix}{k:04d}")
            flat.append(kind is UnitKind.FLAT)
            cap.append(int(c))
            acc.append(k in acc_idx)
            cost.append(
                group.operating_cost_per_unit_night + group.renovation_cost_per_unit / night_years
            )
        district += _districts_of(group.district_mix, group.count, kind)
        groups += connecting_groups_of(group, kind)
    for u in spec.explicit or []:
        ids.append(u.unit_id)
        flat.append(u.kind is UnitKind.FLAT)
        cap.append(u.capacity)
        acc.append(u.accessible)
        cost.append(u.operating_cost_per_unit_night + u.renovation_cost_per_unit / night_years)
        district.append(u.district)
        groups.append(u.group)
    return UnitArrays(
        unit_id=np.array(ids, dtype=object),
        is_flat=np.array(flat, dtype=bool),
        capacity=np.array(cap, dtype=np.int64),
        accessible=np.array(acc, dtype=bool),
        cost_per_night=np.array(cost, dtype=float),
        district=np.array(district, dtype=object) if any(district) else None,
        group=np.array(groups, dtype=object) if any(groups) else None,
    )


def _districts_of(mix: dict[str, float] | None, count: int, kind: UnitKind) -> list[str | None]:
    """A group's units' districts: shares as close to ``mix`` as whole numbers allow, spread
    over the group in a fixed shuffled order (not by capacity), the same for every run."""
    if not mix:
        return [None] * count
    names = sorted(mix)
    apportioned = _apportion(count, {k: mix[name] for k, name in enumerate(names)})
    # a fixed generator per kind: the same units in the same districts whatever the seed
    order = np.random.default_rng(list(UnitKind).index(kind)).permutation(count)
    return [names[k] for k in apportioned[order].tolist()]


def sample_days(dist: Distribution, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws (float days) from one stay distribution."""
    # the scenario's validation made every parameter the distribution needs a number
    mean, sd = cast(float, dist.mean), cast(float, dist.sd)
    if dist.dist == "fixed":
        return np.full(n, float(mean))
    if dist.dist == "exponential":
        return rng.exponential(mean, n)
    if dist.dist == "uniform":
        return rng.uniform(cast(float, dist.low), cast(float, dist.high), n)
    m, s = float(mean), float(sd)
    if dist.dist == "lognormal":
        sigma2 = np.log1p((s / m) ** 2)
        return rng.lognormal(np.log(m) - sigma2 / 2, np.sqrt(sigma2), n)
    shape = (m / s) ** 2
    return rng.gamma(shape, s * s / m, n)


def arrival_days(scenario: Scenario, rng: np.random.Generator) -> np.ndarray:
    """Need times (float days from the run's first day, warm-up included) of a Poisson process
    with monthly seasonality."""
    start = np.datetime64(scenario.run_start, "D")
    days = start + np.arange(scenario.run_days)
    month = days.astype("datetime64[M]").astype(int) % 12
    rate = scenario.arrivals.weekly_rate / 7.0 * np.asarray(scenario.arrivals.seasonality)[month]
    counts = rng.poisson(rate)
    t = np.repeat(np.arange(scenario.run_days), counts) + rng.random(counts.sum())
    return np.sort(t)


def _choice(rng: np.random.Generator, mix: dict, n: int) -> np.ndarray:
    keys = list(mix)
    return np.asarray(keys, dtype=object)[rng.choice(len(keys), n, p=list(mix.values()))]


def children(seed: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """What ``seed.spawn(n)`` gives a seed that has spawned nothing, without spawning: `spawn`
    counts its children on the seed, so a second call, or a second sampling from the same seed
    object, would draw other numbers."""
    return [
        np.random.SeedSequence(
            seed.entropy, spawn_key=(*seed.spawn_key, k), pool_size=seed.pool_size
        )
        for k in range(n)
    ]


def sample_households(scenario: Scenario, seed: np.random.SeedSequence) -> Households:
    """One replication's households; the same ``seed`` gives the same households, however often
    it is used."""
    s_arr, s_attr, s_stay, s_base = (np.random.default_rng(s) for s in children(seed, 4))
    a = scenario.arrivals
    t = arrival_days(scenario, s_arr)
    n = len(t)
    size = _choice(s_attr, a.size_mix, n).astype(np.int64)
    minors = (size >= 2) & (s_attr.random(n) < a.minors_share)
    urgency = _choice(s_attr, a.urgency_mix, n).astype(np.int64)
    support_keys = [SUPPORT_LEVELS.index(Support(k)) for k in a.support_mix]
    support = np.asarray(support_keys)[
        s_attr.choice(len(support_keys), n, p=list(a.support_mix.values()))
    ]
    accessible = s_attr.random(n) < a.accessible_share
    mediation = s_attr.random(n) < a.mediation_share
    langs = np.asarray(a.mediation_languages, dtype=object)[
        s_attr.integers(0, len(a.mediation_languages), n)
    ]
    language = np.where(mediation, langs, None)  # type: ignore[call-overload]  # stubs: no None
    shares = {k: p.share for k, p in scenario.pathways.items()}
    total = sum(shares.values())
    pathway = _choice(s_attr, {k: v / total for k, v in shares.items()}, n)
    # every pathway draws n stays so one pathway's parameters do not shift another's draws
    cap = scenario.policy.max_stay_days
    stay = np.zeros(n)
    expected = np.zeros(n, dtype=np.int64)
    exit_dated = np.zeros(n, dtype=bool)
    for k, p in scenario.pathways.items():
        draws = sample_days(p.stay, n, s_stay)
        mask = pathway == k
        stay[mask] = draws[mask]
        expected[mask] = int(min(cap, max(1, round(p.stay.expected))))
        exit_dated[mask] = p.clock == "exit_date"
    stay = np.clip(np.ceil(stay), 1, cap).astype(np.int64)
    return Households(
        need=t,
        size=size,
        minors=minors,
        urgency=urgency,
        support=support.astype(np.int64),
        accessible=accessible,
        language=language,
        pathway=pathway,
        stay=stay,
        expected_stay=expected,
        shelter_draw=s_base.random(n),
        exit_dated=exit_dated,
        anchor=_anchors(scenario, seed, n),
    )


def _anchors(scenario: Scenario, seed: np.random.SeedSequence, n: int) -> np.ndarray | None:
    """Each household's school or work district (None without one), from a stream of its own:
    the other draws are those of a scenario without anchors."""
    a = scenario.arrivals
    if a.anchor_share <= 0 or not a.anchor_district_mix:
        return None
    own = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, 1_000))
    rng = np.random.default_rng(own)
    has = rng.random(n) < a.anchor_share
    districts = _choice(rng, a.anchor_district_mix, n)
    districts[~has] = None
    return districts
