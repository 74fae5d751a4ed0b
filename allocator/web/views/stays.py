"""*Stays*: what happens after approval. Caseworkers record a move-in (into the planned stay, or
into a unit outside any batch), an exit with its pathway and outcome, and an extension with its
reason, through `Ledger.move_in`, `exit` and `extend`, whose rules (overlap with turnover,
capacity, availability, an exit date) refuse a change with the stay named. Every role reads the
list. Free text (an outcome, a reason) is stored as typed and always shown escaped.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import sqlalchemy as sa
from starlette.responses import Response

from allocator.choices import EXIT_PATHWAYS
from allocator.errors import _N, InputError
from allocator.ledger.schema import HouseholdRow, StayRow, UnitRow
from allocator.web.errors_i18n import error_text
from allocator.web.i18n import N_, gettext
from allocator.web.rooms import holds
from allocator.web.routing import EVERYONE, PageContext, Role, local_path, page
from allocator.web.views.history import PATHWAYS
from allocator.web.views.paging import table_page

CASEWORKERS = (Role.CASEWORKER,)
SHOW = {
    "open": N_("to follow (planned or in a unit)"),
    "planned": N_("move-in not recorded"),
    "running": N_("in a unit"),
    "ended": N_("ended"),
    "all": N_("all"),
}
STATES = {"planned": N_("move-in not recorded"), "running": N_("in a unit"), "ended": N_("ended")}


def _stays(ctx: PageContext) -> pd.DataFrame:
    st, h = StayRow, HouseholdRow
    query = (
        sa.select(st.__table__, h.size, h.expected_exit_date)
        .join(h, h.household_id == st.household_id)
        .order_by(st.start, st.household_id)
    )
    with ctx.console.engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).mappings().all())
    if frame.empty:
        return pd.DataFrame(columns=[c.name for c in query.selected_columns] + ["state"])
    state = pd.Series("planned", index=frame.index)
    state[frame.moved_in.notna()] = "running"
    state[frame.actual_end.notna()] = "ended"
    frame["state"] = state
    return frame


def _choices(ctx: PageContext) -> tuple[list[str], list[str]]:
    """Households without a stay and the units: the manual move-in's suggestions."""
    housed = sa.select(StayRow.household_id)
    with ctx.console.engine.connect() as conn:
        waiting = conn.execute(
            sa.select(HouseholdRow.household_id)
            .where(HouseholdRow.household_id.not_in(housed))
            .order_by(HouseholdRow.household_id)
        ).scalars()
        units = conn.execute(sa.select(UnitRow.unit_id).order_by(UnitRow.unit_id)).scalars()
        return list(waiting), list(units)


def show_stays(ctx: PageContext, status_code: int = 200, error: str | None = None) -> Response:
    frame = _stays(ctx)
    show = ctx.query("show") if ctx.query("show") in SHOW else "open"
    search = ctx.query("q")
    if show == "open":
        frame = frame[frame.state != "ended"]
    elif show != "all":
        frame = frame[frame.state == show]
    if search:
        hit = frame.household_id.str.contains(search, case=False, regex=False)
        frame = frame[hit | holds(frame, search)]  # a stay in connecting rooms by any room
    shown = table_page(ctx, frame)
    caseworker = ctx.user is not None and ctx.user.role == Role.CASEWORKER
    waiting, units = _choices(ctx) if caseworker else ([], [])
    query = urlencode({"show": show, "q": search, "page": shown.number})
    return ctx.render(
        "stays.html",
        status_code,
        **shown.context(),
        show=show,
        search=search,
        shows=SHOW,
        states=STATES,
        pathways={p: PATHWAYS.get(p, p) for p in EXIT_PATHWAYS},
        caseworker=caseworker,
        waiting=waiting,
        units=units,
        error=error,
        today=ctx.today,
        back="/stays?" + query,
        query=urlencode({"show": show, "q": search}),
    )


@page("/stays", roles=EVERYONE, nav=N_("Stays"), order=40)
def stays(ctx: PageContext) -> Response:
    return show_stays(ctx)


def _done(ctx: PageContext, message: str) -> Response:
    ctx.flash(message)
    return ctx.redirect(local_path(ctx.field("back"), "/stays"))


@page("/stays/move-in", roles=CASEWORKERS, methods=("POST",), name="stays_move_in")
def stays_move_in(ctx: PageContext) -> Response:
    household = ctx.field("household_id")
    try:
        if not household:
            raise InputError(_N("choose the household"), field="household_id")
        if not ctx.field("date"):
            raise InputError(_N("give the day of the move-in"), field="date")
        ctx.ledger().move_in(household, ctx.field("date"), unit_id=ctx.field("unit_id") or None)
    except InputError as exc:
        return show_stays(ctx, 400, error_text(exc))
    return _done(ctx, gettext("Move-in of %(household)s recorded.") % {"household": household})


@page("/stays/exit", roles=CASEWORKERS, methods=("POST",), name="stays_exit")
def stays_exit(ctx: PageContext) -> Response:
    household = ctx.field("household_id")
    try:
        if not household:
            raise InputError(_N("choose the household"), field="household_id")
        if not ctx.field("date"):
            raise InputError(_N("give the day of the exit"), field="date")
        outcome = ctx.field("outcome") or None
        ctx.ledger().exit(household, ctx.field("date"), ctx.field("pathway"), outcome)
    except InputError as exc:
        return show_stays(ctx, 400, error_text(exc))
    return _done(ctx, gettext("Exit of %(household)s recorded.") % {"household": household})


@page("/stays/extend", roles=CASEWORKERS, methods=("POST",), name="stays_extend")
def stays_extend(ctx: PageContext) -> Response:
    household = ctx.field("household_id")
    try:
        if not household:
            raise InputError(_N("choose the household"), field="household_id")
        if not ctx.field("expected_end"):
            raise InputError(_N("give the new expected end"), field="expected_end")
        ctx.ledger().extend(household, ctx.field("expected_end"), ctx.field("reason"))
    except InputError as exc:
        return show_stays(ctx, 400, error_text(exc))
    return _done(ctx, gettext("Extension of %(household)s recorded.") % {"household": household})
