"""Announcements in the ledger: approval with ``announce`` records the batch's later placements,
the next proposal keeps them (or says which rule changed them), one household can be announced
or unannounced by hand, move-in and withdrawal remove an announcement, and every step is audited.

Runs on SQLite, and on PostgreSQL when ``ALLOCATOR_TEST_POSTGRES_URL`` is set.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from allocator.errors import InputError
from allocator.examples import generate
from allocator.ledger import Ledger
from allocator.ledger.testing import backends, fresh_url, invariant_violations

WEEK = dt.date(2026, 12, 7)
NEXT = WEEK + dt.timedelta(days=7)


@pytest.fixture(params=backends())
def ledger(request, tmp_path):
    with Ledger.open(fresh_url(request.param, tmp_path), actor="planner-1") as led:
        households, units, _ = generate(14, 5, seed=4)
        units["available_from"] = None
        households["accessible"] = False
        led.import_units(units)
        led.import_requests(households)
        yield led


def _audit(ledger, action):
    audit = ledger.table("audit")
    return audit[audit.action == action]


def _announced_batch(ledger):
    proposal = ledger.propose(WEEK, method="greedy")
    ledger.approve(proposal.batch_id, announce=True)
    return proposal


def test_approval_with_announce_records_the_later_placements(ledger):
    """The placements starting after the commit day become announcements (unit, start, batch),
    each audited; this week's move-ins become stays, not announcements."""
    proposal = _announced_batch(ledger)
    p = proposal.placements
    later = p[(p.status == "placed") & (p.start >= proposal.commit_until)]
    assert len(later) > 0
    told = ledger.announcements().set_index("household_id")
    assert set(told.index) == set(later.household_id)
    for r in later.itertuples():
        assert (told.loc[r.household_id, "unit_id"], told.loc[r.household_id, "start"]) == (
            r.unit_id,
            r.start,
        )
        assert told.loc[r.household_id, "batch_id"] == proposal.batch_id
    assert set(_audit(ledger, "announce").entity_id) == set(later.household_id)
    approve = _audit(ledger, "approve").iloc[-1]
    assert json.loads(approve.detail)["announced"] == len(later)
    assert invariant_violations(ledger) == []


def test_approval_without_announce_records_none(ledger):
    """Plain approval announces nothing (and its audit entry is as before)."""
    proposal = ledger.propose(WEEK, method="greedy")
    ledger.approve(proposal.batch_id)
    assert ledger.announcements().empty
    assert "announced" not in json.loads(_audit(ledger, "approve").iloc[-1].detail)


@pytest.mark.parametrize("method", ["greedy", "solver"])
def test_the_next_proposal_keeps_the_announcements(ledger, method):
    """Next week's plan, with a weight above any saving, keeps every announcement the rules
    allow, says so in the reasons, and lists no change against the approved batch for them."""
    _announced_batch(ledger)
    told = ledger.announcements().set_index("household_id")
    policy = ledger.policy.model_copy(update={"announcement_weight": 1e6})
    proposal = ledger.propose(NEXT, method=method, time_limit=10, policy=policy)
    p = proposal.placements.set_index("household_id")
    for h, row in told.iterrows():
        assert (p.loc[h, "unit_id"], p.loc[h, "start"]) == (row.unit_id, row.start)
        assert p.loc[h, "reason"].endswith("kept")
    assert proposal.changes is not None
    assert not set(proposal.changes.household_id) & set(told.index)
    stored = ledger.changes(proposal.batch_id)
    pd.testing.assert_frame_equal(
        stored.reset_index(drop=True),
        proposal.changes.sort_values("household_id").reset_index(drop=True),
        check_dtype=False,
    )


def test_a_unit_leaving_the_programme_changes_the_announcement_with_the_rule(ledger):
    """The announced unit closes before the stay would end: the next proposal changes the
    placement, and the reason and the changes (also read back from the ledger) name the rule."""
    _announced_batch(ledger)
    told = ledger.announcements().iloc[0]
    units = ledger.table("units")
    units.loc[units.unit_id == told.unit_id, "available_until"] = told.start + dt.timedelta(days=1)
    ledger.import_units(units.drop(columns=[c for c in ("district",) if c in units]))
    proposal = ledger.propose(NEXT, method="greedy")
    rule = f"unit {told.unit_id} leaves the programme on {told.start + dt.timedelta(days=1)}"
    reason = proposal.placements.set_index("household_id").loc[told.household_id, "reason"]
    assert "changed, rule 'availability': the stay runs to " in reason and rule in reason
    note = reason[reason.index(f"announced {told.unit_id} from ") :]
    changes = ledger.changes(proposal.batch_id).set_index("household_id")
    assert changes.loc[told.household_id, "reason"] == note  # the engine's note, read back
    assert changes.loc[told.household_id, "unit_before"] == told.unit_id


def test_one_household_is_announced_and_unannounced_by_hand(ledger):
    """`announce` records or replaces one waiting household's placement; `unannounce` removes
    it; both audited with who did it."""
    h = ledger.table("households").household_id.iloc[0]
    u = ledger.table("units").unit_id.iloc[0]
    ledger.announce(h, u, NEXT + dt.timedelta(days=3), announced_by="planner-2")
    ledger.announce(h, u, NEXT + dt.timedelta(days=4), announced_by="planner-2")
    row = ledger.announcements().set_index("household_id").loc[h]
    assert (row.unit_id, row.start, row.announced_by) == (
        u,
        NEXT + dt.timedelta(days=4),
        "planner-2",
    )
    assert pd.isna(row.batch_id)
    ledger.unannounce(h, by="planner-3")
    assert ledger.announcements().empty
    gone = _audit(ledger, "unannounce").iloc[-1]
    assert gone.actor == "planner-3" and json.loads(gone.detail)["reason"] == "unannounce"
    assert len(_audit(ledger, "announce")) == 2


def test_bad_announcements_are_refused(ledger):
    """Unknown household or unit, a bad date, a household with a stay, or unannouncing a
    household without an announcement: one-line errors naming the field."""
    h = ledger.table("households").household_id.iloc[0]
    u = ledger.table("units").unit_id.iloc[0]
    with pytest.raises(InputError, match="unknown household"):
        ledger.announce("NOBODY", u, NEXT)
    with pytest.raises(InputError, match="unknown unit"):
        ledger.announce(h, "NOWHERE", NEXT)
    with pytest.raises(InputError, match="start"):
        ledger.announce(h, u, "next week")
    with pytest.raises(InputError, match="has no announcement"):
        ledger.unannounce(h)
    proposal = ledger.propose(WEEK, method="greedy")
    ledger.approve(proposal.batch_id)
    housed = ledger.table("stays").household_id.iloc[0]
    with pytest.raises(InputError, match="already has a stay"):
        ledger.announce(housed, u, NEXT)
    assert ledger.announcements().empty


def test_move_in_and_withdrawal_remove_the_announcement(ledger):
    """A household that moves in, or whose request is withdrawn, has no announcement left."""
    _announced_batch(ledger)
    told = ledger.announcements().sort_values("start")
    a, b = told.household_id.iloc[0], told.household_id.iloc[1]
    ledger.withdraw_request(b, "housed by family")
    assert b not in set(ledger.announcements().household_id)
    # the week of its announced start: the announced household is committed, then moves in
    week = told.start.iloc[0]
    proposal = ledger.propose(week, method="greedy")
    ledger.approve(proposal.batch_id)
    stay = ledger.table("stays").set_index("household_id").loc[a]
    ledger.move_in(a, stay.start)
    assert a not in set(ledger.announcements().household_id)
    reasons = [json.loads(d)["reason"] for d in _audit(ledger, "unannounce").detail]
    assert reasons == ["withdrawal", "move_in"]
