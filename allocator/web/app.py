"""`create_app`: the console as a Starlette application on one ledger.

The routes come from `allocator.web.routing.PAGES`, filled by the view modules listed in
`VIEW_MODULES` (each declares its pages with ``@page``); every route is wrapped in the guard that
checks the session, the role and the CSRF token. Middleware, outermost first: security headers,
signed session cookie. Templates are Jinja2 with the i18n extension; every string goes through
the catalogue of the reader's language.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from importlib import import_module
from pathlib import Path
from typing import Any

import jinja2
import sqlalchemy as sa
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from allocator.ledger.schema import AuditRow, UserRow
from allocator.web import errors_i18n, i18n, rooms
from allocator.web.accounts import Account
from allocator.web.i18n import N_
from allocator.web.routing import (
    CSRF_FIELD,
    PAGES,
    ROLE_LABELS,
    Page,
    Role,
    csrf_token,
    guard,
)
from allocator.web.security import SecurityHeaders, Throttle
from allocator.web.settings import LANGUAGES, ConsoleSettings

HERE = Path(__file__).parent
# the newest audit row about something other than an account: scanned from the newest row back
_NEWEST = (
    sa.select(AuditRow.audit_id)
    .where(AuditRow.entity != "user")
    .order_by(AuditRow.audit_id.desc())
    .limit(1)
)
# the ledger's stamp as read with the account at the start of this request (a GET's): None
# outside one, where `Console.stamp` reads it
_request_stamp: ContextVar[int | None] = ContextVar("request_stamp", default=None)
# the modules that declare pages, in the order their pages appear in the menu
VIEW_MODULES = (
    "session", "today", "requests", "units", "week", "stays", "history", "audit", "export",
    "policy", "users",
)  # fmt: skip
LANGUAGE_NAMES = {"it": "Italiano", "en": "English"}


def load_views() -> list[Page]:
    for module in VIEW_MODULES:
        import_module(f"allocator.web.views.{module}")
    return sorted(PAGES, key=lambda p: p.order)


class Console:
    """What every request shares: the ledger's engine, the settings, templates, throttles."""

    def __init__(
        self,
        engine: sa.Engine,
        settings: ConsoleSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.reads = _read_engine(engine)
        self.settings = settings
        self.clock = clock
        window = settings.throttle_minutes * 60
        self.account_throttle = Throttle(settings.account_attempts, window, clock)
        self.client_throttle = Throttle(settings.client_attempts, window, clock)
        self.pages = load_views()
        self.templates = _environment()
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._computing: dict[tuple, threading.Lock] = {}

    def stamp(self) -> int:
        """The ledger's last change: every write adds an audit row, so its newest id moves.

        Rows about accounts (sign-in, sign-out, a user added) change no page that is cached, and
        a sign-in must not make every reader wait for the pages to be computed again.
        """
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(_NEWEST.scalar_subquery())).scalar() or 0)

    def account(self, user_id: str, *, reading: bool = True) -> Account | None:
        """The signed-in account, read on every request (a disabled one is signed out at once);
        the same query reads the ledger's stamp, which `cached` then uses for the rest of a
        ``reading`` request (one trip to the database, not two). A request that may write reads
        the stamp anew, so that what it shows after its write is never an older page."""
        users = UserRow.__table__
        query = sa.select(
            users.c.user_id,
            users.c.role,
            users.c.created,
            users.c.disabled,
            _NEWEST.scalar_subquery().label("stamp"),
        ).where(users.c.user_id == user_id)
        with self.reads.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        _request_stamp.set(int(row.stamp or 0) if reading else None)
        return Account(row.user_id, Role(row.role), row.created, bool(row.disabled))

    def cached(self, key: tuple, compute: Callable[[], Any], size: int = 16) -> Any:
        """``compute()``, reused while the ledger has not changed since (an LRU of ``size``).

        For what every reader sees alike (the status of a day, a chart). Requests that miss
        together wait for the first one's result rather than all computing it.
        """
        stamp = _request_stamp.get()
        full = (stamp if stamp is not None else self.stamp(), *key)
        with self._cache_lock:
            if full in self._cache:
                self._cache.move_to_end(full)
                return self._cache[full]
            computing = self._computing.setdefault(full, threading.Lock())
        with computing:
            with self._cache_lock:
                if full in self._cache:
                    return self._cache[full]
            value = compute()
            with self._cache_lock:
                self._cache[full] = value
                self._computing.pop(full, None)
                while len(self._cache) > size:
                    self._cache.popitem(last=False)
        return value

    def part(self, template: str, **context: Any) -> Markup:
        """A template rendered on its own (no page around it, no account, no CSRF token): a
        page body every reader of the same language sees alike, to keep with `cached`."""
        return Markup(self.templates.get_template(template).render(**context))

    def reader(self, request: Request) -> i18n.Reader:
        return i18n.reader_for(
            request.cookies.get(i18n.LANG_COOKIE),
            request.headers.get("accept-language"),
            self.settings.default_language,
            self.settings.timezone,
        )

    def render(
        self,
        request: Request,
        template: str,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        reader = i18n.current()
        user = context.pop("user", None)
        flashes = request.session.pop("flash", []) if "session" in request.scope else []
        nav = [p for p in self.pages if p.nav and user is not None and p.allows(user.role)]
        html = self.templates.get_template(template).render(
            request=request,
            user=user,
            role_label=(i18n.gettext(ROLE_LABELS[user.role]) if user else ""),
            nav=nav,
            current_path=request.url.path,
            language=reader.language,
            languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            flashes=flashes,
            csrf=csrf_token(request) if "session" in request.scope else "",
            **context,
        )
        return HTMLResponse(html, status_code=status_code)

    def error(
        self,
        request: Request,
        status_code: int,
        message: str,
        user: Any = None,
        detail: str | None = None,
    ) -> HTMLResponse:
        """An error page; ``message`` is an English msgid, ``detail`` shown as it is (escaped)."""
        return self.render(
            request,
            "error.html",
            status_code,
            user=user,
            status=status_code,
            message=i18n.gettext(message),
            detail=detail,
        )


def _read_engine(engine: sa.Engine) -> sa.Engine:
    """The engine for the read every request makes (its account and the ledger's stamp).

    The ledger's SQLite engine begins every transaction with BEGIN IMMEDIATE (the write lock up
    front), so those reads would queue behind each other and behind a proposal being stored;
    this one reads the same file in autocommit, without the lock. Other databases: the same.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return engine
    reads = sa.create_engine(engine.url, connect_args={"timeout": 60})

    @sa.event.listens_for(reads, "connect")
    def _connect(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
        dbapi_connection.isolation_level = None  # no BEGIN: each read sees the last commit

    return reads


def _template_gettext(message: str, **variables: Any) -> Markup:
    """``_()`` in a template, as jinja's newstyle gettext with autoescape gives it: translated,
    marked safe, then always %-formatted with ``variables`` (which the formatting escapes)."""
    return Markup(i18n.gettext(message)) % variables


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates are part of the package: no stat of each file per page
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["_"] = _template_gettext  # jinja's own `_` costs three calls through the context
    env.filters["day"] = i18n.format_day
    env.filters["moment"] = i18n.format_moment
    env.filters["number"] = i18n.format_number
    env.filters["share"] = i18n.format_share
    env.filters["error"] = errors_i18n.error_text  # an error's line in the reader's language
    env.filters["error_detail"] = errors_i18n.error_detail
    env.filters["rooms"] = rooms.rooms_text  # a stay's or placement's units, H1.01+H1.02
    env.globals["csrf_field_name"] = CSRF_FIELD
    env.globals["role_labels"] = ROLE_LABELS
    env.globals["roles"] = list(Role)
    env.globals["markup"] = Markup
    return env


def create_app(
    ledger: str | os.PathLike | sa.Engine | None = None,
    settings: ConsoleSettings | None = None,
    *,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The console on ``ledger`` (a SQLite file, a database URL, or an open engine).

    A ledger given by name must exist already (``allocator ledger init``); opening it brings its
    schema up to date, which adds the accounts table. ``clock`` (seconds, like `time.time`)
    lets tests move time for the idle timeout and the throttle.
    """
    from allocator.ledger import Ledger

    settings = settings or ConsoleSettings()
    owned = None
    if isinstance(ledger, sa.Engine):
        engine = ledger
        Ledger(engine).upgrade()
    else:
        owned = Ledger.open(ledger, create=False)
        engine = owned.engine
    console = Console(engine, settings, clock)

    routes: list[Any] = [
        Route(p.path, guard(console, p), methods=list(p.methods), name=p.name)
        for p in console.pages
    ]
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))
    https = settings.https
    middleware = [
        Middleware(SecurityHeaders, https=https),
        Middleware(
            SessionMiddleware,
            secret_key=settings.signing_key(),
            session_cookie="__Host-allocator" if https else "allocator_session",
            max_age=int(settings.session_hours * 3600),
            same_site="lax",
            https_only=https,
        ),
    ]

    async def not_found(request: Request, exc: Exception) -> HTMLResponse:
        i18n.use(console.reader(request))
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        message = N_("This page does not exist.") if status == 404 else N_("Not allowed.")
        return console.error(request, status, message)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette):
        yield
        if console.reads is not engine:
            console.reads.dispose()
        if owned is not None:
            owned.close()

    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={404: not_found, 405: not_found},
        lifespan=lifespan,
    )
    app.state.console = console
    return app
