"""Signing in and out, the language switch, and the home page (which sends on to *Today*).

A successful sign-in starts a new session (new CSRF token: nothing set before it survives, so a
session id planted beforehand is useless) and is recorded in the audit trail; a failed one counts
against the account name and the client address (`allocator.web.security.Throttle`).
"""

from __future__ import annotations

import logging
import secrets

from starlette.responses import RedirectResponse, Response

from allocator.ledger.database import audit, transaction
from allocator.web import accounts, i18n
from allocator.web.i18n import N_, gettext
from allocator.web.routing import EVERYONE, PUBLIC, PageContext, local_path, page
from allocator.web.settings import LANGUAGES

log = logging.getLogger("allocator.web")


@page("/", roles=EVERYONE, name="home")
def home(ctx: PageContext) -> Response:
    return ctx.redirect("/today")


@page("/login", roles=PUBLIC, methods=("GET", "POST"), name="login")
def login(ctx: PageContext) -> Response:
    target = local_path(ctx.query("next") or ctx.field("next"))
    if ctx.request.method == "GET":
        if ctx.user is not None:
            return ctx.redirect(target)
        notice = N_("Your session ended after a while without activity: sign in again.")
        return ctx.render(
            "login.html",
            next=target,
            name="",
            error=gettext(notice) if ctx.query("expired") else None,
        )
    console = ctx.console
    name = ctx.field("name")[:64]
    password = ctx.field("password")
    client = f"client:{ctx.request.client.host if ctx.request.client else '?'}"
    account_key = f"account:{name.lower()}"
    wait = max(console.account_throttle.wait(account_key), console.client_throttle.wait(client))
    if wait > 0:
        log.warning("sign-in refused: too many failed attempts")
        minutes = max(1, round(wait / 60))
        message = i18n.ngettext(
            "Too many failed sign-ins. Try again in %(num)d minute.",
            "Too many failed sign-ins. Try again in %(num)d minutes.",
            minutes,
        ) % {"num": minutes}
        return ctx.render("login.html", 429, next=target, name=name, error=message)
    settings = console.settings
    account = accounts.verify(
        console.engine,
        name,
        password,
        time_cost=settings.hash_time_cost,
        memory_kib=settings.hash_memory_kib,
    )
    if account is None:
        console.account_throttle.fail(account_key)
        console.client_throttle.fail(client)
        log.info("sign-in failed")
        message = gettext("Wrong account name or password, or the account is disabled.")
        return ctx.render("login.html", 401, next=target, name=name, error=message)
    console.account_throttle.clear(account_key)
    session = ctx.session
    session.clear()  # a fresh session: nothing from before signing in carries over
    now = console.clock()
    session.update(user=account.user_id, since=now, seen=now, csrf=secrets.token_urlsafe(32))
    with transaction(console.engine, account.user_id) as s:
        audit(s, "sign_in", "user", account.user_id)
    return ctx.redirect(target)


@page("/logout", roles=EVERYONE, methods=("POST",), name="logout")
def logout(ctx: PageContext) -> Response:
    if ctx.user is not None:
        with transaction(ctx.console.engine, ctx.user.user_id) as s:
            audit(s, "sign_out", "user", ctx.user.user_id)
    ctx.session.clear()
    return ctx.redirect("/login")


@page("/language/{code}", roles=PUBLIC, name="language", sample={"code": "it"})
def language(ctx: PageContext) -> Response:
    """The switch: remembers the language in a cookie for a year and goes back."""
    code = ctx.request.path_params.get("code", "")
    response = RedirectResponse(local_path(ctx.query("next")), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(
            i18n.LANG_COOKIE,
            code,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=ctx.console.settings.https,
        )
    return response
