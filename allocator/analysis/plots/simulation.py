"""Pictures of a simulation: waiting lists, waiting times, costs, and scenarios side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from allocator.analysis.plots._common import (
    COST_METRICS,
    METRIC_LABELS,
    figure_and_axes,
    interval_bars,
    policy_names,
    summary_of,
)

if TYPE_CHECKING:
    from allocator.simulation.results import SimulationResult


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
    fig, ax = figure_and_axes(ax, (9, 5))
    for policy in policy_names(frame):
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
    concatenation of them with a ``policy`` or ``method`` column), it draws the distribution of
    individual waits per policy (one box, all placed and waiting households; without ``policy`` a
    single box).
    """
    frame = data.replications if hasattr(data, "replications") else data
    per_household = "wait_days" in frame
    value = "wait_days" if per_household else metric
    if "policy" not in frame:  # plans name it the method
        frame = frame.assign(policy=frame["method"] if "method" in frame else "plan")
    policies = policy_names(frame)
    samples = [frame.loc[frame["policy"] == p, value].dropna().to_numpy(float) for p in policies]
    fig, ax = figure_and_axes(ax, (max(5, 1.6 * len(policies) + 2), 5))
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
    s = summary_of(summary)
    policies = policy_names(s)
    groups = {
        METRIC_LABELS.get(m, m): s[s["metric"] == m].set_index("policy")[
            ["mean", "ci_low", "ci_high"]
        ]
        for m in metrics
    }
    fig, ax = figure_and_axes(ax, (max(6, 1.8 * len(policies) + 2), 5))
    interval_bars(ax, policies, groups, colors=["#4878cf", "#6acc65", "#d65f5f", "#b47cc7"])
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
    summaries = {name: summary_of(r) for name, r in results.items()}
    if policies is None:
        policies = list(dict.fromkeys(p for s in summaries.values() for p in policy_names(s)))
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
    fig, ax = figure_and_axes(ax, (max(6, 1.2 * len(scenarios) * max(len(policies), 1) + 2), 5))
    interval_bars(ax, scenarios, groups)
    ax.set_xlabel("scenario")
    ax.set_ylabel(METRIC_LABELS.get(metric, metric) + " (mean, 95% interval)")
    ax.set_title(f"{METRIC_LABELS.get(metric, metric).capitalize()} per scenario and policy")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(title="policy")
    return fig
