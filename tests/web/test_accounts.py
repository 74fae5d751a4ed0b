"""Accounts: argon2 hashes in the ledger's users table, never in the audit trail; the Users page
and the `users` commands add and change them, audited under who did it; the last administrator
stays."""

from __future__ import annotations

import sqlalchemy as sa
from typer.testing import CliRunner

from allocator.cli import app as cli
from allocator.errors import InputError
from allocator.ledger import Ledger
from allocator.ledger.schema import AuditRow, UserRow
from allocator.web import accounts
from allocator.web.testing import FAST, NAMES, csrf_of, sign_in


def test_passwords_are_argon2_hashes(ledger_path):
    """The stored hash is argon2id, verifies the password, and no audit row holds it."""
    with Ledger.open(ledger_path) as ledger:
        with ledger.engine.connect() as conn:
            hashes = conn.execute(sa.select(UserRow.password_hash)).scalars().all()
            details = conn.execute(sa.select(AuditRow.detail)).scalars().all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(h in str(d) for h in hashes for d in details)


def test_users_page_adds_and_changes_accounts(client, ledger_path):
    """An admin adds an account and changes its role; both land in the audit under the admin."""
    sign_in(client, "admin")
    token = csrf_of(client)
    form = {"name": "new-planner", "role": "planner", "password": "p" * 12, "csrf_token": token}
    bad = client.post("/users/add", data={**form, "password_again": "q" * 12})
    assert bad.status_code == 400 and "The two passwords differ." in bad.text
    short = client.post("/users/add", data={**form, "password": "p", "password_again": "p"})
    assert short.status_code == 400 and "at least 10 characters" in short.text
    added = client.post("/users/add", data={**form, "password_again": "p" * 12})
    assert added.status_code == 200 and "Account new-planner added." in added.text
    client.post("/users/new-planner/update", data={"role": "viewer", "csrf_token": token})
    with Ledger.open(ledger_path) as ledger:
        audit = ledger.table("audit")
    mine = audit[audit.entity_id == "new-planner"]
    assert mine.action.tolist() == ["add_user", "set_role"]
    assert set(mine.actor) == {NAMES["admin"]}


def test_last_admin_cannot_be_disabled_or_demoted(ledger_path):
    """Disabling or demoting the only active admin is refused."""
    import pytest

    with Ledger.open(ledger_path) as ledger:
        with pytest.raises(InputError, match="last active administrator"):
            accounts.set_disabled(ledger.engine, "x", NAMES["admin"], True)
        with pytest.raises(InputError, match="last active administrator"):
            accounts.set_role(ledger.engine, "x", NAMES["admin"], "viewer")
        accounts.add_account(ledger.engine, "x", "second-admin", "admin", "s" * 12, **FAST)
        accounts.set_role(ledger.engine, "x", NAMES["admin"], "viewer")


def test_users_commands(ledger_path):
    """`allocator users add` prompts twice for the password; `users list` shows the account;
    a bad role or name is one line and exit 2."""
    runner = CliRunner()
    db = ["--db", str(ledger_path)]
    result = runner.invoke(
        cli, ["users", "add", "maria.r", "--role", "caseworker", *db], input="s3cret-pass\n" * 2
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(cli, ["users", "list", *db])
    assert "maria.r\tcaseworker" in listed.output
    with Ledger.open(ledger_path) as ledger:
        assert accounts.verify(ledger.engine, "maria.r", "s3cret-pass", **FAST) is not None
    bad = runner.invoke(cli, ["users", "add", "x y", "--role", "boss", *db])
    assert bad.exit_code == 2 and "error:" in bad.output
    again = runner.invoke(
        cli, ["users", "add", "maria.r", "--role", "viewer", *db], input="another-pass\n" * 2
    )
    assert again.exit_code == 2 and "exists already" in again.output
