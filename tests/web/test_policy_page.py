"""The *Policy* page: every role reads the ledger's policy, only an administrator changes it, in a
form built from the model's fields; a bad value is shown beside its field and saves nothing; a
change is audited under the administrator with the old and new value of each changed field."""

from __future__ import annotations

import json
import re

import pytest

from allocator.ledger import Ledger
from allocator.policy import Policy
from allocator.web.routing import Role
from allocator.web.testing import NAMES, csrf_of, form_values, sign_in


def _stored(ledger_path) -> tuple[Policy, int, int]:
    with Ledger.open(ledger_path) as ledger:
        audit = ledger.table("audit")
        return ledger.policy, ledger.version, int((audit.action == "set_policy").sum())


def _save(client, **changes):
    form = {**form_values(client.get("/policy").text), **changes, "csrf_token": csrf_of(client)}
    return client.post("/policy/save", data=form, follow_redirects=False)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_policy_and_only_admin_gets_theform_values(client, role):
    """All four roles see the policy's values; the form that changes it is the admin's alone."""
    sign_in(client, role)
    html = client.get("/policy").text
    assert "Planning horizon (weeks)" in html and "turnover_days" in html
    assert ('action="/policy/save"' in html) == (role == Role.ADMIN)
    assert 'href="/policy"' in html  # in the menu of every role


def test_every_field_of_the_model_is_on_the_page(client):
    """The form is built from `Policy`'s fields: each appears, as inputs or shown read-only, so
    a field added to the model needs no template edit."""
    sign_in(client, "admin")
    html = client.get("/policy").text
    sent = form_values(html)
    for name in Policy.model_fields:
        editable = name in sent or any(k.startswith(f"{name}.") for k in sent)
        assert editable or f'id="p-{name}"' in html, name
    assert {f"urgency_weights.{k}" for k in range(1, 6)} <= set(sent)
    assert {"support_loads.low", "support_loads.medium", "support_loads.high"} <= set(sent)


def test_a_change_is_saved_and_audited_under_the_administrator(client, ledger_path):
    """Turnover days and one urgency weight (typed with a decimal comma) change; the audit row
    names the admin and holds old and new of the changed fields only."""
    before, version, audits = _stored(ledger_path)
    sign_in(client, "admin")
    answer = _save(client, turnover_days="5", **{"urgency_weights.3": "2,5"})
    assert answer.status_code == 303 and answer.headers["location"] == "/policy"
    assert "Policy saved" in client.get("/policy").text
    after, new_version, new_audits = _stored(ledger_path)
    assert after.turnover_days == 5 and after.urgency_weights[3] == 2.5
    assert new_version == version + 1 and new_audits == audits + 1
    with Ledger.open(ledger_path) as ledger:
        row = ledger.table("audit").query("action == 'set_policy'").iloc[-1]
    assert row.actor == NAMES["admin"]
    detail = json.loads(row.detail) if isinstance(row.detail, str) else row.detail
    assert set(detail["changed"]) == {"turnover_days", "urgency_weights"}
    assert detail["changed"]["turnover_days"] == {"old": before.turnover_days, "new": 5}


def test_a_bad_value_is_shown_beside_its_field_and_saves_nothing(client, ledger_path):
    """Turnover past its range and a weight that is not a number: both fields say what was
    expected, the values typed stay in the form, and the ledger is as it was."""
    before = _stored(ledger_path)
    sign_in(client, "admin")
    answer = _save(client, turnover_days="500", **{"urgency_weights.2": "lots"})
    assert answer.status_code == 400
    html = answer.text
    assert "Nothing was saved" in html
    turnover = re.search(r'<input id="p-turnover_days"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in turnover and 'value="500"' in turnover
    error = re.search(r'id="p-turnover_days-error">([^<]*)<', html).group(1)
    assert error == "Expected a whole number from 0 to 60."
    assert 'id="p-urgency_weights-2-error">Expected a number' in html
    assert _stored(ledger_path) == before


def test_unreadable_pairs_and_an_empty_required_field_are_refused(client, ledger_path):
    """A language limit written without ``=`` and an emptied horizon: refused, nothing saved;
    well-formed pairs are saved as a mapping."""
    before = _stored(ledger_path)
    sign_in(client, "admin")
    answer = _save(client, mediation_capacity_by_language="ar3", horizon_weeks="")
    assert answer.status_code == 400
    assert "Write pairs such as ar=3" in answer.text and "A value is needed." in answer.text
    assert _stored(ledger_path) == before
    assert _save(client, mediation_capacity_by_language="ar=3; ti=2").status_code == 303
    assert _stored(ledger_path)[0].mediation_capacity_by_language == {"ar": 3, "ti": 2}


def test_saving_the_same_policy_changes_nothing(client, ledger_path):
    """No audit row and no new ledger version when nothing changed."""
    before = _stored(ledger_path)
    sign_in(client, "admin")
    assert _save(client).status_code == 303
    assert "The policy is unchanged." in client.get("/policy").text
    assert _stored(ledger_path) == before


def test_only_an_administrator_may_save(client, ledger_path):
    """A planner's POST is refused (403) and changes nothing."""
    before = _stored(ledger_path)
    sign_in(client, "planner")
    form = {"turnover_days": "9", "csrf_token": csrf_of(client)}
    assert client.post("/policy/save", data=form).status_code == 403
    assert _stored(ledger_path) == before


def test_a_save_from_a_form_read_before_another_change_is_refused(client, ledger_path):
    """Two forms read at the same policy: the first save wins; the second is refused (409),
    says so, shows the policy as it now is and saves nothing, in English and Italian."""
    sign_in(client, "admin")
    first, second = (form_values(client.get("/policy").text) for _ in range(2))
    assert first["policy_read"] == second["policy_read"]
    token = csrf_of(client)
    answer = client.post("/policy/save", data={**first, "turnover_days": "5", "csrf_token": token})
    assert answer.status_code == 200 and "Policy saved" in answer.text
    saved = _stored(ledger_path)
    answer = client.post("/policy/save", data={**second, "pin_weight": "77", "csrf_token": token})
    assert answer.status_code == 409
    assert "another administrator changed the policy after you opened this page" in answer.text
    assert re.search(r'id="p-turnover_days"[^>]*value="5"', answer.text)  # as it now is
    assert _stored(ledger_path) == saved
    client.cookies.set("lang", "it")
    answer = client.post("/policy/save", data={**second, "csrf_token": token})
    assert answer.status_code == 409
    assert "un altro amministratore ha cambiato le regole" in answer.text
    assert _stored(ledger_path) == saved


def test_the_check_and_the_write_are_one_transaction(ledger_path):
    """`Ledger.set_policy(read=...)` re-reads the stored policy under the writers' lock: a
    fingerprint that no longer matches writes nothing; the current one writes."""
    with Ledger.open(ledger_path) as ledger:
        before = ledger.policy
        new = before.model_copy(update={"turnover_days": before.turnover_days + 1})
        assert not ledger.set_policy(new, read=new.fingerprint())
        assert ledger.policy == before
        assert ledger.set_policy(new, read=before.fingerprint())
        assert ledger.policy == new


def test_the_page_reads_in_italian(client):
    """Labels, hints and a field's error in Italian, numbers with the Italian separators."""
    client.cookies.set("lang", "it")
    sign_in(client, "admin")
    html = _save(client, pin_weight="2000000", wasted_bed_night_weight="1e-9").text
    assert "Orizzonte di pianificazione (settimane)" in html
    assert "Non è stato salvato nulla" in html
    assert "Serve un numero da 0,001 a 1.000.000." in html
    assert "Serve 0 o un numero da 0,000001 a 1.000:" in html  # the tie-breakers' own rule


def test_every_policy_field_has_a_label_in_the_catalogue():
    """A field added to `Policy` fails here until it has a label (and so an Italian translation,
    which the catalogue test checks): the page never shows a field's English description."""
    from allocator.policy import Policy
    from allocator.web.views.policy import LABELS

    assert set(Policy.model_fields) - set(LABELS) == set()
