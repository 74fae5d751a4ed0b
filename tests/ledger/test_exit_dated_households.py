"""The ledger with households that give an expected exit date instead of a stay length.

Requests of both kinds import (CSV and Excel dates), and a row with both, neither, or an exit
date not after its need date is refused naming file, row and column; the week is planned with
the exit dates; a move-in ends at the exit date or the maximum stay, whichever comes first, and
is refused once the exit date is past; an extension moves the exit later under the usual rules;
status, history and exports show the exit dates. SQLite, and PostgreSQL when
``ALLOCATOR_TEST_POSTGRES_URL`` is set.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from allocator import InputError, Policy
from allocator.cli import app
from allocator.errors import AllocatorError
from allocator.ledger import Ledger
from allocator.ledger.testing import backends, fresh_url, invariant_violations

D0 = dt.date(2026, 12, 7)
DAY = dt.timedelta(days=1)
MAX_STAY = 100
TURNOVER = 3

UNITS = pd.DataFrame(
    {
        "unit_id": ["U1", "U2", "U3"],
        "kind": ["flat", "flat", "hub_room"],
        "capacity": [4, 4, 2],
        "available_until": [None, None, D0 + 200 * DAY],
    }
)
# E1 leaves on D0 + 40 whenever it moves in; L1 stays 30 nights from its move-in; ELONG's exit is
# past the maximum stay
HOUSEHOLDS = pd.DataFrame(
    [
        ("E1", 2, 5, D0, None, D0 + 40 * DAY),
        ("L1", 2, 4, D0, 30, None),
        ("ELONG", 3, 3, D0, None, D0 + 300 * DAY),
    ],
    columns=["household_id", "size", "urgency", "need_date", "expected_stay_days",
             "expected_exit_date"],
).astype({"expected_stay_days": "Int64"})  # fmt: skip


def _request(household_id, need_date, days=None, exit=None, size=1) -> list[dict]:
    """One request, of the kind its arguments say."""
    clock = {"expected_stay_days": days} if days is not None else {"expected_exit_date": exit}
    row = {"household_id": household_id, "size": size, "urgency": 1, "need_date": need_date}
    return [row | clock]


# EGONE's exit came before the week: it left while waiting
GONE = _request("EGONE", D0 - 30 * DAY, exit=D0 - 2 * DAY)


def _requests(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=HOUSEHOLDS.columns).astype({"expected_stay_days": "Int64"})


@pytest.fixture(params=backends())
def ledger_url(request, tmp_path) -> str:
    return fresh_url(request.param, tmp_path)


@pytest.fixture
def ledger(ledger_url):
    policy = Policy(max_stay_days=MAX_STAY, turnover_days=TURNOVER)
    with Ledger.open(ledger_url, actor="tester", policy=policy) as led:
        led.import_units(UNITS)
        led.import_requests(HOUSEHOLDS)
        yield led


def _unchanged(ledger, action, match=None):
    before, version = ledger.snapshot(), ledger.version
    with pytest.raises(AllocatorError, match=match):
        action()
    after = ledger.snapshot()
    assert ledger.version == version
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], check_dtype=False)


def _stay(ledger, household_id):
    return ledger.table("stays").set_index("household_id").loc[household_id]


def _placed(ledger) -> pd.DataFrame:
    """Propose D0's week (greedy) and approve it; the placements by household."""
    proposal = ledger.propose(D0, method="greedy")
    ledger.approve(proposal.batch_id, approver="p1")
    return proposal.placements.set_index("household_id")


# --- requests --------------------------------------------------------------------------------


def test_requests_of_both_kinds_import_and_reimport_unchanged(ledger, tmp_path):
    """Each kind keeps its own field, blank cells the other; the same file twice changes nothing;
    Excel date cells read as dates."""
    stored = ledger.table("households").set_index("household_id")
    assert stored.expected_exit_date["E1"] == D0 + 40 * DAY
    assert pd.isna(stored.expected_stay_days["E1"])
    assert stored.expected_stay_days["L1"] == 30 and pd.isna(stored.expected_exit_date["L1"])
    path = tmp_path / "households.csv"
    HOUSEHOLDS.to_csv(path, index=False)
    assert ledger.import_requests(path).unchanged == len(HOUSEHOLDS)
    xlsx = tmp_path / "households.xlsx"
    frame = HOUSEHOLDS.assign(
        household_id=HOUSEHOLDS.household_id + "-X",
        expected_exit_date=pd.to_datetime(HOUSEHOLDS.expected_exit_date),  # date cells
    )
    frame.to_excel(xlsx, index=False)
    assert ledger.import_requests(xlsx).added == len(HOUSEHOLDS)
    stored = ledger.table("households").set_index("household_id")
    assert stored.expected_exit_date["E1-X"] == D0 + 40 * DAY


BAD_ROWS = {  # the row, and whether the refusal is about the exit coming too early
    "both": (("H9", 1, 3, D0, 20, D0 + 20 * DAY), False),
    "neither": (("H9", 1, 3, D0, None, None), False),
    "exit before need": (("H9", 1, 3, D0, None, D0 - DAY), True),
    "exit on need": (("H9", 1, 3, D0, None, D0), True),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_a_request_with_both_neither_or_an_early_exit_is_refused_naming_file_row_column(
    ledger, tmp_path, case
):
    """The third record (spreadsheet row 4) is named with the file and the column; nothing is
    imported."""
    row, early = BAD_ROWS[case]
    path = tmp_path / "requests.csv"
    _requests(*HOUSEHOLDS.head(2).itertuples(index=False), row).to_csv(path, index=False)
    _unchanged(ledger, lambda: ledger.import_requests(path))
    with pytest.raises(InputError) as refused:
        ledger.import_requests(path)
    err = refused.value
    assert (Path(str(err.source)).name, err.row) == ("requests.csv", 4), str(err)
    assert err.column is not None and "expected_exit_date" in err.column, str(err)
    assert early == ("after need_date" in err.message), str(err)


def test_cli_import_error_is_one_line_with_file_row_and_column(ledger_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = [*HOUSEHOLDS.head(1).itertuples(index=False), BAD_ROWS["both"][0]]
    _requests(*rows).to_csv("households.csv", index=False)
    out = CliRunner().invoke(app, ["requests", "import", "households.csv", "--db", ledger_url])
    assert out.exit_code == 2 and out.output.count("\n") == 1, out.output
    assert "households.csv, row 3, column '" in out.output and "expected_exit_date" in out.output


# --- propose and move-in ---------------------------------------------------------------------


def test_the_week_is_planned_with_the_exit_dates(ledger):
    """Placed on day s, an exit-dated household's stay ends at min(exit, s + max stay); a
    length-based stay runs its nights."""
    placed = _placed(ledger)
    e1, elong, l1 = placed.loc["E1"], placed.loc["ELONG"], placed.loc["L1"]
    assert e1.status == "placed" and e1.expected_end == D0 + 40 * DAY
    assert elong.status == "placed" and elong.expected_end == elong.start + MAX_STAY * DAY
    assert l1.status == "placed" and l1.expected_end == l1.start + 30 * DAY
    assert set(ledger.table("stays").household_id) == {"E1", "ELONG", "L1"}
    assert invariant_violations(ledger) == []


def test_a_household_whose_exit_date_has_passed_is_proposed_but_not_placed(ledger):
    """It still waits in the ledger; the plan leaves it out, its reason naming the exit date."""
    ledger.import_requests(GONE)
    placed = _placed(ledger)
    assert placed.loc["EGONE"].status != "placed"
    assert "exit" in placed.loc["EGONE"].reason, placed.loc["EGONE"].reason
    assert "EGONE" not in set(ledger.table("stays").household_id)


def test_a_late_move_in_ends_at_the_exit_or_the_max_stay(ledger):
    """Moving in late shortens an exit-dated stay (its exit is fixed) and slides a capped one;
    a length-based planned stay keeps its end, as before."""
    placed = _placed(ledger)
    ledger.move_in("E1", placed.loc["E1"].start + 5 * DAY)
    assert _stay(ledger, "E1").expected_end == D0 + 40 * DAY
    late = placed.loc["ELONG"].start + 10 * DAY
    ledger.move_in("ELONG", late)
    assert _stay(ledger, "ELONG").expected_end == late + MAX_STAY * DAY
    ledger.move_in("L1", placed.loc["L1"].start + 2 * DAY)
    assert _stay(ledger, "L1").expected_end == placed.loc["L1"].expected_end
    assert invariant_violations(ledger) == []


def test_a_move_in_on_or_after_the_exit_date_is_refused(ledger):
    """A household whose exit date has come cannot move in, planned or manual; an end given past
    the exit date is refused too; a manual move-in before the exit ends at it."""
    _placed(ledger)
    ledger.import_requests(GONE)
    for day in (D0 - 2 * DAY, D0):
        _unchanged(
            ledger,
            lambda day=day: ledger.move_in("EGONE", day, unit_id="U3"),
            "expected exit date .* is not after the move-in",
        )
    _unchanged(ledger, lambda: ledger.move_in("E1", D0 + 40 * DAY), "is not after the move-in")
    _unchanged(
        ledger,
        lambda: ledger.move_in("E1", D0, expected_end=D0 + 41 * DAY),
        "after household E1's expected exit date",
    )
    ledger.move_in("E1", D0, expected_end=D0 + 35 * DAY)  # leaving before the exit date is fine
    assert _stay(ledger, "E1").expected_end == D0 + 35 * DAY
    ledger.import_requests(_request("E2", D0 - 40 * DAY, exit=D0 + 20 * DAY))
    ledger.import_units([{"unit_id": "U4", "kind": "hub_room", "capacity": 1}])
    ledger.move_in("E2", D0 + 2 * DAY, unit_id="U4")
    assert _stay(ledger, "E2").expected_end == D0 + 20 * DAY
    assert invariant_violations(ledger) == []


# --- extension -------------------------------------------------------------------------------


def test_extending_an_exit_dated_stay_moves_its_exit(ledger):
    """Later: the stay and the household's exit date move, the reason is audited. Earlier:
    refused. Within a max-stay cap: the stay grows, the exit date stays."""
    placed = _placed(ledger)
    for hid in ("E1", "ELONG"):
        ledger.move_in(hid, placed.loc[hid].start)
    ledger.extend("E1", D0 + 60 * DAY, "flat handed over later")
    assert _stay(ledger, "E1").expected_end == D0 + 60 * DAY
    households = ledger.table("households").set_index("household_id")
    assert households.expected_exit_date["E1"] == D0 + 60 * DAY
    audit = ledger.table("audit")
    extend = audit[audit.action == "extend"].iloc[-1]
    assert "flat handed over later" in extend.detail and "exit_date" in extend.detail
    _unchanged(ledger, lambda: ledger.extend("E1", D0 + 50 * DAY, "x"), "before the current end")
    ledger.extend("E1", D0 + 60 * DAY, "again")  # the same end: nothing to do
    capped = _stay(ledger, "ELONG").expected_end
    ledger.extend("ELONG", capped + 20 * DAY, "review")
    households = ledger.table("households").set_index("household_id")
    assert households.expected_exit_date["ELONG"] == D0 + 300 * DAY
    assert _stay(ledger, "ELONG").expected_end == capped + 20 * DAY
    assert invariant_violations(ledger) == []


def test_an_extension_may_not_overlap_the_next_stay_or_pass_the_units_window(ledger):
    """The rules of any stay: the unit's next stay (with turnover) and its availability."""
    placed = _placed(ledger)
    unit = placed.loc["E1"].unit_id
    ledger.move_in("E1", placed.loc["E1"].start)
    # N1 is planned into E1's unit right after its exit date and the turnover days
    ledger.import_requests(_request("N1", D0 + (40 + TURNOVER) * DAY, days=20))
    later = ledger.propose(D0 + 7 * DAY, method="greedy", pins={"N1": unit}, commit_days=60)
    ledger.approve(later.batch_id)
    assert _stay(ledger, "N1").start == D0 + (40 + TURNOVER) * DAY
    _unchanged(ledger, lambda: ledger.extend("E1", D0 + 41 * DAY, "late"), "no overlap")
    ledger.exit("E1", D0 + 40 * DAY, "public_housing")
    ledger.import_requests(_request("E3", D0 + 150 * DAY, exit=D0 + 190 * DAY))
    ledger.move_in("E3", D0 + 150 * DAY, unit_id="U3")
    _unchanged(ledger, lambda: ledger.extend("E3", D0 + 201 * DAY, "late"), "rule 'availability'")
    ledger.extend("E3", D0 + 200 * DAY, "late")
    assert invariant_violations(ledger) == []


# --- views and exports -----------------------------------------------------------------------


def test_status_shows_exit_dates_and_overdue_stays_of_both_kinds(ledger):
    """Occupancy, waiting and overdue carry the exit date; past expected end and past max stay
    hold for exit-dated stays as for the others."""
    placed = _placed(ledger)
    ledger.import_requests(GONE)
    for hid in ("E1", "ELONG", "L1"):
        ledger.move_in(hid, placed.loc[hid].start)
    today = D0 + (MAX_STAY + 10) * DAY
    st = ledger.status(today)
    occupancy = st["occupancy"].set_index("household_id")
    assert occupancy.expected_exit_date["E1"] == D0 + 40 * DAY
    assert pd.isna(occupancy.expected_exit_date["L1"])
    overdue = st["overdue"].set_index("household_id")
    assert set(overdue.index) == {"E1", "ELONG", "L1"}
    assert overdue.days_past_expected_end["E1"] == MAX_STAY + 10 - 40
    assert overdue.expected_exit_date["ELONG"] == D0 + 300 * DAY
    assert overdue.past_max_stay.all()
    waiting = st["waiting"].set_index("household_id")
    assert list(waiting.index) == ["EGONE"]
    assert waiting.expected_exit_date["EGONE"] == D0 - 2 * DAY
    # EGONE waited from its need date to its exit date, then left: its hotel nights stop there
    history = ledger.history(D0 - 35 * DAY, D0 + 14 * DAY)
    hotel = history.set_index("week").hotel_person_nights
    assert hotel[D0 - 35 * DAY] == 2  # EGONE needs a place from D0 - 30
    assert hotel[D0 - 7 * DAY] == 5  # ... and exits on D0 - 2
    assert hotel[D0 + 7 * DAY] == 0


def test_exports_include_the_expected_exit_date(ledger, tmp_path):
    """households, occupancy, overdue and waiting exports carry the column, as dates."""
    _placed(ledger)
    ledger.export("households", tmp_path / "households.csv")
    households = pd.read_csv(tmp_path / "households.csv").set_index("household_id")
    assert households.expected_exit_date["E1"] == str(D0 + 40 * DAY)
    ledger.export("households", tmp_path / "households.xlsx")
    back = pd.read_excel(tmp_path / "households.xlsx").set_index("household_id")
    assert pd.Timestamp(back.expected_exit_date["E1"]).date() == D0 + 40 * DAY
    for view in ("occupancy", "overdue", "waiting"):
        ledger.export(view, tmp_path / f"{view}.csv")
        assert "expected_exit_date" in pd.read_csv(tmp_path / f"{view}.csv").columns


def test_cli_stay_commands_for_an_exit_dated_household(ledger_url, tmp_path, monkeypatch):
    """move-in and extend through the CLI; a bad extension is one line and exit code 2."""
    monkeypatch.chdir(tmp_path)
    HOUSEHOLDS.to_csv("households.csv", index=False)
    UNITS.to_csv("units.csv", index=False)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, [*args, "--db", ledger_url])

    assert run("units", "import", "units.csv").exit_code == 0
    assert run("requests", "import", "households.csv").exit_code == 0
    assert run("batch", "propose", "--week", str(D0), "--method", "greedy").exit_code == 0
    assert run("batch", "approve", "--by", "p1").exit_code == 0
    assert run("stay", "move-in", "E1", "--date", str(D0)).exit_code == 0
    ok = run("stay", "extend", "E1", "--to", str(D0 + 45 * DAY), "--reason", "lease later")
    assert ok.exit_code == 0, ok.output
    bad = run("stay", "extend", "E1", "--to", str(D0 + 44 * DAY), "--reason", "x")
    assert bad.exit_code == 2 and bad.output.count("\n") == 1, bad.output
    assert "before the current end" in bad.output
    pd.DataFrame(GONE).to_csv("gone.csv", index=False)
    assert run("requests", "import", "gone.csv").exit_code == 0
    gone = run("stay", "move-in", "EGONE", "--date", str(D0), "--unit", "U3")
    assert gone.exit_code == 2 and "is not after the move-in" in gone.output
    assert run("status", "--today", str(D0 + DAY)).exit_code == 0
    assert run("ledger", "export", "occupancy", "occupancy.csv").exit_code == 0
    occupancy = pd.read_csv("occupancy.csv").set_index("household_id")
    assert occupancy.expected_exit_date["E1"] == str(D0 + 45 * DAY)
