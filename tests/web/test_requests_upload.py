"""Uploading requests (caseworker) and units (administrator): a good CSV or XLSX file is imported
under the signed-in account; a file with a bad row shows the file, row, column and what was
expected, and saves nothing."""

from __future__ import annotations

import io

import pandas as pd

from allocator.ledger import Ledger
from allocator.web.testing import NAMES, csrf_of, sign_in

HEADER = "household_id,size,minors,urgency,need_date,expected_stay_days,expected_exit_date,support"
GOOD = f"{HEADER}\nN001,3,1,4,2026-12-01,120,,medium\nN002,2,0,2,2026-12-03,,2027-05-01,low\n"
BAD = f"{GOOD}N003,2,0,9,2026-12-04,90,,high\n"  # urgency 9: spreadsheet row 4
UNITS = "unit_id,kind,capacity,accessible\nNEW-1,flat,4,true\nNEW-2,hub_room,2,false\n"


def _upload(client, path, name, content, **fields):
    data = {"csrf_token": csrf_of(client), **fields}
    files = {"file": (name, content, "application/octet-stream")}
    return client.post(path, data=data, files=files, follow_redirects=False)


def _snapshot(ledger_path):
    with Ledger.open(ledger_path) as ledger:
        return ledger.snapshot()


def _same(before, after):
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name], check_dtype=False)


def test_good_requests_file_is_imported_under_the_caseworker(client, ledger_path):
    """Both rows land, the page says how many, and the audit trail names the caseworker."""
    sign_in(client, "caseworker")
    answer = _upload(client, "/requests/upload", "households.csv", GOOD.encode())
    assert answer.status_code == 303
    assert "2 added, 0 changed, 0 unchanged" in client.get(answer.headers["location"]).text
    with Ledger.open(ledger_path) as ledger:
        households = ledger.table("households").set_index("household_id")
        audit = ledger.table("audit")
    assert households.loc["N002", "expected_exit_date"].isoformat() == "2027-05-01"
    added = audit[(audit.action == "add") & audit.entity_id.isin(["N001", "N002"])]
    assert list(added.actor) == [NAMES["caseworker"]] * 2


def test_bad_row_shows_its_error_and_nothing_is_saved(client, ledger_path):
    """The page names the uploaded file, spreadsheet row 4 and column 'urgency' with what was
    expected; the ledger is exactly as before."""
    sign_in(client, "caseworker")
    before = _snapshot(ledger_path)
    answer = _upload(client, "/requests/upload", "households.csv", BAD.encode())
    assert answer.status_code == 400
    error = answer.text[answer.text.index('id="upload-error"') :]
    assert "Nothing was saved" in error
    assert "<td>households.csv</td>" in error and "<td>4</td>" in error
    assert "<td>urgency</td>" in error and "from 1 to 5" in error
    assert "/tmp" not in answer.text and "upload.csv" not in answer.text
    _same(before, _snapshot(ledger_path))


def test_xlsx_upload_and_day_first_dates(client, ledger_path):
    """An Excel file is read like a CSV; dd/mm/yyyy dates are read day first when asked."""
    frame = pd.DataFrame(
        {
            "household_id": ["X1"],
            "size": [2],
            "urgency": [3],
            "need_date": ["05/12/2026"],
            "expected_stay_days": [60],
        }
    )
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    sign_in(client, "caseworker")
    answer = _upload(client, "/requests/upload", "new.xlsx", buffer.getvalue(), dayfirst="1")
    assert answer.status_code == 303
    with Ledger.open(ledger_path) as ledger:
        need = ledger.table("households").set_index("household_id").loc["X1", "need_date"]
    assert need.isoformat() == "2026-12-05"


def test_unsupported_file_and_missing_file(client, ledger_path):
    """A .xls file is refused naming it; a form without a file asks for one."""
    sign_in(client, "caseworker")
    answer = _upload(client, "/requests/upload", "old <b>.xls", b"whatever")
    assert answer.status_code == 400 and "old &lt;b&gt;.xls" in answer.text
    assert "save it as .xlsx" in answer.text
    empty = client.post("/requests/upload", data={"csrf_token": csrf_of(client)})
    assert empty.status_code == 400 and "choose a .csv or .xlsx file" in empty.text


def test_units_upload_by_an_administrator(client, ledger_path):
    """Units are added under the administrator; a bad units row saves nothing."""
    sign_in(client, "admin")
    assert _upload(client, "/units/upload", "units.csv", UNITS.encode()).status_code == 303
    with Ledger.open(ledger_path) as ledger:
        units = ledger.table("units").set_index("unit_id")
        audit = ledger.table("audit")
    assert units.loc["NEW-1", "capacity"] == 4
    assert set(audit[audit.entity_id == "NEW-1"].actor) == {NAMES["admin"]}
    before = _snapshot(ledger_path)
    bad = UNITS.replace("NEW-2,hub_room,2", "NEW-2,hub_room,0")
    answer = _upload(client, "/units/upload", "units.csv", bad.encode())
    assert answer.status_code == 400
    assert "<td>3</td>" in answer.text and "<td>capacity</td>" in answer.text
    _same(before, _snapshot(ledger_path))
    html = client.get("/units").text
    assert '<th scope="row">NEW-1</th>' in html
