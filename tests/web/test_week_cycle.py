"""*This week*: a planner proposes in the background (others keep working, one job per ledger),
reads the plan with every reason, its Gantt and the figures against first-come-first-served,
pins and forbids, proposes again and approves after a confirmation; each step is audited under
the planner."""

from __future__ import annotations

import json
import re
import threading

import pytest

from allocator.ledger import Ledger
from allocator.web import jobs
from allocator.web.testing import NAMES, csrf_of, sign_in

WEEK = "2026-12-07"


@pytest.fixture
def threaded(app):
    """Proposals run in a thread of the test process."""
    jobs.use(app.state.console, jobs.Jobs(mode="thread"))
    return app


def _propose(client, app, **fields):
    data = {"csrf_token": csrf_of(client), "week": WEEK, "method": "solver", "time_limit": "10"}
    response = client.post("/week/propose", data={**data, **fields}, follow_redirects=False)
    assert response.status_code == 303
    job = jobs.wait(app.state.console.engine)
    assert job is not None and job.state == "done", job and job.error
    return job


def _audit(ledger_path, action):
    with Ledger.open(ledger_path) as ledger:
        audit = ledger.table("audit")
    return audit[audit.action == action]


def test_proposal_runs_in_background_and_the_plan_shows_every_reason(threaded, client, ledger_path):
    """The proposal lands as a batch proposed by the planner (audited); the page lists every
    household with the engine's reason, draws a Gantt row per unit and shows the key figures of
    first-come-first-served next to the plan's."""
    sign_in(client, "planner")
    job = _propose(client, threaded)
    with Ledger.open(ledger_path) as ledger:
        batches = ledger.table("batches").set_index("batch_id")
        placements = ledger.table("placements")
        units = ledger.table("units")
    assert batches.loc[job.batch_id, "proposed_by"] == NAMES["planner"]
    assert _audit(ledger_path, "propose").actor.iloc[-1] == NAMES["planner"]
    mine = placements[placements.batch_id == job.batch_id]
    html = client.get(f"/week?batch={job.batch_id}").text
    table = re.search(r'<table class="plan">.*?</table>', html, flags=re.S).group(0)
    for row in mine.itertuples():
        assert f'<th scope="row">{row.household_id}</th>' in table
        assert (row.reason or "").replace("'", "&#39;").replace('"', "&#34;") in table
    svg = re.search(r'<svg class="timeline gantt".*?</svg>', html, flags=re.S).group(0)
    assert svg.count('<g class="row">') == len(units)
    assert 'class="bar week"' in svg
    compare = re.search(r'<table class="compare">.*?</table>', html, flags=re.S).group(0)
    this_week = re.search(
        r"placed this week</th>\s*<td[^>]*>(\d+)</td>\s*<td[^>]*>(\d+)</td>", compare
    )
    assert this_week is not None
    placed = mine[
        (mine.status == "placed") & (mine.start < batches.loc[job.batch_id, "commit_until"])
    ]
    assert int(this_week.group(1)) == len(placed)


def test_others_keep_working_while_one_proposal_runs(app, client, ledger_path):
    """While a proposal runs the page shows its progress fragment (polled by htmx), other pages
    answer, and a second proposal on the same ledger is refused with who is proposing."""
    gate = threading.Event()
    jobs.use(app.state.console, jobs.Jobs(mode="thread", on_start=lambda job: gate.wait(30)))
    sign_in(client, "planner")
    token = csrf_of(client)
    data = {"csrf_token": token, "week": WEEK, "method": "greedy", "time_limit": "10"}
    try:
        assert client.post("/week/propose", data=data).status_code == 200
        html = client.get("/week").text
        assert 'hx-get="/week/progress"' in html and "<progress" in html
        assert 'id="propose"' not in html  # no second proposal while one runs
        fragment = client.get("/week/progress", headers={"hx-request": "true"})
        assert "is proposing the week of" in fragment.text and "hx-redirect" not in fragment.headers
        assert client.get("/today").status_code == 200
        again = client.post("/week/propose", data=data, follow_redirects=True)
        assert "is already proposing the week of" in again.text
    finally:
        gate.set()
    job = jobs.wait(app.state.console.engine)
    assert job.state == "done"
    done = client.get("/week/progress", headers={"hx-request": "true"})
    assert done.headers["hx-redirect"] == f"/week?batch={job.batch_id}"
    assert len(_audit(ledger_path, "propose")) == 2  # the demo's and this one, not a third


def test_pin_and_forbid_then_propose_again(threaded, client, ledger_path):
    """A pin and a forbid made from the plan are used by the next proposal: the new batch stores
    them and its plan keeps them."""
    sign_in(client, "planner")
    first = _propose(client, threaded)
    with Ledger.open(ledger_path) as ledger:
        placements = ledger.table("placements")
    plan = placements[(placements.batch_id == first.batch_id) & (placements.status == "placed")]
    pinned, kept_out = plan.iloc[0], plan.iloc[1]
    token = csrf_of(client)
    base = {"csrf_token": token, "batch_id": str(first.batch_id), "back": "/week"}
    pin = {**base, "household_id": pinned.household_id, "unit_id": pinned.unit_id, "action": "pin"}
    forbid = {
        **base,
        "household_id": kept_out.household_id,
        "unit_id": kept_out.unit_id,
        "action": "forbid",
    }
    assert client.post("/week/constraint", data=pin, follow_redirects=False).status_code == 303
    assert client.post("/week/constraint", data=forbid, follow_redirects=False).status_code == 303
    html = client.get("/week").text
    assert f"{pinned.household_id} assigned to {pinned.unit_id}" in html
    assert f"{kept_out.household_id} kept out of {kept_out.unit_id}" in html
    second = _propose(client, threaded, batch_id=str(first.batch_id))
    with Ledger.open(ledger_path) as ledger:
        batch = ledger.table("batches").set_index("batch_id").loc[second.batch_id]
        placements = ledger.table("placements")
    assert json.loads(batch.pins) == {pinned.household_id: pinned.unit_id}
    assert json.loads(batch.forbids) == [[kept_out.household_id, kept_out.unit_id]]
    new = placements[placements.batch_id == second.batch_id].set_index("household_id")
    assert new.loc[pinned.household_id, "unit_id"] == pinned.unit_id
    assert new.loc[kept_out.household_id, "unit_id"] != kept_out.unit_id


def test_approve_after_a_confirmation(threaded, client, ledger_path):
    """Approving asks first (the move-ins listed), then turns this week's placements into
    stays, audited under the planner."""
    sign_in(client, "planner")
    job = _propose(client, threaded)
    html = client.get(f"/week?batch={job.batch_id}").text
    assert f'href="/week/approve?batch={job.batch_id}"' in html
    confirm = client.get(f"/week/approve?batch={job.batch_id}")
    assert confirm.status_code == 200 and 'id="confirm-approve"' in confirm.text
    with Ledger.open(ledger_path) as ledger:
        assert (
            ledger.table("batches").set_index("batch_id").loc[job.batch_id, "status"] == "proposed"
        )
        before = len(ledger.table("stays"))
    data = {"csrf_token": csrf_of(client), "batch_id": str(job.batch_id)}
    done = client.post("/week/approve", data=data, follow_redirects=True)
    assert "Plan approved:" in done.text
    with Ledger.open(ledger_path) as ledger:
        batch = ledger.table("batches").set_index("batch_id").loc[job.batch_id]
        stays = ledger.table("stays")
    assert batch.status == "approved" and batch.approved_by == NAMES["planner"]
    assert len(stays) - before == int(re.search(r"Plan approved: (\d+)", done.text).group(1))
    assert _audit(ledger_path, "approve").actor.iloc[-1] == NAMES["planner"]


def test_a_failed_proposal_says_why(threaded, client):
    """A proposal the ledger refuses (a week out of range) ends as failed, with the reason
    shown to the planner, and frees the ledger for the next one."""
    sign_in(client, "planner")
    data = {"csrf_token": csrf_of(client), "week": "1990-01-01", "method": "greedy"}
    client.post("/week/propose", data=data)
    job = jobs.wait(threaded.state.console.engine)
    assert job.state == "failed" and job.error
    html = client.get("/week").text
    assert "failed:" in html and 'id="propose"' in html


@pytest.mark.parametrize("role", ["viewer", "caseworker", "admin"])
def test_no_planner_button_for_other_roles(client, role):
    """Only a planner sees the propose, pin, forbid and approve controls."""
    sign_in(client, role)
    html = client.get("/week").text
    for marker in ('action="/week/propose"', 'action="/week/constraint"', "/week/approve"):
        assert marker not in html


def test_proposal_in_its_own_process(app, client, ledger_path):
    """By default the engine runs in a separate process; its batch lands the same way."""
    jobs.use(app.state.console, jobs.Jobs(mode="process"))
    sign_in(client, "planner")
    data = {"csrf_token": csrf_of(client), "week": WEEK, "method": "greedy", "time_limit": "10"}
    client.post("/week/propose", data=data)
    job = jobs.wait(app.state.console.engine, timeout=300)
    assert job.state == "done", job.error
    with Ledger.open(ledger_path) as ledger:
        batch = ledger.table("batches").set_index("batch_id").loc[job.batch_id]
    assert batch.proposed_by == NAMES["planner"] and batch.method == "greedy"
    assert client.get(f"/week?batch={job.batch_id}").status_code == 200


def test_figures_of_a_plan_proposed_elsewhere(client, app):
    """A plan proposed outside the console (the demo's, by first come, first served) gets its
    figures computed in the background, never in the page's request; then both columns agree."""
    sign_in(client, "viewer")
    first = client.get("/week?batch=1").text
    assert "The key figures are being computed." in first or 'class="compare"' in first
    jobs.wait_for_figures(app.state.console.engine, 1)
    html = client.get("/week?batch=1").text
    compare = re.search(r'<table class="compare">.*?</table>', html, flags=re.S).group(0)
    rows = re.findall(r'<td class="num">([^<]*)</td>\s*<td class="num">([^<]*)</td>', compare)
    assert len(rows) == 6 and all(mine == fcfs != "" for mine, fcfs in rows)
