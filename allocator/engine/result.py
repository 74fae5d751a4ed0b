"""What a planning run returns: the plan as DataFrames, its status, objective, bound and gap."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from allocator.choices import Method as Method
from allocator.choices import Status as Status

CHANGE_COLUMNS = [
    "household_id",
    "change",
    "unit_before",
    "start_before",
    "unit_after",
    "start_after",
    "reason",
]

PLAN_COLUMNS = [
    "household_id",
    "unit_id",
    "joined_units",  # connecting rooms taken with unit_id, "+"-joined; "" for none
    "kind",
    "start",
    "expected_end",
    "wait_days",
    "status",
    "reason",
]


@dataclass
class Plan:
    """A week's plan. ``placements`` has one row per household, in input order."""

    placements: pd.DataFrame
    status: Status
    method: Method
    objective: float
    best_bound: float | None
    solve_seconds: float
    seed: int
    workers: int
    plan_start: str
    horizon_weeks: int
    hotel_person_nights: int
    wasted_bed_nights: int
    details: dict[str, Any] = field(default_factory=dict)
    # per household, what changed against the last approved plan or the announcements
    # (`CHANGE_COLUMNS`, `engine.announcements.changes`); empty when there is nothing to compare
    changes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CHANGE_COLUMNS))

    @property
    def gap(self) -> float | None:
        """Relative gap between the plan's objective and the best lower bound known."""
        if self.best_bound is None:
            return None
        if abs(self.objective) < 1e-9:
            return 0.0
        return max(0.0, (self.objective - self.best_bound) / abs(self.objective))

    @property
    def placed(self) -> pd.DataFrame:
        return self.placements[self.placements["status"] == "placed"]

    @property
    def waiting(self) -> pd.DataFrame:
        return self.placements[self.placements["status"] == "not_placed"]

    def summary_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "method": self.method.value,
            "objective": round(self.objective, 6),
            "best_bound": None if self.best_bound is None else round(self.best_bound, 6),
            "gap": None if self.gap is None else round(self.gap, 8),
            "solve_seconds": round(self.solve_seconds, 3),
            "hotel_person_nights": self.hotel_person_nights,
            "wasted_bed_nights": self.wasted_bed_nights,
            "placed": int(len(self.placed)),
            "not_placed": int(len(self.waiting)),
            "plan_start": self.plan_start,
            "horizon_weeks": self.horizon_weeks,
            "seed": self.seed,
            "workers": self.workers,
            **self.details,
        }

    def summary(self) -> str:
        s = self.summary_dict()
        gap = "n/a" if s["gap"] is None else f"{100 * s['gap']:.3f}%"
        return (
            f"{s['method']} plan from {s['plan_start']} ({s['horizon_weeks']} weeks): "
            f"{s['placed']} placed, {s['not_placed']} not placed; "
            f"hotel person-nights {s['hotel_person_nights']}, wasted bed-nights "
            f"{s['wasted_bed_nights']}; objective {s['objective']:.2f}, status {s['status']}, "
            f"gap {gap}, {s['solve_seconds']:.2f} s"
        ) + self._near_anchor(s)

    @staticmethod
    def _near_anchor(s: dict[str, Any]) -> str:
        """The share near school or work, when some household gave its district."""
        if "anchor_near_share" not in s:
            return ""
        return (
            f"; of {s['anchored_placed']} placed households with a school/work district, "
            f"{100 * s['anchor_same_share']:.0f}% in it, {100 * s['anchor_near_share']:.0f}% "
            "in it or next to it"
        )
