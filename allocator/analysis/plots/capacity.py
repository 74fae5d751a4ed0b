"""The capacity curve: waits or hotel nights against the number of flats, per hub size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from allocator.analysis.plots._common import METRIC_LABELS, viridis

if TYPE_CHECKING:
    from allocator.analysis.capacity_result import CapacityResult, Mix

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

    From `allocator.analysis.capacity_result.CapacityResult.curve` (one row per rooms, flats and
    metric with ``mean``, ``ci_low`` and ``ci_high``): ``metric`` against the number of flats, one
    line per hub-room count (darker = more rooms), its 95% interval as a band (cut at 0 for a
    metric whose means are all >= 0), the target (from the result, or ``targets``) as a dashed
    horizontal line, and the chosen mix as a star. ``metric`` may be a list (e.g.
    ``["wait_p90", "hotel_nights_per_year"]``): one panel each, side by side; ``ax`` is then a list
    of as many axes. ``yscale="symlog"`` keeps a small target readable next to the huge waits of a
    grid's smallest mixes.

    Each line's ``gid`` is ``"<metric>:rooms=<count>"``, the target line's ``"target:<metric>"``
    and the star's ``"chosen:<metric>"``.
    """
    frame = result.curve if hasattr(result, "curve") else result
    chosen = getattr(result, "chosen", None)
    limits = dict(getattr(result, "targets", {}) or {})
    limits.update(targets or {})
    metrics = [metric] if isinstance(metric, str) else list(metric)
    fig, axes = _panels(ax, len(metrics))
    rooms = sorted(frame["rooms"].unique())
    for m, a in zip(metrics, axes, strict=True):
        data = frame[frame["metric"] == m]
        if data.empty:
            raise ValueError(f"no metric {m!r} in the curve")
        # waits and nights cannot be negative: a t-interval's lower end below 0 is cut there
        floor = 0.0 if (data["mean"] >= 0).all() else -np.inf
        _room_curves(a, data, m, rooms, floor)
        if m in limits:
            target = a.axhline(
                limits[m], color="#d65f5f", linestyle="--", linewidth=1.2, label="target"
            )
            target.set_gid(f"target:{m}")
        if chosen is not None:
            _chosen_star(a, data, m, chosen)
        label = CAPACITY_LABELS.get(m, m)
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


def _panels(ax: Axes | Sequence[Axes] | None, n: int) -> tuple[Figure, list[Axes]]:
    """``n`` side-by-side axes on a new figure, or the ``n`` axes the caller gave."""
    if ax is None:
        fig = Figure(figsize=(6.5 * n, 5), layout="constrained")
        return fig, list(fig.subplots(1, n, squeeze=False)[0])
    axes = [ax] if isinstance(ax, Axes) else list(ax)
    if len(axes) != n:
        raise ValueError(f"{n} metrics need {n} axes, got {len(axes)}")
    return axes[0].get_figure(root=True), axes


def _room_curves(a: Axes, data: pd.DataFrame, metric: str, rooms: list[Any], floor: float) -> None:
    """One line per hub-room count (darker = more rooms) with its 95% band cut at ``floor``."""
    cmap = viridis()
    for k, r in enumerate(rooms):
        g = data[data["rooms"] == r].sort_values("flats")
        color = cmap(0.85 - 0.7 * (k / (len(rooms) - 1) if len(rooms) > 1 else 0.5))
        x = g["flats"].to_numpy(float)
        (line,) = a.plot(
            x, g["mean"].to_numpy(float), marker="o", color=color, label=f"{r} hub rooms"
        )
        line.set_gid(f"{metric}:rooms={r}")
        a.fill_between(
            x,
            np.maximum(g["ci_low"].to_numpy(float), floor),
            g["ci_high"].to_numpy(float),
            color=color,
            alpha=0.15,
            linewidth=0,
        )


def _chosen_star(a: Axes, data: pd.DataFrame, metric: str, chosen: Mix) -> None:
    """A star on the chosen mix's point, so the answer stands out on its curve."""
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
    star.set_gid(f"chosen:{metric}")
