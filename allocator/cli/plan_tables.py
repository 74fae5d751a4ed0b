"""What `allocator plan` and `allocator demo` print: the plan, its key figures, the baselines.

Imported by those commands when they run (it loads Rich and pandas), never at the app's start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from allocator.domain import rooms_text, split_rooms
from allocator.engine.result import Plan

SHOWN_ROWS = 20  # placements printed to the terminal; the file has them all
WIDE = 120  # terminal columns from which reasons fit in the placements table


def print_plan(result: Plan, out: Path, summary: Path | None) -> None:
    """`allocator plan`'s output: the first placements, the key figures, the files written."""
    console = Console()
    console.print(_placements_table(result, reasons=False, limit=SHOWN_ROWS))
    console.print(_kpi_table(result))
    written = f"wrote {out}" + (f" and {summary}" if summary is not None else "")
    console.print(written, markup=False, highlight=False, soft_wrap=True)


def print_demo(runs: Mapping[str, Plan], method: str, out: Path | None) -> None:
    """`allocator demo`'s output: the whole plan with its reasons, then the baselines beside it."""
    result = runs[method]
    console = Console()
    inline = console.width >= WIDE  # else the reason column would be squeezed to nothing
    console.print(_placements_table(result, reasons=inline, limit=None))
    if not inline:
        console.print(_reasons_list(result))
    console.print(_kpi_table(result))
    console.print(_comparison_table(runs))
    if out is not None:
        console.print(f"wrote {out}", markup=False, highlight=False, soft_wrap=True)


def _text(value: object) -> str:
    """A cell for a Rich table: dates ISO, missing empty, square brackets not read as markup."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return escape(str(value))


def rooms(unit_id: object, joined: object) -> object:
    """The unit a plan row names, and its connecting rooms if it has any: ``H1.01+H1.02``."""
    if not split_rooms(joined) or not isinstance(unit_id, str) or not unit_id:
        return unit_id
    return rooms_text(unit_id, joined)


def _placements_table(result: Plan, *, reasons: bool, limit: int | None) -> Table:
    df = result.placements
    shown = df if limit is None else df.head(limit)
    title = f"Plan from {result.plan_start} ({result.horizon_weeks} weeks)"
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for header, justify in [
        ("household", "left"),
        ("unit", "left"),
        ("kind", "left"),
        ("start", "left"),
        ("expected end", "left"),
        ("wait days", "right"),
        ("status", "left"),
    ]:
        table.add_column(header, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    if reasons:
        table.add_column("reason", ratio=1, min_width=20)
    for row in shown.itertuples(index=False):
        cells = [
            _text(row.household_id),
            _text(rooms(row.unit_id, getattr(row, "joined_units", None))),
            _text(row.kind).replace("_", " "),
            _text(row.start),
            _text(row.expected_end),
            _text(row.wait_days),
            _text(row.status).replace("_", " "),
        ]
        if reasons:
            cells.append(_text(row.reason))
            if table.row_count:
                table.add_row()  # a blank line between wrapped reasons
        table.add_row(*cells, style=None if row.status == "placed" else "yellow")
    if len(shown) < len(df):
        table.caption = f"... and {len(df) - len(shown)} more rows in the plan file"
    return table


def _reasons_list(result: Plan) -> Table:
    table = Table.grid(padding=(0, 2))
    table.title = "Why"
    table.title_justify = "left"
    table.add_column(no_wrap=True)
    table.add_column()
    for row in result.placements.itertuples(index=False):
        table.add_row(_text(row.household_id), _text(row.reason))
    return table


def _number(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _kpi_table(result: Plan) -> Table:
    s = result.summary_dict()
    table = Table(title="Key figures", title_justify="left", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("method", s["method"]),
        ("status", s["status"]),
        ("objective", _number(s["objective"])),
        ("best bound", _number(s["best_bound"])),
        ("gap", "n/a" if s["gap"] is None else f"{100 * s['gap']:.3f}%"),
        ("seconds", f"{s['solve_seconds']:.2f}"),
        ("hotel person-nights", f"{s['hotel_person_nights']:,}"),
        ("wasted bed-nights", f"{s['wasted_bed_nights']:,}"),
        ("placed", str(s["placed"])),
        ("not placed", str(s["not_placed"])),
    ]
    if "anchor_near_share" in s:  # only when some household names a school/work district
        rows.append(
            ("placed in or next to school/work district", f"{100 * s['anchor_near_share']:.0f}%")
        )
    if "fairness" in s:  # only when the policy sets a fairness bound (method solver)
        fair = s["fairness"]
        rows.append((f"fairness bound ({fair['days']} days)", _fairness(fair)))
    for name, value in rows:
        table.add_row(name, value)
    return table


def _fairness(fair: Mapping[str, object]) -> str:
    """What the bound did: how many households' reasons say it decided, or that it did not bind."""
    if not fair["binding"]:
        return "not binding"
    n = fair["households_decided"]
    return f"decided {n} household{'' if n == 1 else 's'}"


def _comparison_table(runs: Mapping[str, Plan]) -> Table:
    table = Table(title="Compared with the baselines", title_justify="left")
    table.add_column("method")
    table.add_column("objective", justify="right")
    table.add_column("hotel person-nights", justify="right")
    table.add_column("placed", justify="right")
    for m, r in runs.items():
        table.add_row(m, _number(r.objective), f"{r.hotel_person_nights:,}", str(len(r.placed)))
    return table
