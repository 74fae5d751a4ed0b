"""`allocator audit simulation|plan|ledger`: waits per group, flagged groups, the policies
compared and the overtaking counts (`allocator.analysis.fairness`).

Each command reads its input, calls the library and prints Rich tables; ``--out`` writes the
group table (CSV or XLSX), ``--plot`` the figure (PNG). Errors are one line and exit code 2.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from allocator.cli.common import DbOption, fail, print_table
from allocator.cli.root import app
from allocator.errors import AllocatorError, InputError

if TYPE_CHECKING:
    import pandas as pd

    from allocator.analysis.fairness import FairnessAudit
    from allocator.io import Outputs

audit_app = typer.Typer(
    help="Waits per group (size, urgency, support, access, language, exit pathway), audited.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")

Out = Annotated[Path | None, typer.Option(help="Write the group table here (.csv or .xlsx).")]
Plot = Annotated[Path | None, typer.Option(help="Draw mean waits per group here (.png).")]
Bounds = Annotated[
    str,
    typer.Option(
        help="Days waited before an overtaking counts, comma-separated (evidence for a bound)."
    ),
]


@audit_app.command("simulation")
def audit_simulation(
    folder: Annotated[Path, typer.Argument(help="Output folder of `allocator simulate --out`.")],
    policy: Annotated[
        str | None, typer.Option(help="Policy to compare (default: the first simulated).")
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(help="Policy to compare it with (default: greedy, fcfs_fast or fcfs_event)."),
    ] = None,
    bounds: Bounds = "0,7,14,30",
    out: Out = None,
    comparison_out: Annotated[
        Path | None, typer.Option(help="Write the policy comparison here (.csv or .xlsx).")
    ] = None,
    overtaking_out: Annotated[
        Path | None, typer.Option(help="Write the overtaking counts here (.csv or .xlsx).")
    ] = None,
    plot: Plot = None,
) -> None:
    """Audit a simulation's waits per group, across its replications."""
    try:
        from allocator.analysis.fairness import audit, records_from_simulation
        from allocator.io import read_simulation_households

        source = folder / "households.parquet"
        outputs = _outputs({"the simulation's households.parquet": source}, out, plot)
        outputs.file("--comparison-out", _table_path(comparison_out, "--comparison-out"))
        outputs.file("--overtaking-out", _table_path(overtaking_out, "--overtaking-out"))
        days = _bounds(bounds)
        records = records_from_simulation(read_simulation_households(folder))
        result = audit(records, source="simulation", policy=policy, baseline=baseline, bounds=days)
        extra = {comparison_out: result.comparison, overtaking_out: result.overtaking}
        _write(outputs, result, out, plot, extra)
    except AllocatorError as exc:
        raise fail(exc) from None
    _show(result, f"{folder}: {result.replications} replications")


@audit_app.command("plan")
def audit_plan(
    plan: Annotated[Path, typer.Argument(help="The plan written by `allocator plan --out`.")],
    households: Annotated[Path, typer.Option(help="The households file the plan was made from.")],
    units: Annotated[
        Path | None, typer.Option(help="Its units file: needed for the overtaking counts.")
    ] = None,
    dayfirst: Annotated[bool, typer.Option(help="Read dd/mm/yyyy dates day first.")] = False,
    bounds: Bounds = "0,7,14,30",
    out: Out = None,
    plot: Plot = None,
) -> None:
    """Audit one plan's waits per group (intervals over households: no replications)."""
    try:
        from allocator.analysis.fairness import audit, records_from_plan
        from allocator.io import read_plan, read_table

        outputs = _outputs({"PLAN": plan, "--households": households, "--units": units}, out, plot)
        days = _bounds(bounds)
        table = read_plan(plan)
        hh, hh_source = read_table(households, "households", dayfirst=dayfirst)
        un, un_source = read_table(units, "units", dayfirst=dayfirst) if units else (None, None)
        records = records_from_plan(
            table,
            hh,
            un,
            source=str(plan),
            households_source=hh_source,
            units_source=un_source,
        )
        result = audit(records, source="plan", bounds=days)
        _write(outputs, result, out, plot)
    except AllocatorError as exc:
        raise fail(exc) from None
    _show(result, f"{plan}: one plan (intervals over households)")


@audit_app.command("ledger")
def audit_ledger(
    db: DbOption = None,
    today: Annotated[
        str | None, typer.Option(help="Count waits up to this day, YYYY-MM-DD (default today).")
    ] = None,
    bounds: Bounds = "0,7,14,30",
    out: Out = None,
    plot: Plot = None,
) -> None:
    """Audit the ledger's history: households placed and still waiting."""
    try:
        from allocator.analysis.fairness import audit, records_from_ledger
        from allocator.ledger import Ledger
        from allocator.ledger.database import database_url, ledger_file

        outputs = _outputs({"the ledger (--db)": ledger_file(database_url(db))}, out, plot)
        days = _bounds(bounds)
        with Ledger.open(db, create=False) as ledger:
            records = records_from_ledger(ledger, today)
        result = audit(records, source="ledger", bounds=days)
        _write(outputs, result, out, plot)
    except AllocatorError as exc:
        raise fail(exc) from None
    _show(result, f"the ledger, up to {today or dt.date.today()} (intervals over households)")


# --- helpers ------------------------------------------------------------------------------------


def _table_path(path: Path | None, option: str) -> Path | None:
    from allocator.io import TABLE_SUFFIXES

    if path is not None and path.suffix.lower() not in TABLE_SUFFIXES:
        raise InputError("expected a .csv or .xlsx file", source=option)
    return path


def _outputs(inputs: dict[str, Path | None], out: Path | None, plot: Path | None) -> Outputs:
    """The outputs, checked before anything is read: none over an input, folders writable."""
    from allocator.io import Outputs

    outputs = Outputs(inputs)
    outputs.file("--out", _table_path(out, "--out"))
    if plot is not None and plot.suffix.lower() != ".png":
        raise InputError("expected a .png file", source="--plot")
    outputs.file("--plot", plot)
    return outputs


def _bounds(text: str) -> list[int]:
    try:
        days = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        days = [-1]
    if not days or any(not 0 <= d <= 3650 for d in days):
        raise InputError(
            f"expected whole numbers of days 0-3650, comma-separated, got {text!r}",
            source="--bounds",
        )
    return days


def _write(
    outputs: Outputs,
    result: FairnessAudit,
    out: Path | None,
    plot: Path | None,
    extra: dict[Path | None, pd.DataFrame] | None = None,
) -> None:
    """The tables and the figure, all written or none."""
    if out is None and plot is None and not any(extra or {}):
        return
    import io

    from allocator.cli.interrupts import writing

    png = None
    if plot is not None:
        from allocator.analysis.plots.fairness import group_waits

        buf = io.BytesIO()
        group_waits(result.groups).savefig(buf, format="png", dpi=96, metadata={"Software": None})
        png = buf.getvalue()
    with writing(outputs.staging()) as staged:
        if out is not None:
            staged.table(result.groups, out)
        for path, table in (extra or {}).items():
            if path is not None:
                staged.table(table, path)
        if png is not None and plot is not None:
            staged.bytes(png, plot)


def _cell(mean: float, low: float, high: float) -> str:
    import math

    if math.isnan(mean):
        return "-"
    if math.isnan(low):
        return f"{mean:.1f}"
    return f"{mean:.1f} [{low:.1f}, {high:.1f}]"


def _show(result: FairnessAudit, what: str) -> None:
    """The group table, the comparison and the overtaking counts as Rich tables."""
    import pandas as pd

    g = result.groups
    table = pd.DataFrame(
        {
            "policy": g["policy"],
            "households": g["households"].map(lambda n: f"{n:,}"),
            "mean wait": [
                _cell(*v) for v in zip(g["mean_wait"], g["ci_low"], g["ci_high"], strict=True)
            ],
            "p90": g["p90_wait"].map(lambda v: f"{v:.0f}"),
            "placed": g["share_placed"].map(lambda v: f"{v:.1%}"),
            "vs rest": [
                _cell(*v) for v in zip(g["difference"], g["diff_low"], g["diff_high"], strict=True)
            ],
            "flag": g["flag"],
        }
    )
    table.index = [f"{a}: {b}" for a, b in zip(g["grouping"], g["group"], strict=True)]
    table.index.name = "group"
    if g["policy"].nunique() == 1:
        table = table.drop(columns="policy")
    interval = g["interval"].iloc[0] if len(g) else ""
    print_table(f"Waits per group, days: {what}; 95% intervals ({interval})", table)
    c = result.comparison
    if len(c):
        first = c.iloc[0]
        comp = pd.DataFrame(
            {
                first["policy"]: c["mean_policy"].map(lambda v: f"{v:.1f}"),
                first["baseline"]: c["mean_baseline"].map(lambda v: f"{v:.1f}"),
                "difference": [
                    _cell(*v) for v in zip(c["difference"], c["ci_low"], c["ci_high"], strict=True)
                ],
                "longer": c["longer"].map(lambda b: "longer" if b else ""),
            }
        )
        comp.index = [f"{a}: {b}" for a, b in zip(c["grouping"], c["group"], strict=True)]
        comp.index.name = "group"
        print_table(
            f"Mean wait under {first['policy']} minus {first['baseline']}, paired by replication "
            "(95% t-interval)",
            comp,
        )
    o = result.overtaking
    if len(o):
        over = pd.DataFrame(
            {
                "households / replication": [
                    _cell(*v)
                    for v in zip(
                        o["households"], o["households_low"], o["households_high"], strict=True
                    )
                ],
                "share": o["share"].map(lambda v: f"{v:.2%}"),
                "nights / replication": [
                    _cell(*v)
                    for v in zip(o["nights"], o["nights_low"], o["nights_high"], strict=True)
                ],
                "by no more urgent": o["households_less_urgent"].map(lambda v: f"{v:.1f}"),
            }
        )
        over.index = [
            f"{p}, after {b} days" for p, b in zip(o["policy"], o["bound_days"], strict=True)
        ]
        over.index.name = "policy, waited"
        print_table(
            "Overtaken: a unit that fits went to a household that asked later, while this one "
            "waited (households and their nights from then on)",
            over,
        )
