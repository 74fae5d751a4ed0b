"""Errors in the reader's language: an Italian reader sees a refused upload's row error, a
ledger refusal and an error page in Italian (from the errors catalogue), with the file, row and
column, escaped; an English reader sees the CLI's own line."""

from __future__ import annotations

import datetime as dt
import html
import re

import pandas as pd

from allocator.ledger import Ledger
from allocator.web.testing import csrf_of, sign_in

HEADER = "household_id,size,minors,urgency,need_date,expected_stay_days,expected_exit_date,support"
GOOD = "N001,3,1,4,2026-12-01,120,,medium"
SCRIPT = "<script>alert(1)</script>"
ITALIAN = "it-IT,it;q=0.9,en;q=0.5"


def _upload(client, path, name, content):
    data = {"csrf_token": csrf_of(client)}
    files = {"file": (name, content, "text/csv")}
    return client.post(path, data=data, files=files, follow_redirects=False)


def _error_cells(page: str) -> dict[str, str]:
    """The upload error's table as {heading: cell}, the HTML still escaped."""
    box = page[page.index('id="upload-error"') :]
    box = box[: box.index("</table>")]
    rows = re.findall(r'<th scope="row">(.*?)</th><td[^>]*>(.*?)</td>', box)
    return dict(rows)


def test_bad_row_in_italian_names_file_row_and_column(client, ledger_path):
    """A wrong support level (free text with markup) in spreadsheet row 3: the Italian page
    names the file, the row, the column and what was expected, escaped; nothing is saved."""
    client.headers["accept-language"] = ITALIAN
    sign_in(client, "caseworker")
    with Ledger.open(ledger_path) as ledger:
        before = ledger.snapshot()
    bad = f"{HEADER}\n{GOOD}\nN002,2,0,3,2026-12-04,90,,{SCRIPT}\n"
    answer = _upload(client, "/requests/upload", "richieste <b>.csv", bad.encode())
    assert answer.status_code == 400
    cells = _error_cells(answer.text)
    assert cells["File"] == "richieste &lt;b&gt;.csv"
    assert cells["Riga"] == "3"
    assert cells["Colonna"] == "support"
    expected = html.unescape(cells["Che cosa era atteso"])
    assert (
        expected == f"il valore deve essere 'low', 'medium' o 'high' (valore indicato: '{SCRIPT}')"
    )
    assert SCRIPT not in answer.text and "&lt;script&gt;" in answer.text
    assert "Input should be" not in answer.text
    with Ledger.open(ledger_path) as ledger:
        after = ledger.snapshot()
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name], check_dtype=False)


def test_italian_after_the_switch_for_dates_and_stay_clocks(client):
    """With the language switch: a month 13 and both stay clocks given, in Italian."""
    client.get("/language/it?next=/requests")
    sign_in(client, "caseworker")
    month = _upload(
        client,
        "/requests/upload",
        "r.csv",
        f"{HEADER}\nN002,2,0,3,2026-13-04,90,,low\n".encode(),
    )
    cells = _error_cells(month.text)
    assert (cells["Riga"], cells["Colonna"]) == ("2", "need_date")
    assert html.unescape(cells["Che cosa era atteso"]) == (
        "serve una data (AAAA-MM-GG): il mese deve essere da 1 a 12 (valore indicato: '2026-13-04')"
    )
    both = _upload(
        client,
        "/requests/upload",
        "r.csv",
        f"{HEADER}\nN002,2,0,3,2026-12-04,90,2027-02-01,low\n".encode(),
    )
    cells = _error_cells(both.text)
    assert cells["Colonna"] == "expected_stay_days, expected_exit_date"
    assert cells["Che cosa era atteso"].startswith("sono indicati sia expected_stay_days (90)")


def test_english_reader_sees_the_cli_line(client, ledger_path, tmp_path):
    """In English the page shows the error exactly as the CLI words it."""
    from allocator.errors import InputError
    from allocator.ledger.imports import read_records

    sign_in(client, "caseworker")
    bad = f"{HEADER}\nN002,2,0,3,2026-12-04,90,,urgent\n"
    answer = _upload(client, "/requests/upload", "requests.csv", bad.encode())
    shown = html.unescape(_error_cells(answer.text)["What was expected"])
    (tmp_path / "requests.csv").write_text(bad, encoding="utf-8")
    try:
        read_records(tmp_path / "requests.csv", "households")
    except InputError as exc:
        assert shown == exc.message
        assert str(exc).endswith(f": {shown}")
    else:
        raise AssertionError("the file should be refused")


def test_ledger_refusal_in_italian_names_the_field(client):
    """An exit of an unknown household: the ledger's refusal, its field included, in Italian."""
    client.headers["accept-language"] = ITALIAN
    sign_in(client, "caseworker")
    answer = client.post(
        "/stays/exit",
        data={
            "csrf_token": csrf_of(client),
            "household_id": "NOBODY",
            "date": dt.date(2026, 12, 9).isoformat(),
            "pathway": "family",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 400
    assert "campo 'household_id': nucleo sconosciuto: 'NOBODY'" in html.unescape(answer.text)


def test_error_page_in_italian(client):
    """An error the page handler lets out becomes the 400 page, worded in Italian."""
    client.headers["accept-language"] = ITALIAN
    sign_in(client, "planner")
    answer = client.get("/week?batch=abc")
    assert answer.status_code == 400
    assert "campo 'batch': serve il numero di un piano, non 'abc'" in html.unescape(answer.text)


def test_ledger_rule_in_italian_writes_dates_day_first(client, ledger_path):
    """An exit before the move-in: the stay named, its dates as 07/12/2026, in Italian."""
    with Ledger.open(ledger_path) as ledger:
        stays = ledger.table("stays")
    running = stays[stays.moved_in.notna() & stays.actual_end.isna()].iloc[0]
    early = running.moved_in - dt.timedelta(days=1)
    client.headers["accept-language"] = ITALIAN
    sign_in(client, "caseworker")
    answer = client.post(
        "/stays/exit",
        data={
            "csrf_token": csrf_of(client),
            "household_id": running.household_id,
            "date": early.isoformat(),
            "pathway": "family",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 400
    text = html.unescape(answer.text)
    moved_in = running.moved_in.strftime("%d/%m/%Y")
    assert f"uscita prima dell'ingresso: uscita il {early.strftime('%d/%m/%Y')}" in text
    assert f"il nucleo è entrato il {moved_in} (permanenza n. {running.stay_id}" in text


def test_request_form_error_in_italian_beside_its_field(client):
    """The one-request form: minors above the size, in Italian, above and beside the field."""
    client.headers["accept-language"] = ITALIAN
    sign_in(client, "caseworker")
    form = {
        "household_id": "F-200",
        "size": "2",
        "minors": "5",
        "urgency": "3",
        "need_date": "2026-12-02",
        "expected_stay_days": "60",
        "support": "low",
    }
    answer = client.post(
        "/requests/new", data={"csrf_token": csrf_of(client), **form}, follow_redirects=False
    )
    assert answer.status_code == 400
    said = "i minori (5) non possono superare i componenti (2) (valore indicato: '5')"
    text = html.unescape(answer.text)
    assert f"colonna 'minors': {said}" in text
    assert f'<p class="field-error" id="minors-error">{said}</p>' in text


def test_upload_not_utf8_in_italian_names_the_file(client):
    """A CSV saved in Latin-1 (an accented name in row 3): the Italian page names the uploaded
    file, the row of the first bad byte and the byte, and says how to save it."""
    client.headers["accept-language"] = ITALIAN
    sign_in(client, "caseworker")
    bad = f"{HEADER}\n{GOOD}\nN002,2,0,3,2026-12-04,90,,low,città\n".encode("latin-1")
    answer = _upload(client, "/requests/upload", "richieste è.csv", bad)
    assert answer.status_code == 400
    cells = _error_cells(answer.text)
    assert cells["File"] == "richieste è.csv"
    assert cells["Riga"] == "3"
    assert html.unescape(cells["Che cosa era atteso"]) == (
        "il file non è testo UTF-8 (byte 0xe0; in Excel, salvarlo come 'CSV UTF-8')"
    )
    assert "upload.csv" not in answer.text


def test_upload_xlsx_not_a_workbook_in_italian_names_the_file(client):
    """A file named .xlsx that is not a workbook: in Italian, naming the uploaded file."""
    client.headers["accept-language"] = ITALIAN
    sign_in(client, "caseworker")
    answer = _upload(client, "/requests/upload", "posti.xlsx", f"{HEADER}\n{GOOD}\n".encode())
    assert answer.status_code == 400
    cells = _error_cells(answer.text)
    assert cells["File"] == "posti.xlsx"
    detail = html.unescape(cells["Che cosa era atteso"])
    assert detail.startswith("non è un file Excel .xlsx leggibile (")
    assert "upload.xlsx" not in answer.text
