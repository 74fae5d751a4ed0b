"""A planner uploads units and requests (the issue's weekly cycle): both are imported under the
planner's name, a file with a bad row saves nothing; the upload forms show to the roles that may
use them."""

from __future__ import annotations

import pandas as pd

from allocator.ledger import Ledger
from allocator.web.routing import Role
from allocator.web.testing import NAMES, csrf_of, sign_in

UNITS = "unit_id,kind,capacity,accessible\nP-FLAT-1,flat,4,true\n"
HEADER = "household_id,size,minors,urgency,need_date,expected_stay_days,expected_exit_date"
REQUESTS = f"{HEADER}\nP-H1,2,0,5,2026-12-01,60,\nP-H2,3,1,4,2026-12-02,,2027-04-30\n"
BAD = f"{REQUESTS}P-H3,0,0,3,2026-12-03,30,\n"  # size 0: spreadsheet row 4


def _upload(client, path, name, text):
    files = {"file": (name, text.encode(), "text/csv")}
    data = {"csrf_token": csrf_of(client)}
    return client.post(path, data=data, files=files, follow_redirects=False)


def _audit(ledger_path) -> pd.DataFrame:
    with Ledger.open(ledger_path) as ledger:
        return ledger.table("audit")


def test_planner_uploads_units_and_requests(client, ledger_path):
    """Units and requests land, audited under the planner; the bad file adds none of its rows."""
    sign_in(client, "planner")
    assert _upload(client, "/units/upload", "units.csv", UNITS).status_code == 303
    bad = _upload(client, "/requests/upload", "requests.csv", BAD)
    assert bad.status_code == 400 and "<td>4</td>" in bad.text and "<td>size</td>" in bad.text
    assert not _audit(ledger_path).entity_id.isin(["P-H1", "P-H2", "P-H3"]).any()
    assert _upload(client, "/requests/upload", "requests.csv", REQUESTS).status_code == 303
    audit = _audit(ledger_path)
    mine = audit[audit.entity_id.isin(["P-FLAT-1", "P-H1", "P-H2"])]
    assert len(mine) == 3 and set(mine.actor) == {NAMES["planner"]}


def test_upload_forms_show_to_the_roles_that_may_upload(client):
    """Units: admin and planner; requests: caseworker and planner; the request form's button
    stays the caseworker's."""
    for role in Role:
        sign_in(client, role)
        units = client.get("/units").text
        requests = client.get("/requests").text
        assert ('action="/units/upload"' in units) == (role in (Role.ADMIN, Role.PLANNER))
        assert ('action="/requests/upload"' in requests) == (
            role in (Role.CASEWORKER, Role.PLANNER)
        )
        assert ('id="add-request"' in requests) == (role == Role.CASEWORKER)
