"""*History*: the weekly figures of `allocator status --history` (`Ledger.history`) as charts
drawn on the server, each with its numbers in a table below."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from starlette.responses import Response

from allocator.choices import EXIT_PATHWAYS
from allocator.ledger import reading, views
from allocator.ledger.rules import as_date
from allocator.web import i18n
from allocator.web.charts import weekly_chart
from allocator.web.i18n import N_, gettext
from allocator.web.routing import EVERYONE, PageContext, page

PATHWAYS = {
    "public_housing": N_("public housing (ERP)"),
    "rental_agency": N_("social rental agency"),
    "private": N_("private rental"),
    "family": N_("family or friends"),
    "other": N_("other"),
}
LABELS = {
    "occupancy": N_("Occupancy"),
    "persons_housed": N_("Persons housed (average per night)"),
    "hotel_person_nights": N_("Hotel person-nights"),
    "average_stay_days": N_("Average stay so far (days)"),
    "longest_stay_days": N_("Longest stay so far (days)"),
    "over_max_stay": N_("Stays over the maximum stay"),
    "turnover_days_lost": N_("Turnover days lost"),
    "exits": N_("Exits"),
    "stays": N_("Stays"),
    **{f"exits_{p}": PATHWAYS.get(p, p) for p in EXIT_PATHWAYS},
}
TABLE_COLUMNS = [
    "occupancy",
    "persons_housed",
    "stays",
    "average_stay_days",
    "exits",
    "over_max_stay",
    "turnover_days_lost",
    "hotel_person_nights",
]
# (anchor, title msgid, columns, how): one chart each
CHARTS = [
    ("occupancy", N_("Occupancy of the units per week"), ["occupancy"], "share"),
    ("persons", N_("Persons housed per night, weekly average"), ["persons_housed"], "line"),
    ("hotel", N_("Hotel person-nights per week"), ["hotel_person_nights"], "line"),
    (
        "exits",
        N_("Exits per week, by pathway"),
        [f"exits_{p}" for p in EXIT_PATHWAYS],
        "stacked",
    ),
    (
        "stay",
        N_("Length of the stays present (days)"),
        ["average_stay_days", "longest_stay_days"],
        "line",
    ),
    (
        "rotation",
        N_("Stays over the maximum and turnover days lost"),
        ["over_max_stay", "turnover_days_lost"],
        "line",
    ),
]


def default_range(frames: dict[str, pd.DataFrame], today: dt.date) -> tuple[dt.date, dt.date]:
    """From the Monday of the first stay or batch (at most a year back) to the end of this week."""
    this_week = today - dt.timedelta(days=today.weekday())
    stays, batches = frames["stays"], frames["batches"]
    starts = [as_date(d, "start") for d in stays["moved_in"].fillna(stays["start"])]
    starts += [as_date(d, "week") for d in batches["week"]]
    first = min(starts, default=this_week)
    first = max(first - dt.timedelta(days=first.weekday()), this_week - dt.timedelta(weeks=52))
    return first, this_week + dt.timedelta(days=7)


def weekly(engine, today: dt.date, start: dt.date | None, end: dt.date | None):
    """`Ledger.history` from ``start`` to ``end`` (default: `default_range`), and the range."""
    frames, policy = reading.load_frames(engine)
    first, last = default_range(frames, today)
    start, end = start or first, end or last
    return start, end, views.history(frames, policy, start, end)


@page("/history", roles=EVERYONE, nav=N_("History"), order=20)
def history(ctx: PageContext) -> Response:
    start = as_date(ctx.query("start"), "start") if ctx.query("start") else None
    end = as_date(ctx.query("end"), "end") if ctx.query("end") else None
    reader = i18n.current()
    key = ("history", ctx.today, start, end, reader.language, str(reader.locale))
    body = ctx.console.cached(key, lambda: _body(ctx, start, end))
    return ctx.render("history.html", body=body)


def _body(ctx: PageContext, start: dt.date | None, end: dt.date | None):
    """The charts and the table: the same for every reader of one language until a change."""
    start, end, frame = weekly(ctx.console.engine, ctx.today, start, end)
    charts = []
    if len(frame):
        for anchor, title, columns, how in CHARTS:
            chart = weekly_chart(frame, columns, stacked=how == "stacked", share=how == "share")
            charts.append((anchor, gettext(title), chart))
    return ctx.console.part(
        "history_body.html",
        frame=frame,
        charts=charts,
        labels={k: gettext(v) for k, v in LABELS.items()},
        columns=TABLE_COLUMNS,
        start=start,
        end=end,
    )
