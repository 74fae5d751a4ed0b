"""The audit's inputs: per-household records of a simulation, a plan and the ledger agree with
what those report themselves, and the audit's figures draw."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import allocator
from allocator.analysis.fairness import (
    audit,
    records_from_ledger,
    records_from_plan,
    records_from_simulation,
)
from allocator.analysis.plots.fairness import group_waits, policy_differences
from allocator.errors import InputError
from allocator.examples import demo
from allocator.ledger import Ledger
from allocator.simulation import simulate
from allocator.simulation.examples import small


@pytest.fixture(scope="module")
def result():
    return simulate(small(), replications=3, seed=2, policies=["fcfs_fast", "greedy"])


def test_simulation_records_match_the_replications(result):
    """Per replication and policy the records' mean wait is `wait_mean`, their placed count is
    `served` and their count is `households`; the hotel baseline has no records."""
    rec = records_from_simulation(result)
    assert set(rec["policy"]) == {"fcfs_fast", "greedy"}
    reps = result.replications.set_index(["replication", "policy"])
    by = rec.groupby(["replication", "policy"])
    for (r, p), g in by:
        assert g["wait"].mean() == pytest.approx(reps.loc[(r, p), "wait_mean"])
        assert g["placed"].sum() == reps.loc[(r, p), "served"]
        assert len(g) == reps.loc[(r, p), "households"]
    placed = rec[rec["placed"]]
    assert (placed["unit_capacity"] >= placed["size"]).all()
    assert (placed["start_day"] - placed["need_day"] == placed["wait"]).all()


def test_simulation_without_records_is_refused():
    """A result without per-household records is one error naming them."""
    with pytest.raises(InputError, match="per-household records"):
        records_from_simulation(pd.DataFrame())


def test_audit_of_a_simulation_compares_with_fcfs(result):
    """With two policies the audit compares the first with the first-come-first-served one."""
    a = audit(records_from_simulation(result))
    assert set(a.comparison["policy"]) == {"fcfs_fast"}
    assert set(a.comparison["baseline"]) == {"greedy"}
    assert a.replications == 3 and set(a.overtaking["bound_days"]) == {0, 7, 14, 30}


@pytest.fixture(scope="module")
def planned():
    households, units, stays = demo()
    plan = allocator.plan(households, units, stays, start="2026-12-07", method="greedy")
    return plan, households, units


def test_plan_records_match_the_plan(planned):
    """A plan's records carry its waits and placements, and the beds of each unit given."""
    plan, households, units = planned
    rec = records_from_plan(plan, households, units)
    table = plan.placements.set_index("household_id").loc[rec["household"]]
    np.testing.assert_array_equal(rec["wait"].to_numpy(), table["wait_days"].to_numpy(float))
    np.testing.assert_array_equal(rec["placed"].to_numpy(), (table["status"] == "placed"))
    beds = units.set_index("unit_id")["capacity"]
    placed = rec[rec["placed"]]
    expected = table.loc[placed["household"], "unit_id"].map(beds).to_numpy(float)
    np.testing.assert_array_equal(placed["unit_capacity"].to_numpy(), expected)
    assert set(rec["policy"]) == {"plan"}


def test_plan_errors_name_the_column(planned):
    """A plan without wait_days, or a household it does not hold, is one error."""
    plan, households, units = planned
    with pytest.raises(InputError, match="wait_days"):
        records_from_plan(plan.placements.drop(columns="wait_days"), households)
    with pytest.raises(InputError, match="not in the plan"):
        records_from_plan(plan.placements.iloc[1:], households)
    bad = plan.placements.assign(wait_days="soon")
    with pytest.raises(InputError, match="row 2, column 'wait_days'"):
        records_from_plan(bad, households, source="plan.csv")


def test_ledger_records(tmp_path):
    """The ledger's placed households wait from need to their stay's start, the others to
    `today`; households whose need comes after `today` are left out."""
    households, units, _ = demo()
    with Ledger.open(tmp_path / "l.db", create=True) as ledger:
        ledger.import_units(units)
        ledger.import_requests(households)
        ledger.propose("2026-12-07", method="greedy")
        ledger.approve()
        today = dt.date(2026, 12, 20)
        rec = records_from_ledger(ledger, today).set_index("household")
        stays = ledger.table("stays").set_index("household_id")
    need = pd.to_datetime(households.set_index("household_id")["need_date"]).dt.date
    assert set(rec.index) == {h for h, d in need.items() if d <= today}
    for h, r in rec.iterrows():
        if r["placed"]:
            assert r["wait"] == (stays.loc[h, "start"] - need[h]).days
        else:
            assert r["wait"] == (today - need[h]).days
    assert rec["placed"].any() and not rec["placed"].all()


def test_figures_draw(result):
    """The group figure has a panel per grouping and the comparison one bar per group."""
    a = audit(records_from_simulation(result), groupings=["size", "urgency"])
    fig = group_waits(a.groups)
    assert isinstance(fig, Figure) and len([ax for ax in fig.axes if ax.get_visible()]) == 2
    diff = policy_differences(a.comparison)
    assert isinstance(diff, Figure) and len(diff.axes[0].patches) == len(a.comparison)
