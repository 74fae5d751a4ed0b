"""The ledger holds stays in connecting rooms: one stay holding every room, refused overlaps in
each room, approval of a combined placement, units with groups in and out, views that count
each room. Runs on SQLite, and on PostgreSQL when ``ALLOCATOR_TEST_POSTGRES_URL`` is set."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from allocator import InputError
from allocator.engine.planning import plan as REAL_PLAN
from allocator.errors import AllocatorError
from allocator.io import read_table
from allocator.ledger import Ledger
from allocator.ledger.batches import engine_inputs
from allocator.ledger.database import read_policy, transaction
from allocator.ledger.testing import backends, fresh_url, invariant_violations
from allocator.tables import validate_tables

D0 = dt.date(2026, 12, 7)
DAY = dt.timedelta(days=1)

UNITS = pd.DataFrame(
    [
        {"unit_id": "H1.01", "kind": "hub_room", "capacity": 4, "group": "H1"},
        {"unit_id": "H1.02", "kind": "hub_room", "capacity": 4, "group": "H1"},
        {"unit_id": "H2.01", "kind": "hub_room", "capacity": 4, "group": None},
        {"unit_id": "F1", "kind": "flat", "capacity": 2, "group": None},
    ]
)
REQUESTS = pd.DataFrame(
    [
        {"household_id": "B7", "size": 7, "urgency": 3, "need_date": D0, "expected_stay_days": 30},
        {"household_id": "S4", "size": 4, "urgency": 3, "need_date": D0, "expected_stay_days": 20},
        {"household_id": "S1", "size": 1, "urgency": 2, "need_date": D0, "expected_stay_days": 10},
    ]
)  # fmt: skip


@pytest.fixture(params=backends())
def ledger(request, tmp_path):
    with Ledger.open(fresh_url(request.param, tmp_path), actor="tester") as led:
        led.import_units(UNITS)
        led.import_requests(REQUESTS)
        yield led


def _unchanged(ledger: Ledger, action, match: str) -> None:
    """The action is refused with ``match`` and the ledger is as it was."""
    before, version = ledger.snapshot(), ledger.version
    with pytest.raises(AllocatorError, match=match):
        action()
    assert ledger.version == version
    for name, frame in ledger.snapshot().items():
        pd.testing.assert_frame_equal(before[name], frame, check_dtype=False)


def _stay(ledger: Ledger, household_id: str) -> pd.Series:
    return ledger.table("stays").set_index("household_id").loc[household_id]


def test_a_stay_in_connecting_rooms_is_one_stay_holding_each_room(ledger, monkeypatch):
    """A manual move-in into H1.01+H1.02 is one stay; each room then refuses an overlapping
    move-in with the overlap rule and the combined stay named, and the combined stay may not be
    extended into a stay planned in one of its rooms."""
    ledger.move_in("B7", D0, unit_id="H1.01+H1.02")
    stays = ledger.table("stays")
    assert len(stays) == 1
    assert (_stay(ledger, "B7").unit_id, _stay(ledger, "B7").joined_units) == ("H1.01", "H1.02")
    rule = r"rule 'no overlap \(incl\. 3 turnover days\)'.*household {} in unit {}"
    for room in ("H1.01", "H1.02"):
        move = lambda room=room: ledger.move_in("S1", D0 + 5 * DAY, unit_id=room)  # noqa: E731
        _unchanged(ledger, move, rule.format("B7", r"H1.01\+H1.02"))
    # S4 planned in H1.02 right after B7's stay and turnover: B7 cannot run into it
    after = {"unit_id": "H1.02", "start": D0 + 33 * DAY, "expected_end": D0 + 53 * DAY}
    _plan_with(monkeypatch, {"S4": after | {"status": "placed", "kind": "hub_room"}})
    ledger.approve(ledger.propose(D0 + 28 * DAY, method="greedy").batch_id)
    assert _stay(ledger, "S4").unit_id == "H1.02"
    extend = lambda: ledger.extend("B7", D0 + 31 * DAY, "offer late")  # noqa: E731
    _unchanged(ledger, extend, rule.format("B7", r"H1.01\+H1.02").split(".*")[0] + ".*S4")
    assert invariant_violations(ledger) == []


def test_the_rooms_must_connect_and_hold_the_household(ledger):
    """Rooms not of one group are refused ('never split'), and so are too few beds ('capacity'),
    an unknown room and a room named twice; nothing is written."""
    cases = {
        "H1.01+H2.01": "rule 'never split'",
        "H1.01": "rule 'capacity'",
        "H1.01+NOPE": "unknown unit 'NOPE'",
        "H1.01+H1.01": "repeats a unit",
    }
    for units, match in cases.items():
        _unchanged(ledger, lambda units=units: ledger.move_in("B7", D0, unit_id=units), match)


def test_a_request_may_grow_to_the_beds_of_all_its_rooms(ledger):
    """A household in connecting rooms may grow up to their beds together, not beyond."""
    ledger.move_in("B7", D0, unit_id="H1.01+H1.02")
    grown = REQUESTS.assign(size=[8, 4, 1])
    assert ledger.import_requests(grown).changed == 1
    too_big = REQUESTS.assign(size=[9, 4, 1])
    _unchanged(ledger, lambda: ledger.import_requests(too_big), "rule 'capacity'.*8 beds")


def test_closing_or_changing_a_joined_room_with_a_running_stay_is_refused(ledger):
    """A room held as a joined room cannot leave the programme, leave its group or lose beds
    while the stay runs; once the stay has ended it can."""
    ledger.move_in("B7", D0, unit_id="H1.01+H1.02")
    closed = UNITS.assign(available_until=[None, D0 + 10 * DAY, None, None])
    _unchanged(ledger, lambda: ledger.import_units(closed), "rule 'availability'.*H1.01\\+H1.02")
    regrouped = UNITS.assign(group=["H1", "H9", None, None])
    _unchanged(ledger, lambda: ledger.import_units(regrouped), "rule 'never split'")
    smaller = UNITS.assign(capacity=[4, 2, 4, 2])
    _unchanged(ledger, lambda: ledger.import_units(smaller), "rule 'capacity'")
    ledger.exit("B7", D0 + 8 * DAY, "family")
    assert ledger.import_units(closed).changed == 1


def test_the_rooms_of_one_group_are_of_one_kind_in_the_file_and_in_the_ledger(ledger, tmp_path):
    """A group mixing kinds is refused naming the file's row and column, or, against a unit
    already in the ledger, the units and the column."""
    path = tmp_path / "units.csv"
    path.write_text("unit_id,kind,capacity,group\nA1,hub_room,2,A\nA2,flat,2,A\n")
    with pytest.raises(InputError, match=r"units.csv.*row 3.*kind.*connecting rooms are of one"):
        ledger.import_units(path)
    mixed = pd.DataFrame([{"unit_id": "H1.09", "kind": "flat", "capacity": 2, "group": "H1"}])
    _unchanged(ledger, lambda: ledger.import_units(mixed), "group 'H1'.*kind differs")


def _plan_with(monkeypatch, rows: dict[str, dict]) -> None:
    """`batch propose` gets the engine's plan with the rows given by hand for some households
    (the engine's placements table, with its ``joined_units`` column)."""
    import allocator.engine.planning as planning

    def plan(*args, **kwargs):
        result = REAL_PLAN(*args, **kwargs)
        table = result.placements.copy()
        if "joined_units" not in table.columns:
            table["joined_units"] = ""
        for household_id, values in rows.items():
            at = table.index[table.household_id == household_id][0]
            for column, value in values.items():
                table.at[at, column] = value
        result.placements = table
        return result

    monkeypatch.setattr(planning, "plan", plan)


def test_approving_a_combined_placement_writes_one_stay_holding_all_its_rooms(ledger, monkeypatch):
    """A plan row with joined_units becomes ONE stay (unit_id the first room, joined_units the
    others); a later plan that puts someone in a joined room during it cannot be approved."""
    combined = {
        "unit_id": "H1.02",
        "joined_units": "H1.01",
        "kind": "hub_room",
        "start": D0,
        "expected_end": D0 + 30 * DAY,
        "status": "placed",
        "wait_days": 0,
    }
    _plan_with(monkeypatch, {"B7": combined})
    proposal = ledger.propose(D0, method="greedy")
    assert ledger.table("placements").set_index("household_id").at["B7", "joined_units"] == "H1.01"
    stays = ledger.approve(proposal.batch_id)
    b7 = stays.set_index("household_id").loc["B7"]
    assert (b7.unit_id, b7.joined_units) == ("H1.02", "H1.01")
    assert list(ledger.table("stays").household_id).count("B7") == 1
    assert invariant_violations(ledger) == []
    # the next week's plan, forced into a joined room during the stay, is refused on approval
    ledger.import_requests(
        pd.DataFrame(
            [
                {
                    "household_id": "N4",
                    "size": 4,
                    "urgency": 5,
                    "need_date": D0 + 7 * DAY,
                    "expected_stay_days": 9,
                }
            ]
        )  # fmt: skip
    )
    clash = {"unit_id": "H1.01", "joined_units": "", "start": D0 + 8 * DAY, "status": "placed"}
    clash |= {"expected_end": D0 + 17 * DAY, "kind": "hub_room"}
    _plan_with(monkeypatch, {"N4": clash})
    later = ledger.propose(D0 + 7 * DAY, method="greedy")
    _unchanged(ledger, lambda: ledger.approve(later.batch_id), r"rule 'no overlap.*B7 in unit H1")


def test_the_engine_plans_around_a_stay_in_connecting_rooms(ledger):
    """The ledger hands the engine its units with their groups and its stays with their joined
    rooms: a proposal never puts a household in a room a combined stay holds."""
    ledger.move_in("B7", D0, unit_id="H1.01+H1.02")
    households, units, stays = _engine_tables(ledger, D0)
    assert units.set_index("unit_id").group.to_dict()["H1.02"] == "H1"
    assert stays.set_index("household_id").at["B7", "joined_units"] == "H1.02"
    proposal = ledger.propose(D0, method="greedy")
    placed = proposal.placements.set_index("household_id")
    assert placed.at["S4", "unit_id"] == "H2.01"
    busy = (D0, D0 + 33 * DAY)
    for row in proposal.placements.itertuples():
        if row.status == "placed" and row.unit_id in ("H1.01", "H1.02"):
            assert row.start >= busy[1]
    ledger.approve(proposal.batch_id)
    assert invariant_violations(ledger) == []


def _engine_tables(ledger: Ledger, week: dt.date):
    with transaction(ledger.engine) as s:
        return engine_inputs(s, week, read_policy(s), 7)


def test_units_and_stays_round_trip_through_files_and_the_engine_tables(tmp_path):
    """Units with groups and a stay in connecting rooms: exported, read back as the engine's
    tables (validated), and imported again unchanged."""
    with Ledger.open(tmp_path / "ledger.db", actor="tester") as ledger:
        path = tmp_path / "units.csv"
        UNITS.to_csv(path, index=False)
        ledger.import_units(path)
        ledger.import_requests(REQUESTS)
        ledger.move_in("B7", D0, unit_id="H1.01+H1.02")
        for name in ("units", "households", "stays"):
            ledger.export(name, tmp_path / f"out_{name}.csv")
        units, _ = read_table(tmp_path / "out_units.csv", "units")
        stays, _ = read_table(tmp_path / "out_stays.csv", "stays")
        assert list(units.group.fillna("")) == ["", "H1", "H1", ""]  # by unit id
        tables = validate_tables(
            REQUESTS.iloc[1:], units, stays[["household_id", "unit_id", "start", "expected_end",
                                             "joined_units"]], start=D0
        )  # fmt: skip
        assert tables.stays[0].units == ("H1.01", "H1.02")
        assert {u.unit_id: u.group for u in tables.units}["H1.01"] == "H1"
        assert ledger.import_units(tmp_path / "out_units.csv").unchanged == len(UNITS)
        _, engine_units, engine_stays = _engine_tables(ledger, D0)
        assert engine_stays.joined_units.tolist() == ["H1.02"]
        assert engine_units.group.fillna("").tolist() == ["", "H1", "H1", ""]


def test_status_and_history_count_each_room_and_the_household_once(ledger):
    """Both rooms are occupied by the household (rooms H1.01+H1.02) and never free; the
    summary counts its persons once; history counts two unit-nights a night."""
    ledger.move_in("B7", D0, unit_id="H1.01+H1.02")
    status = ledger.status(D0 + DAY)
    occupancy = status["occupancy"].set_index("unit_id")
    for room in ("H1.01", "H1.02"):
        assert occupancy.at[room, "household_id"] == "B7"
        assert occupancy.at[room, "rooms"] == "H1.01+H1.02"
    assert pd.isna(occupancy.at["F1", "rooms"])
    assert status["summary"].persons_housed[0] == 7
    assert not {"H1.01", "H1.02"} & set(status["free"].unit_id)
    history = ledger.history(D0, D0 + 7 * DAY)
    assert history.unit_nights_occupied[0] == 14 and history.stays[0] == 1
    # a ledger without combined stays shows no rooms column
    ledger.exit("B7", D0 + 5 * DAY, "family")
    assert "rooms" not in ledger.status(D0 + 6 * DAY)["occupancy"].columns


def test_a_combined_placement_is_not_announced(ledger, monkeypatch):
    """Approval with announce skips a later placement in connecting rooms (and says which);
    announcing connecting rooms by hand records nothing; a batch's changes name the rooms."""
    later = {"unit_id": "H1.01", "joined_units": "H1.02", "kind": "hub_room",
             "start": D0 + 14 * DAY, "expected_end": D0 + 44 * DAY, "status": "placed"}  # fmt: skip
    _plan_with(monkeypatch, {"B7": later})
    proposal = ledger.propose(D0, method="greedy")
    stays = ledger.approve(proposal.batch_id, announce=True)
    assert stays.attrs["not_announced"] == ["B7"]
    assert "B7" not in set(ledger.announcements().household_id)
    assert ledger.announce("B7", "H1.01+H1.02", D0 + 14 * DAY) is False
    assert ledger.announcements().empty or "B7" not in set(ledger.announcements().household_id)
    with pytest.raises(InputError, match="unknown unit 'NOPE'"):
        ledger.announce("B7", "H1.01+NOPE", D0 + 14 * DAY)
    # the next batch moves B7's rooms a week later: a change of date, with the rooms named
    _plan_with(monkeypatch, {"B7": later | {"start": D0 + 21 * DAY}})
    ledger.propose(D0 + 7 * DAY, method="greedy")
    change = ledger.changes().set_index("household_id").loc["B7"]
    assert change.change == "date"
    assert change.unit_before == change.unit_after == "H1.01+H1.02"


def test_the_stays_query_finds_a_joined_room_by_its_exact_id(tmp_path):
    """Ids with LIKE's wildcards (``_``) or sharing a prefix are told apart: a stay in H_1+H_10
    holds H_10, not H_1 0 or H.10."""
    units = pd.DataFrame(
        [
            {"unit_id": u, "kind": "hub_room", "capacity": 4, "group": "G"}
            for u in ("H_1", "H_10", "HX10", "H_100")
        ]
    )
    with Ledger.open(tmp_path / "ledger.db", actor="tester") as ledger:
        ledger.import_units(units)
        ledger.import_requests(REQUESTS)
        ledger.move_in("B7", D0, unit_id="H_1+H_100")
        ledger.move_in("S4", D0, unit_id="HX10")
        ledger.move_in("S1", D0, unit_id="H_10")
        from allocator.ledger.rules import unit_stays

        with transaction(ledger.engine) as s:
            held = {u: [st.household_id for st in unit_stays(s, u)] for u in units.unit_id}
        assert held == {"H_1": ["B7"], "H_10": ["S1"], "HX10": ["S4"], "H_100": ["B7"]}
        engine = ledger.engine
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM stays")).scalar() == 3


def test_cli_shows_the_rooms_of_a_stay_and_says_what_it_did_not_announce(
    tmp_path: Path, monkeypatch
):
    """`status` and `batch show` print connecting rooms as H1.01+H1.02; `batch approve
    --announce` and `batch announce` say a combined placement is not announced."""
    from typer.testing import CliRunner

    from allocator.cli import app

    db = tmp_path / "ledger.db"
    with Ledger.open(db, actor="tester") as ledger:
        ledger.import_units(UNITS)
        ledger.import_requests(REQUESTS)
    runner = CliRunner(env={"COLUMNS": "250"})  # wide enough for every column

    def run(*args: str) -> str:
        out = runner.invoke(app, [*args, "--db", str(db)])
        assert out.exit_code == 0, out.output
        return out.output

    later = {"unit_id": "H1.01", "joined_units": "H1.02", "kind": "hub_room",
             "start": D0 + 14 * DAY, "expected_end": D0 + 44 * DAY, "status": "placed"}  # fmt: skip
    _plan_with(monkeypatch, {"B7": later})
    run("batch", "propose", "--week", str(D0), "--method", "greedy")
    shown = run("batch", "show", "1")
    assert "H1.01+H1.02" in shown and "joined units" not in shown
    assert "1 not announced: connecting rooms (B7)" in run("batch", "approve", "1", "--announce")
    told = run("batch", "announce", "B7", "--unit", "H1.01+H1.02", "--start", str(D0 + 14 * DAY))
    assert "not announced: connecting rooms" in told
    run("stay", "move-in", "B7", "--date", str(D0 + 14 * DAY), "--unit", "H1.01+H1.02")
    status = run("status", "--today", str(D0 + 50 * DAY))
    assert status.count("H1.01+H1.02") == 3  # the overdue stay, and each room it holds
