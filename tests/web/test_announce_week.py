"""*This week* shows the placements announced to families and what the plan changed against the
last approved one, in English and in Italian."""

from __future__ import annotations

import datetime as dt

from allocator.ledger import Ledger
from allocator.web.testing import sign_in


def test_week_page_shows_announcements_and_changes(client, ledger_path):
    """An approved batch announced, then the next week proposed with one announced unit closed:
    the page marks announced households and lists the change with the rule that forced it."""
    with Ledger.open(ledger_path) as ledger:
        batch = ledger.table("batches")
        week = (
            dt.date.fromisoformat(str(batch.week.max())) + dt.timedelta(days=7)
            if not batch.empty
            else dt.date(2026, 12, 7)
        )
        proposal = ledger.propose(week, method="greedy")
        ledger.approve(proposal.batch_id, announce=True)
        told = ledger.announcements().sort_values("household_id")
        assert len(told) >= 2
        first, second = told.iloc[0], told.iloc[1]
        units = ledger.table("units")
        units.loc[units.unit_id == first.unit_id, "available_until"] = first.start
        ledger.import_units(units.drop(columns=[c for c in ("district",) if c in units]))
        nxt = ledger.propose(week + dt.timedelta(days=7), method="greedy")
    sign_in(client, "viewer")
    html = client.get(f"/week?batch={nxt.batch_id}").text
    assert f"announced: {second.unit_id} from" in html
    assert "Changed against the last approved plan" in html
    assert f"unit {first.unit_id} leaves the programme" in html
    italian = client.get(f"/week?batch={nxt.batch_id}", headers={"accept-language": "it"}).text
    assert f"annunciato: {second.unit_id} dal" in italian
    assert "Cambiamenti rispetto all" in italian
