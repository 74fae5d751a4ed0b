"""The demo console's ledger: the demo week of `allocator.examples`, dated from this week, and one
account per role with a random password.

The units and the households waiting are `examples.generate(24, 14, seed=7, occupied_share=0.6)`
(what `allocator demo` plans) with ``start`` this week's Monday; the current stays become stays
moved in on their start day (their households get a request of a size that fits), a few units
get an earlier stay that ended by one of the exit pathways so *History* has exits to show, and
this week's batch is proposed with the greedy method (approving it is left to the planner).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import numpy as np
import pandas as pd

from allocator.choices import EXIT_PATHWAYS
from allocator.ledger import Ledger
from allocator.web import accounts
from allocator.web.routing import Role

SETUP = "demo-setup"
DEMO_ACCOUNTS = {
    Role.ADMIN: "demo-admin",
    Role.PLANNER: "demo-planner",
    Role.CASEWORKER: "demo-caseworker",
    Role.VIEWER: "demo-viewer",
}


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def fill(ledger: Ledger, today: dt.date | None = None, seed: int = 7) -> dt.date:
    """Put the demo week into an empty ``ledger``; returns the week's Monday."""
    from allocator.examples import generate

    week = monday(today or dt.date.today())
    households, units, stays = generate(24, 14, seed=seed, occupied_share=0.6, start=week)
    rng = np.random.default_rng(seed)
    capacity = dict(zip(units.unit_id, units.capacity, strict=True))
    past: list[dict[str, Any]] = []
    residents = []
    # records of plain values (pandas' row types are too wide for date arithmetic to type-check)
    current: list[dict[str, Any]] = stays.to_dict(orient="records")  # type: ignore[assignment]
    for k, st in enumerate(current):
        residents.append(
            {
                "household_id": st["household_id"],
                "size": int(rng.integers(1, capacity[st["unit_id"]] + 1)),
                "minors": 0,
                "urgency": int(rng.integers(1, 6)),
                "need_date": st["start"],
                "expected_stay_days": max(1, (st["expected_end"] - st["start"]).days),
                "support": "medium",
                "accessible": False,
                "exit_pathway": None,
                "language": None,
            }
        )
        if k % 2 == 0 and (st["start"] - week).days < -60:  # an earlier stay ended, in half
            moved = st["start"] - dt.timedelta(days=int(rng.integers(60, 160)))
            left = st["start"] - dt.timedelta(days=int(rng.integers(7, 20)))
            past.append(
                {
                    "household_id": f"P{k:05d}",
                    "unit_id": st["unit_id"],
                    "moved_in": moved,
                    "left": left,
                    "pathway": EXIT_PATHWAYS[k % len(EXIT_PATHWAYS)],
                }
            )
    for p in past:
        residents.append(
            {
                **residents[0],
                "household_id": p["household_id"],
                "size": 1,
                "urgency": 3,
                "need_date": p["moved_in"],
                "expected_stay_days": (p["left"] - p["moved_in"]).days + 14,
            }
        )
    ledger.import_units(units)
    ledger.import_requests(pd.concat([households, pd.DataFrame(residents)], ignore_index=True))
    for p in past:
        ledger.move_in(p["household_id"], p["moved_in"], unit_id=p["unit_id"])
        ledger.exit(p["household_id"], p["left"], p["pathway"], outcome="demo")
    for st in current:
        end = max(st["expected_end"], st["start"] + dt.timedelta(days=1))
        ledger.move_in(st["household_id"], st["start"], unit_id=st["unit_id"], expected_end=end)
    ledger.propose(week, method="greedy")
    return week


def add_demo_accounts(ledger: Ledger, **hash_costs: int) -> dict[str, tuple[Role, str]]:
    """One account per role with a fresh random password: {name: (role, password)}."""
    made = {}
    for role, name in DEMO_ACCOUNTS.items():
        password = secrets.token_urlsafe(12)
        accounts.add_account(ledger.engine, SETUP, name, role.value, password, **hash_costs)
        made[name] = (role, password)
    return made
