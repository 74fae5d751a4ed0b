"""What every plot shares: the figure or axes to draw on, dates, colours and interval bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from allocator.simulation.results import SimulationResult

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


def figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The caller's axes and its figure, or a new figure of ``figsize`` with one axes."""
    if ax is not None:
        return ax.get_figure(root=True), ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def date_numbers(values: Any) -> np.ndarray:
    """Matplotlib date numbers for dates, strings or datetimes; NaN where missing."""
    ts = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce")
    out = np.full(len(ts), np.nan)
    ok = ts.notna().to_numpy()
    if ok.any():
        out[ok] = mdates.date2num(ts[ok].dt.tz_localize(None).to_numpy())
    return out


def summary_of(summary: pd.DataFrame | SimulationResult) -> pd.DataFrame:
    """A result's summary table, or the table itself."""
    return summary.summary if hasattr(summary, "summary") else summary


def policy_names(frame: pd.DataFrame) -> list[str]:
    """The policies of a tidy table, in order of first appearance."""
    return list(dict.fromkeys(frame["policy"]))


def interval_bars(
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


def viridis() -> Any:
    """The sequential colour map for ordered values (sizes, hub-room counts)."""
    from matplotlib import colormaps

    return colormaps["viridis"]
