"""What a capacity sweep returns: the curve, the answer, and the words and table a planner reads.

`allocator.analysis.capacity.capacity` fills a `CapacityResult`; this module only reads it, so the
wording of the answer and the CLI's table can change without touching the sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from allocator.simulation.scenario import Scenario

__all__ = ["CAPACITY_METRICS", "CapacityResult", "Mix"]

CAPACITY_METRICS = ("wait_p90", "wait_mean", "hotel_nights_per_year", "total_cost", "savings")
LABELS = {
    "wait_p90": "90th-percentile wait",
    "wait_mean": "mean wait",
    "hotel_nights_per_year": "hotel and shelter person-nights a year",
    "total_cost": "total cost",
    "savings": "savings vs hotel",
}
COLUMN_TITLES = {
    "wait_p90": "wait p90 (days)",
    "wait_mean": "wait mean (days)",
    "hotel_nights_per_year": "hotel nights a year",
    "total_cost": "cost (EUR M)",
    "savings": "savings (EUR M)",
}
UNITS_OF = {"wait_p90": " days", "wait_mean": " days", "hotel_nights_per_year": ""}


@dataclass(frozen=True, order=True)
class Mix:
    """One point of the grid: ``rooms`` hub rooms and ``flats`` flats."""

    rooms: int
    flats: int

    @property
    def units(self) -> int:
        return self.rooms + self.flats

    def __str__(self) -> str:
        return f"{self.rooms} hub rooms + {self.flats} flats ({self.units} units)"


@dataclass
class CapacityResult:
    """What `capacity` returns: the capacity curve, the answer and the run's settings.

    ``curve`` is tidy, one row per (mix, metric): ``rooms``, ``flats``, ``units``, ``metric``,
    ``mean``, ``ci_low``, ``ci_high`` (the 95% t-interval over replications; NaN with one).
    ``mixes`` has one row per mix: ``rooms``, ``flats``, ``units``, ``total_cost`` (mean), and per
    target metric the value the rule compares (``<metric>_checked``) and ``meets_<metric>``, then
    ``meets`` (all targets). ``replications`` has one row per (mix, replication) with the raw
    metrics and the number of households (paired across mixes: common random numbers).
    ``chosen`` is the answer or None; ``best`` is the chosen mix, or the closest one when none
    meets the targets; ``failed`` lists the target metrics that ``best`` misses (empty when a mix
    was chosen).
    """

    scenario: Scenario
    curve: pd.DataFrame
    mixes: pd.DataFrame
    replications: pd.DataFrame
    chosen: Mix | None
    best: Mix
    targets: dict[str, float]
    by: str
    failed: list[str]
    policy: str
    seed: int
    n_replications: int
    workers: int
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)

    def value(self, mix: Mix, metric: str) -> pd.Series:
        """``mean``, ``ci_low`` and ``ci_high`` of one metric at one mix."""
        c = self.curve
        hit = c[(c["rooms"] == mix.rooms) & (c["flats"] == mix.flats) & (c["metric"] == metric)]
        return hit[["mean", "ci_low", "ci_high"]].iloc[0]

    def _describe(self, mix: Mix, metric: str) -> str:
        v = self.value(mix, metric)
        unit = UNITS_OF.get(metric, "")
        text = f"{LABELS[metric]} {v['mean']:,.1f}{unit}"
        if not np.isnan(v["ci_low"]):
            text += f" (95% interval {v['ci_low']:,.1f} to {v['ci_high']:,.1f})"
        if metric in self.targets:
            text += f", target at most {self.targets[metric]:,.4g}"
        return text

    def rule_text(self) -> str:
        if self.by == "upper":
            return "the upper end of the 95% interval is at most the target"
        return "the mean is at most the target"

    def answer(self) -> str:
        """The answer as one or two sentences a planner can read."""
        years = self.scenario.horizon_days / 365
        weeks = self.scenario.horizon_weeks
        if self.chosen is not None:
            m = self.chosen
            parts = [self._describe(m, k) for k in self.targets]
            cost = self.value(m, "total_cost")["mean"]
            return (
                f"The smallest mix that meets every target is {m}: "
                + "; ".join(parts)
                + f"; mean total cost EUR {cost:,.0f} over the {weeks}-week horizon"
                + f" ({years:.1f} years)"
                + f" (a mix meets a target when {self.rule_text()})."
            )
        lines = [
            f"No mix in the grid meets every target (a mix meets a target when {self.rule_text()})."
        ]
        for metric, target in self.targets.items():
            checked = self.mixes[f"{metric}_checked"]
            k = int(checked.to_numpy().argmin())
            row = self.mixes.iloc[k]
            met = int(self.mixes[f"meets_{metric}"].sum())
            where = Mix(int(row["rooms"]), int(row["flats"]))
            lines.append(
                f"{LABELS[metric]} at most {target:,.4g}: met by {met} of {len(self.mixes)} mixes "
                f"(lowest checked value {checked.iloc[k]:,.1f} at {where})."
            )
        missed = ", ".join(LABELS[m] for m in self.failed)
        lines.append(
            f"Best mix found: {self.best}, which misses {missed}: "
            + "; ".join(self._describe(self.best, k) for k in self.targets)
            + "."
        )
        return "\n".join(lines)

    def wide_summary(self) -> pd.DataFrame:
        """One row per mix, "mean [low, high]" strings and whether it meets: the CLI's table.

        Waits in days, nights a year, costs in millions of euros over the horizon.
        """
        c = self.curve.copy()

        def fmt(r) -> str:
            scale = 1e6 if r["metric"] in ("total_cost", "savings") else 1.0
            mean, lo, hi = r["mean"] / scale, r["ci_low"] / scale, r["ci_high"] / scale
            if np.isnan(lo):
                return _number(mean)
            return f"{_number(mean)} [{_number(lo)}, {_number(hi)}]"

        c["value"] = c.apply(fmt, axis=1)
        table = c.pivot(index=["rooms", "flats"], columns="metric", values="value")
        table = table.reindex(columns=list(CAPACITY_METRICS))
        table.columns = [COLUMN_TITLES[m] for m in CAPACITY_METRICS]
        flags = self.mixes.set_index(["rooms", "flats"])
        table.insert(0, "units", flags["units"].reindex(table.index).astype(str))
        meets = flags["meets"].reindex(table.index).map({True: "yes", False: "no"})
        if self.chosen is not None:
            meets.loc[(self.chosen.rooms, self.chosen.flats)] = "answer"
        table["meets"] = meets
        table.index = [f"{r}, {f}" for r, f in table.index]
        table.index.name = "rooms, flats"
        return table

    def summary_text(self) -> str:
        rooms = sorted(self.mixes["rooms"].unique())
        flats = sorted(self.mixes["flats"].unique())
        head = (
            f"{self.scenario.name}: {len(self.mixes)} mixes (hub rooms {_span(rooms)}, flats "
            f"{_span(flats)}), {self.n_replications} replications x "
            f"{self.scenario.horizon_weeks} weeks, policy {self.policy}, seed {self.seed}, "
            f"{self.seconds:.1f} s on {self.workers} worker(s)"
        )
        return f"{head}\n{self.answer()}\n{self.wide_summary().to_string()}"


def _number(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}"


def _span(values: Sequence[int]) -> str:
    if len(values) == 1:
        return str(values[0])
    return f"{values[0]}..{values[-1]} ({len(values)} values)"
