"""The rotation ledger: weekly cycle, atomic and idempotent approval, concurrency, rules, CLI.

Every test runs on SQLite, and on PostgreSQL when ``ALLOCATOR_TEST_POSTGRES_URL`` is set.
"""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys
import textwrap
import threading

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from allocator import InputError, Policy
from allocator.cli import app
from allocator.errors import AllocatorError
from allocator.examples import generate
from allocator.ledger import Ledger
from allocator.ledger.testing import backends, fresh_url, invariant_violations

WEEK = dt.date(2026, 12, 7)
DAY = dt.timedelta(days=1)


@pytest.fixture(params=backends())
def ledger_url(request, tmp_path) -> str:
    return fresh_url(request.param, tmp_path)


@pytest.fixture
def ledger(ledger_url):
    with Ledger.open(ledger_url, actor="tester") as led:
        yield led


def _data(n_households=16, n_units=8, seed=2):
    households, units, _ = generate(n_households, n_units, seed=seed)
    units["available_from"] = None  # every unit usable from the first week
    households["accessible"] = False
    return households, units


def _loaded(ledger, **kw):
    households, units = _data(**kw)
    ledger.import_units(units)
    ledger.import_requests(households)
    return households, units


def _unchanged(ledger, action, match=None):
    before = ledger.snapshot()
    version = ledger.version
    with pytest.raises(AllocatorError, match=match):
        action()
    after = ledger.snapshot()
    assert ledger.version == version
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], check_dtype=False)


# --- schema ----------------------------------------------------------------------------------


def _head() -> str:
    from alembic.script import ScriptDirectory

    from allocator.ledger.database import alembic_config

    head = ScriptDirectory.from_config(alembic_config(None)).get_current_head()  # type: ignore[arg-type]
    assert head is not None
    return head


def test_open_creates_and_older_schema_is_upgraded(ledger_url):
    from allocator.ledger.database import migrate

    with Ledger.open(ledger_url) as led:
        assert led.schema_revision() == _head()
        migrate(led.engine, "base", down=True)  # what a database from before the ledger looks like
        assert led.schema_revision() is None
    with Ledger.open(ledger_url) as led:  # opening upgrades it
        assert led.schema_revision() == _head()
        assert led.version == 0
        assert led.table("stays").empty


def test_schema_matches_models(ledger):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from allocator.ledger.schema import Base

    with ledger.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_no_personal_data_columns(ledger):
    names = {
        c
        for t in sa.inspect(ledger.engine).get_table_names()
        for c in [col["name"] for col in sa.inspect(ledger.engine).get_columns(t)]
    }
    assert not {n for n in names if "name" in n or "birth" in n or "phone" in n}


# --- imports ---------------------------------------------------------------------------------


def test_reimport_changes_nothing(ledger, tmp_path):
    households, units = _data()
    hfile, ufile = tmp_path / "households.csv", tmp_path / "units.csv"
    households.to_csv(hfile, index=False)
    units.to_csv(ufile, index=False)
    assert ledger.import_units(ufile).added == len(units)
    assert ledger.import_requests(hfile).added == len(households)
    before, version = ledger.snapshot(), ledger.version
    assert ledger.import_units(ufile).unchanged == len(units)
    assert ledger.import_requests(hfile).unchanged == len(households)
    assert ledger.version == version
    for name, frame in ledger.snapshot().items():
        pd.testing.assert_frame_equal(before[name], frame, check_dtype=False)


def test_bad_input_changes_nothing(ledger, tmp_path):
    households, units = _loaded(ledger)
    bad = tmp_path / "bad.csv"
    households.drop(columns="urgency").to_csv(bad, index=False)
    _unchanged(ledger, lambda: ledger.import_requests(bad), "required column is missing")
    dup = pd.concat([units, units.head(1)])
    _unchanged(ledger, lambda: ledger.import_units(dup), "duplicate id")
    _unchanged(ledger, lambda: ledger.move_in("NOPE", WEEK, unit_id="U00000"), "unknown household")
    _unchanged(ledger, lambda: ledger.move_in("H00000", WEEK, unit_id="NOPE"), "unknown unit")
    _unchanged(ledger, lambda: ledger.move_in("H00000", "07/12/2026", unit_id="U00000"), "ISO date")
    _unchanged(ledger, lambda: ledger.propose("2026-13-01"), "ISO date")
    _unchanged(ledger, lambda: ledger.exit("H00000", WEEK, "private"), "no stay")
    _unchanged(ledger, lambda: ledger.approve(99), "unknown batch")
    p = ledger.propose(WEEK, method="greedy")
    ledger.approve(p.batch_id, approver="p1")
    hid = p.to_commit.household_id.iloc[0]
    _unchanged(ledger, lambda: ledger.exit(hid, WEEK + 30 * DAY, "private"), "exit before move-in")
    start = p.to_commit.start.iloc[0]
    ledger.move_in(hid, start)
    _unchanged(ledger, lambda: ledger.exit(hid, start - DAY, "family"), "exit before move-in")
    _unchanged(ledger, lambda: ledger.exit(hid, start + DAY, "lottery"), "unknown exit pathway")
    _unchanged(ledger, lambda: ledger.extend(hid, start + 9 * DAY, ""), "reason")


def test_unit_closed_while_occupied_is_refused_free_one_is_closed(ledger):
    households, units = _loaded(ledger)
    p = ledger.propose(WEEK, method="greedy")
    ledger.approve(p.batch_id)
    busy = p.to_commit.unit_id.iloc[0]
    closed = units.copy()
    closed.loc[closed.unit_id == busy, "available_until"] = WEEK + 2 * DAY
    _unchanged(ledger, lambda: ledger.import_units(closed), "rule 'availability'")
    used = set(ledger.table("stays").unit_id)
    free = [u for u in units.unit_id if u not in used]
    closed = units.copy()
    closed.loc[closed.unit_id.isin(free), "available_until"] = WEEK + 8 * DAY
    assert ledger.import_units(closed).changed == len(free)
    p2 = ledger.propose(WEEK + 7 * DAY, method="greedy")
    assert not set(p2.placements.unit_id.dropna()) & set(free)


# --- batches ---------------------------------------------------------------------------------


def test_weekly_cycle_records_actual_dates(ledger):
    _loaded(ledger)
    p = ledger.propose(WEEK, method="solver", time_limit=2)
    assert {"reason", "wait_days"} <= set(p.placements.columns)
    assert p.placements.reason.notna().all()
    stays = ledger.approve(p.batch_id, approver="planner-7")
    assert len(stays) == len(p.to_commit) > 0
    batch = ledger.table("batches").iloc[0]
    assert batch.status == "approved" and batch.approved_by == "planner-7"
    first = stays.iloc[0]
    ledger.move_in(first.household_id, first.start + DAY)
    ledger.exit(first.household_id, first.start + 10 * DAY, "public_housing", "housed")
    # the next batch may use the unit from the actual exit plus turnover
    stay = ledger.table("stays").set_index("household_id").loc[first.household_id]
    assert stay.actual_end == first.start + 10 * DAY
    assert invariant_violations(ledger) == []
    history = ledger.history()
    assert history.exits_public_housing.sum() == 1


def test_pins_and_forbids_are_recorded(ledger):
    _loaded(ledger)
    pins = {"H00001": "U00003"}
    forbids = [("H00002", "U00004")]
    p = ledger.propose(WEEK, method="greedy", pins=pins, forbids=forbids)
    row = p.placements.set_index("household_id").loc["H00001"]
    assert row.unit_id == "U00003"
    batch = ledger.table("batches").iloc[0]
    assert '"H00001": "U00003"' in batch.pins and "U00004" in batch.forbids


def test_approve_is_idempotent(ledger):
    _loaded(ledger)
    p = ledger.propose(WEEK, method="greedy")
    first = ledger.approve(p.batch_id)
    snap, version = ledger.snapshot(), ledger.version
    again = ledger.approve(p.batch_id)
    pd.testing.assert_frame_equal(first, again)
    assert ledger.version == version
    for name, frame in ledger.snapshot().items():
        pd.testing.assert_frame_equal(snap[name], frame, check_dtype=False)


KILL = textwrap.dedent(
    """
    import os, signal, sys
    import allocator.ledger.batches as store
    from allocator.ledger import Ledger
    calls = []
    real = store._check_stay
    def dying(*args, **kwargs):
        real(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:  # stays already inserted in this transaction
            os.kill(os.getpid(), signal.SIGKILL)
    store._check_stay = dying
    Ledger.open(sys.argv[1]).approve(int(sys.argv[2]), approver="p1")
    """
)


def test_killed_approve_leaves_ledger_as_before_and_rerun_is_clean(ledger, ledger_url, tmp_path):
    _loaded(ledger, n_households=24, n_units=12)
    p = ledger.propose(WEEK, method="greedy")
    assert len(p.to_commit) >= 3
    before = ledger.snapshot()
    proc = subprocess.run(
        [sys.executable, "-c", KILL, ledger_url, str(p.batch_id)], capture_output=True, timeout=60
    )
    assert proc.returncode == -9, proc.stderr.decode()
    after = ledger.snapshot()
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], check_dtype=False)
    ledger.approve(p.batch_id, approver="p1")
    # the same as one clean run on a twin ledger
    with Ledger.open(tmp_path / "twin.db", actor="tester") as twin:
        _loaded(twin, n_households=24, n_units=12)
        q = twin.propose(WEEK, method="greedy")
        twin.approve(q.batch_id, approver="p1")
        ours, theirs = ledger.snapshot(), twin.snapshot()
    # PostgreSQL sequences are not transactional: the killed run used up stay ids
    ours["stays"] = ours["stays"].drop(columns="stay_id")
    theirs["stays"] = theirs["stays"].drop(columns="stay_id")
    for name in ("stays", "batches", "placements", "units", "households"):
        pd.testing.assert_frame_equal(ours[name], theirs[name], check_dtype=False)


def test_second_approval_against_same_state_is_refused(ledger_url):
    with Ledger.open(ledger_url) as a, Ledger.open(ledger_url) as b:
        _loaded(a)
        pa = a.propose(WEEK, method="greedy")
        pb = b.propose(WEEK, method="greedy")
        a.approve(pa.batch_id, approver="alice")
        with pytest.raises(InputError, match="changed since this batch was proposed"):
            b.approve(pb.batch_id, approver="bob")
        assert invariant_violations(a) == []
        assert set(a.table("stays").batch_id) == {pa.batch_id}


def test_concurrent_approvals_cannot_double_book(ledger_url):
    with Ledger.open(ledger_url) as setup:
        _loaded(setup)
        ids = [setup.propose(WEEK, method="greedy").batch_id for _ in range(2)]
    barrier = threading.Barrier(2)
    outcome: dict[int, object] = {}

    def run(batch_id: int) -> None:
        with Ledger.open(ledger_url) as led:
            barrier.wait(30)
            try:
                outcome[batch_id] = len(led.approve(batch_id, approver=f"p{batch_id}"))
            except AllocatorError as exc:
                outcome[batch_id] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    errors = [v for v in outcome.values() if isinstance(v, AllocatorError)]
    assert len(outcome) == 2 and len(errors) == 1, outcome
    assert "changed since" in str(errors[0])
    with Ledger.open(ledger_url) as led:
        assert invariant_violations(led) == []
        assert led.table("stays").batch_id.nunique() == 1


# --- stays -----------------------------------------------------------------------------------


def test_manual_move_in_breaking_a_rule_names_rule_and_stay(ledger):
    households, units = _loaded(ledger)
    p = ledger.propose(WEEK, method="greedy")
    ledger.approve(p.batch_id)
    placed = p.to_commit.iloc[0]
    sizes = households.set_index("household_id")["size"]
    caps = units.set_index("unit_id")["capacity"]
    housed = set(ledger.table("stays").household_id)
    other = next(
        h for h in households.household_id if h not in housed and sizes[h] <= caps[placed.unit_id]
    )
    _unchanged(
        ledger,
        lambda: ledger.move_in(other, placed.start + DAY, unit_id=placed.unit_id),
        r"rule 'no overlap \(incl. 3 turnover days\)'.*stay #\d+ of household "
        + placed.household_id,
    )
    # right after the stay plus turnover is still refused; one day later would be allowed
    end = placed.expected_end
    _unchanged(
        ledger,
        lambda: ledger.move_in(other, end + 2 * DAY, unit_id=placed.unit_id),
        "no overlap",
    )
    big = next(h for h in households.household_id if h not in housed and sizes[h] > caps.min())
    small_unit = caps.idxmin()
    _unchanged(
        ledger,
        lambda: ledger.move_in(big, WEEK + 400 * DAY, unit_id=small_unit),
        "rule 'capacity'",
    )
    _unchanged(
        ledger,
        lambda: ledger.move_in(placed.household_id, placed.start, unit_id=other_unit(placed)),
        "is planned in unit",
    )
    ledger.move_in(other, end + 3 * DAY, unit_id=placed.unit_id)
    assert invariant_violations(ledger) == []


def other_unit(placed) -> str:
    return "U00000" if placed.unit_id != "U00000" else "U00001"


def test_extension_blocks_the_next_batch(ledger):
    _loaded(ledger)
    p = ledger.propose(WEEK, method="greedy")
    stays = ledger.approve(p.batch_id)
    for r in stays.itertuples():
        ledger.move_in(r.household_id, r.start)
    r = stays.iloc[0]
    ledger.extend(r.household_id, r.expected_end + 200 * DAY, "waiting for a public-housing offer")
    audit = ledger.table("audit")
    assert (audit.action == "extend").sum() == 1
    later = ledger.propose(r.expected_end, method="greedy")
    starts = later.placements[later.placements.unit_id == r.unit_id].start
    assert (starts >= r.expected_end + 203 * DAY).all()


def test_status_reports_waiting_overdue_and_free(ledger_url):
    with Ledger.open(ledger_url, policy=Policy(max_stay_days=30)) as ledger:
        households, _ = _loaded(ledger)
        p = ledger.propose(WEEK, method="greedy")
        stays = ledger.approve(p.batch_id)
        for r in stays.itertuples():
            ledger.move_in(r.household_id, r.start)
        today = stays.expected_end.max() + 5 * DAY
        st = ledger.status(today)
        assert set(st) == {"summary", "occupancy", "waiting", "overdue", "free"}
        assert len(st["waiting"]) == len(households) - len(stays)
        assert (st["waiting"].waiting_days >= 0).all()
        assert len(st["overdue"]) == len(stays)
        assert st["overdue"].past_max_stay.all()
        assert (st["overdue"].days_past_expected_end >= 5).all()
        summary = st["summary"].iloc[0]
        assert summary.stays_past_expected_end == len(stays)
        assert summary.units_occupied == len(stays)
        # the overdue households still hold their units: none of them is free today
        free_now = st["free"][st["free"].free_from == today].unit_id
        assert not set(free_now) & set(stays.unit_id)


def test_history_per_week(ledger):
    _loaded(ledger)
    week = WEEK
    for _ in range(4):
        p = ledger.propose(week, method="greedy")
        for r in ledger.approve(p.batch_id).itertuples():
            if r.moved_in is None:
                ledger.move_in(r.household_id, r.start)
        week += 7 * DAY
    h = ledger.history()
    assert list(h.week) == [WEEK + 7 * k * DAY for k in range(4)]
    assert (h.occupancy.between(0, 1)).all()
    assert (h.hotel_person_nights >= 0).all()
    assert h.unit_nights_occupied.iloc[-1] > 0


def test_logs_carry_no_household_ids(ledger, caplog):
    households, _ = _data()
    with caplog.at_level(logging.DEBUG, logger="allocator"):
        ledger.import_units(_data()[1])
        ledger.import_requests(households)
        p = ledger.propose(WEEK, method="greedy")
        ledger.approve(p.batch_id)
    text = caplog.text
    assert text and not any(h in text for h in households.household_id)


# --- CLI -------------------------------------------------------------------------------------


def test_cli_weekly_cycle(ledger_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    households, units = _data()
    households.to_csv("households.csv", index=False)
    units.to_csv("units.csv", index=False)
    households.drop(columns="size").to_csv("bad.csv", index=False)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, [*args, "--db", ledger_url])

    assert run("ledger", "init").exit_code == 0
    assert "8 added" in run("units", "import", "units.csv").output
    assert "16 added" in run("requests", "import", "households.csv").output
    assert "0 added, 0 changed, 16 unchanged" in run("requests", "import", "households.csv").output
    bad = run("requests", "import", "bad.csv")
    assert bad.exit_code == 2 and bad.output.count("\n") == 1
    assert "column 'size'" in bad.output
    out = run("batch", "propose", "--week", str(WEEK), "--method", "greedy")
    assert out.exit_code == 0, out.output
    assert run("batch", "approve", "--by", "p1").exit_code == 0
    assert run("batch", "show").exit_code == 0
    assert run("batch", "show", "1").exit_code == 0
    stays = pd.read_csv("stays.csv") if False else None  # noqa: F841 - export below
    assert run("ledger", "export", "stays", "stays.csv").exit_code == 0
    stays = pd.read_csv("stays.csv")
    hid, start = stays.household_id[0], stays.start[0]
    assert run("stay", "move-in", hid, "--date", start).exit_code == 0
    assert (
        run("stay", "extend", hid, "--to", "2027-12-01", "--reason", "awaiting offer").exit_code
        == 0
    )
    wrong = run("stay", "exit", hid, "--date", "2026-01-01", "--pathway", "private")
    assert wrong.exit_code == 2 and "exit before move-in" in wrong.output
    assert run("stay", "exit", hid, "--date", "2027-02-01", "--pathway", "family").exit_code == 0
    status = run("status", "--today", "2027-01-01")
    assert status.exit_code == 0 and "Waiting" in status.output
    history = run("status", "--history")
    assert history.exit_code == 0 and "Rotation per week" in history.output
    assert run("ledger", "export", "history", "history.xlsx").exit_code == 0
    bad_date = run("stay", "move-in", hid, "--date", "1/1/2027")
    assert bad_date.exit_code == 2 and "ISO date" in bad_date.output
    assert run("ledger", "export", "nope", "x.csv").exit_code == 2


def test_household_past_its_expected_end_still_blocks_its_unit(ledger):
    """Until its exit is recorded, an overdue household is still in the unit: no second move-in."""
    households, units = _loaded(ledger)
    p = ledger.propose(WEEK, method="greedy")
    ledger.approve(p.batch_id)
    placed = p.to_commit.iloc[0]
    ledger.move_in(placed.household_id, placed.start)
    sizes = households.set_index("household_id")["size"]
    caps = units.set_index("unit_id")["capacity"]
    housed = set(ledger.table("stays").household_id)
    other = next(
        h for h in households.household_id if h not in housed and sizes[h] <= caps[placed.unit_id]
    )
    long_after = placed.expected_end + 40 * DAY
    _unchanged(
        ledger,
        lambda: ledger.move_in(other, long_after, unit_id=placed.unit_id),
        "stay #\\d+ of household " + placed.household_id,
    )
    ledger.exit(placed.household_id, long_after - 5 * DAY, pathway="family")
    ledger.move_in(other, long_after, unit_id=placed.unit_id)  # after the exit and turnover
    assert not invariant_violations(ledger)


def test_a_file_that_is_not_a_database_is_one_clear_error(tmp_path):
    path = tmp_path / "not.db"
    path.write_text("this is not a database\n" * 100)
    with pytest.raises(AllocatorError, match="cannot open the ledger"):
        Ledger.open(str(path))


def test_a_file_that_is_not_a_ledger_is_named_in_the_refusal(tmp_path):
    """`--db` naming a CSV file: the error names the file, so the planner sees which."""
    table = tmp_path / "requests.csv"
    table.write_text("household_id,size\nH1,2\n" * 200)
    with pytest.raises(AllocatorError, match="not a database") as refused:
        Ledger.open(table, create=False)
    assert str(table) in str(refused.value)
