"""The reader's language and locale: chosen from Accept-Language or the switch; Italian pages
read dd/mm/yyyy and decimal commas, English ones the browser's region."""

from __future__ import annotations

import datetime as dt

from allocator.web import i18n
from allocator.web.testing import TODAY, sign_in


def test_negotiation_from_accept_language():
    """The first language we speak wins; the browser's region sets the formats."""
    assert i18n.reader_for(None, "it-IT,it;q=0.9,en;q=0.8", "en").language == "it"
    assert i18n.reader_for(None, "de-DE,de;q=0.9,en-US;q=0.5", "it").locale.territory == "US"
    assert i18n.reader_for(None, "en;q=0.2,it;q=0.9", "en").language == "it"
    assert i18n.reader_for(None, "", "it").language == "it"
    assert i18n.reader_for("en", "it-IT", "it").language == "en"  # the switch beats the browser
    assert i18n.reader_for("xx", "it-IT", "en").language == "it"  # a bad cookie is ignored


def test_italian_dates_and_numbers():
    """Italian: 09/12/2026, 1.234,5 and 87,3%; English (GB): 09/12/2026, 1,234.5; US: 12/9/2026."""
    i18n.use(i18n.reader_for("it", None, "it"))
    assert i18n.format_day(TODAY) == "09/12/2026"
    assert i18n.format_number(1234.5, 1) == "1.234,5"
    assert i18n.format_share(0.873) == "87,3%"
    assert i18n.format_moment(dt.datetime(2026, 12, 9, 9, 30)) == "09/12/2026, 10:30"  # UTC+1
    i18n.use(i18n.reader_for("en", "en-GB", "it"))
    assert (i18n.format_day(TODAY), i18n.format_number(1234.5, 1)) == ("09/12/2026", "1,234.5")
    i18n.use(i18n.reader_for(None, "en-US", "it"))
    assert i18n.format_day(TODAY) == "12/9/2026"
    assert i18n.format_day(None) == "" and i18n.format_number(float("nan")) == ""


def test_pages_in_italian(client):
    """With an Italian browser the pages speak Italian and write dates the Italian way."""
    sign_in(client, "planner")
    html = client.get("/today", headers={"Accept-Language": "it-IT,it;q=0.9"}).text
    assert '<html lang="it">' in html
    assert "Oggi, 09/12/2026" in html and "Lista d'attesa" in html
    assert "Waiting list" not in html


def test_switch_remembers_the_language(client):
    """The switch sets a cookie and goes back; later pages follow it over the browser."""
    sign_in(client, "viewer")
    response = client.get("/language/it?next=/history", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/history"
    assert "lang=it" in response.headers["set-cookie"]
    html = client.get("/history", headers={"Accept-Language": "en"}).text
    assert "Andamento, settimana per settimana" in html
    client.get("/language/en?next=https://evil.example/")
    assert "History, week by week" in client.get("/history").text


def test_sign_in_page_in_both_languages(client):
    """Before signing in too: the form's labels in the reader's language."""
    assert "Nome dell'account" in client.get("/login", headers={"Accept-Language": "it"}).text
    assert "Account name" in client.get("/login", headers={"Accept-Language": "en"}).text
