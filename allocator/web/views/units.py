"""*Units*: the hub rooms and scattered flats. Administrators and planners upload a CSV or Excel file through
the ledger's import (new units added, changes applied, all rows or none: a bad row is shown with
its file, row, column and what was expected); every role reads the list."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from starlette.responses import Response

from allocator.errors import InputError
from allocator.ledger.schema import UnitRow
from allocator.web.i18n import N_
from allocator.web.routing import EVERYONE, PageContext, Role, page
from allocator.web.views.requests import import_upload, result_message
from allocator.web.views.today import KINDS

UPLOADERS = (Role.ADMIN, Role.PLANNER)


def show_units(ctx: PageContext, status_code: int = 200, error: InputError | None = None):
    with ctx.console.engine.connect() as conn:
        query = sa.select(UnitRow.__table__).order_by(UnitRow.unit_id)
        units = pd.DataFrame(conn.execute(query).mappings().all())
    return ctx.render(
        "units.html",
        status_code,
        units=units,
        kinds=KINDS,
        upload_error=error,
        can_upload=ctx.user is not None and ctx.user.role in UPLOADERS,
        dayfirst=ctx.reader.language == "it",
    )


@page("/units", roles=EVERYONE, nav=N_("Units"), order=25)
def units(ctx: PageContext) -> Response:
    return show_units(ctx)


@page("/units/upload", roles=UPLOADERS, methods=("POST",), name="units_upload")
def units_upload(ctx: PageContext) -> Response:
    result, error = import_upload(ctx, "units")
    if error is not None:
        return show_units(ctx, 400, error)
    assert result is not None
    ctx.flash(result_message(result))
    return ctx.redirect("/units")
