"""The requests and stays lists page through long tables: each page shows its share of the rows,
and a page number out of range or not a number shows the nearest page, never an error."""

from __future__ import annotations

import re

import pytest

from allocator.web import create_app
from allocator.web.testing import sign_in

ROW = re.compile(r"<tr\b")


@pytest.fixture
def small_pages(ledger_path, settings, clock):
    from starlette.testclient import TestClient

    app = create_app(ledger_path, settings.model_copy(update={"page_rows": 5}), clock=clock)
    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.mark.parametrize("path", ["/requests?show=all", "/stays?show=all"])
def test_pages_split_the_rows_and_any_number_shows_a_page(small_pages, path):
    sign_in(small_pages, "viewer")
    first = small_pages.get(path)
    assert first.status_code == 200
    on_first = len(ROW.findall(first.text))
    assert on_first <= 5 + 1  # five rows and the header
    for asked in ["abc", "-3", "0"]:
        assert small_pages.get(f"{path}&page={asked}").text == first.text, asked
    last = small_pages.get(f"{path}&page=99999")
    assert last.status_code == 200 and 1 <= len(ROW.findall(last.text)) - 1 <= 5
    assert last.text != first.text  # the demo's lists are longer than one page of five
