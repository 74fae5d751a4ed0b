"""The report's section on fair waits: the audit (`allocator.analysis.fairness`) of the main
comparison, as display strings and two figures.

Imports matplotlib when it draws: `build_report` calls `fairness_section` after its runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from allocator.analysis.fairness import FairnessAudit, audit, records_from_simulation
from allocator.analysis.report.build import Figure64
from allocator.errors import InputError
from allocator.simulation import SimulationResult


@dataclass
class FairnessSection:
    """What the page shows about who waits how long, per group, under which policy."""

    policy: str  # the headline policy
    baseline: str | None  # the first-come-first-served policy it is compared with
    replications: int
    flagged: list[dict[str, str]]  # groups that wait longer than the rest under the headline
    longer: list[dict[str, str]]  # groups that wait longer under the headline than the baseline
    shorter: int  # how many groups wait less under the headline than under the baseline
    groups_compared: int
    overtaking: list[dict[str, str]]  # per policy and bound: households and nights
    figures: list[Figure64] = field(default_factory=list)


def _interval(mean: Any, low: Any, high: Any) -> str:
    if pd.isna(low):
        return f"{mean:.1f}"
    return f"{mean:.1f} [{low:.1f}, {high:.1f}]"


def fairness_section(result: SimulationResult, primary: str) -> FairnessSection | None:
    """The section for ``result``, its headline policy ``primary`` compared with greedy (or
    another first-come-first-served policy); None when the result kept no per-household
    records."""
    from allocator.analysis.plots.fairness import group_waits, policy_differences
    from allocator.analysis.report.figures import _png

    try:
        records = records_from_simulation(result)
    except InputError:
        return None
    records = records[records["policy"].isin([p for p in result.policies if p != "hotel"])]
    several = records["policy"].nunique() >= 2  # else there is nothing to compare with
    a: FairnessAudit = audit(records, source="simulation", policy=primary if several else None)
    g = a.groups[(a.groups["policy"] == primary) & (a.groups["flag"] == "longer")]
    flagged = [
        {
            "group": f"{r.grouping}: {r.group}",
            "wait": _interval(r.mean_wait, r.ci_low, r.ci_high),
            "rest": f"{r.rest_mean:.1f}",
            "difference": _interval(r.difference, r.diff_low, r.diff_high),
        }
        for r in g.itertuples()
    ]
    c = a.comparison[a.comparison["grouping"] != "all"]
    longer = [
        {
            "group": f"{r.grouping}: {r.group}",
            "policy": f"{r.mean_policy:.1f}",
            "baseline": f"{r.mean_baseline:.1f}",
            "difference": _interval(r.difference, r.ci_low, r.ci_high),
        }
        for r in c[c["longer"]].itertuples()
    ]
    over = [
        {
            "policy": str(r.policy),
            "bound": f"{r.bound_days}",
            "households": _interval(r.households, r.households_low, r.households_high),
            "share": f"{r.share:.1%}",
            "nights": _interval(r.nights, r.nights_low, r.nights_high),
        }
        for r in a.overtaking.itertuples()
    ]
    figures = [
        Figure64(
            "Mean wait per group",
            f"Mean wait in days per group and policy, {a.replications} replications, with 95% "
            "t-intervals over the replications; * marks a group whose paired difference to the "
            "rest of the households lies wholly above zero.",
            _png(group_waits(a.groups)),
        )
    ]
    baseline = None
    if len(a.comparison):
        baseline = str(a.comparison["baseline"].iloc[0])
        figures.append(
            Figure64(
                f"Who waits longer under {primary} than under {baseline}",
                f"Mean wait under {primary} minus under {baseline}, per group, paired by "
                "replication (the same households under both), with 95% t-intervals; red: the "
                "whole interval is above zero.",
                _png(policy_differences(a.comparison)),
            )
        )
    return FairnessSection(
        policy=primary,
        baseline=baseline,
        replications=a.replications,
        flagged=flagged,
        longer=longer,
        shorter=int((c["ci_high"] < 0).sum()),
        groups_compared=len(c),
        overtaking=over,
        figures=figures,
    )
