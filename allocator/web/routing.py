"""Pages and who may open them: the ONE place the console decides access.

Every page is declared with `page` (path, methods, the roles it allows) and lands in `PAGES`; the
app builds its routes from that list and wraps each handler in `guard`, which, in this order:

1. finds the signed-in account (ending a session idle for too long or older than the longest
   allowed; a disabled or deleted account is signed out at once);
2. sends nobody-signed-in to the sign-in page, and answers 403 to a role the page does not allow;
3. refuses a POST whose CSRF token is missing or wrong (403);
4. sets the reader's language and runs the handler in a worker thread (handlers are plain
   functions that may block on the database), turning an `AllocatorError` into a 400 page.

A test walks `PAGES` and tries every route with every role, so no route can forget its check.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from allocator.errors import AllocatorError
from allocator.web import i18n
from allocator.web.errors_i18n import error_text
from allocator.web.i18n import N_

if TYPE_CHECKING:
    from allocator.ledger import Ledger
    from allocator.web.accounts import Account
    from allocator.web.app import Console

log = logging.getLogger("allocator.web")


class Role(StrEnum):
    ADMIN = "admin"  # users, units, policy
    PLANNER = "planner"  # propose, pin/forbid, approve
    CASEWORKER = "caseworker"  # requests, move-in, exit, extend
    VIEWER = "viewer"  # read-only, for evaluators


ROLE_LABELS = {
    Role.ADMIN: N_("administrator"),
    Role.PLANNER: N_("planner"),
    Role.CASEWORKER: N_("caseworker"),
    Role.VIEWER: N_("viewer (read-only)"),
}
EVERYONE = frozenset(Role)  # every signed-in role
PUBLIC = None  # a page anybody may open, signed in or not (sign-in, language switch)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

Handler = Callable[["PageContext"], Response]


@dataclass(frozen=True)
class Page:
    """One route: its path, methods, the roles allowed (None: public) and its handler.

    ``nav`` is the menu label (English msgid) of a page that appears in the menu, in ``order``;
    ``sample`` gives example path parameters, so a test can call every route.
    """

    name: str
    path: str
    methods: tuple[str, ...]
    roles: frozenset[Role] | None
    handler: Handler
    nav: str | None = None
    order: int = 100
    sample: dict[str, str] = field(default_factory=dict)

    def allows(self, role: Role | str | None) -> bool:
        return self.roles is None or (role is not None and Role(role) in self.roles)

    @property
    def example_path(self) -> str:
        return self.path.format(**self.sample) if self.sample else self.path


PAGES: list[Page] = []


def page(
    path: str,
    *,
    roles: Iterable[Role] | None,
    methods: Iterable[str] = ("GET",),
    name: str | None = None,
    nav: str | None = None,
    order: int = 100,
    sample: dict[str, str] | None = None,
) -> Callable[[Handler], Handler]:
    """Declare a page: ``@page("/today", roles=EVERYONE, nav=N_("Today"))`` over its handler."""

    def register(handler: Handler) -> Handler:
        entry = Page(
            name=name or handler.__name__,
            path=path,
            methods=tuple(m.upper() for m in methods),
            roles=None if roles is None else frozenset(Role(r) for r in roles),
            handler=handler,
            nav=nav,
            order=order,
            sample=dict(sample or {}),
        )
        if any(p.name == entry.name for p in PAGES):
            raise ValueError(f"two pages named {entry.name!r}")
        PAGES.append(entry)
        return handler

    return register


# --- what a handler gets ---------------------------------------------------------------------


@dataclass
class PageContext:
    """A request as a handler sees it: the account, the parsed form, the ledger, the reader."""

    request: Request
    console: Console
    page: Page
    user: Account | None
    form: FormData | None
    reader: i18n.Reader

    def ledger(self) -> Ledger:
        """The ledger, acting as the signed-in account: every write is audited under its id."""
        from allocator.ledger import Ledger

        return Ledger(self.console.engine, actor=self.user.user_id if self.user else None)

    @property
    def session(self) -> dict[str, Any]:
        return self.request.session

    @property
    def today(self) -> dt.date:
        return dt.date.fromtimestamp(self.console.clock())

    def query(self, key: str, default: str = "") -> str:
        return self.request.query_params.get(key, default).strip()

    def field(self, key: str, default: str = "") -> str:
        value = self.form.get(key) if self.form is not None else None
        return value.strip() if isinstance(value, str) else default

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return self.console.render(self.request, template, status_code, user=self.user, **context)

    def redirect(self, url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    def flash(self, message: str) -> None:
        """A message shown once on the next page (already translated)."""
        session = self.request.session
        session["flash"] = [*session.get("flash", []), message]  # an assignment marks it changed

    def url(self, name: str, **params: Any) -> str:
        return str(self.request.url_for(name, **params).path)


# --- the guard -------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (the sign-in page's GET makes it)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _csrf_ok(request: Request, form: FormData | None) -> bool:
    expected = request.session.get("csrf")
    given = request.headers.get(CSRF_HEADER) or (form.get(CSRF_FIELD) if form else None)
    return (
        isinstance(expected, str)
        and isinstance(given, str)
        and hmac.compare_digest(expected.encode(), given.encode())
    )


def local_path(target: str | None, default: str = "/today") -> str:
    """``target`` if it is a path on this site (no scheme, host or //), else ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else default


def _signed_in(console: Console, request: Request) -> tuple[Account | None, bool]:
    """The session's account, if the session is still valid; and whether it just expired."""
    session = request.session
    user_id = session.get("user")
    if not user_id:
        return None, False
    now = console.clock()
    settings = console.settings
    idle = now - float(session.get("seen", 0))
    age = now - float(session.get("since", 0))
    if idle > settings.idle_minutes * 60 or age > settings.session_hours * 3600:
        session.clear()
        return None, True
    # read anew on every request, with the ledger's stamp for a request that only reads
    account = console.account(user_id, reading=request.method in ("GET", "HEAD"))
    if account is None or account.disabled:
        session.clear()
        return None, True
    if now - float(session.get("seen", 0)) > 30:  # re-sign the cookie at most twice a minute
        session["seen"] = now
    return account, False


def guard(console: Console, entry: Page) -> Callable[[Request], Any]:
    """The endpoint Starlette calls for ``entry``: every check, then the handler."""

    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        reader = console.reader(request)
        i18n.use(reader)
        response = await _checked(console, entry, request, reader)
        log.info(
            "%s %s %d %.0fms",
            request.method,
            entry.path,  # the route's template: never the ids or the query in the URL
            response.status_code,
            1000 * (time.perf_counter() - started),
        )
        return response

    endpoint.__name__ = entry.name
    return endpoint


async def _checked(console: Console, entry: Page, request: Request, reader: i18n.Reader):
    if request.method != "POST":  # one trip to a worker thread: the checks, then the handler
        return await run_in_threadpool(_get, console, entry, request, reader)
    user, refusal = await run_in_threadpool(_admit, console, entry, request, reader)
    if refusal is not None:
        return refusal
    max_size = int(console.settings.upload_megabytes * 1024 * 1024)
    try:
        form = await request.form(max_files=4, max_fields=500, max_part_size=max_size)
    except Exception:  # a malformed or oversized body: refused like a bad form
        return console.error(request, 400, N_("The form could not be read."), user)
    try:
        if not _csrf_ok(request, form):
            return console.error(
                request,
                403,
                N_(
                    "This form has expired or did not come from this site. Go back, reload "
                    "the page and try again."
                ),
                user,
            )
        ctx = PageContext(request, console, entry, user, form, reader)
        return await run_in_threadpool(_run, ctx)
    finally:
        await form.close()


def _admit(
    console: Console, entry: Page, request: Request, reader: i18n.Reader
) -> tuple[Account | None, Response | None]:
    """The signed-in account, or the answer that refuses the request (sign in, 403)."""
    i18n.use(reader)
    user, expired = _signed_in(console, request)
    if entry.roles is not None:
        if user is None:
            return None, _to_sign_in(request, expired)
        if not entry.allows(user.role):
            return user, console.error(request, 403, N_("Your role may not open this page."), user)
    return user, None


def _get(console: Console, entry: Page, request: Request, reader: i18n.Reader) -> Response:
    user, refusal = _admit(console, entry, request, reader)
    if refusal is not None:
        return refusal
    return _run(PageContext(request, console, entry, user, None, reader))


def _run(ctx: PageContext) -> Response:
    """The handler, in a worker thread; a refusal by the ledger becomes a 400 page."""
    i18n.use(ctx.reader)  # the worker thread's context is a copy; set it again to be sure
    try:
        return ctx.page.handler(ctx)
    except AllocatorError as exc:
        return ctx.console.error(
            ctx.request, 400, N_("The ledger refused this:"), ctx.user, detail=error_text(exc)
        )
    except Exception as exc:  # never a traceback (it may hold household data) in a log or page
        log.error("%s %s failed: %s", ctx.request.method, ctx.page.path, type(exc).__name__)
        return ctx.console.error(
            ctx.request, 500, N_("Something went wrong on the server."), ctx.user
        )


def _to_sign_in(request: Request, expired: bool) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = "/today"
    url = f"/login?next={quote(local_path(target), safe='/')}"
    if expired:
        url += "&expired=1"
    if request.headers.get("hx-request"):  # htmx would follow a 303 and swap the sign-in page
        return Response(status_code=401, headers={"hx-redirect": url})
    return RedirectResponse(url, status_code=303)
