"""Approving *This week* can also announce the plan's later placements to the families: only
when the planner ticks the box, and the page says how many were announced."""

from __future__ import annotations

import pandas as pd

from allocator.ledger import Ledger
from allocator.web.testing import csrf_of, sign_in

BOX = 'name="announce" type="checkbox"'


def _proposed(ledger_path) -> int:
    """The demo ledger's proposed batch, with at least one placement after its commit day."""
    with Ledger.open(ledger_path) as ledger:
        batches = ledger.table("batches")
        batch = batches[batches.status == "proposed"].sort_values("batch_id").iloc[-1]
        placements = ledger.table("placements")
    mine = placements[(placements.batch_id == batch.batch_id) & (placements.status == "placed")]
    later = pd.to_datetime(mine.start) >= pd.Timestamp(batch.commit_until)
    assert later.any(), "the demo batch has no later placement to announce"
    return int(batch.batch_id)


def _later(ledger_path, batch_id: int) -> set[str]:
    with Ledger.open(ledger_path) as ledger:
        batch = ledger.table("batches").set_index("batch_id").loc[batch_id]
        placements = ledger.table("placements")
    mine = placements[(placements.batch_id == batch_id) & (placements.status == "placed")]
    return set(mine[pd.to_datetime(mine.start) >= pd.Timestamp(batch.commit_until)].household_id)


def _announced(ledger_path) -> pd.DataFrame:
    with Ledger.open(ledger_path) as ledger:
        return ledger.announcements()


def _approve(client, batch_id: int, **extra: str):
    data = {"csrf_token": csrf_of(client), "batch_id": str(batch_id), **extra}
    return client.post("/week/approve", data=data, follow_redirects=False)


def test_confirmation_offers_the_box_unticked(client, ledger_path):
    """The confirmation page has the labelled checkbox, not ticked."""
    batch_id = _proposed(ledger_path)
    sign_in(client, "planner")
    html = client.get(f"/week/approve?batch={batch_id}").text
    assert f'<input id="announce" {BOX} value="1">' in html
    assert '<label for="announce">Also announce the later placements' in html


def test_ticked_box_announces_the_later_placements(client, ledger_path):
    """With the box ticked the later placements are announced and the message gives the count."""
    batch_id = _proposed(ledger_path)
    later = _later(ledger_path, batch_id)
    sign_in(client, "planner")
    response = _approve(client, batch_id, announce="1")
    assert response.status_code == 303
    told = _announced(ledger_path)
    assert set(told.household_id) == later
    assert set(told.batch_id) == {batch_id}
    page = client.get(response.headers["location"]).text
    n = len(later)
    noun = "placement" if n == 1 else "placements"
    assert f"{n} later {noun} announced to the families." in page


def test_unticked_box_announces_nothing(client, ledger_path):
    """Without the box the plan is approved and nothing is announced, nor said to be."""
    batch_id = _proposed(ledger_path)
    sign_in(client, "planner")
    response = _approve(client, batch_id)
    assert response.status_code == 303
    assert _announced(ledger_path).empty
    page = client.get(response.headers["location"]).text
    assert "Plan approved" in page
    assert "announced to the families" not in page


def test_viewer_cannot_approve(client, ledger_path):
    """A viewer's POST is refused and changes nothing."""
    batch_id = _proposed(ledger_path)
    sign_in(client, "viewer")
    assert _approve(client, batch_id, announce="1").status_code == 403
    assert _announced(ledger_path).empty


def test_approval_needs_the_csrf_token(client, ledger_path):
    """A POST without the session's token is refused and announces nothing."""
    batch_id = _proposed(ledger_path)
    sign_in(client, "planner")
    data = {"batch_id": str(batch_id), "announce": "1"}
    assert client.post("/week/approve", data=data, follow_redirects=False).status_code == 403
    assert _announced(ledger_path).empty
