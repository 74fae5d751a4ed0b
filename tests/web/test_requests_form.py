"""One request in a form (caseworker): added and edited through the same import and validation
as a file, a refused form saves nothing and marks its fields; withdrawing a waiting request is
audited with its reason, a placed household's is refused."""

from __future__ import annotations

import json
import re

import pandas as pd

from allocator.ledger import Ledger
from allocator.web.testing import NAMES, csrf_of, sign_in

FORM = {
    "household_id": "F-100",
    "size": "4",
    "minors": "2",
    "urgency": "5",
    "need_date": "2026-12-02",
    "expected_stay_days": "",
    "expected_exit_date": "2027-03-31",
    "support": "high",
    "exit_pathway": "public_housing",
    "language": "",
}


def _post(client, path, **fields):
    data = {"csrf_token": csrf_of(client), **FORM, **fields}
    return client.post(path, data=data, follow_redirects=False)


def _households(ledger_path):
    with Ledger.open(ledger_path) as ledger:
        return ledger.table("households").set_index("household_id"), ledger.table("audit")


def test_add_one_request_with_an_exit_date(client, ledger_path):
    """The form's request is stored as typed, audited under the caseworker."""
    sign_in(client, "caseworker")
    assert "<form" in client.get("/requests/new").text
    answer = _post(client, "/requests/new", accessible="1")
    assert answer.status_code == 303
    households, audit = _households(ledger_path)
    row = households.loc["F-100"]
    assert (row["size"], row.urgency, bool(row.accessible)) == (4, 5, True)
    assert row.expected_exit_date.isoformat() == "2027-03-31" and pd.isna(row.expected_stay_days)
    added = audit[(audit.action == "add") & (audit.entity_id == "F-100")]
    assert list(added.actor) == [NAMES["caseworker"]]


def test_refused_form_marks_its_fields_and_saves_nothing(client, ledger_path):
    """Both a stay length and an exit date, or minors above the size: the page says what was
    expected next to the fields, keeps what was typed, and the ledger has no such household."""
    sign_in(client, "caseworker")
    both = _post(client, "/requests/new", expected_stay_days="30")
    assert both.status_code == 400
    assert (
        'id="expected_stay_days" name="expected_stay_days" type="number" min="1" value="30"'
        in both.text
    )
    invalid = re.findall(r'id="(\w+)"[^>]*aria-invalid="true"', both.text)
    assert set(invalid) == {"expected_stay_days", "expected_exit_date"}
    assert "leave one of the two" in both.text
    minors = _post(client, "/requests/new", minors="9")
    assert minors.status_code == 400 and "cannot exceed size" in minors.text
    assert re.findall(r'id="(\w+)"[^>]*aria-invalid="true"', minors.text) == ["minors"]
    households, _audit = _households(ledger_path)
    assert "F-100" not in households.index


def test_edit_a_request_and_a_taken_id(client, ledger_path):
    """Editing changes the stored request (audited as a change); adding an id already known is
    refused rather than overwriting it."""
    sign_in(client, "caseworker")
    _post(client, "/requests/new")
    page = client.get("/requests/edit", params={"household": "F-100"}).text
    assert 'value="F-100" readonly' in page and 'value="2027-03-31"' in page
    assert _post(client, "/requests/edit", urgency="2").status_code == 303
    households, audit = _households(ledger_path)
    assert households.loc["F-100", "urgency"] == 2
    change = audit[(audit.action == "change") & (audit.entity_id == "F-100")]
    assert json.loads(change.detail.iloc[-1])["fields"] == ["urgency"]
    again = _post(client, "/requests/new", urgency="1")
    assert again.status_code == 400 and "already has a request" in again.text
    assert _households(ledger_path)[0].loc["F-100", "urgency"] == 2


def test_withdraw_a_waiting_request(client, ledger_path):
    """A waiting household's request is withdrawn with a reason, audited under the caseworker."""
    sign_in(client, "caseworker")
    with Ledger.open(ledger_path) as ledger:
        waiting = ledger.status("2026-12-09")["waiting"].household_id.iloc[0]
    data = {"csrf_token": csrf_of(client), "household_id": waiting, "reason": "housed by family"}
    answer = client.post("/requests/withdraw", data=data, follow_redirects=True)
    assert f"The request of {waiting} was withdrawn." in answer.text
    households, audit = _households(ledger_path)
    assert waiting not in households.index
    row = audit[audit.action == "withdraw"].iloc[-1]
    assert (
        row.actor == NAMES["caseworker"] and json.loads(row.detail)["reason"] == "housed by family"
    )


def test_withdrawing_a_placed_household_is_refused(client, ledger_path):
    """A household with a stay keeps its request; the page says why."""
    sign_in(client, "caseworker")
    with Ledger.open(ledger_path) as ledger:
        placed = ledger.table("stays").household_id.iloc[0]
    data = {"csrf_token": csrf_of(client), "household_id": placed, "reason": "moved"}
    answer = client.post("/requests/withdraw", data=data)
    assert answer.status_code == 400 and "already placed" in answer.text
    assert placed in _households(ledger_path)[0].index


def test_requests_list_for_a_reader(client):
    """A viewer reads the list but gets no upload, edit or withdraw control."""
    sign_in(client, "viewer")
    html = client.get("/requests?show=all").text
    assert "<table>" in html
    for marker in ("/requests/upload", "/requests/edit", "/requests/withdraw", "/requests/new"):
        assert marker not in html
