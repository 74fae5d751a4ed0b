"""*This week* lists at most a page of changes against the last approved plan, says how many
there are in all, and filters them by household like the plan's rows."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from allocator.ledger import Ledger
from allocator.web import ConsoleSettings
from allocator.web.testing import FAST, sign_in

PAGE = 5


@pytest.fixture
def settings() -> ConsoleSettings:
    return ConsoleSettings(
        secret_key="test-secret-key-test-secret-key",
        default_language="en",
        hash_time_cost=FAST["time_cost"],
        hash_memory_kib=FAST["memory_kib"],
        page_rows=PAGE,
    )


def _changed_week(ledger_path) -> tuple[int, int]:
    """Approve a week with its later placements announced, close every announced unit on its
    announced day, and propose the next week: (that batch, how many changes it has)."""
    with Ledger.open(ledger_path) as ledger:
        batches = ledger.table("batches")
        week = (
            dt.date.fromisoformat(str(batches.week.max())) + dt.timedelta(days=7)
            if not batches.empty
            else dt.date(2026, 12, 7)
        )
        ledger.approve(ledger.propose(week, method="greedy").batch_id, announce=True)
        told = ledger.announcements()
        units = ledger.table("units")
        for row in told.itertuples():
            units.loc[units.unit_id == row.unit_id, "available_until"] = row.start
        ledger.import_units(units.drop(columns=[c for c in ("district",) if c in units]))
        nxt = ledger.propose(week + dt.timedelta(days=7), method="greedy")
        return nxt.batch_id, len(ledger.changes(nxt.batch_id))


def _change_rows(html: str) -> list[str]:
    section = html.split('id="changes-h"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<th scope="row">([^<]+)</th>', section)


def test_the_changes_list_is_one_page_with_the_total(client, ledger_path):
    """More changes than a page: a page of rows and the sentence with the total; a household's
    search shows its own change only."""
    batch, total = _changed_week(ledger_path)
    assert total > PAGE  # the set-up changes more households than a page holds
    sign_in(client, "viewer")
    html = client.get(f"/week?batch={batch}").text
    shown = _change_rows(html)
    assert len(shown) == PAGE
    assert f"The first {PAGE} of {total} changes" in html
    one = client.get(f"/week?batch={batch}&q={shown[0]}").text
    assert _change_rows(one) == [shown[0]]
    assert "changes; filter by household" not in one
