"""The `allocator` command line: plan a week's batch from files, or run the embedded demo.

Errors the user can fix (bad input, bad options) print one line ``error: <message>`` to stderr and
exit with code 2; nothing is written then. Household ids appear in the printed plan, never in logs.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from allocator import __version__
from allocator.cli import ledger as ledger_cli
from allocator.cli.capacity import capacity_cmd
from allocator.cli.common import check_positive, fail, parse_pairs, parse_pins
from allocator.errors import AllocatorError, InputError
from allocator.examples import demo as demo_tables
from allocator.io import TABLE_SUFFIXES, Staging, read_table
from allocator.engine.planning import DEFAULT_GAP
from allocator.engine.planning import plan as run_plan
from allocator.policy import Policy, validate_policy
from allocator.cli.report import report_cmd
from allocator.engine.result import Method, Plan
from allocator.cli.simulate import compare_cmd, simulate_cmd
from allocator.tables import Source

log = logging.getLogger("allocator")

DEMO_START = dt.date(2026, 12, 7)  # `examples.generate`'s default start, which `demo()` uses
SHOWN_ROWS = 20  # placements printed to the terminal; the file has them all
WIDE = 120  # terminal columns from which reasons fit in the placements table

app = typer.Typer(
    name="allocator",
    help="Allocation and rotation of temporary emergency housing: plan a week's batch.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals would hold household data
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"allocator {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Allocation and rotation of temporary emergency housing."""


# --- option checks (all before anything is read, solved or written) --------------------------


def _check_outputs(outputs: dict[str, Path | None], inputs: list[Path]) -> None:
    seen: dict[Path, str] = {p.resolve(): "input" for p in inputs}
    for option, path in outputs.items():
        if path is None:
            continue
        if option != "--summary" and path.suffix.lower() not in TABLE_SUFFIXES:
            raise InputError(
                f"unsupported output file type {path.suffix or '(none)'!r}; expected .csv or .xlsx",
                source=str(path),
            )
        if not path.parent.is_dir():
            raise InputError("the output's folder does not exist", source=str(path))
        if path.is_dir():
            raise InputError("is a directory, not a file", source=str(path))
        other = seen.get(path.resolve())
        if other is not None:
            what = "an input file" if other == "input" else f"the {other} file"
            raise InputError(f"{option} would overwrite {what}", source=str(path))
        seen[path.resolve()] = option


def _policy(path: Path | None, horizon_weeks: int | None) -> Policy:
    try:
        policy = Policy.from_file(path) if path is not None else Policy()
    except OSError as exc:  # from_file turns only a missing file into an InputError
        raise InputError(
            f"cannot read the file ({exc.strerror or exc})", source=str(path)
        ) from None
    if horizon_weeks is not None:
        updated = policy.model_copy(update={"horizon_weeks": horizon_weeks})
        policy = validate_policy(updated.model_dump(), source="--horizon-weeks")
    return policy


# --- printing --------------------------------------------------------------------------------


def _text(value: object) -> str:
    """A cell for a Rich table: dates ISO, missing empty, square brackets not read as markup."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return escape(str(value))


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
            _text(row.unit_id),
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
    for name, value in rows:
        table.add_row(name, value)
    return table


# --- commands --------------------------------------------------------------------------------

MethodOption = Annotated[
    Method,
    typer.Option(
        "--method",
        case_sensitive=False,
        help="solver: optimise (never worse than greedy); greedy: the baseline heuristic; "
        "hotel: nobody placed, the do-nothing baseline.",
    ),
]


@app.command()
def plan(
    households: Annotated[
        Path, typer.Option("--households", help="Households waiting (.csv or .xlsx).")
    ],
    units: Annotated[Path, typer.Option("--units", help="Housing units (.csv or .xlsx).")],
    start: Annotated[str, typer.Option("--start", help="First day of the plan, YYYY-MM-DD.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the plan (.csv or .xlsx).")],
    stays: Annotated[
        Path | None, typer.Option("--stays", help="Stays already running (.csv or .xlsx).")
    ] = None,
    summary: Annotated[
        Path | None, typer.Option("--summary", help="Where to write the key figures as JSON.")
    ] = None,
    method: MethodOption = Method.SOLVER,
    horizon_weeks: Annotated[
        int | None,
        typer.Option("--horizon-weeks", help="Planning horizon; overrides the policy's."),
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Seconds the solver may take in all.")
    ] = 60.0,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Threads the solver may use (default: all cores); 2+ lets a city-size dive "
            "run beside the LP.",
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", min=0, max=2**31 - 1, help="Solver random seed.")
    ] = 0,
    gap: Annotated[
        float,
        typer.Option(
            "--gap", help="Stop once within this relative gap of the best bound (0.001 = 0.1%)."
        ),
    ] = DEFAULT_GAP,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Policy file (TOML) with weights and limits.")
    ] = None,
    pin: Annotated[
        list[str] | None,
        typer.Option("--pin", help="HOUSEHOLD=UNIT: the household must go to that unit."),
    ] = None,
    forbid: Annotated[
        list[str] | None,
        typer.Option("--forbid", help="HOUSEHOLD=UNIT: the household must not go there."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print nothing but errors.")] = False,
) -> None:
    """Plan a week's batch: a unit and start day for each household, or a reason why not."""
    try:
        check_positive(time_limit, "--time-limit")
        check_positive(workers, "--workers")
        if not 0 <= gap < 1:
            raise InputError(
                f"expected a relative gap from 0 to below 1, got {gap}", source="--gap"
            )
        pins = parse_pins(pin)
        forbids = parse_pairs(forbid, "--forbid")
        inputs = {"households": households, "units": units, "stays": stays}
        given = [p for p in inputs.values() if p is not None]
        _check_outputs({"--out": out, "--summary": summary}, given)
        policy = _policy(policy_file, horizon_weeks)
        frames: dict[str, pd.DataFrame | None] = {"stays": None}
        sources: dict[str, Source] = {}
        for kind, path in inputs.items():
            if path is not None:
                frames[kind], sources[kind] = read_table(path, kind)
        result = run_plan(
            frames["households"],
            frames["units"],
            frames["stays"],
            start=start,
            policy=policy,
            method=method,
            pins=pins,
            forbids=forbids,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
            relative_gap=gap,
            sources=sources,
        )
        with Staging() as staged:
            staged.table(result.placements, out)
            if summary is not None:
                staged.json(result.summary_dict(), summary)
    except AllocatorError as exc:
        raise fail(exc) from None
    if not quiet:
        console = Console()
        console.print(_placements_table(result, reasons=False, limit=SHOWN_ROWS))
        console.print(_kpi_table(result))
        written = f"wrote {out}" + (f" and {summary}" if summary is not None else "")
        console.print(written, markup=False, highlight=False, soft_wrap=True)


@app.command()
def demo(
    method: MethodOption = Method.SOLVER,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Seconds the solver may take in all.")
    ] = 10.0,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the plan here (.csv or .xlsx).")
    ] = None,
) -> None:
    """Plan the embedded example (24 households, 14 units) and compare with the baselines."""
    try:
        check_positive(time_limit, "--time-limit")
        _check_outputs({"--out": out}, [])
        households, units, stays = demo_tables()
        runs: dict[Method, Plan] = {}
        for m in dict.fromkeys([method, Method.GREEDY, Method.HOTEL]):
            runs[m] = run_plan(
                households, units, stays, start=DEMO_START, method=m, time_limit=time_limit
            )
        result = runs[method]
        if out is not None:
            with Staging() as staged:
                staged.table(result.placements, out)
    except AllocatorError as exc:
        raise fail(exc) from None
    console = Console()
    inline = console.width >= WIDE  # else the reason column would be squeezed to nothing
    console.print(_placements_table(result, reasons=inline, limit=None))
    if not inline:
        console.print(_reasons_list(result))
    console.print(_kpi_table(result))
    console.print(_comparison_table(runs))
    if out is not None:
        console.print(f"wrote {out}", markup=False, highlight=False, soft_wrap=True)


def _comparison_table(runs: dict[Method, Plan]) -> Table:
    table = Table(title="Compared with the baselines", title_justify="left")
    table.add_column("method")
    table.add_column("objective", justify="right")
    table.add_column("hotel person-nights", justify="right")
    table.add_column("placed", justify="right")
    for m, r in runs.items():
        table.add_row(
            m.value, _number(r.objective), f"{r.hotel_person_nights:,}", str(len(r.placed))
        )
    return table


if __name__ == "__main__":  # pragma: no cover
    app()


# the ledger's and the simulation's commands live in their own modules, which never import this one
ledger_cli.register(app)
app.command("simulate")(simulate_cmd)
app.command("compare")(compare_cmd)
app.command("report")(report_cmd)
app.command("capacity")(capacity_cmd)
