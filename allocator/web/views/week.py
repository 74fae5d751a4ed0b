"""*This week*: propose the week's batch in the background, read the plan with every reason, its
Gantt and its key figures against first-come-first-served, pin or forbid and propose again, then
approve after a confirmation.

Proposing starts a job (`allocator.web.jobs`) and returns at once; the page polls a small
fragment (htmx, or the plain link in it) until the plan is stored. Approving goes through
`Ledger.approve`, whose version check refuses a plan made before another change to the ledger;
the page then says which approval came first and offers to propose the week again. Every write
is the signed-in planner's in the audit trail.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import sqlalchemy as sa
from markupsafe import Markup
from starlette.responses import Response

from allocator.errors import _N, InputError
from allocator.ledger.database import read_version
from allocator.ledger.rules import as_date
from allocator.ledger.schema import BatchRow, HouseholdRow, PlacementRow, StayRow, UnitRow
from allocator.web import i18n, jobs
from allocator.web.gantt import plan_gantt
from allocator.web.i18n import N_, gettext
from allocator.web.routing import (
    CSRF_FIELD,
    EVERYONE,
    PageContext,
    Role,
    csrf_token,
    local_path,
    page,
)

PLANNERS = (Role.PLANNER,)
METHODS = {"solver": N_("optimiser"), "greedy": N_("first come, first served")}
STATES = {"week": N_("this week"), "later": N_("later"), "waiting": N_("not placed")}
CHANGE_LABELS = {
    "unit": N_("another unit"),
    "date": N_("another date"),
    "unit and date": N_("another unit and date"),
    "now placed": N_("now placed"),
    "now unplaced": N_("now not placed"),
}
SHOW = ("all", "week", "later", "waiting")
SOLVER_STATES = {
    "optimal": N_("optimal"),
    "feasible": N_("feasible, not proven optimal"),
    "heuristic": N_("heuristic"),
    "interrupted": N_("interrupted"),
}
TIME_LIMITS = (10, 30, 60, 120, 300, 600)
RECENT = 8
FIGURES = [
    ("this_week", N_("Households placed this week")),
    ("urgent_this_week", N_("Urgent households (4–5) placed this week")),
    ("placed", N_("Households placed within the horizon")),
    ("not_placed", N_("Households not placed")),
    ("average_wait", N_("Average wait of those placed (days)")),
    ("hotel_person_nights", N_("Hotel person-nights")),
]


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


# --- reading -------------------------------------------------------------------------------

_plans: OrderedDict[tuple[str, int], pd.DataFrame] = OrderedDict()
_charts: OrderedDict[tuple, str] = OrderedDict()
_KEPT = 16


def _remember(cache: OrderedDict, key: Any, value: Any) -> Any:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > _KEPT:
        cache.popitem(last=False)
    return value


def _batch(conn: sa.Connection, batch_id: int | None) -> Any:
    where = BatchRow.batch_id == batch_id if batch_id is not None else sa.true()
    return conn.execute(
        sa.select(BatchRow.__table__).where(where).order_by(BatchRow.batch_id.desc()).limit(1)
    ).first()


def _recent(conn: sa.Connection) -> list[Any]:
    table = BatchRow.__table__
    columns = [table.c[n] for n in ("batch_id", "week", "status", "proposed_by", "approved_by")]
    query = sa.select(*columns).order_by(BatchRow.batch_id.desc()).limit(RECENT)
    return list(conn.execute(query).all())


def plan_table(engine: sa.Engine, batch: Any) -> pd.DataFrame:
    """The batch's placements with each household's urgency and size, in the page's order:
    this week's move-ins, later ones, then those not placed; kept per batch (a plan never
    changes once stored)."""
    key = (jobs.ledger_key(engine), int(batch.batch_id))
    cached = _plans.get(key)
    if cached is not None:
        return cached
    p, h = PlacementRow, HouseholdRow
    query = (
        sa.select(
            p.household_id,
            p.unit_id,
            p.joined_units,
            p.start,
            p.expected_end,
            p.wait_days,
            p.status,
            p.reason,
            h.urgency,
            h.size,
        )
        .outerjoin(h, h.household_id == p.household_id)
        .where(p.batch_id == batch.batch_id)
    )
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).mappings().all())
    if frame.empty:
        frame = pd.DataFrame(columns=[c.name for c in query.selected_columns])
    placed = frame.status == "placed"
    starts = pd.to_datetime(frame.start, errors="coerce")
    week = placed & (starts < pd.Timestamp(batch.commit_until))
    frame["state"] = "waiting"
    frame.loc[placed, "state"] = "later"
    frame.loc[week, "state"] = "week"
    frame["order"] = frame.state.map({"week": 0, "later": 1, "waiting": 2})
    frame = frame.sort_values(["order", "start", "household_id"], na_position="last")
    return _remember(_plans, key, frame.reset_index(drop=True))


def gantt_svg(ctx: PageContext, batch: Any, version: int) -> str:
    """The batch's Gantt as SVG markup, kept per batch, ledger version and reader's locale."""
    engine = ctx.console.engine
    reader = i18n.current()
    key = (jobs.ledger_key(engine), int(batch.batch_id), version, str(reader.locale))
    cached = _charts.get(key)
    if cached is not None:
        return cached
    with engine.connect() as conn:
        units = pd.DataFrame(conn.execute(sa.select(UnitRow.__table__)).mappings().all())
        stays = pd.DataFrame(conn.execute(sa.select(StayRow.__table__)).mappings().all())
        sizes = dict(conn.execute(sa.select(HouseholdRow.household_id, HouseholdRow.size)).all())
    if units.empty:
        return ""
    if stays.empty:
        stays = pd.DataFrame(columns=[c.name for c in StayRow.__table__.columns])
    turnover = int((batch.policy or {}).get("turnover_days", 0))
    chart = plan_gantt(
        units,
        stays,
        plan_table(engine, batch),
        sizes,
        batch.week,
        batch.commit_until,
        turnover_days=turnover,
    )
    macros = ctx.console.templates.get_template("_week_chart.html").module
    html = macros.gantt(chart)  # type: ignore[attr-defined]
    return _remember(_charts, key, str(html))


def _is_planner(ctx: PageContext) -> bool:
    return ctx.user is not None and ctx.user.role == Role.PLANNER


def _base_draft(batch: Any) -> jobs.Draft:
    """A plan still open starts the draft with its pins and forbids; an approved one with none
    (they served that week, and its households now have stays)."""
    if batch is None:
        return jobs.Draft(None)
    if batch.status != "proposed":
        return jobs.Draft(int(batch.batch_id))
    pins = {str(k): str(v) for k, v in (batch.pins or {}).items()}
    forbids = [(str(h), str(u)) for h, u in (batch.forbids or [])]
    return jobs.Draft(int(batch.batch_id), pins, forbids)


def _draft(ctx: PageContext, batch: Any) -> jobs.Draft:
    assert ctx.user is not None
    batch_id = int(batch.batch_id) if batch is not None else None
    return jobs.draft(ctx.console.engine, ctx.user.user_id, batch_id, lambda: _base_draft(batch))


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


# --- the page ------------------------------------------------------------------------------


@page("/week", roles=EVERYONE, nav=N_("This week"), order=30)
def week(ctx: PageContext) -> Response:
    engine = ctx.console.engine
    wanted = _int(ctx.query("batch")) if ctx.query("batch") else None
    if ctx.query("batch") and wanted is None:
        raise InputError(
            _N("expected a batch number, got {batch!r}"), batch=ctx.query("batch"), field="batch"
        )

    def head() -> tuple[int, Any, list[Any]]:
        with engine.connect() as conn:
            return read_version(conn), _batch(conn, wanted), _recent(conn)

    # read again only when the ledger changed (its stamp, read with the account, moved)
    version, batch, recent = ctx.console.cached(("week-head", wanted), head)
    if wanted is not None and batch is None:
        raise InputError(_N("unknown batch {batch}"), batch=wanted, field="batch")
    show = ctx.query("show") if ctx.query("show") in SHOW else "all"
    search = ctx.query("q")
    number = max(1, _int(ctx.query("page", "1")) or 1)
    planner = _is_planner(ctx)
    draft = _draft(ctx, batch) if planner else None
    body: Any = ""
    if batch is not None:
        figures = jobs.figures_for(engine, int(batch.batch_id))
        reader = i18n.current()
        pinned = tuple(sorted(draft.pins.items())) if draft is not None else ()
        key = (
            "week",
            int(batch.batch_id),
            version,
            show,
            search,
            number,
            reader.language,
            str(reader.locale),
            planner,
            pinned,
            figures is not None,
        )
        view = _View(batch, version, show, search, number, planner, draft, figures)
        body = ctx.console.cached(key, lambda: _body(ctx, view))
        # the part is kept for every planner alike: each gets their own session's token
        body = Markup(str(body).replace(CSRF_SLOT, csrf_token(ctx.request)))
    return ctx.render(
        "week.html",
        job=jobs.latest(engine),
        planner=planner,
        draft=draft,
        batch=batch,
        recent=recent,
        body=body,
        default_week=(
            batch.week if batch is not None and batch.status == "proposed" else monday(ctx.today)
        ),
        methods=METHODS,
        time_limits=TIME_LIMITS,
        query=urlencode({"batch": batch.batch_id, "show": show, "q": search}) if batch else "",
    )


CSRF_SLOT = "__csrf_token_of_the_session__"


@dataclass(frozen=True)
class _View:
    """What the plan's part of the page shows."""

    batch: Any
    version: int
    show: str
    search: str
    number: int
    planner: bool
    draft: jobs.Draft | None
    figures: dict[str, Any] | None


def _body(ctx: PageContext, view: _View) -> Markup:
    """The plan's part of *This week*: header, key figures, Gantt and the plan's rows; the same
    for every reader of one language and role (forms carry `CSRF_SLOT` for the token)."""
    engine, batch = ctx.console.engine, view.batch
    table = plan_table(engine, batch)
    chosen = table if view.show == "all" else table[table.state == view.show]
    if view.search:
        chosen = chosen[chosen.household_id.str.contains(view.search, case=False, regex=False)]
    rows = ctx.console.settings.page_rows
    pages = max(1, -(-len(chosen) // rows))
    number = min(view.number, pages)
    current = batch.status == "proposed" and batch.ledger_version == view.version
    unit_ids: list[str] = []
    if view.planner and current:
        with engine.connect() as conn:
            unit_ids = list(
                conn.execute(sa.select(UnitRow.unit_id).order_by(UnitRow.unit_id)).scalars()
            )
    announced, changes = _announcements(engine, batch)
    if view.search:
        changes = changes[changes.household_id.str.contains(view.search, case=False, regex=False)]
    # a week re-planned for hundreds of households can change most of them: the first rows
    # here, the whole list from `allocator batch changes`
    changes_total = len(changes)
    return ctx.console.part(
        "week_body.html",
        fair=_fairness(batch, table),
        batch=batch,
        announced=announced,
        changes=changes.head(rows),
        changes_total=changes_total,
        rows=chosen.iloc[(number - 1) * rows : number * rows],
        total=len(chosen),
        counts=table.state.value_counts().to_dict(),
        page_number=number,
        pages=pages,
        show=view.show,
        search=view.search,
        figures=view.figures,
        gantt=Markup(gantt_svg(ctx, batch, view.version)),
        current=current,
        planner=view.planner,
        draft=view.draft,
        unit_ids=unit_ids,
        methods=METHODS,
        states=STATES,
        change_labels=CHANGE_LABELS,
        figure_rows=FIGURES,
        solver_states=SOLVER_STATES,
        query=urlencode({"batch": batch.batch_id, "show": view.show, "q": view.search}),
        csrf=CSRF_SLOT,
        csrf_field_name=CSRF_FIELD,
    )


def _fairness(batch: Any, table: pd.DataFrame) -> dict[str, int] | None:
    """The fairness bound the batch was planned under, and how many of its households' reasons
    say the bound decided them; None when its policy has no bound, or its method is not bound
    by it (first come, first served may overtake: only the optimiser keeps to the bound)."""
    days = (batch.policy or {}).get("fair_wait_days")
    if days is None or batch.method != "solver":
        return None
    from allocator.engine.explain_fair import MARK  # the engine, only for a plan under a bound

    decided = table.reason.fillna("").str.contains(MARK, regex=False)
    return {"days": int(days), "decided": int(decided.sum())}


def _announcements(engine: sa.Engine, batch: Any) -> tuple[dict[str, Any], pd.DataFrame]:
    """The placements announced to families (household -> row), and what the batch changed
    against the last approved one (`Ledger.changes`)."""
    from sqlalchemy.orm import Session

    from allocator.ledger.announcements import announcements_frame, batch_changes

    with engine.connect() as conn, Session(conn) as s:
        told = announcements_frame(s)
    announced = {str(r.household_id): r for r in told.itertuples(index=False)}
    return announced, batch_changes(engine, int(batch.batch_id))


@page("/week/progress", roles=EVERYONE, name="week_progress")
def week_progress(ctx: PageContext) -> Response:
    """The fragment the page polls while a proposal runs; the planner who started it is taken
    to the new plan when it is ready."""
    job = jobs.latest(ctx.console.engine)
    response = ctx.render("_week_progress.html", job=job, methods=METHODS, fragment=True)
    mine = job is not None and ctx.user is not None and job.started_by == ctx.user.user_id
    if ctx.request.headers.get("hx-request") and job is not None and not job.running and mine:
        response.headers["hx-redirect"] = (
            f"/week?batch={job.batch_id}" if job.batch_id is not None else "/week"
        )
    return response


@page("/week/propose", roles=PLANNERS, methods=("POST",), name="week_propose")
def week_propose(ctx: PageContext) -> Response:
    assert ctx.user is not None
    engine = ctx.console.engine
    if not ctx.field("week"):
        ctx.flash(gettext("Choose the week to plan."))
        return ctx.redirect("/week")
    day = as_date(ctx.field("week"), "week")
    method = ctx.field("method") or "solver"
    if method not in METHODS:
        raise InputError(_N("unknown method {method!r}"), method=method, field="method")
    limit = _int(ctx.field("time_limit") or "30")
    if limit is None or not 1 <= limit <= 600:
        raise InputError(_N("expected a whole number of seconds from 1 to 600"), field="time_limit")
    base = _int(ctx.field("batch_id"))
    pins: dict[str, str] = {}
    forbids: list[tuple[str, str]] = []
    if base is not None:
        with engine.connect() as conn:
            batch = _batch(conn, base)
        if batch is not None:
            current = _draft(ctx, batch)
            pins, forbids = dict(current.pins), list(current.forbids)
    if pins or forbids:  # a household placed or withdrawn since cannot be pinned any more
        with engine.connect() as conn:
            waiting = set(
                conn.execute(
                    sa.select(HouseholdRow.household_id).where(
                        HouseholdRow.household_id.not_in(sa.select(StayRow.household_id))
                    )
                ).scalars()
            )
        pins = {h: u for h, u in pins.items() if h in waiting}
        forbids = [(h, u) for h, u in forbids if h in waiting]
    request = jobs.Proposal(day, method, float(limit), pins, tuple(forbids))
    try:
        jobs.jobs_of(ctx.console).start(engine, ctx.user.user_id, request)
    except jobs.Busy as busy:
        ctx.flash(
            gettext("%(name)s is already proposing the week of %(week)s: wait for that plan.")
            % {"name": busy.job.started_by, "week": i18n.format_day(busy.job.request.week)}
        )
    return ctx.redirect("/week")


@page("/week/constraint", roles=PLANNERS, methods=("POST",), name="week_constraint")
def week_constraint(ctx: PageContext) -> Response:
    """Pin a household to a unit, forbid a pair, or take either back, in the planner's draft."""
    engine = ctx.console.engine
    back = local_path(ctx.field("back"), "/week")
    batch_id = _int(ctx.field("batch_id"))
    with engine.connect() as conn:
        batch = _batch(conn, batch_id) if batch_id is not None else None
        units = set(conn.execute(sa.select(UnitRow.unit_id)).scalars())
    if batch is None:
        ctx.flash(gettext("Choose a plan first."))
        return ctx.redirect("/week")
    household, unit, action = ctx.field("household_id"), ctx.field("unit_id"), ctx.field("action")
    if household not in set(plan_table(engine, batch).household_id):
        raise InputError(
            _N("household {household!r} is not in batch {batch}"),
            household=household,
            batch=batch_id,
            field="household_id",
        )
    draft = _draft(ctx, batch)
    pins, forbids = dict(draft.pins), list(draft.forbids)
    if action in ("pin", "forbid") and unit not in units:
        raise InputError(_N("unknown unit {unit!r}"), unit=unit, field="unit_id")
    if action == "pin":
        pins[household] = unit
        forbids = [f for f in forbids if f != (household, unit)]
    elif action == "forbid":
        if (household, unit) not in forbids:
            forbids.append((household, unit))
        if pins.get(household) == unit:
            del pins[household]
    elif action == "unpin":
        pins.pop(household, None)
    elif action == "unforbid":
        forbids = [f for f in forbids if f != (household, unit)]
    else:
        raise InputError(_N("unknown action {action!r}"), action=action, field="action")
    assert ctx.user is not None
    jobs.set_draft(engine, ctx.user.user_id, jobs.Draft(draft.batch_id, pins, forbids))
    return ctx.redirect(back)


# --- approving -----------------------------------------------------------------------------


def _commits(engine: sa.Engine, batch: Any) -> pd.DataFrame:
    table = plan_table(engine, batch)
    return table[table.state == "week"]


@page("/week/approve", roles=PLANNERS, methods=("GET", "POST"), name="week_approve")
def week_approve(ctx: PageContext) -> Response:
    engine = ctx.console.engine
    batch_id = _int(ctx.query("batch") if ctx.request.method == "GET" else ctx.field("batch_id"))
    if batch_id is None:
        ctx.flash(gettext("Choose a plan first."))
        return ctx.redirect("/week")
    with engine.connect() as conn:
        batch = _batch(conn, batch_id)
        version = read_version(conn)
    if batch is None:
        raise InputError(_N("unknown batch {batch}"), batch=batch_id, field="batch")
    if ctx.request.method == "GET":
        if batch.status == "proposed" and batch.ledger_version == version:
            return ctx.render("week_approve.html", batch=batch, commits=_commits(engine, batch))
        return _refused(ctx, batch, 200)
    assert ctx.user is not None
    with jobs.approval_lock(engine):  # the console's approvals of a batch one at a time
        with engine.connect() as conn:
            batch = _batch(conn, batch_id)
        if batch.status != "proposed":
            return _refused(ctx, batch)
        try:
            announce = ctx.form is not None and "announce" in ctx.form
            stays = ctx.ledger().approve(batch_id, approver=ctx.user.user_id, announce=announce)
        except InputError:
            with engine.connect() as conn:
                version, batch = read_version(conn), _batch(conn, batch_id)
            if version == batch.ledger_version:
                raise  # a rule refused it, not a newer ledger: the error page says which
            return _refused(ctx, batch)
    ctx.flash(
        i18n.ngettext(
            "Plan approved: %(num)d stay starts this week.",
            "Plan approved: %(num)d stays start this week.",
            len(stays),
        )
        % {"num": len(stays)}
    )
    if announce:
        told = ctx.ledger().announcements()
        count = int((told.batch_id == batch_id).sum())
        ctx.flash(
            i18n.ngettext(
                "%(num)d later placement announced to the families.",
                "%(num)d later placements announced to the families.",
                count,
            )
            % {"num": count}
        )
    return ctx.redirect(f"/week?batch={batch_id}")


def _refused(ctx: PageContext, batch: Any, status_code: int = 409) -> Response:
    """Why ``batch`` cannot be approved (any more): already approved, or the ledger changed
    after it was made (by whom, if another batch was approved), with a button to propose the
    week again."""
    engine = ctx.console.engine
    with engine.connect() as conn:
        other = conn.execute(
            sa.select(BatchRow.__table__)
            .where(
                BatchRow.status == "approved",
                BatchRow.approved_at >= batch.proposed_at,
                BatchRow.batch_id != batch.batch_id,
            )
            .order_by(BatchRow.approved_at.desc())
            .limit(1)
        ).first()
    return ctx.render(
        "week_refused.html",
        status_code,
        batch=batch,
        other=other,
        planner=_is_planner(ctx),
        time_limit=30,
    )
