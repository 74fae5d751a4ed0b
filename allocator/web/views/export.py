"""*Export*: any ledger table, stored or derived, as CSV or Excel, written as `allocator ledger
export` writes it (ISO dates), with one difference: a text cell that a spreadsheet would run as a
formula (it starts with = + - @ or a tab) gets a leading apostrophe, so free text typed into the
console can never become a formula on a colleague's machine."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from starlette.responses import Response

from allocator.io import write_table
from allocator.ledger.reading import DERIVED, TABLES
from allocator.web.i18n import N_
from allocator.web.routing import EVERYONE, PageContext, page

TABLE_LABELS = {
    "units": N_("Units"),
    "households": N_("Households (requests)"),
    "stays": N_("Stays"),
    "batches": N_("Weekly batches"),
    "placements": N_("Plans of the batches, with reasons"),
    "audit": N_("Audit trail"),
    "history": N_("History, week by week"),
    "occupancy": N_("Occupancy today"),
    "waiting": N_("Waiting list today"),
    "overdue": N_("Stays past their expected end or the maximum stay"),
    "free": N_("Units free in the next weeks"),
    "summary": N_("Key figures today"),
}
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that would start a formula, prefixed with an apostrophe (OWASP's advice)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v
            )
    return out


@page("/export", roles=EVERYONE, nav=N_("Export"), order=70)
def export_page(ctx: PageContext) -> Response:
    names = [*TABLES, *DERIVED]
    return ctx.render("export.html", tables=[(n, TABLE_LABELS.get(n, n)) for n in names])


@page(
    "/export/{table}.{fmt}",
    roles=EVERYONE,
    name="export_file",
    sample={"table": "units", "fmt": "csv"},
)
def export_file(ctx: PageContext) -> Response:
    name, fmt = ctx.request.path_params["table"], ctx.request.path_params["fmt"]
    if name not in (*TABLES, *DERIVED) or fmt not in FORMATS:
        return ctx.console.error(ctx.request, 404, N_("This page does not exist."), ctx.user)
    frame = neutralised(ctx.ledger().table(name))
    stamp = ctx.today.isoformat()
    filename = f"allocator-{name}-{stamp}.{fmt}"
    with tempfile.TemporaryDirectory(prefix="allocator-export-") as folder:
        path = Path(folder) / filename
        write_table(frame, path)
        data = path.read_bytes()
    return Response(
        data,
        media_type=FORMATS[fmt],
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
