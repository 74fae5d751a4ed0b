"""*Today*: occupancy per unit on a timeline, the waiting list, stays past their expected end or
the maximum stay, and units free soon; what `Ledger.status` reports, for any day (``?day=``)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from starlette.responses import Response

from allocator.ledger import reading, views
from allocator.ledger.rules import as_date
from allocator.web import i18n
from allocator.web.charts import timeline
from allocator.web.i18n import N_
from allocator.web.routing import EVERYONE, PageContext, page

STATES = {
    "free": N_("free"),
    "occupied": N_("occupied"),
    "move-in not recorded": N_("move-in not recorded"),
    "closed": N_("closed"),
}
KINDS = {"flat": N_("scattered flat"), "hub_room": N_("hub room")}
WEEKS_AHEAD = 4


def status_on(engine: sa.Engine, day: dt.date, weeks: int = WEEKS_AHEAD):
    """The ledger's status on ``day`` (as `Ledger.status` computes it, the tables read once)
    and the units' timeline around it."""
    frames, policy = reading.load_frames(engine)
    status = views.status(frames, policy, day, weeks)
    chart = timeline(
        frames["units"],
        frames["stays"],
        frames["households"],
        day,
        days_after=7 * weeks,
        turnover_days=policy.turnover_days,
    )
    return policy, status, chart


@page("/today", roles=EVERYONE, nav=N_("Today"), order=10)
def today(ctx: PageContext) -> Response:
    day = as_date(ctx.query("day"), "day") if ctx.query("day") else ctx.today
    reader = i18n.current()
    key = ("today", day, reader.language, str(reader.locale))
    body = ctx.console.cached(key, lambda: _body(ctx, day))
    return ctx.render("today.html", body=body)


def _body(ctx: PageContext, day: dt.date):
    """The page's body: the same for every reader of one language until the ledger changes."""
    policy, status, chart = status_on(ctx.console.engine, day)
    part = ctx.console.part
    return part(
        "today_body.html",
        day=day,
        previous=day - dt.timedelta(days=7),
        following=day + dt.timedelta(days=7),
        summary=status["summary"].iloc[0].to_dict(),
        timeline=part("_timeline.html", chart=chart, kinds=KINDS),
        occupancy=status["occupancy"],
        waiting=status["waiting"].head(ctx.console.settings.page_rows),
        waiting_total=len(status["waiting"]),
        overdue=status["overdue"],
        free=status["free"],
        max_stay_days=policy.max_stay_days,
        states=STATES,
        kinds=KINDS,
        weeks=WEEKS_AHEAD,
    )
