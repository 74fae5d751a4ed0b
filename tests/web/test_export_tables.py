"""*Export*: every ledger table as CSV and Excel, the same rows as the ledger holds, with free
text that looks like a formula defused."""

from __future__ import annotations

import io

import pandas as pd

from allocator.ledger import Ledger
from allocator.ledger.reading import DERIVED, TABLES
from allocator.web.testing import TODAY, sign_in
from allocator.web.views.export import neutralised


def test_every_table_in_both_formats(client, ledger_path):
    """Each table downloads as a CSV and an .xlsx file with the ledger's row count."""
    sign_in(client, "viewer")
    with Ledger.open(ledger_path) as ledger:
        counts = {name: len(ledger.table(name)) for name in TABLES}
    for name in [*TABLES, *DERIVED]:
        csv = client.get(f"/export/{name}.csv")
        assert csv.status_code == 200, name
        assert "attachment" in csv.headers["content-disposition"]
        xlsx = client.get(f"/export/{name}.xlsx")
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK", name
        if name in counts:
            frame = pd.read_csv(io.StringIO(csv.text)) if csv.text.strip() else pd.DataFrame()
            assert len(frame) == counts[name], name
            assert len(pd.read_excel(io.BytesIO(xlsx.content))) == counts[name], name
    assert client.get("/export/users.csv").status_code == 404  # accounts are never exported
    assert client.get("/export/units.pdf").status_code == 404


def test_formula_text_is_defused(client, ledger_path):
    """An exit outcome starting with '=' reaches the sheet as text, not as a formula."""
    with Ledger.open(ledger_path, actor="test-caseworker") as ledger:
        stays = ledger.table("stays")
        household = stays[stays.actual_end.isna()].household_id.iloc[0]
        ledger.exit(household, TODAY, "other", outcome='=HYPERLINK("http://x","y")')
    sign_in(client, "viewer")
    text = client.get("/export/stays.csv").text
    assert "'=HYPERLINK" in text
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(client.get("/export/stays.xlsx").content))
    cells = [c for row in book.active.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert neutralised(pd.DataFrame({"a": ["=1", "+2", "ok", None]})).a.tolist()[:3] == [
        "'=1",
        "'+2",
        "ok",
    ]
