"""Connecting rooms on the console: a household larger than any unit, placed in two rooms of one
group, shows with both rooms (``H1.01+H1.02``) on *This week*, the approval, *Stays*,
*Requests* and *Today*; the Gantt and the timeline draw its bar in each room; *Units* shows and
takes the ``group`` column; *Policy* shows ``connecting_rooms``, in Italian too."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from allocator.ledger import Ledger
from allocator.web import ConsoleSettings, accounts, create_app, demo
from allocator.web.rooms import holds, joined, rooms_of, rooms_text
from allocator.web.routing import Role
from allocator.web.testing import FAST, NAMES, PASSWORD, TODAY, csrf_of, sign_in

WEEK = dt.date(2026, 12, 7)
UNITS = pd.DataFrame(
    {
        "unit_id": ["H1.01", "H1.02", "F1"],
        "kind": ["hub_room", "hub_room", "flat"],
        "capacity": [4, 4, 3],
        "group": ["H1-east", "H1-east", None],
    }
)
REQUESTS = pd.DataFrame(
    {
        "household_id": ["BIG", "SMALL"],
        "size": [7, 2],
        "minors": [4, 0],
        "urgency": [4, 3],
        "need_date": [WEEK, WEEK],
        "expected_stay_days": [60, 30],
    }
)
ITALIAN = {"Accept-Language": "it-IT,it;q=0.9"}


@pytest.fixture(scope="module")
def rooms_template(tmp_path_factory):
    """A ledger with two connecting 4-bed rooms and a flat, and this week's plan proposed."""
    path = tmp_path_factory.mktemp("rooms") / "rooms.db"
    with Ledger.open(path, actor=demo.SETUP) as ledger:
        ledger.import_units(UNITS)
        ledger.import_requests(REQUESTS)
        batch = ledger.propose(WEEK, method="greedy").batch_id
        for role, name in NAMES.items():
            accounts.add_account(ledger.engine, demo.SETUP, name, role.value, PASSWORD, **FAST)
    return path, batch


@pytest.fixture
def rooms_ledger(rooms_template, tmp_path):
    import shutil

    path = tmp_path / "ledger.db"
    shutil.copy(rooms_template[0], path)
    return path, rooms_template[1]


@pytest.fixture
def rooms_client(rooms_ledger, settings: ConsoleSettings, clock):
    from starlette.testclient import TestClient

    with TestClient(create_app(rooms_ledger[0], settings, clock=clock)) as c:
        yield c


def _rects(svg: str, unit: str) -> str:
    """The SVG of one unit's row in a timeline."""
    return re.search(rf">{re.escape(unit)}<title>.*?</g>", svg, flags=re.S).group(0)


def test_the_plan_shows_both_rooms_and_draws_a_bar_in_each(rooms_client, rooms_ledger):
    """*This week*: the plan's row names H1.01+H1.02; the Gantt has BIG's bar in both rows,
    titled with the rooms; the approval lists the rooms too."""
    _, batch = rooms_ledger
    sign_in(rooms_client, Role.PLANNER)
    html = rooms_client.get(f"/week?batch={batch}").text
    table = re.search(r'<table class="plan">.*?</table>', html, flags=re.S).group(0)
    assert re.search(r'<th scope="row">BIG</th>.*?<td>H1.01\+H1.02</td>', table, flags=re.S)
    assert re.search(r'<th scope="row">SMALL</th>.*?<td>F1</td>', table, flags=re.S)
    big = re.search(r'<th scope="row">BIG</th>.*?</tr>', table, flags=re.S).group(0)
    assert 'list="unit-ids" value="" ' in big  # a pin holds one unit: typed, not prefilled
    svg = re.search(r'<svg class="timeline gantt".*?</svg>', html, flags=re.S).group(0)
    for room in ("H1.01", "H1.02"):
        row = _rects(svg, room)
        assert 'class="bar week"' in row and "connecting rooms H1.01+H1.02" in row
    assert "connecting rooms" not in _rects(svg, "F1")
    approve = rooms_client.get(f"/week/approve?batch={batch}").text
    assert '<th scope="row">BIG</th><td>H1.01+H1.02</td>' in approve


def test_an_approved_combined_stay_shows_its_rooms_everywhere(rooms_client, rooms_ledger):
    """After approval: *Stays* and *Requests* name both rooms, a search by the second room
    finds the stay, *Today*'s timeline has the stay's bar in each room, and its occupancy
    table names the rooms in each room's row."""
    path, batch = rooms_ledger
    with Ledger.open(path, actor="test") as ledger:
        ledger.approve(batch, approver="test")
        ledger.move_in("BIG", WEEK)
    sign_in(rooms_client, Role.VIEWER)
    stays = rooms_client.get("/stays?show=all").text
    assert '<th scope="row">BIG</th><td>H1.01+H1.02</td>' in stays
    found = rooms_client.get("/stays?show=all&q=H1.02").text
    assert '<th scope="row">BIG</th>' in found and '<th scope="row">SMALL</th>' not in found
    requests = rooms_client.get("/requests?show=all").text
    assert "(H1.01+H1.02)" in requests
    today = rooms_client.get(f"/today?day={TODAY.isoformat()}").text
    svg = re.search(r'<svg class="timeline".*?</svg>', today, flags=re.S).group(0)
    for room in ("H1.01", "H1.02"):
        row = _rects(svg, room)
        assert 'class="bar occupied"' in row and "BIG" in row
        assert "connecting rooms H1.01+H1.02" in row
        assert "connecting rooms of group H1-east" in row
    assert "BIG" not in _rects(svg, "F1")
    table = re.search(r"<summary>Occupancy today as a table.*?</table>", today, flags=re.S)
    row = re.search(r'<th scope="row">H1.02</th>.*?</tr>', table.group(0), flags=re.S).group(0)
    assert "BIG" in row and "connecting rooms H1.01+H1.02" in row


def test_units_page_shows_and_takes_the_group(rooms_client, rooms_ledger):
    """*Units* lists each unit's group; an upload with a group column puts the new rooms in it,
    and a group mixing kinds is refused with its row and column."""
    path, _ = rooms_ledger
    sign_in(rooms_client, Role.PLANNER)
    html = rooms_client.get("/units").text
    assert re.search(r'<th scope="row">H1.01</th>.*?<td>H1-east</td>', html, flags=re.S)
    text = "unit_id,kind,capacity,group\nH2.01,hub_room,2,H2\nH2.02,hub_room,2,H2\n"
    files = {"file": ("units.csv", text.encode(), "text/csv")}
    done = rooms_client.post(
        "/units/upload", data={"csrf_token": csrf_of(rooms_client)}, files=files
    )
    assert done.status_code == 200 and re.search(
        r'<th scope="row">H2.02</th>.*?<td>H2</td>', done.text, flags=re.S
    )
    with Ledger.open(path) as ledger:
        units = ledger.table("units").set_index("unit_id")
    assert units.loc["H2.01", "group"] == "H2"
    bad = "unit_id,kind,capacity,group\nH3.01,hub_room,2,H3\nH3.02,flat,2,H3\n"
    files = {"file": ("units.csv", bad.encode(), "text/csv")}
    refused = rooms_client.post(
        "/units/upload", data={"csrf_token": csrf_of(rooms_client)}, files=files
    )
    assert refused.status_code == 400
    assert "<td>3</td>" in refused.text and "<td>kind</td>" in refused.text


def test_the_group_error_in_italian(rooms_client):
    """The refusal of a group mixing kinds reads in Italian, with the unit and group named."""
    sign_in(rooms_client, Role.PLANNER)
    bad = "unit_id,kind,capacity,group\nH3.01,hub_room,2,H3\nH3.02,flat,2,H3\n"
    files = {"file": ("units.csv", bad.encode(), "text/csv")}
    refused = rooms_client.post(
        "/units/upload",
        data={"csrf_token": csrf_of(rooms_client)},
        files=files,
        headers=ITALIAN,
    )
    assert refused.status_code == 400
    assert "stanze comunicanti" in refused.text and "&#39;H3.02&#39;" in refused.text


def test_policy_page_shows_connecting_rooms_in_both_languages(rooms_client):
    """*Policy* has the connecting_rooms choice with its three values, labelled in Italian."""
    sign_in(rooms_client, Role.ADMIN)
    english = rooms_client.get("/policy").text
    select = re.search(r'<select[^>]*name="connecting_rooms".*?</select>', english, flags=re.S)
    assert select is not None
    assert re.findall(r'<option value="(\w+)"', select.group(0)) == [
        "never",
        "when_needed",
        "comfort",
    ]
    assert 'value="when_needed" selected' in select.group(0)
    italian = rooms_client.get("/policy", headers=ITALIAN).text
    assert "stanze comunicanti" in italian
    assert "Combine connecting rooms" not in italian


def test_rooms_of_records_and_cells():
    """A record's rooms: its unit, then the joined ones, from text, a tuple or a blank cell;
    none for a household not placed; a search by unit matches any room."""
    assert joined("H1.02+H1.03") == ["H1.02", "H1.03"]
    assert joined(("H1.02",)) == ["H1.02"]
    assert joined(None) == joined(float("nan")) == joined("") == []
    assert rooms_of({"unit_id": "F1", "joined_units": None}) == ["F1"]
    assert rooms_of({"unit_id": None, "joined_units": None}) == []
    assert rooms_of({"unit_id": float("nan")}) == []
    assert rooms_text({"unit_id": "H1.01", "joined_units": "H1.02"}) == "H1.01+H1.02"
    assert rooms_of({"unit_id": "H1.02", "rooms": "H1.01+H1.02"}) == ["H1.01", "H1.02"]
    frame = pd.DataFrame({"unit_id": ["H1.01", "F1"], "joined_units": ["H1.02", None]})
    assert list(holds(frame, "h1.02")) == [True, False]
