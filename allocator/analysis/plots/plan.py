"""Pictures of a plan: which household is in which unit, when."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from allocator.analysis.plots._common import date_numbers, figure_and_axes, viridis

if TYPE_CHECKING:
    from allocator.engine.result import Plan

SUPPORT_COLORS = {"low": "#8fd18f", "medium": "#f2c14e", "high": "#e0605e"}
UNKNOWN_COLOR = "#b0b0b0"
PLANNED_COLOR = "#4878cf"
EXISTING_HATCH = "//"


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
    ``placements`` and ``stays`` when they carry the column; households found nowhere are grey.
    Without those data the planned stays are all one colour. A dashed line marks the plan start
    (the earliest planned start, or ``Plan.plan_start``). A stay without an expected end runs to
    the right edge of the picture.

    Each bar's ``gid`` is ``"existing:<household_id>"`` or ``"planned:<household_id>"``.
    """
    if color_by not in ("size", "support"):
        raise ValueError("color_by must be 'size' or 'support'")
    plan_start = getattr(placements, "plan_start", None)
    frame = placements.placements if hasattr(placements, "placements") else placements
    placed = frame[frame["status"] == "placed"] if "status" in frame else frame
    placed = placed[placed["unit_id"].notna()]
    stays = stays if stays is not None else pd.DataFrame(columns=["household_id", "unit_id"])
    bars = _gantt_bars(placed, stays)
    # first the households table, then the plan, then the stays' own columns (current occupants)
    sources = [t for t in (households, frame, stays) if t is not None and color_by in t]
    colors, legend = _bar_colors(bars, color_by, sources)
    order, labels = _unit_rows(bars, units)
    left, right = _date_span(bars)
    fig, ax = figure_and_axes(ax, (11, 1.5 + 0.35 * max(len(order), 1)))
    _draw_bars(ax, bars, colors, {u: k for k, u in enumerate(order)}, left, right)
    start_line = date_numbers([plan_start])[0] if plan_start is not None else np.nan
    if not np.isfinite(start_line) and len(placed):
        start_line = np.nanmin(date_numbers(placed["start"]))
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


def _gantt_bars(placed: pd.DataFrame, stays: pd.DataFrame) -> pd.DataFrame:
    """One row per bar: the current stays first, then the planned ones; dates as date numbers."""
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "household_id": stays["household_id"].to_numpy(),
                    "unit_id": stays["unit_id"].to_numpy(),
                    "start": date_numbers(stays.get("start", [None] * len(stays))),
                    "end": date_numbers(stays.get("expected_end", [None] * len(stays))),
                    "existing": True,
                }
            ),
            pd.DataFrame(
                {
                    "household_id": placed["household_id"].to_numpy(),
                    "unit_id": placed["unit_id"].to_numpy(),
                    "start": date_numbers(placed["start"]),
                    "end": date_numbers(placed["expected_end"]),
                    "existing": False,
                }
            ),
        ],
        ignore_index=True,
    )


def _bar_colors(
    bars: pd.DataFrame, color_by: str, sources: list[pd.DataFrame]
) -> tuple[list[Any], list[Any]]:
    """Each bar's colour and the legend entries for the colours that appear.

    A household's ``color_by`` value is taken from the first table in ``sources`` that has it;
    with no source at all, current stays are grey and planned ones one colour.
    """
    attr: pd.Series | None = None
    if sources:
        attr = pd.concat([t.set_index("household_id")[color_by] for t in sources])
        attr = attr.replace("", np.nan).dropna()
        attr = attr[~attr.index.duplicated(keep="first")]
    values = bars["household_id"].map(attr) if attr is not None else pd.Series(np.nan, bars.index)
    legend: list[Any] = []
    if attr is None:
        colors = np.where(bars["existing"], UNKNOWN_COLOR, PLANNED_COLOR).tolist()
        legend.append(Patch(facecolor=PLANNED_COLOR, label="planned stay"))
    elif color_by == "support":
        colors, legend = _support_colors(values)
    else:
        colors, legend = _size_colors(values, attr)
    if attr is not None and values.isna().any():
        legend.append(Patch(facecolor=UNKNOWN_COLOR, label=f"{color_by} unknown"))
    if bars["existing"].any():
        legend.append(
            Patch(facecolor="white", edgecolor="black", hatch=EXISTING_HATCH, label="current stay")
        )
    return colors, legend


def _support_colors(values: pd.Series) -> tuple[list[Any], list[Any]]:
    """One colour per support level; the legend lists the levels present, low to high."""
    colors = [SUPPORT_COLORS.get(str(v), UNKNOWN_COLOR) for v in values]
    present = set(values.dropna().astype(str))
    legend: list[Any] = [
        Patch(facecolor=c, label=f"{s} support") for s, c in SUPPORT_COLORS.items() if s in present
    ]
    return colors, legend


def _size_colors(values: pd.Series, attr: pd.Series) -> tuple[list[Any], list[Any]]:
    """Sizes on viridis, scaled over every size known (so a picture's colours do not depend on
    which households happen to have a bar); the legend lists the sizes drawn."""
    sizes = sorted({int(v) for v in values.dropna()} | {int(v) for v in attr.dropna()})
    lo, hi = (min(sizes), max(sizes)) if sizes else (1, 1)
    cmap = viridis()

    def size_color(v: Any) -> Any:
        if pd.isna(v):
            return UNKNOWN_COLOR
        return cmap(0.15 + 0.75 * ((int(v) - lo) / (hi - lo) if hi > lo else 0.5))

    colors = [size_color(v) for v in values]
    present = {int(v) for v in values.dropna()}
    legend: list[Any] = [
        Patch(facecolor=size_color(s), label=f"{s} person{'s' if s > 1 else ''}")
        for s in sizes
        if s in present
    ]
    return colors, legend


def _unit_rows(bars: pd.DataFrame, units: pd.DataFrame | None) -> tuple[list[Any], list[Any]]:
    """The units top to bottom and their labels.

    Every unit in the units table's order (so an empty unit shows as a free row), then any unit
    only seen in a stay; labelled with kind and capacity when the units table has them.
    """
    order = list(units["unit_id"]) if units is not None else []
    order += [u for u in dict.fromkeys(bars["unit_id"]) if u not in set(order)]
    labels = order
    if units is not None and "kind" in units and "capacity" in units:
        info = units.set_index("unit_id")
        labels = [
            f"{u} ({info.at[u, 'kind']}, {info.at[u, 'capacity']})" if u in info.index else u
            for u in order
        ]
    return order, labels


def _date_span(bars: pd.DataFrame) -> tuple[float, float]:
    """The x range: the earliest date drawn to a week after the latest (today without dates).

    Open-ended bars run to the right edge, so it leaves them a visible week.
    """
    known = np.concatenate([bars["start"].to_numpy(float), bars["end"].to_numpy(float)])
    known = known[np.isfinite(known)]
    right = known.max() + 7 if known.size else mdates.date2num(pd.Timestamp("today"))
    left = known.min() if known.size else right - 7
    return left, right


def _draw_bars(
    ax: Axes,
    bars: pd.DataFrame,
    colors: list[Any],
    row: dict[Any, int],
    left: float,
    right: float,
) -> None:
    """One horizontal bar per stay, tagged with its gid; a missing date runs to the edge."""
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
