"""From allocations to tidy tables: per week, per replication, and a summary with 95% intervals.

Accounting (only the measured years count: nothing in the warm-up before the scenario's start,
nothing after the horizon):

- Nights, costs, occupancy and turnover count every night and placement of the measured years,
  including those of households that arrived during the warm-up (a running programme's load).
  Households, placements (``served``), waits, ``still_waiting``, ``exited_waiting`` and
  separations count the households whose need day falls in the measured years.
- A household not in a unit waits from its need day in a hotel, or, when it has minors and its
  baseline draw falls below ``baseline.shelter_share``, in a community shelter that separates the
  family (one *separation* per such household that spends at least one night there).
- Under ``hotel`` it stays there for its whole duration: need day + drawn duration, the same exit
  day an ``exit_date`` clock uses, so both sides count the same nights. Under the other policies
  it waits until it is placed or, on an ``exit_date`` clock, until its exit day comes first: it
  then leaves from the hotel (``exited_waiting``). A household the policy can never place (no
  unit has its beds and no connecting rooms it may take hold it, `never_placeable`) waits for
  nothing: it stays in the hotel as under ``hotel``, to need day + duration on either clock
  (``exited_waiting`` when that comes before the run's end), not to the run's end.
- Units cost their operating cost plus amortised renovation every night of the horizon, used or
  not; placed households add the accompaniment cost per night. ``hotel`` runs no units.
- A household in connecting rooms (`Unit.group`) occupies each of its rooms (occupancy and the
  weekly occupied units count them all) and counts once for accompaniment, placements and
  turnover. ``oversized`` counts the households no single unit fits (larger than every unit,
  or every step-free unit when they need one), ``oversized_housed`` those of them placed (in
  connecting rooms: nothing else holds them), ``oversized_hotel`` those never placed (a hotel or
  shelter until they left or the run ended), and ``in_connecting_rooms`` every household
  placed in connecting rooms (larger ones too under ``connecting_rooms: comfort``).
- *Savings* are the baseline's (``hotel``) total cost minus the policy's, paired within a
  replication (common random numbers), so their interval is much tighter than the costs'; hotel
  and shelter nights avoided and separations avoided (families kept together) are paired alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from allocator.simulation.sampling import Households, UnitArrays
from allocator.simulation.scenario import MAX_JOINED_ROOMS, Scenario
from allocator.simulation.weekly import ENGINE_POLICIES, Allocation

METRICS = [
    "households",
    "served",
    "still_waiting",
    "exited_waiting",
    "hotel_person_nights",
    "shelter_person_nights",
    "wait_mean",
    "wait_p90",
    "occupancy",
    "bed_occupancy",
    "turnover",
    "separations",
    "oversized",
    "oversized_housed",
    "oversized_hotel",
    "in_connecting_rooms",
    "anchor_same_share",
    "anchor_near_share",
    "announcement_churn",
    "announcements_forced",
    "cost_hotel",
    "cost_shelter",
    "cost_units",
    "cost_accompaniment",
    "total_cost",
    "savings",
    "hotel_nights_avoided",
    "shelter_nights_avoided",
    "separations_avoided",
]
# paired against the hotel baseline in the same replication: baseline's value minus the policy's
PAIRED = {
    "savings": "total_cost",
    "hotel_nights_avoided": "hotel_person_nights",
    "shelter_nights_avoided": "shelter_person_nights",
    "separations_avoided": "separations",
}


def _daily(a: np.ndarray, b: np.ndarray, w: np.ndarray, days: int) -> np.ndarray:
    """Sum of weights ``w`` over the days [a, b) each covers, per day."""
    diff = np.zeros(days + 1)
    a = np.clip(a, 0, days).astype(np.int64)
    b = np.clip(b, 0, days).astype(np.int64)
    np.add.at(diff, a, w)
    np.add.at(diff, b, -w)
    return np.cumsum(diff[:-1])


def _weekly_sum(x: np.ndarray) -> np.ndarray:
    return x.reshape(-1, 7).sum(axis=1)


def never_placeable(
    scenario: Scenario, units: UnitArrays, hh: Households, policy: str
) -> np.ndarray:
    """Per household, whether ``policy`` could never place it in the scenario's units: no unit
    has its beds (step-free where it needs that), and the policy combines no connecting rooms
    (a fast policy, ``connecting_rooms: never``, no group) or no group's largest rooms (at most
    `MAX_JOINED_ROOMS`, all step-free where it needs that) hold it."""
    if not len(units):
        return np.ones(len(hh), dtype=bool)
    out = hh.size > units.largest_fit(hh.accessible)
    if (
        out.any()
        and units.group is not None
        and policy in ENGINE_POLICIES
        and scenario.policy.connecting_rooms != "never"
    ):
        best = {False: 0, True: 0}  # the most beds one group's rooms give, any / step-free
        for g in {g for g in units.group if g is not None}:
            mine = units.group == g
            for step_free in (False, True):
                beds = units.capacity[mine & units.accessible if step_free else mine]
                best[step_free] = max(
                    best[step_free], int(np.sort(beds)[::-1][:MAX_JOINED_ROOMS].sum())
                )
        out &= hh.size > np.where(hh.accessible, best[True], best[False])
    return out


def _waits(
    scenario: Scenario, units: UnitArrays, hh: Households, alloc: Allocation, policy: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per household: placed in the run, start day (the run's end if not), the day its wait ends
    and whether it left from the hotel while waiting (`never_placeable`: as under ``hotel``)."""
    T = scenario.warmup_days + scenario.horizon_days
    placed = (alloc.unit >= 0) & (np.nan_to_num(alloc.start, nan=T) < T)
    start = np.where(placed, np.nan_to_num(alloc.start, nan=T), T).astype(np.int64)
    leave = np.minimum(hh.leave, T)  # exit-date clock: the day it leaves wherever it is
    if policy == "hotel":
        wait_end = np.minimum(hh.need_day + hh.stay, T)
        exited = np.zeros(len(hh), dtype=bool)
    else:
        # not placed: it waits to its exit date (exit-date clock) or to the end of the run
        wait_end = np.where(placed, start, leave)
        stuck = ~placed & never_placeable(scenario, units, hh, policy)
        wait_end = np.where(stuck, np.minimum(hh.need_day + hh.stay, T), wait_end).astype(np.int64)
        exited = ~placed & (wait_end < T)
    return placed, start, wait_end, exited


def household_records(
    scenario: Scenario, units: UnitArrays, hh: Households, alloc: Allocation, policy: str
) -> pd.DataFrame:
    """One row per household of the measured years: its groups, wait and the unit it got.

    What the fairness audit (`allocator.analysis.fairness`) reads. Days count from the
    scenario's start (the warm-up's are negative); ``household`` is the arrival order within the
    replication, ``order`` the need time (who asked first), ``unit_capacity`` and
    ``unit_accessible`` describe the unit a placed household got (NaN when not placed).
    """
    from allocator.simulation.sampling import SUPPORT_LEVELS

    W = scenario.warmup_days
    placed, start, wait_end, exited = _waits(scenario, units, hh, alloc, policy)
    need = hh.need_day
    i = np.flatnonzero(need >= W)
    beds = _beds_held(units, alloc)
    support = np.asarray([str(s) for s in SUPPORT_LEVELS], dtype=object)
    return pd.DataFrame(
        {
            "household": i,
            "order": hh.need[i] - W,
            "need_day": need[i] - W,
            "size": hh.size[i],
            "minors": hh.minors[i],
            "urgency": hh.urgency[i],
            "support": support[hh.support[i]],
            "accessible": hh.accessible[i],
            "language": pd.Series(hh.language[i], dtype=object).fillna(""),
            "pathway": pd.Series(hh.pathway[i], dtype=object).map(str),
            "placed": placed[i],
            "start_day": np.where(placed[i], start[i] - W, np.nan),
            "wait": np.maximum(wait_end[i] - need[i], 0),
            "exited_waiting": exited[i],
            "unit_capacity": np.where(placed[i], beds[i], np.nan) if len(units) else np.nan,
            "unit_accessible": np.where(placed[i], _step_free(units, alloc)[i], np.nan)
            if len(units)
            else np.nan,
        }
    )


def _beds_held(units: UnitArrays, alloc: Allocation) -> np.ndarray:
    """Per household, the beds of the units it holds (its connecting rooms added up); 0 when
    not placed."""
    if not len(units):
        return np.zeros(len(alloc.unit), dtype=np.int64)
    beds = np.where(alloc.unit >= 0, units.capacity[np.maximum(alloc.unit, 0)], 0)
    for i, others in alloc.joined.items():
        beds[i] += int(units.capacity[list(others)].sum())
    return beds


def _step_free(units: UnitArrays, alloc: Allocation) -> np.ndarray:
    """Per household, whether every unit it holds is step-free (False when not placed)."""
    if not len(units):
        return np.zeros(len(alloc.unit), dtype=bool)
    access = np.where(alloc.unit >= 0, units.accessible[np.maximum(alloc.unit, 0)], False)
    for i, others in alloc.joined.items():
        access[i] &= bool(units.accessible[list(others)].all())
    return access


def household_table(results: Any) -> pd.DataFrame:
    """The per-household records of `run_replication`'s results (its third item), in order."""
    records = [x for result in results for x in (result[2] if len(result) > 2 else [])]
    return pd.concat(records, ignore_index=True) if records else pd.DataFrame()


def outcome(
    scenario: Scenario, units: UnitArrays, hh: Households, alloc: Allocation, policy: str
) -> tuple[dict[str, Any], pd.DataFrame]:
    """One replication-policy: its metrics row and its weekly table (measured weeks only)."""
    W, H = scenario.warmup_days, scenario.horizon_days
    T = W + H  # the run's days; the measured ones are [W, T)
    c = scenario.costs
    need = hh.need_day
    cohort = need >= W  # the households that arrive in the measured years
    placed, start, wait_end, exited = _waits(scenario, units, hh, alloc, policy)
    hotel_only = policy == "hotel"
    wait = np.maximum(wait_end - need, 0)
    in_shelter = hh.minors & (hh.shelter_draw < scenario.baseline.shelter_share)
    size = hh.size.astype(float)
    w_hotel = np.where(in_shelter, 0.0, size)
    w_shelter = np.where(in_shelter, size, 0.0)
    end = np.minimum(start + hh.length(np.arange(len(hh)), start), T)
    n_units = 0 if hotel_only else len(units)
    unit_cost_per_night = 0.0 if hotel_only else float(units.cost_per_night.sum())

    # per day of the run, then only the measured days: nothing in the warm-up counts
    hotel_day = _daily(need, wait_end, w_hotel, T)[W:]
    shelter_day = _daily(need, wait_end, w_shelter, T)[W:]
    waiting_day = _daily(need, wait_end, np.ones(len(hh)), T)[W:]
    pu = np.flatnonzero(placed)
    household_day = _daily(start[pu], end[pu], np.ones(pu.size), T)[W:]
    # a household in connecting rooms occupies each of them
    occupied_day = (
        _daily(start[pu], end[pu], alloc.rooms()[pu].astype(float), T)[W:]
        if alloc.joined
        else household_day
    )
    persons_day = _daily(start[pu], end[pu], size[pu], T)[W:]
    weeks = H // 7
    cost_week = (
        _weekly_sum(hotel_day) * c.hotel_per_person_night
        + _weekly_sum(shelter_day) * c.shelter_per_person_night
        + 7 * unit_cost_per_night
        + _weekly_sum(household_day) * c.accompaniment_per_household_night
    )

    def week_of(day: np.ndarray) -> np.ndarray:
        """Events per measured week (days outside the measured years are dropped)."""
        d = day[(day >= W) & (day < T)] - W
        return np.bincount(d // 7, minlength=weeks)[:weeks]

    px = np.flatnonzero(exited)
    weekly = pd.DataFrame(
        {
            "week": np.arange(weeks),
            "arrivals": week_of(need),
            "placements": week_of(start[pu]),
            "exits": week_of(start[pu] + hh.length(pu, start[pu])),
            "exited_waiting": week_of(wait_end[px]),
            "waiting_end": waiting_day[6::7],
            "occupied_units_end": occupied_day[6::7],
            "hotel_person_nights": _weekly_sum(hotel_day),
            "shelter_person_nights": _weekly_sum(shelter_day),
            "cost": cost_week,
        }
    )
    unit_nights = occupied_day.sum()
    beds = float(units.capacity.sum()) if n_units else 0.0
    waits = wait[cohort]
    row = {
        "households": int(cohort.sum()),
        "served": int((placed & cohort).sum()),
        "still_waiting": int((cohort & (wait_end >= T)).sum()),
        # the hotel baseline places nobody: nobody leaves "while waiting for a unit"
        "exited_waiting": np.nan if hotel_only else int((exited & cohort).sum()),
        "hotel_person_nights": float(hotel_day.sum()),
        "shelter_person_nights": float(shelter_day.sum()),
        "wait_mean": float(waits.mean()) if waits.size else 0.0,
        "wait_p90": float(np.quantile(waits, 0.9)) if waits.size else 0.0,
        "occupancy": float(unit_nights / (n_units * H)) if n_units else np.nan,
        "bed_occupancy": float(persons_day.sum() / (beds * H)) if n_units else np.nan,
        "turnover": float(weekly["placements"].sum() / n_units / (H / 365.0))
        if n_units
        else np.nan,
        "separations": int((cohort & in_shelter & (wait > 0)).sum()),
        **_connecting(units, hh, alloc, placed, cohort),
        "cost_hotel": float(hotel_day.sum() * c.hotel_per_person_night),
        "cost_shelter": float(shelter_day.sum() * c.shelter_per_person_night),
        "cost_units": unit_cost_per_night * H,
        "cost_accompaniment": float(household_day.sum() * c.accompaniment_per_household_night),
    }
    row["total_cost"] = (
        row["cost_hotel"] + row["cost_shelter"] + row["cost_units"] + row["cost_accompaniment"]
    )
    row.update(near_anchor(scenario, units, hh, alloc.unit, placed & cohort))
    return row, weekly


def _connecting(
    units: UnitArrays, hh: Households, alloc: Allocation, placed: np.ndarray, cohort: np.ndarray
) -> dict[str, int]:
    """The households no single unit fits, housed (in connecting rooms) and not, and every
    placement in connecting rooms; of the measured years' households (module docstring)."""
    fit = units.largest_fit(hh.accessible) if len(units) else np.zeros(len(hh), dtype=np.int64)
    oversized = cohort & (hh.size > fit)
    joined = np.zeros(len(hh), dtype=bool)
    joined[list(alloc.joined)] = True
    return {
        "oversized": int(oversized.sum()),
        "oversized_housed": int((oversized & placed).sum()),
        "oversized_hotel": int((oversized & ~placed).sum()),
        "in_connecting_rooms": int((joined & placed & cohort).sum()),
    }


def near_anchor(
    scenario: Scenario, units: UnitArrays, hh: Households, unit: np.ndarray, placed: np.ndarray
) -> dict[str, float]:
    """Of the ``placed`` households with a school or work district, the shares placed in it and
    in it or next to it (`allocator.districts`); nothing when no household has one."""
    from allocator.districts import distance_table

    if hh.anchor is None:
        return {}
    mine = placed & pd.notna(hh.anchor)
    if not mine.any():
        return {"anchor_same_share": np.nan, "anchor_near_share": np.nan}
    anchors = hh.anchor[mine].astype(str)
    where = (
        units.district[unit[mine]]
        if units.district is not None
        else np.full(int(mine.sum()), None, dtype=object)
    )
    names = sorted(set(anchors) | {d for d in where if d is not None})
    table, _ = distance_table(scenario.policy.districts, names)
    index = {name: k for k, name in enumerate(names)}
    a = np.array([index[x] for x in anchors], dtype=np.int64)
    d = np.array([index.get(x, -1) if x is not None else -1 for x in where], dtype=np.int64)
    away = table[a, d]  # -1: a unit of no known district, the map's widest distance
    return {
        "anchor_same_share": float((away == 0).mean()),
        "anchor_near_share": float((away <= 1).mean()),
    }


def mean_interval(x: Any, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of independent replications and its two-sided t-interval (NaN bounds below 2).

    The one rule behind every interval the simulation, capacity sweeps and reports print; for a
    paired comparison pass the per-replication differences.
    """
    from scipy import stats  # here, not at the top: it would double `import allocator.simulation`

    x = pd.Series(np.asarray(x, dtype=float)).dropna()
    n = len(x)
    if n == 0:
        return np.nan, np.nan, np.nan
    m = float(x.mean())
    if n < 2:
        return m, np.nan, np.nan
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return m, m - half, m + half


def summarise(replications: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% t-interval over replications, one row per (policy, metric)."""
    rows = []
    for policy, g in replications.groupby("policy", sort=False):
        for m in METRICS:
            if m not in g:
                continue
            mean, lo, hi = mean_interval(g[m])
            rows.append({"policy": policy, "metric": m, "mean": mean, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows, columns=["policy", "metric", "mean", "ci_low", "ci_high"])


@dataclass
class SimulationResult:
    """What `simulate` returns: tidy tables, the seed, and the run's settings."""

    scenario: Scenario
    replications: pd.DataFrame  # one row per (replication, policy)
    weekly: pd.DataFrame  # one row per (replication, policy, week)
    summary: pd.DataFrame  # one row per (policy, metric): mean, ci_low, ci_high
    seed: int
    policies: list[str]
    seconds: float
    workers: int
    backend: str
    details: dict[str, Any] = field(default_factory=dict)
    # one row per (replication, policy, household) of the measured years, hotel baseline aside
    # (`household_records`): what the fairness audit reads
    households: pd.DataFrame = field(default_factory=pd.DataFrame)

    def wide_summary(self) -> pd.DataFrame:
        """Metric rows, policy columns, "mean [low, high]" strings: the table the CLI prints."""
        s = self.summary.copy()

        def fmt(r) -> str:
            if np.isnan(r["mean"]):
                return "-"
            if np.isnan(r["ci_low"]):
                return f"{r['mean']:,.4g}"
            return f"{r['mean']:,.4g} [{r['ci_low']:,.4g}, {r['ci_high']:,.4g}]"

        s["value"] = s.apply(fmt, axis=1)
        table = s.pivot(index="metric", columns="policy", values="value")
        return table.reindex(index=[m for m in METRICS if m in table.index], columns=self.policies)

    @property
    def measured(self) -> str:
        """What the numbers cover, e.g. "520 weeks from 2027-01-04, after a 52-week warm-up that
        is not counted"."""
        s = self.scenario
        text = f"{s.horizon_weeks} weeks from {s.start}"
        if s.warmup_weeks:
            return f"{text}, after a {s.warmup_weeks}-week warm-up that is not counted"
        return f"{text}, starting with empty units (no warm-up)"

    def summary_text(self) -> str:
        return (
            f"{self.scenario.name}: {self.replications['replication'].nunique()} replications x "
            f"{self.measured}; policies {', '.join(self.policies)}, seed "
            f"{self.seed}, {self.seconds:.1f} s on {self.workers} worker(s) ({self.backend})\n"
            + self.wide_summary().to_string()
        )
