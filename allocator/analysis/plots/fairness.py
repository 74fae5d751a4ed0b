"""Pictures of the fairness audit (`allocator.analysis.fairness`), each returning a Figure.

- `group_waits`: mean wait per group, one panel per grouping, a bar per policy with its 95%
  interval; a star above the bars of groups flagged as waiting longer than the rest.
- `policy_differences`: each group's mean wait under one policy minus another's, with intervals.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from allocator.analysis.plots._common import interval_bars

LABELS = {
    "size": "persons",
    "urgency": "urgency",
    "support": "support",
    "accessibility": "accessibility",
    "mediation": "mediation",
    "language": "language",
    "pathway": "exit pathway",
}


def group_waits(groups: pd.DataFrame, groupings: Sequence[str] | None = None) -> Figure:
    """Mean wait per group and policy with 95% intervals (the ``groups`` table of an audit)."""
    frame = groups[groups["grouping"] != "all"]
    names = list(groupings or dict.fromkeys(frame["grouping"]))
    cols = 2 if len(names) > 1 else 1
    rows = max(1, -(-len(names) // cols))
    fig = Figure(figsize=(6.2 * cols, 3.3 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    policies = list(dict.fromkeys(frame["policy"]))
    for ax, name in zip(axes, names, strict=False):
        sub = frame[frame["grouping"] == name]
        cats = list(dict.fromkeys(sub["group"]))
        per = {
            p: sub[sub["policy"] == p]
            .set_index("group")[["mean_wait", "ci_low", "ci_high"]]
            .rename(columns={"mean_wait": "mean"})
            for p in policies
        }
        interval_bars(ax, cats, per)
        width = 0.8 / max(len(policies), 1)
        for k, p in enumerate(policies):
            s = sub[sub["policy"] == p].set_index("group").reindex(cats)
            top = s["ci_high"].fillna(s["mean_wait"]).to_numpy(float)
            for x, (flag, y) in enumerate(zip(s["flag"], top, strict=True)):
                if flag == "longer":
                    ax.annotate("*", (x + (k - (len(policies) - 1) / 2) * width, y), ha="center")
        ax.set_title(LABELS.get(name, name))
        ax.set_ylabel("mean wait (days)")
        ax.grid(axis="y", alpha=0.3)
        if sum(len(str(c)) for c in cats) > 30:
            ax.tick_params(axis="x", labelrotation=30)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    if len(policies) > 1:
        axes[0].legend(fontsize="small")
    fig.suptitle("Mean wait per group, 95% intervals (* waits longer than the rest)")
    return fig


def policy_differences(comparison: pd.DataFrame) -> Figure:
    """Each group's mean wait under the policy minus under the baseline, with 95% intervals;
    red where the whole interval is above zero (the group waits longer under the policy)."""
    c = comparison.iloc[::-1]
    fig = Figure(figsize=(8, 0.28 * len(c) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(c))
    d = c["difference"].to_numpy(float)
    err = np.vstack(
        [
            np.nan_to_num(d - c["ci_low"].to_numpy(float), nan=0.0),
            np.nan_to_num(c["ci_high"].to_numpy(float) - d, nan=0.0),
        ]
    )
    colors = np.where(c["longer"].to_numpy(bool), "#d65f5f", "#4878cf")
    ax.barh(y, d, xerr=err, color=colors, capsize=2, height=0.6)
    ax.set_yticks(
        y, [f"{LABELS.get(g, g)}: {v}" for g, v in zip(c["grouping"], c["group"], strict=True)]
    )
    ax.axvline(0, color="black", linewidth=0.8)
    if len(c):
        first = c.iloc[0]
        ax.set_xlabel(f"mean wait, {first['policy']} minus {first['baseline']} (days)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Who waits longer under which policy (95% intervals, paired by replication)")
    return fig
