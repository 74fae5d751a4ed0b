"""*Stays* (caseworker): a move-in, an exit with pathway and outcome and an extension with its
reason are recorded and audited under the caseworker; a change a rule refuses saves nothing;
free text such as ``<script>alert(1)</script>`` comes back escaped."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from allocator.ledger import Ledger
from allocator.web.testing import NAMES, TODAY, csrf_of, sign_in

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _post(client, path, **fields):
    return client.post(path, data={"csrf_token": csrf_of(client), **fields}, follow_redirects=False)


def _stays(ledger_path):
    with Ledger.open(ledger_path) as ledger:
        return ledger.table("stays").set_index("household_id"), ledger.table("audit")


def _running(ledger_path):
    stays, _audit = _stays(ledger_path)
    open_ = stays[stays.moved_in.notna() & stays.actual_end.isna()]
    return open_.sort_values("expected_end")


def test_move_in_of_a_planned_stay(client, ledger_path):
    """After approval a planned stay's move-in is recorded by the caseworker."""
    with Ledger.open(ledger_path, actor="test-planner") as ledger:
        ledger.approve(1)
        planned = ledger.table("stays")
    planned = planned[planned.moved_in.isna()].iloc[0]
    sign_in(client, "caseworker")
    assert f'value="{planned.household_id}"' in client.get("/stays?show=planned").text
    answer = _post(
        client,
        "/stays/move-in",
        household_id=planned.household_id,
        date=planned.start.isoformat(),
        back="/stays?show=planned",
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/stays?show=planned"
    stays, audit = _stays(ledger_path)
    assert stays.loc[planned.household_id, "moved_in"] == planned.start
    assert audit[audit.action == "move_in"].actor.iloc[-1] == NAMES["caseworker"]


def test_exit_and_extension_with_free_text_shown_escaped(client, ledger_path):
    """An exit's outcome and an extension's reason holding a script are stored as typed and
    shown escaped on Stays and on Audit."""
    running = _running(ledger_path)
    leaving, staying = running.index[0], running.index[1]
    sign_in(client, "caseworker")
    left = _post(
        client,
        "/stays/exit",
        household_id=leaving,
        date=TODAY.isoformat(),
        pathway="rental_agency",
        outcome=SCRIPT,
    )
    assert left.status_code == 303
    new_end = running.loc[staying, "expected_end"] + dt.timedelta(days=5)
    extended = _post(
        client,
        "/stays/extend",
        household_id=staying,
        expected_end=new_end.isoformat(),
        reason=SCRIPT,
    )
    assert extended.status_code == 303
    stays, audit = _stays(ledger_path)
    assert stays.loc[leaving, "exit_outcome"] == SCRIPT
    assert stays.loc[leaving, "exit_pathway"] == "rental_agency"
    assert stays.loc[staying, "expected_end"] == new_end
    assert set(audit[audit.action.isin(["exit", "extend"])].tail(2).actor) == {NAMES["caseworker"]}
    for page in ("/stays?show=all", "/audit"):
        html = client.get(page).text
        assert SCRIPT not in html and ESCAPED in html


def test_refused_change_saves_nothing(client, ledger_path):
    """An exit before the move-in, or an extension without a reason, is refused with the
    ledger's words; the ledger is unchanged."""
    running = _running(ledger_path)
    household = running.index[0]
    sign_in(client, "caseworker")  # audited: before the snapshot
    with Ledger.open(ledger_path) as ledger:
        before = ledger.snapshot()
    early = running.loc[household, "moved_in"] - dt.timedelta(days=1)
    answer = _post(
        client, "/stays/exit", household_id=household, date=early.isoformat(), pathway="family"
    )
    assert answer.status_code == 400 and "Nothing was recorded" in answer.text
    assert "exit before move-in" in answer.text
    later = running.loc[household, "expected_end"] + dt.timedelta(days=3)
    answer = _post(
        client, "/stays/extend", household_id=household, expected_end=later.isoformat(), reason=" "
    )
    assert answer.status_code == 400 and "a reason is needed" in answer.text
    with Ledger.open(ledger_path) as ledger:
        after = ledger.snapshot()
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name], check_dtype=False)


def test_move_in_outside_the_weekly_plan(client, ledger_path):
    """A waiting household moves into a unit free from today by hand, audited as a manual
    move-in under the caseworker."""
    with Ledger.open(ledger_path) as ledger:
        status = ledger.status(TODAY, weeks=8)
        households = ledger.table("households").set_index("household_id")
        units = ledger.table("units").set_index("unit_id")
    free = status["free"]
    free = free[(pd.to_datetime(free.free_from).dt.date <= TODAY) & free.free_until.isna()]
    unit = free.unit_id.iloc[0]
    waiting = households.loc[status["waiting"].household_id]
    fits = waiting[
        (waiting["size"] <= units.loc[unit, "capacity"])
        & (~waiting.accessible | bool(units.loc[unit, "accessible"]))
    ]
    household = fits.index[0]
    sign_in(client, "caseworker")
    answer = _post(
        client, "/stays/move-in", household_id=household, unit_id=unit, date=TODAY.isoformat()
    )
    assert answer.status_code == 303, answer.text
    stays, audit = _stays(ledger_path)
    assert stays.loc[household, "unit_id"] == unit
    move = audit[audit.action == "move_in"].iloc[-1]
    assert move.actor == NAMES["caseworker"] and '"manual": true' in move.detail


def test_readers_see_no_stay_controls(client):
    """Viewers and planners read the stays but cannot record anything."""
    for role in ("viewer", "planner"):
        sign_in(client, role)
        html = client.get("/stays?show=all").text
        assert '<table class="stays">' in html
        assert "/stays/move-in" not in html and "/stays/exit" not in html
