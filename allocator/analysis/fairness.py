"""Fair waits, audited: who waits how long, per group, under a plan, the ledger or a simulation.

Every input becomes the same *records*: one row per household (per replication and policy in a
simulation) with its groups, its wait and the unit it got. A wait counts the nights from the need
date to the move-in or, for a household not placed, to its exit date or the end of what is
observed (the plan's horizon, the ledger's ``today``, the simulation's horizon): the same
definition as the plan's ``wait_days`` and the simulation's ``wait_mean``.

Statistics (`group_waits`), per policy and group (size band, urgency, support, accessibility,
mediation, language, exit pathway): households, mean wait, the 90th percentile over all the
group's households, the share placed, and a 95% interval. With two or more replications the
interval is a t-interval over the replications' group means, and the group is compared with the
rest of the households by a *paired* t-interval of the per-replication difference (group mean
minus rest mean, in the same replication); with one run (a plan, the ledger) both intervals are
over households (t, and Welch's two-sample t for the difference), which treats households as
independent though they compete for the same units. A group is flagged ``longer`` (``shorter``)
when the interval of its difference lies wholly above (below) zero.

`compare_policies` pairs two policies of a simulation per replication (the same households: common
random numbers) and gives each group's difference in mean wait with its t-interval: which groups
wait longer under the optimiser than under first-come-first-served.

`overtaken` counts what an optional policy bound would forbid: a household still waiting while a
unit that fits it (enough beds, step-free when needed) goes to a household that asked later
(later need time). For a bound of N days it counts the households that, after waiting at least N
days, saw such a move-in, and their waiting nights from the first such move-in to the end of their
wait. Only beds and access make a unit fit here, not the dates: some of these units could not
have taken the earlier household for its whole stay.

Records come from `records_from_simulation`, `records_from_plan` and `records_from_ledger`;
`audit` runs all three analyses. Ids are the inputs' pseudonymous ids; nothing is logged per
household.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from allocator.domain import split_rooms
from allocator.errors import InputError
from allocator.simulation.results import mean_interval

GROUPINGS = ("size", "urgency", "support", "accessibility", "mediation", "language", "pathway")
BOUNDS = (0, 7, 14, 30)  # days waited before an overtaking counts, for the bound's evidence
REQUIRED = (
    *("household", "size", "urgency", "support", "accessible", "language", "pathway"),
    *("placed", "wait", "order", "need_day"),
)
GROUP_COLUMNS = [
    "policy", "grouping", "group", "households", "per_replication", "mean_wait", "ci_low",
    "ci_high", "p90_wait", "share_placed", "rest_mean", "difference", "diff_low", "diff_high",
    "flag", "interval",
]  # fmt: skip
COMPARE_COLUMNS = [
    "grouping", "group", "policy", "baseline", "mean_policy", "mean_baseline", "difference",
    "ci_low", "ci_high", "longer",
]  # fmt: skip
OVERTAKEN_COLUMNS = [
    "policy", "bound_days", "households", "households_low", "households_high", "share",
    "nights", "nights_low", "nights_high", "households_less_urgent", "nights_less_urgent",
    "replications",
]  # fmt: skip


@dataclass
class FairnessAudit:
    """What `audit` returns: the group table, the policy comparison and the overtaking counts."""

    groups: pd.DataFrame  # GROUP_COLUMNS
    comparison: pd.DataFrame  # COMPARE_COLUMNS (empty with one policy)
    overtaking: pd.DataFrame  # OVERTAKEN_COLUMNS (empty without the units' beds)
    source: str  # "simulation", "plan" or "ledger"
    replications: int

    @property
    def flagged(self) -> pd.DataFrame:
        """The groups whose waits differ from the rest beyond their interval."""
        return self.groups[self.groups["flag"] != ""]


# --- groups -------------------------------------------------------------------------------------


def size_band(size: Any) -> np.ndarray:
    """Persons as the bands 1, 2, 3-4 and 5+."""
    s = np.asarray(size, dtype=np.int64)
    return np.select([s <= 1, s == 2, s <= 4], ["1", "2", "3-4"], "5+").astype(object)


def group_labels(records: pd.DataFrame, grouping: str) -> pd.Series:
    """Each household's group under ``grouping`` (one of `GROUPINGS`, or ``all``)."""
    r = records
    if grouping == "all":
        return pd.Series("all households", index=r.index, dtype=object)
    if grouping == "size":
        return pd.Series(size_band(r["size"]), index=r.index, dtype=object)
    if grouping == "urgency":
        return r["urgency"].astype(int).astype(str).astype(object)
    if grouping == "support":
        return r["support"].astype(str).astype(object)
    if grouping == "accessibility":
        acc = r["accessible"].astype(bool)
        return pd.Series(np.where(acc, "step-free", "any unit"), index=r.index, dtype=object)
    language = r["language"].fillna("").astype(str)
    if grouping == "mediation":
        return pd.Series(np.where(language != "", "mediation", "none"), index=r.index, dtype=object)
    if grouping == "language":
        return language.where(language != "", "(none)").astype(object)
    if grouping == "pathway":
        return r["pathway"].fillna("unknown").astype(str).replace("", "unknown").astype(object)
    raise InputError(
        f"unknown grouping {grouping!r}; expected one of {', '.join(GROUPINGS)}", field="groupings"
    )


def check_records(records: pd.DataFrame, source: str = "records") -> pd.DataFrame:
    """The records with ``policy`` and ``replication`` filled in; refuses missing columns."""
    missing = [c for c in REQUIRED if c not in records.columns]
    if missing:
        raise InputError(
            f"expected per-household records with the column {missing[0]!r}", source=source
        )
    r = records.copy()
    if "policy" not in r:
        r["policy"] = source
    if "replication" not in r:
        r["replication"] = 0
    if r.empty:
        raise InputError("no households to audit", source=source)
    return r


def _welch(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float, float]:
    """Difference of means ``a - b`` and Welch's two-sample t-interval (NaN below 2 each)."""
    from scipy import stats

    if len(a) == 0 or len(b) == 0:
        return np.nan, np.nan, np.nan
    d = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2:
        return d, np.nan, np.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = np.sqrt(va + vb)
    if se == 0:
        return d, d, d
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(stats.t.ppf(0.5 + level / 2, df) * se)
    return d, d - half, d + half


def _flag(low: float, high: float) -> str:
    if low > 0:
        return "longer"
    if high < 0:
        return "shorter"
    return ""


def group_waits(
    records: pd.DataFrame, groupings: Sequence[str] = GROUPINGS, level: float = 0.95
) -> pd.DataFrame:
    """Per policy and group: households, mean wait with its interval, p90, share placed, and the
    difference to the rest of the households with its interval and flag (module docstring)."""
    r = check_records(records)
    rows: list[dict[str, Any]] = []
    for policy, p in r.groupby("policy", sort=False):
        reps = p["replication"].nunique()
        wait = p["wait"].to_numpy(float)
        for grouping in ["all", *groupings]:
            labels = group_labels(p, grouping)
            # per replication and group: sum and count of waits, and the replication's totals
            rep_code, _ = pd.factorize(p["replication"])
            lab_code, labs = pd.factorize(labels)
            cell = rep_code * len(labs) + lab_code
            shape = (reps, len(labs))
            sums = np.bincount(cell, weights=wait, minlength=reps * len(labs)).reshape(shape)
            counts = np.bincount(cell, minlength=reps * len(labs)).reshape(shape).astype(float)
            total_s, total_n = sums.sum(axis=1), counts.sum(axis=1)
            placed = p["placed"].to_numpy(bool)
            for k in sorted(range(len(labs)), key=lambda k: _natural(str(labs[k]))):
                mask = lab_code == k
                n = int(mask.sum())
                w = wait[mask]
                row: dict[str, Any] = {
                    "policy": policy,
                    "grouping": grouping,
                    "group": str(labs[k]),
                    "households": n,
                    "per_replication": n / reps,
                    "p90_wait": float(np.quantile(w, 0.9)),
                    "share_placed": float(placed[mask].mean()),
                }
                rest = wait[~mask]
                if reps >= 2:
                    with np.errstate(invalid="ignore", divide="ignore"):
                        gm = np.where(counts[:, k] > 0, sums[:, k] / counts[:, k], np.nan)
                        rn = total_n - counts[:, k]
                        rm = np.where(rn > 0, (total_s - sums[:, k]) / rn, np.nan)
                    mean, lo, hi = mean_interval(gm, level)
                    d, dlo, dhi = mean_interval(gm - rm, level)
                    rest_mean = float(np.nanmean(rm)) if np.isfinite(rm).any() else np.nan
                    row |= {"rest_mean": rest_mean, "interval": "replications, paired t"}
                else:
                    mean, lo, hi = mean_interval(w, level)
                    d, dlo, dhi = _welch(w, rest, level)
                    rest_mean = float(rest.mean()) if len(rest) else np.nan
                    row |= {"rest_mean": rest_mean, "interval": "households, Welch t"}
                if grouping == "all":
                    d = dlo = dhi = row["rest_mean"] = np.nan
                row |= {"mean_wait": mean, "ci_low": lo, "ci_high": hi, "difference": d}
                row |= {"diff_low": dlo, "diff_high": dhi, "flag": _flag(dlo, dhi)}
                rows.append(row)
    return pd.DataFrame(rows, columns=GROUP_COLUMNS)


def _natural(label: str) -> tuple:
    """Size bands and urgencies in numeric order, other labels alphabetically."""
    head = label.split("-")[0].rstrip("+")
    return (0, int(head), label) if head.isdigit() else (1, 0, label)


def compare_policies(
    records: pd.DataFrame,
    policy: str,
    baseline: str,
    groupings: Sequence[str] = GROUPINGS,
) -> pd.DataFrame:
    """Per group, ``policy``'s mean wait minus ``baseline``'s, paired per replication (the same
    households under both: common random numbers), with its 95% t-interval; ``longer`` when the
    whole interval is above zero."""
    r = check_records(records)
    for name, option in ((policy, "policy"), (baseline, "baseline")):
        if name not in set(r["policy"]):
            known = ", ".join(dict.fromkeys(r["policy"]))
            raise InputError(f"no records of policy {name!r}; found {known}", field=option)
    rows = []
    a = r[r["policy"] == policy]
    b = r[r["policy"] == baseline]
    for grouping in ["all", *groupings]:
        la, lb = group_labels(a, grouping), group_labels(b, grouping)
        ma = a.groupby([a["replication"], la])["wait"].mean()
        mb = b.groupby([b["replication"], lb])["wait"].mean()
        both = pd.concat({"a": ma, "b": mb}, axis=1)
        for g in sorted(set(la) | set(lb), key=_natural):
            sub = both.xs(g, level=1) if g in both.index.get_level_values(1) else both.iloc[:0]
            d, lo, hi = mean_interval(sub["a"] - sub["b"])
            rows.append(
                {
                    "grouping": grouping,
                    "group": g,
                    "policy": policy,
                    "baseline": baseline,
                    "mean_policy": float(sub["a"].mean()),
                    "mean_baseline": float(sub["b"].mean()),
                    "difference": d,
                    "ci_low": lo,
                    "ci_high": hi,
                    "longer": bool(lo > 0),
                }
            )
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


# --- overtaking ---------------------------------------------------------------------------------


def overtaken_households(records: pd.DataFrame, bound: int = 0) -> pd.DataFrame:
    """Per household of one run (one policy, one replication): the first day, after it had
    waited ``bound`` days, on which a unit that fits it went to a household that asked later
    (NaN if none), the waiting nights from then on, and the same for overtakers no more urgent.

    Needs ``unit_capacity`` and ``unit_accessible`` of placed households (the unit they got).
    """
    r = records
    order = r["order"].to_numpy(float)
    need = r["need_day"].to_numpy(float)
    end = need + r["wait"].to_numpy(float)
    size = r["size"].to_numpy(float)
    acc = r["accessible"].to_numpy(bool)
    urg = r["urgency"].to_numpy(float)
    cap = pd.to_numeric(r["unit_capacity"], errors="coerce").to_numpy(float)
    start = pd.to_numeric(r["start_day"], errors="coerce").to_numpy(float)
    g = np.flatnonzero(r["placed"].to_numpy(bool) & np.isfinite(cap) & np.isfinite(start))
    g_order, g_start, g_cap, g_urg = order[g], start[g], cap[g], urg[g]
    g_acc = pd.to_numeric(r["unit_accessible"], errors="coerce").to_numpy(float)[g] > 0
    first = np.full(len(r), np.nan)
    first_less = np.full(len(r), np.nan)
    chunk = max(1, 2_000_000 // max(len(g), 1))  # rows per block: a few MB of booleans
    for a in range(0, len(r), chunk):
        h = slice(a, a + chunk)
        m = (
            (g_order[None, :] > order[h, None])  # asked later
            & (g_cap[None, :] >= size[h, None])  # enough beds
            & (g_acc[None, :] | ~acc[h, None])  # step-free when needed
            & (g_start[None, :] >= need[h, None] + bound)  # after waiting `bound` days
            & (g_start[None, :] < end[h, None])  # while it still waited
        )
        starts = np.where(m, g_start[None, :], np.inf).min(axis=1, initial=np.inf)
        less = np.where(m & (g_urg[None, :] <= urg[h, None]), g_start[None, :], np.inf)
        less = less.min(axis=1, initial=np.inf)
        first[h] = np.where(np.isfinite(starts), starts, np.nan)
        first_less[h] = np.where(np.isfinite(less), less, np.nan)
    return pd.DataFrame(
        {
            "household": r["household"].to_numpy(),
            "first_overtaken": first,
            "nights": np.nan_to_num(end - first, nan=0.0),
            "first_overtaken_less_urgent": first_less,
            "nights_less_urgent": np.nan_to_num(end - first_less, nan=0.0),
        },
        index=r.index,
    )


def has_units(records: pd.DataFrame) -> bool:
    """Whether the records say which unit (beds, access) each placed household got."""
    if not {"unit_capacity", "unit_accessible", "start_day"} <= set(records.columns):
        return False
    return bool(pd.to_numeric(records["unit_capacity"], errors="coerce").notna().any())


def overtaken(records: pd.DataFrame, bounds: Sequence[int] = BOUNDS) -> pd.DataFrame:
    """Per policy and bound N: households overtaken after waiting N days and their nights from
    then on, per replication (mean and 95% t-interval), and the share of all households; empty
    when the records do not name the units (a plan audited without its units table)."""
    r = check_records(records)
    if not has_units(r):
        return pd.DataFrame(columns=OVERTAKEN_COLUMNS)
    rows = []
    for policy, p in r.groupby("policy", sort=False):
        runs = [run for _, run in p.groupby("replication", sort=True)]
        for bound in bounds:
            per = [overtaken_households(run, int(bound)) for run in runs]
            count = [float(x["first_overtaken"].notna().sum()) for x in per]
            nights = [float(x["nights"].sum()) for x in per]
            n, lo, hi = mean_interval(count)
            nt, nlo, nhi = mean_interval(nights)
            rows.append(
                {
                    "policy": policy,
                    "bound_days": int(bound),
                    "households": n,
                    "households_low": lo,
                    "households_high": hi,
                    "share": float(sum(count) / len(p)),
                    "nights": nt,
                    "nights_low": nlo,
                    "nights_high": nhi,
                    "households_less_urgent": float(
                        np.mean([x["first_overtaken_less_urgent"].notna().sum() for x in per])
                    ),
                    "nights_less_urgent": float(
                        np.mean([x["nights_less_urgent"].sum() for x in per])
                    ),
                    "replications": len(runs),
                }
            )
    return pd.DataFrame(rows, columns=OVERTAKEN_COLUMNS)


def audit(
    records: pd.DataFrame,
    *,
    source: str = "simulation",
    groupings: Sequence[str] = GROUPINGS,
    policy: str | None = None,
    baseline: str | None = None,
    bounds: Sequence[int] = BOUNDS,
) -> FairnessAudit:
    """Group waits, the comparison of ``policy`` with ``baseline`` (by default the first two
    policies of the records, when there are two or more) and the overtaking counts."""
    r = check_records(records, source)
    for g in groupings:
        group_labels(r.iloc[:0], g)  # an unknown grouping is refused before any work
    policies = list(dict.fromkeys(r["policy"]))
    comparison = pd.DataFrame(columns=COMPARE_COLUMNS)
    if len(policies) >= 2 or policy is not None or baseline is not None:
        policy = policy or policies[0]
        baseline = baseline or _fcfs([policy, *(p for p in policies if p != policy)])
        comparison = compare_policies(r, policy, baseline, groupings)
    return FairnessAudit(
        groups=group_waits(r, groupings),
        comparison=comparison,
        overtaking=overtaken(r, bounds),
        source=source,
        replications=int(r["replication"].nunique()),
    )


def _fcfs(policies: list[str]) -> str:
    """The first-come-first-served policy to compare the first policy with."""
    for name in ("greedy", "fcfs_fast", "fcfs_event"):
        if name in policies[1:]:
            return name
    if len(policies) < 2:
        raise InputError(f"only {policies[0]!r} to compare: name a baseline", field="baseline")
    return policies[1]


# --- inputs -------------------------------------------------------------------------------------


def records_from_simulation(result: Any) -> pd.DataFrame:
    """The per-household records of a `SimulationResult` (or its ``households`` table)."""
    frame = getattr(result, "households", result)
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise InputError(
            "the simulation kept no per-household records (simulate again with this version)",
            source="households",
        )
    return check_records(frame, "households")


def _day_numbers(dates: pd.Series, origin: dt.date) -> np.ndarray:
    return np.array([np.nan if d is None else (d - origin).days for d in dates], dtype=float)


def _household_frame(households: Any, source: Any = None) -> pd.DataFrame:
    """Validated households (a table or `Household` models) as a frame of their fields;
    ``source`` (`allocator.tables.Source`, from `allocator.io.read_table`) names file and rows."""
    from allocator.tables import Source, parse_records

    source = source or Source("households")
    if isinstance(households, pd.DataFrame) and households.empty:
        raise InputError("the table is empty: at least one row is needed", source=source.name)
    models = parse_records(households, "households", source)
    return pd.DataFrame([m.model_dump() for m in models])


def records_from_plan(
    placements: Any,
    households: Any,
    units: Any = None,
    *,
    source: str = "plan",
    households_source: Any = None,
    units_source: Any = None,
) -> pd.DataFrame:
    """Records of one plan: its placements (a `Plan`, or its table with ``household_id``,
    ``unit_id``, ``start``, ``wait_days`` and ``status``) joined with the households it planned;
    ``units`` (optional) gives the beds and access of the units, for the overtaking counts.
    ``source`` names the plan in errors, ``households_source`` and ``units_source`` the tables
    (the `Source` that `allocator.io.read_table` returns)."""
    table = getattr(placements, "placements", placements)
    need = ("household_id", "unit_id", "start", "wait_days", "status")
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise InputError(f"expected the plan's column {missing[0]!r}", source=source)
    table = table.reset_index(drop=True)
    wait_all = pd.to_numeric(table["wait_days"], errors="coerce")
    if wait_all.isna().any():
        row = int(np.flatnonzero(wait_all.isna().to_numpy())[0])
        raise InputError(
            "expected a whole number of days", source=source, row=row + 2, column="wait_days"
        )
    hh = _household_frame(households, households_source)
    t = table.assign(household_id=table["household_id"].astype(str), wait_days=wait_all)
    t = t.drop_duplicates("household_id").set_index("household_id")
    unknown = [h for h in hh["household_id"] if h not in t.index]
    if unknown:
        raise InputError(
            f"household {unknown[0]!r} of the households table is not in the plan",
            source=source,
            column="household_id",
        )
    t = t.loc[hh["household_id"]]
    starts = pd.to_datetime(t["start"].replace("", None), errors="coerce").dt.date
    starts = starts.where(starts.notna(), None)
    placed = t["status"].astype(str).str.strip().eq("placed").to_numpy() & starts.notna().to_numpy()
    unit_ids = t["unit_id"].where(placed, None).to_numpy()
    joined = (
        t["joined_units"].fillna("").astype(str).where(placed, "").to_numpy()
        if "joined_units" in t
        else np.full(len(t), "", dtype=object)
    )
    wait = t["wait_days"].to_numpy(float)
    rec = _records(hh, placed, starts.where(placed, None), wait, source)
    if units is not None:
        rec = _with_units(rec, unit_ids, units, source, units_source, joined)
    return rec.assign(policy="plan")


def _records(
    hh: pd.DataFrame,
    placed: np.ndarray,
    starts: pd.Series,
    wait: np.ndarray,
    source: str,
) -> pd.DataFrame:
    """The records' columns from validated households and what became of them."""
    origin = min(hh["need_date"])
    need_day = _day_numbers(hh["need_date"], origin)
    rec = pd.DataFrame(
        {
            "policy": source,
            "replication": 0,
            "household": hh["household_id"].astype(str).to_numpy(),
            "order": need_day,  # asked later = a later need date (same-day requests are ties)
            "need_day": need_day,
            "size": hh["size"].to_numpy(int),
            "urgency": hh["urgency"].to_numpy(int),
            "support": hh["support"].map(str).to_numpy(),
            "accessible": hh["accessible"].to_numpy(bool),
            "language": hh["language"].fillna("").to_numpy(object),
            "pathway": hh["exit_pathway"].map(lambda p: "unknown" if p is None else str(p)),
            "placed": placed,
            "start_day": _day_numbers(pd.Series(list(starts)), origin),
            "wait": wait,
        }
    )
    rec["unit_capacity"] = np.nan
    rec["unit_accessible"] = np.nan
    return rec


def _with_units(
    rec: pd.DataFrame,
    unit_ids: np.ndarray,
    units: Any,
    source: str,
    units_source: Any = None,
    joined: np.ndarray | None = None,
) -> pd.DataFrame:
    """The beds and access of the unit each placed household got: with connecting rooms
    (``joined``, "+"-joined texts), the beds of all its rooms and step-free only if all are."""
    u = _unit_frame(units, units_source).set_index("unit_id")
    ids = pd.Series(unit_ids, dtype=object)
    extra = [split_rooms(j) for j in (joined if joined is not None else [""] * len(ids))]
    every = [i for i in ids.dropna()] + [r for rooms in extra for r in rooms]
    unknown = [i for i in every if i not in u.index]
    if unknown:
        raise InputError(
            f"unit {unknown[0]!r} is not in the units table", source=source, column="unit_id"
        )
    capacity = ids.map(u["capacity"]).astype(float).to_numpy().copy()
    access = ids.map(u["accessible"]).astype(float).to_numpy().copy()
    for k, rooms in enumerate(extra):
        for r in rooms:
            capacity[k] += float(u.at[r, "capacity"])
            access[k] = min(access[k], float(u.at[r, "accessible"]))
    rec["unit_capacity"] = capacity
    rec["unit_accessible"] = access
    return rec


def _unit_frame(units: Any, source: Any = None) -> pd.DataFrame:
    """Unit ids, beds and access: of the ledger's stored table as it is, of a file validated."""
    from allocator.tables import Source, parse_records

    if (
        isinstance(units, pd.DataFrame)
        and "capacity" in units
        and units["capacity"].map(lambda v: isinstance(v, int | np.integer)).all()
    ):
        return units[["unit_id", "capacity", "accessible"]].astype({"unit_id": str})
    models = parse_records(units, "units", source or Source("units"))
    return pd.DataFrame([m.model_dump() for m in models])[["unit_id", "capacity", "accessible"]]


def records_from_ledger(ledger: Any, today: dt.date | str | None = None) -> pd.DataFrame:
    """Records of the ledger's history: every household it holds, placed (its first stay has
    started by ``today``, default today) or waiting (to ``today``, or to its expected exit date if
    that came first). Households whose need date is after ``today`` are left out, and so are
    withdrawn requests, which have left the ledger."""
    from allocator.ledger.rules import as_date

    day = as_date(today or dt.date.today(), "today")
    hh = ledger.table("households")
    hh = hh[[need <= day for need in hh["need_date"]]].reset_index(drop=True)
    if hh.empty:
        raise InputError(f"the ledger holds no household in need by {day}", field="--db")
    stays = ledger.table("stays")
    first: dict[str, tuple[dt.date, str]] = {}  # household: its first stay's start and unit
    for h, unit, start, moved in zip(
        stays["household_id"], stays["unit_id"], stays["start"], stays["moved_in"], strict=True
    ):
        begin = moved if isinstance(moved, dt.date) else start
        if h not in first or begin < first[h][0]:
            first[h] = (begin, unit)
    begins, units, waits = [], [], []
    for h, need, exit_date in zip(
        hh["household_id"], hh["need_date"], hh["expected_exit_date"], strict=True
    ):
        begin, unit = first.get(h, (None, None))
        if begin is not None and begin <= day:
            end = begin
        else:
            begin = unit = None
            end = min(day, exit_date) if isinstance(exit_date, dt.date) else day
        begins.append(begin)
        units.append(unit)
        waits.append(max(0, (end - need).days))
    placed = np.array([b is not None for b in begins], dtype=bool)
    wait = np.array(waits, dtype=float)
    unit_ids = np.array(units, dtype=object)
    hh = hh.assign(support=hh["support"].astype(str))
    rec = _records(hh, placed, pd.Series(begins, dtype=object), wait, "ledger")
    return _with_units(rec, unit_ids, ledger.table("units"), "ledger")
