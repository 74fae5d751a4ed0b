"""`simulate` reports churn when the scenario announces placements, and only then."""

from __future__ import annotations

import math

from allocator.simulation import simulate
from allocator.simulation.examples import small
from allocator.simulation.scenario import validate_scenario


def _scenario(announce_weeks: int):
    data = small(horizon_weeks=12)
    data["policy"] = {"horizon_weeks": 4}
    data["exit_notice_days"] = 7
    data["announce_weeks"] = announce_weeks
    return validate_scenario(data)


def test_churn_is_a_share_for_the_engine_and_absent_for_the_baselines():
    """With announcements, greedy's churn is changed / (kept + changed) in [0, 1], the same in the
    replications table and the summary; FCFS and hotels announce nothing (NaN)."""
    result = simulate(
        _scenario(2), replications=2, seed=5, policies=["greedy", "fcfs_fast"], workers=1
    )
    reps = result.replications.set_index("policy")
    churn = reps.loc["greedy", "announcement_churn"]
    assert all(0.0 <= c <= 1.0 for c in churn)
    assert all(math.isnan(c) for c in reps.loc["fcfs_fast", "announcement_churn"])
    summary = result.summary.set_index(["policy", "metric"])
    assert summary.loc[("greedy", "announcement_churn"), "mean"] == churn.mean()


def test_no_churn_column_without_announcements():
    """A scenario that announces nothing has no churn column: its tables are as before."""
    result = simulate(_scenario(0), replications=1, seed=5, policies=["greedy"], workers=1)
    assert "announcement_churn" not in result.replications
