"""The weekly-cycle pages log nothing about a household: a whole cycle (an upload with the
planner's file name, a withdrawal, a proposal in the background, a pin, an approval, a move-in,
an exit with a free-text outcome, an extension) leaves no household id, date, free text or
file name in any log record."""

from __future__ import annotations

import datetime as dt
import logging

from allocator.ledger import Ledger
from allocator.web import jobs
from allocator.web.testing import TODAY, csrf_of, sign_in

OUTCOME = "moved to her sister Maria Rossi in via Roma 12"
FILE = "famiglia Bianchi dicembre.csv"
REQUESTS = (
    "household_id,size,minors,urgency,need_date,expected_stay_days\n"
    "LOG-H1,2,0,5,2026-12-01,60\nLOG-H2,1,0,2,2026-12-02,30\n"
)


def _post(client, path, **fields):
    return client.post(path, data={"csrf_token": csrf_of(client), **fields})


def test_a_whole_cycle_logs_no_household_field(app, client, ledger_path, caplog):
    """Every log record of the cycle is free of the household ids, dates, outcome, reasons and
    the uploaded file's name."""
    jobs.use(app.state.console, jobs.Jobs(mode="thread"))
    caplog.set_level(logging.DEBUG)
    sign_in(client, "caseworker")
    files = {"file": (FILE, REQUESTS.encode(), "text/csv")}
    client.post("/requests/upload", data={"csrf_token": csrf_of(client)}, files=files)
    _post(client, "/requests/withdraw", household_id="LOG-H2", reason=OUTCOME)
    sign_in(client, "planner")
    _post(client, "/week/propose", week="2026-12-07", method="greedy")
    job = jobs.wait(app.state.console.engine)
    assert job.state == "done"
    client.get("/week")
    _post(
        client,
        "/week/constraint",
        batch_id=str(job.batch_id),
        household_id="LOG-H1",
        unit_id="U00000",
        action="pin",
    )
    _post(client, "/week/approve", batch_id=str(job.batch_id))
    with Ledger.open(ledger_path) as ledger:
        stays = ledger.table("stays")
    planned = stays[stays.moved_in.isna()]
    running = stays[stays.moved_in.notna() & stays.actual_end.isna()].sort_values("expected_end")
    sign_in(client, "caseworker")
    _post(
        client,
        "/stays/move-in",
        household_id=planned.household_id.iloc[0],
        date=planned.start.iloc[0].isoformat(),
    )
    _post(
        client,
        "/stays/exit",
        household_id=running.household_id.iloc[0],
        date=TODAY.isoformat(),
        pathway="family",
        outcome=OUTCOME,
    )
    end = running.expected_end.iloc[-1] + dt.timedelta(days=2)
    _post(
        client,
        "/stays/extend",
        household_id=running.household_id.iloc[-1],
        expected_end=end.isoformat(),
        reason=OUTCOME,
    )
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "POST /week/propose 303" in logged and "POST /stays/extend 303" in logged
    with Ledger.open(ledger_path) as ledger:
        households = set(ledger.table("households").household_id) | {"LOG-H2"}
    dates = ["2026-12-01", "2026-12-02", TODAY.isoformat(), end.isoformat()]
    forbidden = [*households, *dates, "Rossi", "Bianchi", "famiglia"]
    assert [word for word in forbidden if word in logged] == []
