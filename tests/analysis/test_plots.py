"""The plots: right number of bars and lines, values taken from the tables, PNGs written.

`allocator.analysis.plots` never touches pyplot, so no backend needs choosing: figures render headless.
"""

from __future__ import annotations

import matplotlib.colors
import matplotlib.dates
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import allocator
from allocator.analysis import plots
from allocator.examples import demo
from allocator.simulation import simulate
from allocator.simulation.examples import small

POLICIES = ["greedy", "fcfs_fast"]  # hotel is added by simulate


@pytest.fixture(scope="module")
def planned():
    households, units, stays = demo()
    plan = allocator.plan(households, units, stays, start="2026-12-07", method="greedy")
    return plan, households, units, stays


@pytest.fixture(scope="module")
def result():
    return simulate(small(horizon_weeks=8), replications=3, seed=1, policies=POLICIES)


@pytest.fixture(scope="module")
def other():
    return simulate(small(horizon_weeks=8, name="busy"), replications=2, seed=2, policies=POLICIES)


def _save(fig: Figure, tmp_path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    fig.savefig(path)
    assert path.stat().st_size > 1000


def _bars(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def _mean(summary: pd.DataFrame, policy: str, metric: str) -> float:
    row = summary[(summary["policy"] == policy) & (summary["metric"] == metric)]
    return float(row["mean"].iloc[0])


@pytest.mark.parametrize("color_by", ["size", "support"])
def test_gantt_one_bar_per_stay(planned, tmp_path, color_by):
    plan, households, units, stays = planned
    fig = plots.gantt(plan.placements, stays, units, color_by=color_by, households=households)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    bars = _bars(ax)
    assert len(bars) == len(plan.placed) + len(stays)
    gids = sorted(b.get_gid() for b in bars)
    expected = [f"existing:{h}" for h in stays["household_id"]]
    expected += [f"planned:{h}" for h in plan.placed["household_id"]]
    assert gids == sorted(expected)
    assert len(ax.get_yticks()) == len(units)  # one row per unit, even the empty ones
    assert ax.get_xlabel() == "date" and ax.get_ylabel() == "unit"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "current stay" in legend and "plan start" in legend
    if color_by == "support":
        assert any(t.endswith("support") for t in legend)
    else:
        assert any(t.endswith(("person", "persons")) for t in legend)
    _save(fig, tmp_path, f"gantt_{color_by}")


def test_gantt_bar_extents_match_dates(planned):
    plan, households, units, stays = planned
    ax = plots.gantt(plan, stays, units, households=households).axes[0]
    by_gid = {b.get_gid(): b for b in _bars(ax)}
    row = plan.placed.iloc[0]
    bar = by_gid[f"planned:{row['household_id']}"]
    start = matplotlib.dates.date2num(pd.Timestamp(row["start"]))
    end = matplotlib.dates.date2num(pd.Timestamp(row["expected_end"]))
    assert bar.get_x() == pytest.approx(start)
    assert bar.get_width() == pytest.approx(end - start)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[round(bar.get_y() + bar.get_height() / 2)].startswith(row["unit_id"])
    # planned (solid) and existing (hatched) bars are told apart
    assert all(by_gid[f"existing:{h}"].get_hatch() for h in stays["household_id"])
    assert not bar.get_hatch()


def test_gantt_without_households_or_units(planned, tmp_path):
    plan, _, _, stays = planned
    fig = plots.gantt(plan.placements)  # size requested but unknown: one colour, no error
    assert len(_bars(fig.axes[0])) == len(plan.placed)
    fig = plots.gantt(plan.placements, stays)
    assert len(_bars(fig.axes[0])) == len(plan.placed) + len(stays)
    _save(fig, tmp_path, "gantt_plain")
    with pytest.raises(ValueError, match="color_by"):
        plots.gantt(plan.placements, color_by="urgency")


def test_gantt_colours_current_occupants_from_their_stay(planned):
    """Occupants are not in the households table; a stays table carrying size colours them."""
    plan, households, units, stays = planned
    sized = stays.assign(size=[1 + k % 3 for k in range(len(stays))])
    ax = plots.gantt(plan, sized, units, households=households).axes[0]
    by_gid = {b.get_gid(): b for b in _bars(ax)}
    grey = matplotlib.colors.to_rgba(plots.UNKNOWN_COLOR)
    for h in sized["household_id"]:
        assert by_gid[f"existing:{h}"].get_facecolor()[:3] != pytest.approx(grey[:3])
    one = sized.loc[sized["size"] == 1, "household_id"]
    two = sized.loc[sized["size"] == 2, "household_id"]
    if len(one) and len(two):  # different sizes, different colours
        a = by_gid[f"existing:{one.iloc[0]}"].get_facecolor()
        b = by_gid[f"existing:{two.iloc[0]}"].get_facecolor()
        assert a != pytest.approx(b)
    plain = plots.gantt(plan, stays, units, households=households).axes[0]
    occupant = next(b for b in _bars(plain) if b.get_gid().startswith("existing:"))
    assert occupant.get_facecolor()[:3] == pytest.approx(grey[:3])


def test_waiting_times_per_method(planned):
    """Plans call it the method: one box per method, without renaming."""
    plan, households, units, stays = planned
    solver = allocator.plan(households, units, stays, start="2026-12-07", time_limit=5)
    both = pd.concat([p.placements.assign(method=p.method.value) for p in (plan, solver)])
    ax = plots.waiting_times(both).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["greedy", "solver"]


def test_gantt_draws_into_given_axes(planned):
    plan, households, units, stays = planned
    fig = Figure()
    ax1, ax2 = fig.subplots(1, 2)
    assert plots.gantt(plan, stays, units, households=households, ax=ax2) is fig
    assert not _bars(ax1) and len(_bars(ax2)) == len(plan.placed) + len(stays)


def test_waiting_list(result, tmp_path):
    fig = plots.waiting_list(result.weekly)
    (ax,) = fig.axes
    lines = {line.get_gid(): line for line in ax.get_lines()}
    assert sorted(lines) == sorted(result.policies)
    for policy, line in lines.items():
        mean = result.weekly[result.weekly["policy"] == policy].groupby("week")["waiting_end"]
        np.testing.assert_allclose(line.get_ydata(), mean.mean().to_numpy())
        np.testing.assert_array_equal(line.get_xdata(), mean.mean().index.to_numpy())
    assert ax.get_xlabel() and ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == result.policies
    _save(fig, tmp_path, "waiting_list")


def test_waiting_times_across_replications(result, tmp_path):
    fig = plots.waiting_times(result)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == result.policies
    medians = [line for line in ax.get_lines() if line.get_label() == "_nolegend_"]
    assert medians  # boxplot drew something
    dots = ax.collections
    assert len(dots) == len(result.policies)
    for policy, dot in zip(result.policies, dots, strict=True):
        expected = result.replications.loc[result.replications["policy"] == policy, "wait_mean"]
        np.testing.assert_allclose(np.sort(dot.get_offsets()[:, 1]), np.sort(expected))
    assert ax.get_xlabel() == "policy" and "replication" in ax.get_ylabel()
    _save(fig, tmp_path, "waiting_times")


def test_waiting_times_per_household(planned, tmp_path):
    plan = planned[0]
    fig = plots.waiting_times(plan.placements)
    (dots,) = fig.axes[0].collections
    np.testing.assert_allclose(
        np.sort(dots.get_offsets()[:, 1]), np.sort(plan.placements["wait_days"])
    )
    assert fig.axes[0].get_ylabel() == "wait (days)"
    _save(fig, tmp_path, "waiting_times_plan")


def test_costs_values_and_intervals(result, tmp_path):
    fig = plots.costs(result.summary)
    (ax,) = fig.axes
    containers = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(containers) == 2  # total cost, savings
    for container, metric in zip(containers, ["total_cost", "savings"], strict=True):
        assert len(container.patches) == len(result.policies)
        heights = [b.get_height() for b in container.patches]
        np.testing.assert_allclose(
            heights, [_mean(result.summary, p, metric) for p in result.policies]
        )
        err = container.errorbar
        assert err is not None
        (segments,) = err.lines[2]
        assert len(segments.get_segments()) == len(result.policies)
        for seg, policy in zip(segments.get_segments(), result.policies, strict=True):
            row = result.summary[
                (result.summary["policy"] == policy) & (result.summary["metric"] == metric)
            ].iloc[0]
            np.testing.assert_allclose(sorted(seg[:, 1]), [row["ci_low"], row["ci_high"]])
    assert [t.get_text() for t in ax.get_xticklabels()] == result.policies
    assert ax.get_xlabel() == "policy" and ax.get_ylabel()
    _save(fig, tmp_path, "costs")


def test_compare_scenarios(result, other, tmp_path):
    results = {"small": result, "busy": other}
    fig = plots.compare_scenarios(results, metric="wait_mean")
    (ax,) = fig.axes
    containers = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [c.get_label() for c in containers] == result.policies
    for container in containers:
        policy = container.get_label()
        assert len(container.errorbar.lines[2][0].get_segments()) == len(results)
        np.testing.assert_allclose(
            [b.get_height() for b in container.patches],
            [_mean(r.summary, policy, "wait_mean") for r in results.values()],
        )
    assert [t.get_text() for t in ax.get_xticklabels()] == list(results)
    assert ax.get_xlabel() == "scenario" and "wait" in ax.get_ylabel()
    _save(fig, tmp_path, "compare")


def test_single_replication_has_no_interval(tmp_path):
    one = simulate(small(horizon_weeks=4), replications=1, seed=3, policies=["fcfs_fast"])
    fig = plots.costs(one)
    container = next(c for c in fig.axes[0].containers if isinstance(c, BarContainer))
    segs = container.errorbar.lines[2][0].get_segments()
    assert all(np.ptp(s[:, 1]) == 0 for s in segs)  # zero-length: no interval to show
    _save(fig, tmp_path, "costs_one")
