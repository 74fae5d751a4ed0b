"""Helpers for testing the console (and a later page's tests): a demo ledger with one account
per role, a clock to move by hand, and signing a test client in through the real form."""

from __future__ import annotations

import datetime as dt
import os
import re

from allocator.ledger import Ledger
from allocator.web import accounts, demo
from allocator.web.routing import Role

TODAY = dt.date(2026, 12, 9)  # a Wednesday: the demo week starts on Monday the 7th
PASSWORD = "correct horse battery"
NAMES = {role: f"test-{role.value}" for role in Role}
FAST = {"time_cost": 1, "memory_kib": 64}  # argon2's cheapest: tests sign in hundreds of times
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
INPUT = re.compile(r'<input[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"')
SELECT = re.compile(r'<select[^>]*\bname="([^"]+)"[^>]*>(.*?)</select>', re.S)


class Clock:
    """A clock the tests move by hand (seconds, like `time.time`), from noon UTC of ``day``."""

    def __init__(self, day: dt.date = TODAY) -> None:
        self.now = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC).timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += 60 * minutes


def demo_ledger(path: str | os.PathLike, today: dt.date = TODAY) -> None:
    """A new ledger at ``path``: the demo week of ``today`` and a test account per role
    (`NAMES`, all with `PASSWORD`)."""
    with Ledger.open(path, actor=demo.SETUP) as ledger:
        demo.fill(ledger, today)
        for role, name in NAMES.items():
            accounts.add_account(ledger.engine, demo.SETUP, name, role.value, PASSWORD, **FAST)


def csrf_of(client) -> str:
    """The session's CSRF token, as the page forms carry it."""
    match = CSRF.search(client.get("/login").text)
    if match is None:
        match = CSRF.search(client.get("/today").text)
    assert match is not None, "no form with a CSRF token"
    return match.group(1)


def sign_in(client, who: Role | str, password: str = PASSWORD, next_page: str = "/today"):
    """Sign ``client`` in through the form, as a role's test account or a named account."""
    name = NAMES[Role(who)] if who in set(Role) else str(who)
    data = {"name": name, "password": password, "csrf_token": csrf_of(client), "next": next_page}
    return client.post("/login", data=data, follow_redirects=False)


def form_values(html: str) -> dict[str, str]:
    """The values a browser would send for the page's form, as it stands."""
    form = dict(INPUT.findall(html))
    for name, options in SELECT.findall(html):
        chosen = re.search(r'value="([^"]*)" selected', options)
        if chosen is not None:
            form[name] = chosen.group(1)
    return form
