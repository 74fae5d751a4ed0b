"""The fairness audit's statistics: group waits, intervals, flags, policy comparison and the
overtaking counts, on tables small enough to check by hand or by brute force."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from allocator.analysis.fairness import (
    audit,
    compare_policies,
    group_labels,
    group_waits,
    overtaken,
    overtaken_households,
    size_band,
)
from allocator.errors import InputError


def records(waits, sizes, *, replication=0, policy="p", placed=None, **extra):
    """Records of one run: households in arrival order with the given waits and sizes."""
    n = len(waits)
    frame = pd.DataFrame(
        {
            "replication": replication,
            "policy": policy,
            "household": np.arange(n),
            "order": np.arange(n, dtype=float),
            "need_day": np.arange(n),
            "size": sizes,
            "urgency": 3,
            "support": "medium",
            "accessible": False,
            "language": "",
            "pathway": "family",
            "placed": [True] * n if placed is None else placed,
            "wait": np.asarray(waits, dtype=float),
        }
    )
    for k, v in extra.items():
        frame[k] = v
    return frame


def row(table, grouping, group, policy=None):
    sel = (table["grouping"] == grouping) & (table["group"] == group)
    if policy is not None:
        sel &= table["policy"] == policy
    assert sel.sum() == 1
    return table[sel].iloc[0]


def test_size_bands():
    """Persons fall in the bands 1, 2, 3-4 and 5+."""
    assert list(size_band([1, 2, 3, 4, 5, 9])) == ["1", "2", "3-4", "3-4", "5+", "5+"]


def test_group_statistics_by_hand_over_replications():
    """Two replications: the mean of replication means, its t-interval, the pooled p90, the
    share placed and the paired difference to the rest match a hand computation."""
    r0 = records([2, 4, 10, 20], [1, 1, 5, 5], replication=0, placed=[True, True, True, False])
    r1 = records([0, 2, 6, 12], [1, 1, 5, 5], replication=1)
    table = group_waits(pd.concat([r0, r1]), groupings=["size"])
    big = row(table, "size", "5+")
    # group means 15 and 9; rest means 3 and 1: differences 12 and 8
    half = stats.t.ppf(0.975, 1) * np.std([15, 9], ddof=1) / np.sqrt(2)
    assert big["mean_wait"] == pytest.approx(12.0)
    assert big["ci_low"] == pytest.approx(12 - half) and big["ci_high"] == pytest.approx(12 + half)
    assert big["p90_wait"] == pytest.approx(np.quantile([10, 20, 6, 12], 0.9))
    assert big["share_placed"] == pytest.approx(3 / 4)
    assert big["rest_mean"] == pytest.approx(2.0)
    dhalf = stats.t.ppf(0.975, 1) * np.std([12, 8], ddof=1) / np.sqrt(2)
    assert big["difference"] == pytest.approx(10.0)
    assert big["diff_low"] == pytest.approx(10 - dhalf)
    assert big["households"] == 4 and big["per_replication"] == 2
    assert big["interval"] == "replications, paired t"
    everyone = row(table, "all", "all households")
    assert everyone["mean_wait"] == pytest.approx((9 + 5) / 2)
    assert np.isnan(everyone["difference"]) and everyone["flag"] == ""


def test_one_run_uses_welch_over_households():
    """With one run the group's interval is a t-interval over its households and the difference
    is Welch's two-sample interval (as SciPy computes it)."""
    waits = [1, 3, 2, 8, 12, 9, 15]
    sizes = [1, 1, 1, 5, 5, 5, 5]
    table = group_waits(records(waits, sizes), groupings=["size"])
    big = row(table, "size", "5+")
    a, b = np.array([8, 12, 9, 15.0]), np.array([1, 3, 2.0])
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert big["difference"] == pytest.approx(a.mean() - b.mean())
    assert big["diff_low"] == pytest.approx(ci.low) and big["diff_high"] == pytest.approx(ci.high)
    tci = stats.t.interval(0.95, len(a) - 1, loc=a.mean(), scale=stats.sem(a))
    assert (big["ci_low"], big["ci_high"]) == pytest.approx(tci)
    assert big["flag"] == "longer" and row(table, "size", "1")["flag"] == "shorter"
    assert big["interval"] == "households, Welch t"


def test_flags_only_beyond_the_interval():
    """A group that waits longer in every replication is flagged; one like the rest is not."""
    rng = np.random.default_rng(3)
    runs = []
    for r in range(10):
        sizes = np.array([1, 2, 3, 5] * 25)
        waits = rng.exponential(5, sizes.size) + np.where(sizes >= 5, 20, 0)
        runs.append(records(waits, sizes, replication=r))
    table = group_waits(pd.concat(runs), groupings=["size"])
    assert row(table, "size", "5+")["flag"] == "longer"
    assert row(table, "size", "2")["flag"] in ("", "shorter")
    assert set(table.loc[table["flag"] == "longer", "group"]) == {"5+"}
    assert list(audit(pd.concat(runs), groupings=["size"]).flagged["group"]) == [
        "1",
        "2",
        "3-4",
        "5+",
    ]


def test_intervals_cover_the_true_mean():
    """Seeded frequency check: the 95% interval of a group's mean wait over 8 replications
    covers the true mean in 88-99 of 100 simulated audits, and the difference's interval
    covers the true difference as often."""
    rng = np.random.default_rng(11)
    sizes = np.tile([1, 5], 8 * 20)
    base = records(np.zeros(sizes.size), sizes, replication=np.repeat(np.arange(8), 40))
    hit_mean = hit_diff = 0
    for _ in range(100):
        waits = rng.exponential(np.where(sizes >= 5, 12.0, 4.0))
        big = row(group_waits(base.assign(wait=waits), groupings=["size"]), "size", "5+")
        hit_mean += big["ci_low"] <= 12.0 <= big["ci_high"]
        hit_diff += big["diff_low"] <= 8.0 <= big["diff_high"]
    assert 88 <= hit_mean <= 99
    assert 88 <= hit_diff <= 99


def test_groupings_label_every_attribute():
    """Support, access, mediation, language and pathway labels, a missing pathway as unknown."""
    r = records([1, 2, 3], [1, 2, 6])
    r["support"] = ["low", "high", "medium"]
    r["accessible"] = [True, False, False]
    r["language"] = ["arabic", "", None]
    r["pathway"] = ["family", None, ""]
    assert list(group_labels(r, "support")) == ["low", "high", "medium"]
    assert list(group_labels(r, "accessibility")) == ["step-free", "any unit", "any unit"]
    assert list(group_labels(r, "mediation")) == ["mediation", "none", "none"]
    assert list(group_labels(r, "language")) == ["arabic", "(none)", "(none)"]
    assert list(group_labels(r, "pathway")) == ["family", "unknown", "unknown"]
    with pytest.raises(InputError, match="unknown grouping"):
        group_labels(r, "height")


def test_compare_policies_pairs_replications():
    """The difference is the mean of per-replication differences, with its t-interval; a group
    that waits longer under the policy in every replication is marked longer."""
    runs = []
    for r, (a, b) in enumerate([(10, 4), (12, 5), (11, 5)]):
        runs.append(records([1, a], [1, 5], replication=r, policy="solver"))
        runs.append(records([2, b], [1, 5], replication=r, policy="greedy"))
    c = compare_policies(pd.concat(runs), "solver", "greedy", groupings=["size"])
    big = c[(c["grouping"] == "size") & (c["group"] == "5+")].iloc[0]
    d = np.array([6, 7, 6.0])
    half = stats.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)
    assert big["difference"] == pytest.approx(d.mean())
    assert big["ci_low"] == pytest.approx(d.mean() - half)
    assert big["longer"]
    one = c[(c["grouping"] == "size") & (c["group"] == "1")].iloc[0]
    assert one["difference"] == pytest.approx(-1.0) and not one["longer"]
    with pytest.raises(InputError, match="fcfs"):
        compare_policies(pd.concat(runs), "solver", "fcfs")


def test_missing_column_is_one_line_error():
    """Records without a wait are refused naming the column."""
    with pytest.raises(InputError, match="'wait'"):
        group_waits(records([1], [1]).drop(columns="wait"))


# --- overtaking -----------------------------------------------------------------------------


def brute_overtaken(r: pd.DataFrame, bound: int) -> list[float]:
    """The first overtaking day per household, by looking at every pair."""
    out = []
    for h in r.itertuples():
        end = h.need_day + h.wait
        days = [
            g.start_day
            for g in r.itertuples()
            if g.placed
            and g.order > h.order
            and g.unit_capacity >= h.size
            and (g.unit_accessible or not h.accessible)
            and h.need_day + bound <= g.start_day < end
        ]
        out.append(min(days) if days else np.nan)
    return out


@st.composite
def runs(draw):
    n = draw(st.integers(1, 9))
    need = sorted(draw(st.lists(st.integers(0, 20), min_size=n, max_size=n)))
    rows = []
    for k in range(n):
        placed = draw(st.booleans())
        wait = draw(st.integers(0, 15))
        rows.append(
            {
                "household": k,
                "order": k + 0.5,
                "need_day": need[k],
                "size": draw(st.integers(1, 4)),
                "urgency": draw(st.integers(1, 5)),
                "accessible": draw(st.booleans()),
                "placed": placed,
                "wait": wait,
                "start_day": need[k] + wait if placed else np.nan,
                "unit_capacity": draw(st.integers(1, 4)) if placed else np.nan,
                "unit_accessible": float(draw(st.booleans())) if placed else np.nan,
            }
        )
    return pd.DataFrame(rows)


@settings(max_examples=60, deadline=None)
@given(runs(), st.sampled_from([0, 3, 10]))
def test_overtaken_matches_brute_force(r, bound):
    """The vectorised first-overtaking day equals a pairwise brute force, and the nights run
    from it to the end of the wait."""
    got = overtaken_households(r, bound)
    want = brute_overtaken(r, bound)
    np.testing.assert_array_equal(got["first_overtaken"].to_numpy(), np.array(want, dtype=float))
    end = (r["need_day"] + r["wait"]).to_numpy(float)
    nights = np.where(np.isnan(want), 0.0, end - np.array(want, dtype=float))
    np.testing.assert_array_equal(got["nights"].to_numpy(), nights)


def test_overtaking_by_hand():
    """Household 0 (3 persons) waits 10 days while a later household gets a 4-bed unit on day
    4: overtaken after 0 days (6 nights), not after 7. A smaller unit does not count."""
    r = records([10, 2, 1], [3, 1, 1], unit_capacity=[4.0, 4.0, 2.0], unit_accessible=0.0)
    r["need_day"] = [0, 2, 3]
    r["start_day"] = [10.0, 4.0, 4.0]
    r["urgency"] = [3, 3, 5]
    table = overtaken(r, bounds=(0, 7))
    first = table[table["bound_days"] == 0].iloc[0]
    assert first["households"] == 1 and first["nights"] == 6
    assert first["households_less_urgent"] == 1
    assert table[table["bound_days"] == 7].iloc[0]["households"] == 0


def test_no_units_no_overtaking():
    """Records that do not say which unit a household got give no overtaking table."""
    assert overtaken(records([1, 2], [1, 1])).empty
