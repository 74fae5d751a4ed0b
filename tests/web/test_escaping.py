"""Free text (an exit outcome, an extension's reason) shows escaped: a script stays text."""

from __future__ import annotations

from allocator.ledger import Ledger
from allocator.web.testing import TODAY, sign_in

SCRIPT = "<script>alert(1)</script>"


def test_exit_outcome_and_reason_are_escaped(ledger_path, client):
    """An exit outcome and an extension reason holding a script appear escaped on Audit."""
    with Ledger.open(ledger_path, actor="test-caseworker") as ledger:
        stays = ledger.table("stays")
        running = stays[stays.actual_end.isna()].sort_values("household_id")
        first, second = running.household_id.iloc[0], running.household_id.iloc[1]
        ledger.exit(first, TODAY, "private", outcome=SCRIPT)
        end = running.expected_end.iloc[1]
        ledger.extend(second, end + __import__("datetime").timedelta(days=3), reason=SCRIPT)
    sign_in(client, "viewer")
    html = client.get("/audit").text
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("&lt;script&gt;") >= 2


def test_query_values_are_escaped(client):
    """A filter value from the URL comes back escaped, never as markup."""
    sign_in(client, "viewer")
    html = client.get("/audit", params={"user": '"><script>alert(1)</script>'}).text
    assert "<script>alert(1)" not in html
