"""A whole session against the real server (uvicorn on loopback) logs no household field: no
household id, date or free text, no password, no query string; but it does log the requests."""

from __future__ import annotations

import logging
import threading
import time

import httpx2 as httpx
import pytest

from allocator.ledger import Ledger
from allocator.web import create_app
from allocator.web.server import server
from allocator.web.testing import CSRF, NAMES, PASSWORD, TODAY

OUTCOME = "moved to her sister Maria Rossi in via Roma 12"


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.getMessage()}")
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


@pytest.fixture
def live(ledger_path, settings, clock):
    app = create_app(ledger_path, settings, clock=clock)
    srv = server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "the server did not start"
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_session_logs_hold_no_household_field(ledger_path, live):
    """Sign in, open every page with filters naming households, export, fail a few things:
    the log lines name routes and statuses only."""
    with Ledger.open(ledger_path, actor=NAMES["caseworker"]) as ledger:
        households = ledger.table("households")
        stays = ledger.table("stays")
        running = stays[stays.actual_end.isna()].household_id.iloc[0]
        ledger.exit(running, TODAY, "family", outcome=OUTCOME)
    collect = Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    try:
        with httpx.Client(base_url=live, follow_redirects=True, timeout=30) as browser:
            token = CSRF.search(browser.get("/login").text).group(1)
            browser.post(
                "/login", data={"name": "nobody", "password": PASSWORD, "csrf_token": token}
            )
            form = {"name": NAMES["admin"], "password": PASSWORD, "csrf_token": token}
            assert browser.post("/login", data=form).status_code == 200
            hid = str(households.household_id.iloc[0])
            for path in (
                "/today",
                f"/today?day={TODAY.isoformat()}",
                "/history",
                f"/audit?user={NAMES['caseworker']}&action=exit",
                f"/audit?user={hid}",
                "/export/households.csv",
                "/export/stays.xlsx",
                "/export/audit.csv",
                f"/stays/{hid}",  # no such page: 404
                f"/today?day={hid}",  # refused: 400 naming the bad value in the page only
                "/users",
            ):
                browser.get(path)
    finally:
        root.removeHandler(collect)
        root.setLevel(old_level)
    client_side = ("httpx", "httpcore")  # the test's own HTTP client, not the server
    text = "\n".join(line for line in collect.lines if not line.startswith(client_side))
    assert "allocator.web GET /today 200" in text  # the requests are logged, by route
    assert "GET /export/{table}.{fmt} 200" in text
    forbidden = {PASSWORD, OUTCOME, "Maria", "via Roma", "day=", "user=", "family"}
    forbidden |= set(households.household_id.astype(str))
    forbidden |= {d.isoformat() for d in households.need_date}
    found = sorted(word for word in forbidden if word in text)
    assert found == [], found
