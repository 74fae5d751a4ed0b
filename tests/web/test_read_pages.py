"""The read-side pages show what the ledger holds: *Today* (timeline, waiting list, overdue
stays, units free soon, from `Ledger.status`), *History* (charts of `Ledger.history`), *Audit*
(filters)."""

from __future__ import annotations

import datetime as dt
import re

from allocator.ledger import Ledger
from allocator.web.testing import NAMES, TODAY, sign_in


def test_today_matches_the_ledger_status(client, ledger_path):
    """Every unit has a timeline row; the waiting list, overdue and free tables list the
    households and units `Ledger.status` names, with the same counts in the key figures."""
    with Ledger.open(ledger_path) as ledger:
        status = ledger.status(TODAY)
        units = ledger.table("units")
    sign_in(client, "viewer")
    html = client.get("/today").text
    svg = re.search(r'<svg class="timeline".*?</svg>', html, flags=re.S).group(0)
    for unit in units.unit_id:
        assert f">{unit}<title>" in svg
    assert svg.count('class="today"') == 1
    waiting = re.search(r'id="waiting-h".*?</table>', html, flags=re.S).group(0)
    for row in status["waiting"].itertuples():
        assert (
            f'<th scope="row">{row.household_id}</th><td class="num">{row.waiting_days}</td>'
            in waiting
        )
    free = re.search(r'id="free-h".*?</table>', html, flags=re.S).group(0)
    assert free.count("<tr>") - 1 == len(status["free"])
    summary = status["summary"].iloc[0]
    assert f"<dd>{summary.units_occupied} / {summary.units}</dd>" in html


def test_today_on_another_day_and_a_bad_day(client):
    """?day= shows another day; a day that is not a date is refused with the field named."""
    sign_in(client, "viewer")
    later = TODAY + dt.timedelta(days=200)
    html = client.get(f"/today?day={later.isoformat()}").text
    assert (
        f"Today, {later.month}/{later.day}/{later.year}" in html
        or later.strftime("%d/%m/%Y") in html
    )
    bad = client.get("/today?day=yesterday")
    assert bad.status_code == 400 and "ISO date" in bad.text


def test_overdue_stays_are_listed(client, ledger_path):
    """A stay kept past its expected end shows on *Today* with its days past the end."""
    with Ledger.open(ledger_path) as ledger:
        stays = ledger.table("stays")
        running = stays[stays.actual_end.isna()].sort_values("expected_end").iloc[0]
    sign_in(client, "viewer")
    day = running.expected_end + dt.timedelta(days=3)
    html = client.get(f"/today?day={day.isoformat()}").text
    overdue = re.search(r'id="overdue-h".*?</table>', html, flags=re.S).group(0)
    assert f'<th scope="row">{running.household_id}</th>' in overdue
    assert 'class="bar overdue"' in html


def test_history_draws_every_chart(client, ledger_path):
    """History shows one SVG chart per figure, a point a week, and the weeks in a table."""
    sign_in(client, "viewer")
    html = client.get("/history").text
    charts = re.findall(r'<figure class="chart" id="(\w+)">', html)
    assert charts == ["occupancy", "persons", "hotel", "exits", "stay", "rotation"]
    weeks = html.count('<tr><th scope="row">')
    occupancy = re.search(r'id="occupancy">.*?</figure>', html, flags=re.S).group(0)
    assert occupancy.count("<circle") == weeks > 10
    exits = re.search(r'id="exits">.*?</figure>', html, flags=re.S).group(0)
    assert "<rect" in exits  # the demo's earlier stays ended by several pathways


def test_audit_filters(client, ledger_path):
    """Filtering by account, action and dates narrows the trail; the counts add up."""
    sign_in(client, "viewer")
    sign_in(client, "planner")
    everything = client.get("/audit").text
    total = int(re.search(r"(\d+) changes found", everything).group(1))
    signins = client.get("/audit", params={"action": "sign_in"}).text
    assert re.search(r"(\d+) changes? found", signins).group(1) == "2"
    planner = client.get("/audit", params={"user": NAMES["planner"]}).text
    assert "1 change found" in planner
    none = client.get("/audit", params={"to": "2000-01-01"}).text
    assert "0 changes found" in none and "Nothing recorded matches." in none
    today = client.get("/audit", params={"from": dt.date.today().isoformat()}).text
    assert int(re.search(r"(\d+) changes? found", today).group(1)) == total


def test_viewer_sees_no_button_that_changes_anything(client):
    """A viewer's pages hold no form that POSTs, except signing out."""
    sign_in(client, "viewer")
    for path in ("/today", "/history", "/audit", "/export"):
        html = client.get(path).text
        actions = re.findall(r'<form method="post" action="([^"]+)"', html)
        assert actions == ["/logout"], path


def test_a_change_shows_at_once(client, ledger_path):
    """Pages reuse their figures only while the ledger is unchanged: an exit recorded elsewhere
    shows on the next read of *Today*."""
    sign_in(client, "viewer")
    before = client.get("/today").text
    with Ledger.open(ledger_path, actor=NAMES["caseworker"]) as ledger:
        stays = ledger.table("stays")
        running = stays[stays.actual_end.isna() & stays.moved_in.notna()].iloc[0]
        ledger.exit(running.household_id, TODAY, "private", outcome="ok")
    after = client.get("/today").text
    occupied = re.compile(r"<dd>(\d+) / \d+</dd>")
    assert int(occupied.search(after).group(1)) == int(occupied.search(before).group(1)) - 1


def test_a_sign_in_keeps_the_pages_computed(app, client, ledger_path):
    """Signing in is audited but changes no page: the cached pages stay valid, so a sign-in does
    not make every reader wait for them to be computed again."""
    console = app.state.console
    before = console.stamp()
    sign_in(client, "viewer")
    with Ledger.open(ledger_path) as ledger:
        assert ledger.table("audit").action.iloc[-1] == "sign_in"
    assert console.stamp() == before
