"""The report's figures, drawn with `allocator.analysis.plots` and embedded as base64 PNGs.

Imports matplotlib: `build_report` imports this module only when it draws.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from allocator.analysis import plots
from allocator.analysis.report.build import Figure64
from allocator.analysis.report.cells import Cell
from allocator.analysis.report.sensitivity import SensitivityRow
from allocator.simulation import SimulationResult


def report_figures(
    result: SimulationResult,
    rows: list[SensitivityRow],
    base: Cell,
    factor: float,
    spolicy: str,
) -> list[Figure64]:
    """The waiting list, hotel use, waiting times, costs and (with a sensitivity) the tornado."""
    units = [p for p in result.policies if p != "hotel"]
    weekly = result.weekly[result.weekly["policy"].isin(units)]
    reps = result.replications[result.replications["policy"].isin(units)]
    n = result.replications["replication"].nunique()
    w = result.scenario.warmup_weeks
    weeks = (
        f" Week 0 is the scenario's start; the {w}-week warm-up before it is simulated, not shown."
        if w
        else ""
    )
    out = [
        Figure64(
            "Waiting list",
            f"Households waiting for a unit at the end of each week, mean of {n} replications "
            "(band: lowest to highest replication). The hotel baseline places nobody, so it is "
            f"left out.{weeks}",
            _png(plots.waiting_list(weekly)),
        ),
        Figure64(
            "Hotel use per week",
            "Person-nights spent in hotels each week under each policy and under the hotel-only "
            f"baseline (families sent to separating shelters are not included).{weeks}",
            _png(_hotel_use(result, n)),
        ),
        Figure64(
            "Waiting times",
            "Each dot is one replication's mean (left) or 90th percentile (right) wait in days: "
            "the spread is between replications, not between households.",
            _png(_waiting_times(reps)),
        ),
        Figure64(
            "Costs and savings",
            "Total cost over the horizon and savings against the hotel-only baseline, "
            "with 95% intervals.",
            _png(plots.costs(result.summary)),
        ),
    ]
    if rows:
        out.append(
            Figure64(
                "Sensitivity (tornado)",
                f"Mean savings ({spolicy}) when one assumption at a time is moved "
                f"{round(100 * factor)}% down (red) or up (blue); the line is the scenario as "
                "written.",
                _png(_tornado(base, rows, factor, spolicy)),
            )
        )
    return out


def _png(fig: Figure) -> str:
    """The figure as base64 PNG text, without the software stamp (same figure, same bytes)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _hotel_use(result: SimulationResult, n: int) -> Figure:
    """Hotel person-nights per week, every policy and the baseline."""
    hotel = plots.waiting_list(result.weekly, column="hotel_person_nights")
    ax = hotel.axes[0]
    ax.set_ylabel("hotel person-nights in the week")
    ax.set_title(f"Hotel person-nights per week: mean of {n} replications, band = min..max")
    return hotel


def _waiting_times(reps: pd.DataFrame) -> Figure:
    """Mean and 90th percentile waits per replication, side by side."""
    fig = Figure(figsize=(10, 4.6), layout="constrained")
    a1, a2 = fig.subplots(1, 2)
    plots.waiting_times(reps, metric="wait_mean", ax=a1)
    plots.waiting_times(reps, metric="wait_p90", ax=a2)
    a1.set_title("Mean wait, per replication")
    a2.set_title("90th percentile wait, per replication")
    return fig


def _tornado(base: Cell, rows: list[SensitivityRow], factor: float, policy: str) -> Figure:
    """Each assumption's low and high savings as bars from the base, largest swing on top."""
    rows = rows[::-1]  # largest swing on top
    fig = Figure(figsize=(9, 0.45 * len(rows) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(rows))
    for k, r in enumerate(rows):
        for cell, color, lab, dy in (
            (r.low, "#d65f5f", "-", 0.19),
            (r.high, "#4878cf", "+", -0.19),
        ):
            ax.barh(
                y[k] + dy,
                (cell.mean - base.mean) / 1e6,
                left=base.mean / 1e6,
                color=color,
                height=0.38,
                label=f"assumption {lab}{round(100 * factor)}%" if k == 0 else None,
            )
    ax.axvline(base.mean / 1e6, color="black", linewidth=1)
    ax.set_yticks(y, [r.label for r in rows])
    ax.set_xlabel(f"savings against hotels, € million (mean; {policy})")
    ax.set_title(f"What moves the savings: each assumption {round(100 * factor)}% down and up")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return fig
