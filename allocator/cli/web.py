"""``allocator serve`` (the planners' web console) and the ``users`` group (its accounts).

The web stack (Starlette, uvicorn, argon2) is imported when a command runs, not at start-up.
Uvicorn's access log is off: the console logs each request itself, with the route's template
(``/export/{table}.{fmt}``), never the ids or the query of the real URL
(`allocator.web.server`).
"""

from __future__ import annotations

import ipaddress
import shutil
import tempfile
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from allocator.cli import interrupts
from allocator.cli.common import DbOption, fail
from allocator.cli.root import app
from allocator.errors import AllocatorError

SECRET_ENV = "ALLOCATOR_SECRET_KEY"
ROLES = ("admin", "planner", "caseworker", "viewer")

users_app = typer.Typer(help="Accounts of the web console (allocator serve).", no_args_is_help=True)
app.add_typer(users_app, name="users")


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="A throwaway ledger with the demo week and one account per role (printed).",
        ),
    ] = False,
    https: Annotated[
        bool,
        typer.Option(
            "--https",
            help="Served behind an HTTPS proxy: Secure cookies and HSTS.",
        ),
    ] = False,
    idle_minutes: Annotated[
        float, typer.Option("--idle-minutes", min=1, max=1440, help="Sign out after idling.")
    ] = 30.0,
) -> None:
    """Start the web console on the ledger (Ctrl-C stops it)."""
    import os

    from allocator.web import ConsoleSettings, create_app

    settings = ConsoleSettings(
        secret_key=os.environ.get(SECRET_ENV, ""), https=https, idle_minutes=idle_minutes
    )
    try:
        _check_host(host, https)
        if demo:
            folder = tempfile.mkdtemp(prefix="allocator-demo-")
            remove = partial(shutil.rmtree, folder, ignore_errors=True)
            with interrupts.on_abort(remove):  # Ctrl-C ends the process: the demo goes too
                try:
                    url = _demo_ledger(Path(folder) / "demo.db")
                    _run(create_app(url, settings), host, port)
                finally:
                    remove()
            return
        application = create_app(db, settings)
        _hint_without_accounts(application)
        _run(application, host, port)
    except AllocatorError as exc:
        raise fail(exc) from None


def _check_host(host: str, https: bool) -> None:
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not https:
        typer.echo(
            f"warning: listening on {host} without --https: serve the console behind an HTTPS "
            "proxy, or passwords and session cookies cross the network in clear",
            err=True,
        )


def _demo_ledger(path: Path) -> str:
    from allocator.ledger import Ledger
    from allocator.web import demo

    with Ledger.open(path, actor=demo.SETUP) as ledger:
        week = demo.fill(ledger)
        made = demo.add_demo_accounts(ledger)
    typer.echo(f"Demo ledger (deleted when the server stops): the week of {week.isoformat()}")
    typer.echo("Demo accounts:")
    for name, (role, password) in made.items():
        typer.echo(f"  {role.value:<11} {name:<16} password: {password}")
    return str(path)


def _hint_without_accounts(application) -> None:
    from allocator.web.accounts import list_accounts

    if not list_accounts(application.state.console.engine):
        typer.echo(
            "no accounts yet: add one with `allocator users add NAME --role admin`", err=True
        )


def _run(application, host: str, port: int) -> None:
    from allocator.web.server import log_to_stderr, server

    log_to_stderr()
    interrupts.done("console stopped")  # each request commits or rolls back on its own
    typer.echo(f"Console on http://{host}:{port}/ (Ctrl-C stops it)")
    server(application, host, port).run()


# --- accounts --------------------------------------------------------------------------------


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The account's sign-in name (a staff id).")],
    role: Annotated[
        str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.", show_default=False)
    ],
    db: DbOption = None,
) -> None:
    """Add a console account; its password is asked for at a prompt (twice)."""
    from allocator.ledger import Ledger
    from allocator.web import accounts

    try:
        accounts.check_user_id(name)
        accounts.check_role(role)
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        with Ledger.open(db, create=False) as ledger:
            made = accounts.add_account(ledger.engine, "cli", name, role, password)
    except AllocatorError as exc:
        raise fail(exc) from None
    typer.echo(f"added {made.user_id} ({made.role.value})")


@users_app.command("password")
def users_password(
    name: Annotated[str, typer.Argument(help="The account's sign-in name.")],
    db: DbOption = None,
) -> None:
    """Set a new password for an account (asked for at a prompt, twice)."""
    from allocator.ledger import Ledger
    from allocator.web import accounts

    try:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
        with Ledger.open(db, create=False) as ledger:
            accounts.set_password(ledger.engine, "cli", name, password)
    except AllocatorError as exc:
        raise fail(exc) from None
    typer.echo(f"new password set for {name}")


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """The console's accounts: name, role, created (UTC), state."""
    from allocator.ledger import Ledger
    from allocator.web import accounts

    try:
        with Ledger.open(db, create=False) as ledger:
            found = accounts.list_accounts(ledger.engine)
    except AllocatorError as exc:
        raise fail(exc) from None
    if not found:
        typer.echo("no accounts")
        return
    for a in found:
        state = "disabled" if a.disabled else "active"
        typer.echo(f"{a.user_id}\t{a.role.value}\t{a.created.isoformat(sep=' ')}\t{state}")
