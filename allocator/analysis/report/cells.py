"""The report's numbers as a reader sees them: a mean with its interval, formatted by kind."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from allocator.simulation import SimulationResult, mean_interval


def fmt(value: float, kind: str = "number") -> str:
    """A number as a reader wants it: euros in millions, shares in percent, days to 0.1."""
    if value is None or not math.isfinite(value):
        return "–"
    if kind == "eur":
        sign = "−" if value < 0 else ""  # a minus sign before the euro sign, not "€-7 M"
        if abs(value) >= 1e6:
            return f"{sign}€{abs(value) / 1e6:,.2f} M"
        return f"{sign}€{abs(value):,.0f}"
    if kind == "percent":
        return f"{100 * value:.1f}%"
    if kind == "days":
        return f"{value:,.1f}"
    if kind == "count":
        return f"{value:,.0f}" if abs(value) >= 100 or value == 0 else f"{value:,.1f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


@dataclass(frozen=True)
class Cell:
    """A mean with its 95% interval, with the raw numbers kept for machine reading."""

    key: str
    mean: float
    low: float
    high: float
    kind: str = "number"
    floor: float | None = None  # shown intervals are cut here (a wait is never negative)
    reference: bool = False  # the baseline's own difference to itself: shown as a dash

    @property
    def text(self) -> str:
        return "–" if self.reference else fmt(self.mean, self.kind)

    @property
    def interval(self) -> str:
        if self.reference or not (math.isfinite(self.low) and math.isfinite(self.high)):
            return ""
        low = self.low if self.floor is None else max(self.low, self.floor)
        return f"{fmt(low, self.kind)} to {fmt(self.high, self.kind)}"


# (metric, label, kind, a difference to the baseline?); all other metrics are never negative
RESULT_ROWS = [
    ("households", "Households arriving", "count", False),
    ("served", "Households placed in a unit", "count", False),
    ("still_waiting", "Still waiting at the end", "count", False),
    ("exited_waiting", "Left from the hotel on their exit date, never placed", "count", False),
    ("hotel_person_nights", "Hotel person-nights", "count", False),
    ("hotel_nights_avoided", "Hotel person-nights avoided", "count", True),
    ("shelter_person_nights", "Shelter person-nights", "count", False),
    ("separations", "Families separated (shelter)", "count", False),
    ("separations_avoided", "Separations avoided", "count", True),
    ("wait_mean", "Mean wait (days)", "days", False),
    ("wait_p90", "90th percentile wait (days)", "days", False),
    ("occupancy", "Unit occupancy", "percent", False),
    ("anchor_near_share", "Placed in or next to the school/work district", "percent", False),
    ("oversized", "Households larger than any unit", "count", False),
    ("oversized_housed", "of them placed in connecting rooms", "count", False),
    ("total_cost", "Total cost", "eur", False),
    ("savings", "Saved against hotels", "eur", True),
]


# rows shown only when some replication has a household they count: most scenarios have none
SHOWN_WHEN_ANY = {"oversized", "oversized_housed"}


def shown_rows(replications: pd.DataFrame) -> list[tuple[str, str, str, bool]]:
    """The rows of `RESULT_ROWS` the run measured: a share near the school/work district only
    when some household named one (otherwise every replication has NaN there), and the
    households larger than any unit only when there were some."""
    return [
        row
        for row in RESULT_ROWS
        if row[0] in replications
        and bool(replications[row[0]].notna().any())
        and (row[0] not in SHOWN_WHEN_ANY or bool((replications["oversized"] > 0).any()))
    ]


def result_cells(result: SimulationResult) -> dict[str, dict[str, Cell]]:
    """Per policy, per metric: the mean and interval shown in the report's results table.

    Differences against the baseline (hotel nights and separations avoided, and ``savings``) are
    the simulation's own, paired within a replication.
    """
    reps = result.replications
    out: dict[str, dict[str, Cell]] = {}
    for policy in result.policies:
        g = reps[reps["policy"] == policy]
        cells = {}
        for metric, _, kind, difference in shown_rows(reps):
            values = g[metric]
            cells[metric] = Cell(
                f"{policy}:{metric}",
                *mean_interval(values),
                kind=kind,
                floor=None if difference else 0.0,
                # the baseline's differences to itself, its "waits" (whole hotel stays), and its
                # exits while waiting for a unit (it offers none)
                reference=policy == "hotel"
                and (difference or metric.startswith("wait") or metric == "exited_waiting"),
            )
        out[policy] = cells
    return out
