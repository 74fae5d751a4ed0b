"""The fairness bound in the console: the policy page shows and saves `fair_wait_days` (empty
is off), in Italian too; a plan made under the bound says so on *This week*."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pandas as pd

from allocator.ledger import Ledger
from allocator.web.testing import csrf_of, form_values, sign_in
from allocator.web.views.week import _fairness


def _save(client, **changes):
    form = {**form_values(client.get("/policy").text), **changes, "csrf_token": csrf_of(client)}
    return client.post("/policy/save", data=form, follow_redirects=False)


def _stored(ledger_path) -> int | None:
    with Ledger.open(ledger_path) as ledger:
        return ledger.policy.fair_wait_days


def test_the_bound_is_shown_empty_as_off_and_saved(client, ledger_path):
    """Off by default (an empty input, "Empty: off."); 30 saves 30; empty again saves None."""
    sign_in(client, "admin")
    html = client.get("/policy").text
    assert "Fairness bound: days of waiting" in html
    assert form_values(html)["fair_wait_days"] == ""
    assert "Empty: off." in html and 'name="fair_wait_days"' in html
    assert _save(client, fair_wait_days="30").status_code == 303
    assert _stored(ledger_path) == 30
    assert form_values(client.get("/policy").text)["fair_wait_days"] == "30"
    assert _save(client, fair_wait_days="").status_code == 303
    assert _stored(ledger_path) is None


def test_a_bad_bound_is_refused_beside_its_field(client, ledger_path):
    """A negative number or a fraction is refused and nothing is saved."""
    sign_in(client, "admin")
    for bad in ("-1", "2.5"):
        answer = _save(client, fair_wait_days=bad)
        assert answer.status_code == 400 and "Expected a whole number" in answer.text
    assert _stored(ledger_path) is None


def test_a_reader_sees_off_then_the_days(client, ledger_path):
    """A viewer reads "off" while the bound is off, the days once it is set."""
    sign_in(client, "viewer")
    row = re.compile(r"<code>fair_wait_days</code>.*?<td>([^<]*)</td>", re.S)
    assert row.search(client.get("/policy").text).group(1) == "off"
    with Ledger.open(ledger_path) as ledger:
        ledger.set_policy(ledger.policy.model_copy(update={"fair_wait_days": 21}))
    assert row.search(client.get("/policy").text).group(1) == "21"


def test_the_policy_page_reads_the_bound_in_italian(client, ledger_path):
    """Label, hint and the meaning of an empty input in Italian; a save works the same."""
    client.cookies.set("lang", "it")
    sign_in(client, "admin")
    html = client.get("/policy").text
    assert "Limite di equità: giorni di attesa" in html
    assert "Vuoto: disattivato." in html
    assert "al costo di notti-persona in albergo" in html
    assert _save(client, fair_wait_days="14").status_code == 303
    assert _stored(ledger_path) == 14


def test_a_plan_under_the_bound_says_so_on_this_week(client, ledger_path):
    """A batch the optimiser proposed under a policy with the bound: *This week* names the
    bound, and how many households it decided, in English and Italian; a first-come batch,
    which the bound does not hold (it may overtake), does not claim it."""
    with Ledger.open(ledger_path) as ledger:
        ledger.set_policy(ledger.policy.model_copy(update={"fair_wait_days": 30}))
        batches = ledger.table("batches")
        week = (
            dt.date.fromisoformat(str(batches.week.max())) + dt.timedelta(days=7)
            if not batches.empty
            else dt.date(2026, 12, 7)
        )
        greedy = ledger.propose(week, method="greedy").batch_id
        solver = ledger.propose(week, method="solver", time_limit=10).batch_id
    sign_in(client, "viewer")
    html = client.get(f"/week?batch={greedy}").text
    assert 'id="fairness"' not in html and "Fairness bound: nobody" not in html
    html = client.get(f"/week?batch={solver}").text
    assert "Fairness bound: nobody who has waited 30 days" in html
    assert "It changed nothing in this plan." in html or "It decided" in html
    client.cookies.set("lang", "it")
    html = client.get(f"/week?batch={solver}").text
    assert "Limite di equità: chi ha atteso 30 giorni" in html


def test_the_count_is_of_reasons_that_name_the_bound():
    """`_fairness` counts the reasons with the bound's mark; no bound, or greedy's plan: None."""
    table = pd.DataFrame(
        {"reason": ["flat F3; placed ahead of ... (fairness bound)", "flat F4", None]}
    )
    solver = "solver"
    assert _fairness(SimpleNamespace(policy={"fair_wait_days": 7}, method=solver), table) == {
        "days": 7,
        "decided": 1,
    }
    assert _fairness(SimpleNamespace(policy={"fair_wait_days": None}, method=solver), table) is None
    assert _fairness(SimpleNamespace(policy=None, method=solver), table) is None
    # first come, first served is not bound by it: no claim that it holds
    assert _fairness(SimpleNamespace(policy={"fair_wait_days": 7}, method="greedy"), table) is None
