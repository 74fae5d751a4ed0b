"""Two sessions approve the same week: exactly one approval lands, and the other planner is told
plainly who approved first and offered to propose the week again."""

from __future__ import annotations

import threading

import pytest
from starlette.testclient import TestClient

from allocator.ledger import Ledger
from allocator.web import accounts
from allocator.web.testing import FAST, NAMES, PASSWORD, csrf_of, sign_in

WEEK = "2026-12-07"
SECOND = "test-planner-2"


@pytest.fixture
def two(app, ledger_path):
    """Two planners, each signed in in their own browser session."""
    with Ledger.open(ledger_path) as ledger:
        accounts.add_account(ledger.engine, "test", SECOND, "planner", PASSWORD, **FAST)
    with (
        TestClient(app, base_url="http://testserver") as a,
        TestClient(app, base_url="http://testserver") as b,
    ):
        assert sign_in(a, "planner").status_code == 303
        assert sign_in(b, SECOND).status_code == 303
        yield a, b


def _approve(client, batch_id):
    data = {"csrf_token": csrf_of(client), "batch_id": str(batch_id)}
    return client.post("/week/approve", data=data, follow_redirects=False)


def _state(ledger_path):
    with Ledger.open(ledger_path) as ledger:
        audit = ledger.table("audit")
        return ledger.table("batches"), ledger.table("stays"), audit[audit.action == "approve"]


def test_same_plan_approved_twice(two, ledger_path):
    """The second approval of one plan changes nothing and names who approved it first."""
    a, b = two
    first, second = _approve(a, 1), _approve(b, 1)
    assert first.status_code == 303
    assert second.status_code == 409
    assert f"Someone approved it first: {NAMES['planner']}" in second.text
    batches, stays, approvals = _state(ledger_path)
    assert len(approvals) == 1 and approvals.actor.iloc[0] == NAMES["planner"]
    assert set(stays.batch_id.dropna()) == {1}


def test_another_plan_of_the_same_week_approved_first(two, ledger_path):
    """Two plans of the same week: once one is approved the other is refused (the ledger moved
    on), the page names the approved plan and its planner, and proposing again works."""
    a, b = two
    with Ledger.open(ledger_path, actor=SECOND) as ledger:
        mine = ledger.propose(WEEK, method="greedy", proposed_by=SECOND).batch_id
    assert _approve(a, 1).status_code == 303
    refused = _approve(b, mine)
    assert refused.status_code == 409
    assert "plan 1 for the week of" in refused.text and f"by {NAMES['planner']}" in refused.text
    assert 'id="propose-again"' in refused.text
    batches, stays, approvals = _state(ledger_path)
    assert batches.set_index("batch_id").loc[mine, "status"] == "proposed"
    assert len(approvals) == 1 and mine not in set(stays.batch_id.dropna())
    page = b.get(f"/week?batch={mine}").text
    assert "can no longer be approved" in page and f"/week/approve?batch={mine}" not in page


def test_simultaneous_approvals_of_one_plan(two, ledger_path):
    """Both planners press Approve at the same moment: one lands, the other is told why."""
    a, b = two
    tokens = {id(c): csrf_of(c) for c in (a, b)}
    start = threading.Barrier(2)
    answers = {}

    def press(client, name):
        start.wait()
        data = {"csrf_token": tokens[id(client)], "batch_id": "1"}
        answers[name] = client.post("/week/approve", data=data, follow_redirects=False)

    threads = [threading.Thread(target=press, args=(c, n)) for c, n in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r.status_code for r in answers.values()) == [303, 409]
    loser = next(r for r in answers.values() if r.status_code == 409)
    assert "Someone approved it first" in loser.text
    _batches, _stays, approvals = _state(ledger_path)
    assert len(approvals) == 1
