"""`allocator plan` and `allocator demo`: plan a week's batch from files, or the embedded example.

Errors the user can fix (bad input, bad options) print one line ``error: <message>`` to stderr and
exit with code 2; nothing is written then. Household ids appear in the printed plan, never in logs.
The engine, the file readers and the printing are imported when a command runs, not at start-up.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from allocator.choices import DEFAULT_GAP, Method
from allocator.cli.common import check_positive, fail, parse_pairs, parse_pins
from allocator.cli.root import app
from allocator.errors import AllocatorError, InputError

if TYPE_CHECKING:
    import pandas as pd

    from allocator.engine.result import Plan
    from allocator.policy import Policy
    from allocator.tables import Source

DEMO_START = dt.date(2026, 12, 7)  # `examples.generate`'s default start, which `demo()` uses

# options `plan` and `demo` share, and the longer ones, declared once so `plan` stays readable
MethodOption = Annotated[
    Method,
    typer.Option(
        "--method",
        case_sensitive=False,
        help="solver: optimise (never worse than greedy); greedy: the baseline heuristic; "
        "hotel: nobody placed, the do-nothing baseline.",
    ),
]
TimeLimitOption = Annotated[
    float, typer.Option("--time-limit", help="Seconds the solver may take in all.")
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers",
        help="Threads the solver may use (default: all cores); 2+ lets a city-size dive "
        "run beside the LP.",
    ),
]
GapOption = Annotated[
    float,
    typer.Option(
        "--gap", help="Stop once within this relative gap of the best bound (0.001 = 0.1%)."
    ),
]
PinOption = Annotated[
    list[str] | None,
    typer.Option("--pin", help="HOUSEHOLD=UNIT: the household must go to that unit."),
]
ForbidOption = Annotated[
    list[str] | None,
    typer.Option("--forbid", help="HOUSEHOLD=UNIT: the household must not go there."),
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
    time_limit: TimeLimitOption = 60.0,
    workers: WorkersOption = None,
    seed: Annotated[
        int, typer.Option("--seed", min=0, max=2**31 - 1, help="Solver random seed.")
    ] = 0,
    gap: GapOption = DEFAULT_GAP,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Policy file (TOML) with weights and limits.")
    ] = None,
    pin: PinOption = None,
    forbid: ForbidOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print nothing but errors.")] = False,
) -> None:
    """Plan a week's batch: a unit and start day for each household, or a reason why not."""
    from allocator.engine import planning

    try:
        _check_limits(time_limit, workers, gap)
        pins = parse_pins(pin)
        forbids = parse_pairs(forbid, "--forbid")
        inputs = {"households": households, "units": units, "stays": stays}
        given = [p for p in inputs.values() if p is not None]
        _check_outputs({"--out": out, "--summary": summary}, given)
        policy = _policy(policy_file, horizon_weeks)
        frames, sources = _read_inputs(inputs)
        result = planning.plan(
            frames["households"],
            frames["units"],
            frames["stays"],
            start=start,
            policy=policy,
            method=method.value,
            pins=pins,
            forbids=forbids,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
            relative_gap=gap,
            sources=sources,
        )
        _write_plan(result, out, summary)
    except AllocatorError as exc:
        raise fail(exc) from None
    if not quiet:
        from allocator.cli.plan_tables import print_plan

        print_plan(result, out, summary)


@app.command()
def demo(
    method: MethodOption = Method.SOLVER,
    time_limit: TimeLimitOption = 10.0,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the plan here (.csv or .xlsx).")
    ] = None,
) -> None:
    """Plan the embedded example (24 households, 14 units) and compare with the baselines."""
    from allocator.cli.plan_tables import print_demo
    from allocator.engine import planning
    from allocator.examples import demo as demo_tables

    try:
        check_positive(time_limit, "--time-limit")
        _check_outputs({"--out": out}, [])
        households, units, stays = demo_tables()
        runs: dict[str, Plan] = {}
        for m in dict.fromkeys([method, Method.GREEDY, Method.HOTEL]):
            runs[m.value] = planning.plan(
                households, units, stays, start=DEMO_START, method=m.value, time_limit=time_limit
            )
        if out is not None:
            _write_plan(runs[method.value], out, None)
    except AllocatorError as exc:
        raise fail(exc) from None
    print_demo(runs, method.value, out)


# --- option checks (all before anything is read, solved or written) --------------------------


def _check_limits(time_limit: float, workers: int | None, gap: float) -> None:
    check_positive(time_limit, "--time-limit")
    check_positive(workers, "--workers")
    if not 0 <= gap < 1:
        raise InputError(f"expected a relative gap from 0 to below 1, got {gap}", source="--gap")


def _check_outputs(outputs: dict[str, Path | None], inputs: list[Path]) -> None:
    from allocator.io import TABLE_SUFFIXES

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
    from allocator.policy import Policy, validate_policy

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


# --- files -----------------------------------------------------------------------------------


def _read_inputs(
    inputs: dict[str, Path | None],
) -> tuple[dict[str, pd.DataFrame | None], dict[str, Source]]:
    """The tables given and where each came from; no stays file means no stays running."""
    from allocator.io import read_table

    frames: dict[str, pd.DataFrame | None] = {"stays": None}
    sources: dict[str, Source] = {}
    for kind, path in inputs.items():
        if path is not None:
            frames[kind], sources[kind] = read_table(path, kind)
    return frames, sources


def _write_plan(result: Plan, out: Path, summary: Path | None) -> None:
    """The plan, and the key figures if asked, written together or not at all."""
    from allocator.io import Staging

    with Staging() as staged:
        staged.table(result.placements, out)
        if summary is not None:
            staged.json(result.summary_dict(), summary)
