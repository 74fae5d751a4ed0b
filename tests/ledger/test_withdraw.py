"""Withdrawing a request: a waiting household leaves the ledger with a reason in the audit trail;
a placed one is refused with nothing changed; a proposal that placed it can no longer be approved.

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
from allocator.ledger.testing import backends, fresh_url

WEEK = dt.date(2026, 12, 7)


@pytest.fixture(params=backends())
def ledger(request, tmp_path):
    with Ledger.open(fresh_url(request.param, tmp_path), actor="caseworker-3") as led:
        households, units, _ = generate(12, 6, seed=4)
        units["available_from"] = None
        households["accessible"] = False
        led.import_units(units)
        led.import_requests(households)
        yield led


def _unchanged(ledger, action, match):
    before, version = ledger.snapshot(), ledger.version
    with pytest.raises(InputError, match=match):
        action()
    assert ledger.version == version
    for name, frame in ledger.snapshot().items():
        pd.testing.assert_frame_equal(before[name], frame, check_dtype=False)


def test_withdrawn_request_leaves_the_waiting_list_and_is_audited(ledger):
    """The household is gone from the requests and the waiting list; the audit trail names who,
    why, and keeps the request's fields."""
    household = ledger.table("households").household_id.iloc[0]
    ledger.withdraw_request(household, "found a flat with family")
    assert household not in set(ledger.table("households").household_id)
    assert household not in set(ledger.status(WEEK)["waiting"].household_id)
    audit = ledger.table("audit")
    row = audit[audit.action == "withdraw"].iloc[-1]
    assert (row.actor, row.entity, row.entity_id) == ("caseworker-3", "household", household)
    detail = json.loads(row.detail)
    assert detail["reason"] == "found a flat with family" and "need_date" in detail


def test_placed_household_is_refused_and_nothing_changes(ledger):
    """A household with a stay cannot be withdrawn; the refusal says to record the exit."""
    proposal = ledger.propose(WEEK, method="greedy")
    ledger.approve(proposal.batch_id)
    placed = ledger.table("stays").household_id.iloc[0]
    _unchanged(ledger, lambda: ledger.withdraw_request(placed, "moved away"), "already placed")


def test_withdrawal_needs_a_reason_and_a_known_household(ledger):
    """An empty reason, a reason over 200 characters, or an unknown id is refused."""
    household = ledger.table("households").household_id.iloc[0]
    _unchanged(ledger, lambda: ledger.withdraw_request(household, "  "), "reason is needed")
    _unchanged(ledger, lambda: ledger.withdraw_request(household, "x" * 201), "longer than")
    _unchanged(ledger, lambda: ledger.withdraw_request("NOBODY", "gone"), "unknown household")


def test_a_proposal_that_placed_the_household_cannot_be_approved(ledger):
    """Approving a batch planned with the withdrawn household is refused (the version moved):
    the week must be proposed again, and the new plan leaves the household out."""
    proposal = ledger.propose(WEEK, method="greedy")
    household = proposal.to_commit.household_id.iloc[0]
    ledger.withdraw_request(household, "no longer needs a place")
    with pytest.raises(InputError, match="propose the week again"):
        ledger.approve(proposal.batch_id)
    again = ledger.propose(WEEK, method="greedy")
    assert household not in set(again.placements.household_id)
    ledger.approve(again.batch_id)


def test_withdrawing_an_unplaced_household_keeps_the_proposal_valid(ledger):
    """A household the proposal did not place can be withdrawn without spoiling the plan."""
    proposal = ledger.propose(WEEK, method="greedy")
    placed = set(proposal.placements[proposal.placements.status == "placed"].household_id)
    waiting = [h for h in ledger.table("households").household_id if h not in placed]
    if not waiting:
        pytest.skip("the example places every household")
    ledger.withdraw_request(waiting[0], "request closed")
    ledger.approve(proposal.batch_id)
    assert len(ledger.table("stays")) == len(proposal.to_commit)
