"""Pictures of a plan and of a simulation, one call each, every one returning a matplotlib Figure.

Only matplotlib's object API is used: figures are made with `matplotlib.figure.Figure`, never
through pyplot, so nothing here picks a backend, opens a window or keeps global state; save a
picture with ``fig.savefig("plan.png")``. Every function takes an optional ``ax`` to draw into an
existing axes (then the figure returned is that axes' figure).

- `gantt`: who is in which unit, when (a `Plan`'s placements plus the current stays).
- `waiting_list`: how many households wait each week, per policy (`SimulationResult.weekly`).
- `waiting_times`: how long households wait, per policy (`SimulationResult.replications`, or any
  per-household frame with ``wait_days`` such as `Plan.placements`).
- `costs`: total cost and savings against the hotel baseline, per policy, with 95% intervals.
- `compare_scenarios`: one summary metric per scenario and policy, with 95% intervals.
- `capacity_curves`: waits or hotel nights against the number of flats, one line per hub-room
  count, with 95% bands and the target (`allocator.analysis.capacity.CapacityResult`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

if TYPE_CHECKING:
    from allocator.engine.result import Plan
    from allocator.simulation.results import SimulationResult

__all__ = [
    "capacity_curves",
    "compare_scenarios",
    "costs",
    "gantt",
    "waiting_list",
    "waiting_times",
]

SUPPORT_COLORS = {"low": "#8fd18f", "medium": "#f2c14e", "high": "#e0605e"}
UNKNOWN_COLOR = "#b0b0b0"
PLANNED_COLOR = "#4878cf"
EXISTING_HATCH = "//"
COST_METRICS = ("total_cost", "savings")
METRIC_LABELS = {
    "total_cost": "total cost",
    "savings": "savings vs hotel",
    "wait_mean": "mean wait (days)",
    "wait_p90": "90th percentile wait (days)",
    "hotel_person_nights": "hotel person-nights",
    "shelter_person_nights": "shelter person-nights",
    "still_waiting": "households still waiting at the end",
}


def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.get_figure(root=True), ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _dates(values: Any) -> np.ndarray:
    """Matplotlib date numbers for dates, strings or datetimes; NaN where missing."""
    ts = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce")
    out = np.full(len(ts), np.nan)
    ok = ts.notna().to_numpy()
    if ok.any():
        out[ok] = mdates.date2num(ts[ok].dt.tz_localize(None).to_numpy())
    return out


def _summary_of(summary: pd.DataFrame | SimulationResult) -> pd.DataFrame:
    return summary.summary if hasattr(summary, "summary") else summary


def _policies(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["policy"]))


def _interval_bars(
    ax: Axes,
    categories: Sequence[str],
    groups: Mapping[str, pd.DataFrame],
    colors: Sequence[str] | None = None,
) -> None:
    """Grouped bars: one group per category, one bar per key of ``groups`` with 95% error bars.

    Each frame in ``groups`` is indexed by category with ``mean``, ``ci_low`` and ``ci_high``;
    a missing interval (one replication) draws no error bar.
    """
    x = np.arange(len(categories))
    n = max(len(groups), 1)
    width = 0.8 / n
    for k, (label, frame) in enumerate(groups.items()):
        frame = frame.reindex(list(categories))
        mean = frame["mean"].to_numpy(float)
        low = np.nan_to_num(mean - frame["ci_low"].to_numpy(float), nan=0.0)
        high = np.nan_to_num(frame["ci_high"].to_numpy(float) - mean, nan=0.0)
        ax.bar(
            x + (k - (n - 1) / 2) * width,
            np.nan_to_num(mean, nan=0.0),
            width,
            yerr=np.vstack([low, high]),
            capsize=3,
            label=label,
            color=None if colors is None else colors[k % len(colors)],
        )
    ax.set_xticks(x, list(categories))
    ax.axhline(0, color="black", linewidth=0.8)


def gantt(
    placements: pd.DataFrame | Plan,
    stays: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    color_by: str = "size",
    households: pd.DataFrame | None = None,
    *,
    ax: Axes | None = None,
) -> Figure:
    """Which household is in which unit, when: does the plan keep units full, and with whom?

    One row per unit (every unit of ``units`` when given, else those with a stay), one bar per
    current stay (hatched, ``start``..``expected_end`` from ``stays``) and per planned placement
    (solid, ``start``..``expected_end`` of the placed rows of ``placements``; households not
    placed have no bar). Bars are coloured by household ``size`` (a sequential colour map) or
    ``support`` (low/medium/high), looked up by ``household_id`` in ``households``, then in
    ``placements`` and ``stays`` when they carry the column; households found nowhere are grey. Without those data the planned stays are all one colour. A
    dashed line marks the plan start (the earliest planned start, or ``Plan.plan_start``). A stay
    without an expected end runs to the right edge of the picture.

    Each bar's ``gid`` is ``"existing:<household_id>"`` or ``"planned:<household_id>"``.
    """
    if color_by not in ("size", "support"):
        raise ValueError("color_by must be 'size' or 'support'")
    plan_start = getattr(placements, "plan_start", None)
    frame = placements.placements if hasattr(placements, "placements") else placements
    placed = frame[frame["status"] == "placed"] if "status" in frame else frame
    placed = placed[placed["unit_id"].notna()]
    stays = stays if stays is not None else pd.DataFrame(columns=["household_id", "unit_id"])

    bars = pd.concat(
        [
            pd.DataFrame(
                {
                    "household_id": stays["household_id"].to_numpy(),
                    "unit_id": stays["unit_id"].to_numpy(),
                    "start": _dates(stays.get("start", [None] * len(stays))),
                    "end": _dates(stays.get("expected_end", [None] * len(stays))),
                    "existing": True,
                }
            ),
            pd.DataFrame(
                {
                    "household_id": placed["household_id"].to_numpy(),
                    "unit_id": placed["unit_id"].to_numpy(),
                    "start": _dates(placed["start"]),
                    "end": _dates(placed["expected_end"]),
                    "existing": False,
                }
            ),
        ],
        ignore_index=True,
    )

    # colour per household
    # first the households table, then the plan, then the stays' own columns (current occupants)
    sources = [t for t in (households, frame, stays) if t is not None and color_by in t]
    attr: pd.Series | None = None
    if sources:
        attr = pd.concat([t.set_index("household_id")[color_by] for t in sources])
        attr = attr.replace("", np.nan).dropna()
        attr = attr[~attr.index.duplicated(keep="first")]
    values = bars["household_id"].map(attr) if attr is not None else pd.Series(np.nan, bars.index)
    legend: list[Patch] = []
    if attr is None:
        colors = np.where(bars["existing"], UNKNOWN_COLOR, PLANNED_COLOR).tolist()
        legend.append(Patch(facecolor=PLANNED_COLOR, label="planned stay"))
    elif color_by == "support":
        colors = [SUPPORT_COLORS.get(str(v), UNKNOWN_COLOR) for v in values]
        present = set(values.dropna().astype(str))
        legend += [
            Patch(facecolor=c, label=f"{s} support")
            for s, c in SUPPORT_COLORS.items()
            if s in present
        ]
    else:
        sizes = sorted({int(v) for v in values.dropna()} | {int(v) for v in attr.dropna()})
        lo, hi = (min(sizes), max(sizes)) if sizes else (1, 1)
        cmap = _viridis()

        def size_color(v: Any) -> Any:
            if pd.isna(v):
                return UNKNOWN_COLOR
            return cmap(0.15 + 0.75 * ((int(v) - lo) / (hi - lo) if hi > lo else 0.5))

        colors = [size_color(v) for v in values]
        present = {int(v) for v in values.dropna()}
        legend += [
            Patch(facecolor=size_color(s), label=f"{s} person{'s' if s > 1 else ''}")
            for s in sizes
            if s in present
        ]
    if attr is not None and values.isna().any():
        legend.append(Patch(facecolor=UNKNOWN_COLOR, label=f"{color_by} unknown"))
    if bars["existing"].any():
        legend.append(
            Patch(facecolor="white", edgecolor="black", hatch=EXISTING_HATCH, label="current stay")
        )

    # rows: every unit, in the units table's order, then any unit only seen in a stay
    order = list(units["unit_id"]) if units is not None else []
    order += [u for u in dict.fromkeys(bars["unit_id"]) if u not in set(order)]
    row = {u: k for k, u in enumerate(order)}
    labels = order
    if units is not None and "kind" in units and "capacity" in units:
        info = units.set_index("unit_id")
        labels = [
            f"{u} ({info.at[u, 'kind']}, {info.at[u, 'capacity']})" if u in info.index else u
            for u in order
        ]

    known = np.concatenate([bars["start"].to_numpy(float), bars["end"].to_numpy(float)])
    known = known[np.isfinite(known)]
    right = known.max() + 7 if known.size else mdates.date2num(pd.Timestamp("today"))
    left = known.min() if known.size else right - 7

    fig, ax = _figure_and_axes(ax, (11, 1.5 + 0.35 * max(len(order), 1)))
    for (_, b), color in zip(bars.iterrows(), colors, strict=True):
        start = b["start"] if np.isfinite(b["start"]) else left
        end = b["end"] if np.isfinite(b["end"]) else right
        (bar,) = ax.barh(
            row[b["unit_id"]],
            max(end - start, 0.5),
            left=start,
            height=0.7,
            color=color,
            edgecolor="black",
            linewidth=0.5,
            hatch=EXISTING_HATCH if b["existing"] else None,
            alpha=0.75 if b["existing"] else 1.0,
        )
        kind = "existing" if b["existing"] else "planned"
        bar.set_gid(f"{kind}:{b['household_id']}")

    start_line = _dates([plan_start])[0] if plan_start is not None else np.nan
    if not np.isfinite(start_line) and len(placed):
        start_line = np.nanmin(_dates(placed["start"]))
    if np.isfinite(start_line):
        ax.axvline(start_line, color="black", linestyle="--", linewidth=1, label="plan start")
        legend.append(ax.lines[-1])

    ax.set_yticks(range(len(order)), labels)
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlim(left - 3, right)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator())
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.set_xlabel("date")
    ax.set_ylabel("unit")
    ax.set_title(f"Unit occupancy: current and planned stays (colour: household {color_by})")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return fig


def _viridis() -> Any:
    from matplotlib import colormaps

    return colormaps["viridis"]


def waiting_list(
    weekly: pd.DataFrame | SimulationResult,
    *,
    column: str = "waiting_end",
    ax: Axes | None = None,
) -> Figure:
    """How long is the waiting list over the horizon under each policy, and does it settle?

    Reads `SimulationResult.weekly` (one row per replication, policy and week): ``column``
    (default ``waiting_end``, households waiting at the end of the week) is averaged over the
    replications, one line per policy, with a shaded band from the lowest to the highest
    replication.
    """
    frame = weekly.weekly if hasattr(weekly, "weekly") else weekly
    fig, ax = _figure_and_axes(ax, (9, 5))
    for policy in _policies(frame):
        g = frame[frame["policy"] == policy].groupby("week")[column]
        mean, low, high = g.mean(), g.min(), g.max()
        (line,) = ax.plot(mean.index, mean.to_numpy(), label=policy, linewidth=1.8)
        line.set_gid(policy)
        ax.fill_between(
            mean.index,
            low.to_numpy(),
            high.to_numpy(),
            color=line.get_color(),
            alpha=0.15,
            linewidth=0,
        )
    n = frame["replication"].nunique() if "replication" in frame else 1
    ax.set_xlabel("week of the horizon")
    ax.set_ylabel("households waiting (end of week)" if column == "waiting_end" else column)
    ax.set_title(f"Waiting list per policy: mean of {n} replication(s), band = min..max")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(title="policy")
    return fig


def waiting_times(
    data: pd.DataFrame | SimulationResult,
    *,
    metric: str = "wait_mean",
    ax: Axes | None = None,
) -> Figure:
    """How long do households wait for a place under each policy, and how variable is it?

    The simulation keeps no per-household waits, only per-replication aggregates
    (`SimulationResult.replications`: ``wait_mean`` and ``wait_p90`` per replication and policy),
    so with those this draws, per policy, a box of ``metric`` *across replications* (the spread of
    the replication means, not of individual waits), with every replication as a dot.

    Given a per-household frame with a ``wait_days`` column instead (e.g. `Plan.placements`, or a
    concatenation of them with a ``policy`` or ``method`` column), it draws the distribution of individual waits
    per policy (one box, all placed and waiting households; without ``policy`` a single box).
    """
    frame = data.replications if hasattr(data, "replications") else data
    per_household = "wait_days" in frame
    value = "wait_days" if per_household else metric
    if "policy" not in frame:  # plans name it the method
        frame = frame.assign(policy=frame["method"] if "method" in frame else "plan")
    policies = _policies(frame)
    samples = [frame.loc[frame["policy"] == p, value].dropna().to_numpy(float) for p in policies]
    fig, ax = _figure_and_axes(ax, (max(5, 1.6 * len(policies) + 2), 5))
    ax.boxplot(samples, tick_labels=policies, widths=0.5, showmeans=True)
    rng = np.random.default_rng(0)
    for k, s in enumerate(samples, start=1):
        ax.scatter(k + rng.uniform(-0.12, 0.12, s.size), s, s=12, alpha=0.6, zorder=3)
    ax.set_xlabel("policy")
    if per_household:
        ax.set_ylabel("wait (days)")
        ax.set_title("Waiting time per household")
    else:
        ax.set_ylabel(METRIC_LABELS.get(metric, metric) + ", per replication")
        ax.set_title(f"Waiting time per policy: {metric} across replications")
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    return fig


def costs(
    summary: pd.DataFrame | SimulationResult,
    *,
    metrics: Sequence[str] = COST_METRICS,
    ax: Axes | None = None,
) -> Figure:
    """What does each policy cost over the horizon, and how much does it save against hotels?

    From `SimulationResult.summary` (one row per policy and metric with ``mean``, ``ci_low`` and
    ``ci_high``): per policy, a bar for the mean total cost and one for the mean savings (the
    hotel baseline's cost minus the policy's, paired by replication), each with its 95% interval
    as error bars (none with a single replication).
    """
    s = _summary_of(summary)
    policies = _policies(s)
    groups = {
        METRIC_LABELS.get(m, m): s[s["metric"] == m].set_index("policy")[
            ["mean", "ci_low", "ci_high"]
        ]
        for m in metrics
    }
    fig, ax = _figure_and_axes(ax, (max(6, 1.8 * len(policies) + 2), 5))
    _interval_bars(ax, policies, groups, colors=["#4878cf", "#6acc65", "#d65f5f", "#b47cc7"])
    ax.set_xlabel("policy")
    ax.set_ylabel("cost over the horizon (mean, 95% interval)")
    ax.set_title("Total cost and savings against the hotel baseline")
    ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    return fig


def compare_scenarios(
    results: Mapping[str, SimulationResult | pd.DataFrame],
    metric: str = "total_cost",
    *,
    policies: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """How does one outcome change from scenario to scenario, for each policy?

    ``results`` maps a scenario name to its `SimulationResult` (or its summary table). For each
    scenario (a group on the x axis) and policy (a bar, same colour across scenarios) it draws the
    mean of ``metric`` with its 95% interval as an error bar. ``policies`` picks and orders the
    policies (default: all, in order of first appearance).
    """
    summaries = {name: _summary_of(r) for name, r in results.items()}
    if policies is None:
        policies = list(dict.fromkeys(p for s in summaries.values() for p in _policies(s)))
    scenarios = list(summaries)
    groups = {}
    for p in policies:
        rows = []
        for name, s in summaries.items():
            hit = s[(s["policy"] == p) & (s["metric"] == metric)]
            rows.append(
                hit[["mean", "ci_low", "ci_high"]].iloc[0].rename(name)
                if len(hit)
                else pd.Series({"mean": np.nan, "ci_low": np.nan, "ci_high": np.nan}, name=name)
            )
        groups[p] = pd.DataFrame(rows)
    fig, ax = _figure_and_axes(ax, (max(6, 1.2 * len(scenarios) * max(len(policies), 1) + 2), 5))
    _interval_bars(ax, scenarios, groups)
    ax.set_xlabel("scenario")
    ax.set_ylabel(METRIC_LABELS.get(metric, metric) + " (mean, 95% interval)")
    ax.set_title(f"{METRIC_LABELS.get(metric, metric).capitalize()} per scenario and policy")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(title="policy")
    return fig


if TYPE_CHECKING:
    from allocator.analysis.capacity import CapacityResult

CAPACITY_LABELS = {
    **METRIC_LABELS,
    "hotel_nights_per_year": "hotel and shelter person-nights a year",
    "total_cost": "total cost over the horizon",
}


def capacity_curves(
    result: CapacityResult | pd.DataFrame,
    metric: str | Sequence[str] = "wait_p90",
    *,
    targets: Mapping[str, float] | None = None,
    yscale: str = "linear",
    ax: Axes | Sequence[Axes] | None = None,
) -> Figure:
    """How many flats does each hub size need to meet the target: the capacity curve.

    From `allocator.analysis.capacity.CapacityResult.curve` (one row per rooms, flats and metric with
    ``mean``, ``ci_low`` and ``ci_high``): ``metric`` against the number of flats, one line per
    hub-room count (darker = more rooms), its 95% interval as a band (cut at 0 for a metric whose
    means are all >= 0), the target (from the result,
    or ``targets``) as a dashed horizontal line, and the chosen mix as a star. ``metric`` may be a
    list (e.g. ``["wait_p90", "hotel_nights_per_year"]``): one panel each, side by side; ``ax`` is
    then a list of as many axes. ``yscale="symlog"`` keeps a small target readable next to the
    huge waits of a grid's smallest mixes.

    Each line's ``gid`` is ``"<metric>:rooms=<count>"``, the target line's ``"target:<metric>"``
    and the star's ``"chosen:<metric>"``.
    """
    frame = result.curve if hasattr(result, "curve") else result
    chosen = getattr(result, "chosen", None)
    limits = dict(getattr(result, "targets", {}) or {})
    limits.update(targets or {})
    metrics = [metric] if isinstance(metric, str) else list(metric)
    if ax is None:
        fig = Figure(figsize=(6.5 * len(metrics), 5), layout="constrained")
        axes = list(fig.subplots(1, len(metrics), squeeze=False)[0])
    else:
        axes = [ax] if isinstance(ax, Axes) else list(ax)
        if len(axes) != len(metrics):
            raise ValueError(f"{len(metrics)} metrics need {len(metrics)} axes, got {len(axes)}")
        fig = axes[0].get_figure(root=True)
    rooms = sorted(frame["rooms"].unique())
    cmap = _viridis()
    for m, a in zip(metrics, axes, strict=True):
        data = frame[frame["metric"] == m]
        if data.empty:
            raise ValueError(f"no metric {m!r} in the curve")
        label = CAPACITY_LABELS.get(m, m)
        # waits and nights cannot be negative: a t-interval's lower end below 0 is cut there
        floor = 0.0 if (data["mean"] >= 0).all() else -np.inf
        for k, r in enumerate(rooms):
            g = data[data["rooms"] == r].sort_values("flats")
            color = cmap(0.85 - 0.7 * (k / (len(rooms) - 1) if len(rooms) > 1 else 0.5))
            x = g["flats"].to_numpy(float)
            (line,) = a.plot(
                x, g["mean"].to_numpy(float), marker="o", color=color, label=f"{r} hub rooms"
            )
            line.set_gid(f"{m}:rooms={r}")
            a.fill_between(
                x,
                np.maximum(g["ci_low"].to_numpy(float), floor),
                g["ci_high"].to_numpy(float),
                color=color,
                alpha=0.15,
                linewidth=0,
            )
        if m in limits:
            target = a.axhline(
                limits[m], color="#d65f5f", linestyle="--", linewidth=1.2, label="target"
            )
            target.set_gid(f"target:{m}")
        if chosen is not None:
            hit = data[(data["rooms"] == chosen.rooms) & (data["flats"] == chosen.flats)]
            (star,) = a.plot(
                hit["flats"].to_numpy(float),
                hit["mean"].to_numpy(float),
                marker="*",
                markersize=16,
                color="#d65f5f",
                markeredgecolor="black",
                linestyle="none",
                label=f"answer: {chosen.rooms} rooms + {chosen.flats} flats",
            )
            star.set_gid(f"chosen:{m}")
        a.set_xlabel("flats")
        a.set_ylabel(label + " (mean, 95% interval)")
        a.set_title(f"{label.capitalize()} against the number of flats")
        if yscale != "linear":
            a.set_yscale(yscale)
        if floor == 0:
            a.set_ylim(bottom=0)
        a.yaxis.set_major_formatter("{x:,.0f}")
        a.grid(alpha=0.3)
        a.legend(fontsize="small")
    return fig
