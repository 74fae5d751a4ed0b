"""*Requests*: the households' requests. Caseworkers and planners upload a CSV or Excel file
through the ledger's import (all rows or none: a bad row is shown with its file, row, column and
what was expected, and nothing is saved); caseworkers add or edit one request in a form that
goes through the same import and validation (`allocator.domain.Household`), and withdraw a
request still waiting (`Ledger.withdraw_request`). Every role reads the list.

An uploaded file is written to a private temporary folder under a fixed name for the import
(the ledger's log line names that, never the planner's file name) and removed at once.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from pathlib import Path, PureWindowsPath
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import sqlalchemy as sa
from starlette.datastructures import UploadFile
from starlette.responses import Response

from allocator.errors import _N, InputError, renamed
from allocator.ledger import imports
from allocator.ledger.imports import HOUSEHOLD_FIELDS, ImportResult
from allocator.ledger.schema import HouseholdRow, StayRow
from allocator.web.errors_i18n import error_text
from allocator.web.i18n import N_, gettext
from allocator.web.routing import EVERYONE, PageContext, Role, page
from allocator.web.views.history import PATHWAYS
from allocator.web.views.paging import table_page

CASEWORKERS = (Role.CASEWORKER,)
UPLOADERS = (Role.CASEWORKER, Role.PLANNER)
SUPPORT = {"low": N_("low"), "medium": N_("medium"), "high": N_("high")}
STATES = {
    "waiting": N_("waiting"),
    "planned": N_("move-in not recorded"),
    "housed": N_("in a unit"),
    "left": N_("left"),
}
SHOW = {"waiting": N_("waiting"), "placed": N_("with a stay"), "all": N_("all")}
LABELS = {
    "household_id": N_("Household id"),
    "size": N_("Size (persons)"),
    "minors": N_("Minors"),
    "urgency": N_("Urgency (1 low – 5 highest)"),
    "need_date": N_("Need date (eviction)"),
    "expected_stay_days": N_("Expected stay (nights)"),
    "expected_exit_date": N_("Expected exit date"),
    "support": N_("Support"),
    "accessible": N_("Needs a step-free unit"),
    "exit_pathway": N_("Expected exit pathway"),
    "language": N_("Mediation language"),
}
SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")


# --- uploads (shared with Units) -----------------------------------------------------------


def import_upload(ctx: PageContext, kind: str) -> tuple[ImportResult | None, InputError | None]:
    """Import the form's ``file`` as ``kind`` (units or households) through the ledger, as the
    signed-in account; the import's `InputError` comes back naming the uploaded file."""
    upload = ctx.form.get("file") if ctx.form is not None else None
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, InputError(_N("choose a .csv or .xlsx file to upload"), field="file")
    name = PureWindowsPath(upload.filename).name[:120] or "upload"
    suffix = Path(name).suffix.lower()
    suffix = suffix if SUFFIX.fullmatch(suffix) else ".unknown"
    dayfirst = ctx.field("dayfirst") == "1"
    actor = ctx.user.user_id if ctx.user else None
    run = imports.import_units if kind == "units" else imports.import_requests
    with tempfile.TemporaryDirectory(prefix="allocator-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        upload.file.seek(0)
        with path.open("wb") as handle:
            shutil.copyfileobj(upload.file, handle)
        try:
            return run(ctx.console.engine, actor, path, dayfirst=dayfirst), None
        except InputError as exc:
            return None, _renamed(exc, str(path), name)


def _renamed(exc: InputError, temporary: str, name: str) -> InputError:
    """The same error, naming the file as the planner knows it."""
    return InputError(
        renamed(exc.message, temporary, name),
        source=name if exc.source == temporary else exc.source,
        row=exc.row,
        column=exc.column,
        field=exc.field,
    )


def result_message(result: ImportResult) -> str:
    return gettext("Imported: %(added)s added, %(changed)s changed, %(unchanged)s unchanged.") % {
        "added": result.added,
        "changed": result.changed,
        "unchanged": result.unchanged,
    }


# --- the list ------------------------------------------------------------------------------


def _requests(ctx: PageContext) -> pd.DataFrame:
    h, st = HouseholdRow, StayRow
    query = sa.select(
        h.__table__, st.moved_in, st.actual_end, st.unit_id, st.joined_units
    ).outerjoin(st, st.household_id == h.household_id)
    with ctx.console.engine.connect() as conn:
        frame = pd.DataFrame(
            conn.execute(query.order_by(h.need_date, h.household_id)).mappings().all()
        )
    if frame.empty:
        return pd.DataFrame(columns=[*HOUSEHOLD_FIELDS, "state", "waited"])
    state = pd.Series("waiting", index=frame.index)
    state[frame.unit_id.notna()] = "planned"
    state[frame.moved_in.notna()] = "housed"
    state[frame.actual_end.notna()] = "left"
    frame["state"] = state
    need = pd.to_datetime(frame.need_date)
    frame["waited"] = (pd.Timestamp(ctx.today) - need).dt.days.clip(lower=0)
    return frame


def show_requests(
    ctx: PageContext,
    status_code: int = 200,
    upload_error: InputError | None = None,
    withdraw_error: str | None = None,
) -> Response:
    frame = _requests(ctx)
    show = ctx.query("show") if ctx.query("show") in SHOW else "waiting"
    search = ctx.query("q")
    if show == "waiting":
        frame = frame[frame.state == "waiting"]
    elif show == "placed":
        frame = frame[frame.state != "waiting"]
    if search:
        frame = frame[frame.household_id.str.contains(search, case=False, regex=False)]
    shown = table_page(ctx, frame)
    return ctx.render(
        "requests.html",
        status_code,
        **shown.context(),
        show=show,
        search=search,
        shows=SHOW,
        states=STATES,
        upload_error=upload_error,
        withdraw_error=withdraw_error,
        caseworker=ctx.user is not None and ctx.user.role == Role.CASEWORKER,
        can_upload=ctx.user is not None and ctx.user.role in UPLOADERS,
        dayfirst=ctx.reader.language == "it",
        query=urlencode({"show": show, "q": search}),
    )


@page("/requests", roles=EVERYONE, nav=N_("Requests"), order=20)
def requests(ctx: PageContext) -> Response:
    return show_requests(ctx)


@page("/requests/upload", roles=UPLOADERS, methods=("POST",), name="requests_upload")
def requests_upload(ctx: PageContext) -> Response:
    result, error = import_upload(ctx, "households")
    if error is not None:
        return show_requests(ctx, 400, upload_error=error)
    assert result is not None
    ctx.flash(result_message(result))
    return ctx.redirect("/requests")


@page("/requests/withdraw", roles=CASEWORKERS, methods=("POST",), name="requests_withdraw")
def requests_withdraw(ctx: PageContext) -> Response:
    household = ctx.field("household_id")
    try:
        ctx.ledger().withdraw_request(household, ctx.field("reason"))
    except InputError as exc:
        return show_requests(ctx, 400, withdraw_error=error_text(exc))
    ctx.flash(gettext("The request of %(household)s was withdrawn.") % {"household": household})
    return ctx.redirect("/requests")


# --- one request in a form -----------------------------------------------------------------


def _blank() -> dict[str, str]:
    values = dict.fromkeys(HOUSEHOLD_FIELDS, "")
    values.update(support="medium", accessible="", urgency="3")
    return values


def _stored(ctx: PageContext, household: str) -> dict[str, str] | None:
    with ctx.console.engine.connect() as conn:
        row = conn.execute(
            sa.select(HouseholdRow.__table__).where(HouseholdRow.household_id == household)
        ).first()
    if row is None:
        return None
    values = {}
    for f in HOUSEHOLD_FIELDS:
        value: Any = getattr(row, f)
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = "1" if value else ""
        values[f] = "" if value is None else str(value)
    return values


def _form(
    ctx: PageContext,
    mode: str,
    values: dict[str, str],
    status_code: int = 200,
    error: InputError | None = None,
) -> Response:
    invalid = set()
    if error is not None:
        for part in (error.column or error.field or "").split(","):
            invalid.add(part.strip())
    return ctx.render(
        "request_form.html",
        status_code,
        mode=mode,
        values=values,
        error=error,
        invalid=invalid,
        labels=LABELS,
        support=SUPPORT,
        pathways=PATHWAYS,
    )


def _save(ctx: PageContext, mode: str) -> Response:
    values = {f: ctx.field(f) for f in HOUSEHOLD_FIELDS}
    values["accessible"] = "1" if ctx.field("accessible") else ""
    household = values["household_id"]
    exists = household != "" and _stored(ctx, household) is not None
    if mode == "new" and exists:
        error = InputError(
            _N("household {household} already has a request: edit it instead"),
            household=household,
            field="household_id",
        )
        return _form(ctx, mode, values, 400, error)
    if mode == "edit" and not exists:
        error = InputError(
            _N("unknown household {household!r}"), household=household, field="household_id"
        )
        return _form(ctx, mode, values, 400, error)
    row = {**values, "accessible": "true" if values["accessible"] else "false"}
    try:
        result = ctx.ledger().import_requests(pd.DataFrame([row], dtype=str))
    except InputError as exc:
        return _form(
            ctx,
            mode,
            values,
            400,
            InputError(exc.message, source=None, row=None, column=exc.column, field=exc.field),
        )
    if result.added:
        ctx.flash(gettext("Request %(household)s added.") % {"household": household})
    elif result.changed:
        ctx.flash(gettext("Request %(household)s changed.") % {"household": household})
    else:
        ctx.flash(gettext("Request %(household)s unchanged.") % {"household": household})
    return ctx.redirect("/requests?" + urlencode({"show": "all", "q": household}))


@page("/requests/new", roles=CASEWORKERS, methods=("GET", "POST"), name="requests_new")
def requests_new(ctx: PageContext) -> Response:
    if ctx.request.method == "GET":
        return _form(ctx, "new", _blank())
    return _save(ctx, "new")


@page("/requests/edit", roles=CASEWORKERS, methods=("GET", "POST"), name="requests_edit")
def requests_edit(ctx: PageContext) -> Response:
    if ctx.request.method == "POST":
        return _save(ctx, "edit")
    household = ctx.query("household")
    values = _stored(ctx, household) if household else None
    if values is None:
        ctx.flash(gettext("Choose a request to edit from the list."))
        return ctx.redirect("/requests")
    return _form(ctx, "edit", values)
