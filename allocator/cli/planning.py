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
from allocator.cli.common import (
    DAYFIRST_HELP,
    check_positive,
    check_ranges,
    fail,
    parse_pairs,
    parse_pins,
)
from allocator.cli.root import app
from allocator.errors import AllocatorError, InputError

if TYPE_CHECKING:
    import pandas as pd

    from allocator.engine.result import Plan
    from allocator.io import Outputs
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
    seed: Annotated[int, typer.Option("--seed", help="Solver random seed, 0 to 2147483647.")] = 0,
    gap: GapOption = DEFAULT_GAP,
    max_memory: Annotated[
        str | None,
        typer.Option(
            "--max-memory",
            help="Memory the solver's model may take, e.g. 512M or 4G (default: half of this "
            "machine's); a larger model is planned in slices or by greedy plans.",
        ),
    ] = None,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Policy file (TOML) with weights and limits.")
    ] = None,
    pin: PinOption = None,
    forbid: ForbidOption = None,
    dayfirst: Annotated[bool, typer.Option("--dayfirst", help=DAYFIRST_HELP)] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print nothing but errors.")] = False,
) -> None:
    """Plan a week's batch: a unit and start day for each household, or a reason why not."""
    from allocator.cli import interrupts
    from allocator.engine import planning

    # a first Ctrl-C once greedy's plan exists stops the search and keeps its best plan
    hint = f"solving (up to {time_limit:g} s): Ctrl-C stops and keeps the best plan so far"
    search = interrupts.search(None if quiet else hint)
    try:
        _check_limits(time_limit, workers, gap)
        check_ranges(seed=seed, solver_seed=True)
        _check_start(start)
        memory = parse_memory(max_memory)
        pins = parse_pins(pin)
        forbids = parse_pairs(forbid, "--forbid")
        inputs = {"households": households, "units": units, "stays": stays}
        read = {f"--{kind}": path for kind, path in inputs.items()} | {"--policy": policy_file}
        outputs = _check_outputs({"--out": out, "--summary": summary}, read)
        policy = _policy(policy_file, horizon_weeks)
        frames, sources = _read_inputs(inputs, dayfirst)
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
            stop=search.stop,
            on_search_start=search.started,
            max_memory=memory,
        )
        _write_plan(outputs, result, out, summary)
    except AllocatorError as exc:
        raise fail(exc) from None
    if not quiet:
        from allocator.cli.plan_tables import print_plan

        print_plan(result, out, summary)
        if result.details.get("size_limit"):  # the model did not fit: say how it was planned
            typer.echo(f"note: {result.details['size_limit']}", err=True)
        if result.details.get("warning"):  # the solver's numerics were not trusted
            typer.echo(f"warning: {result.details['warning']}", err=True)


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
        check_ranges(time_limit=time_limit)
        outputs = _check_outputs({"--out": out}, {})
        households, units, stays = demo_tables()
        runs: dict[str, Plan] = {}
        for m in dict.fromkeys([method, Method.GREEDY, Method.HOTEL]):
            runs[m.value] = planning.plan(
                households, units, stays, start=DEMO_START, method=m.value, time_limit=time_limit
            )
        if out is not None:
            _write_plan(outputs, runs[method.value], out, None)
    except AllocatorError as exc:
        raise fail(exc) from None
    print_demo(runs, method.value, out)


# --- option checks (all before anything is read, solved or written) --------------------------

# --max-memory's units: powers of 1000, or of 1024 with an "i"
MEMORY_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
MEMORY_UNITS |= {"ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
MIN_MEMORY, MAX_MEMORY = 10**6, 10**15


def parse_memory(value: str | None) -> int | None:
    """``--max-memory`` in bytes: a number and a unit, K, M, G or T (powers of 1000) or Ki, Mi,
    Gi or Ti (of 1024), a trailing B allowed (512M, 4G, 1.5GiB); None for the default."""
    import re

    if value is None:
        return None
    found = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]i?)?b?\s*", value, re.IGNORECASE)
    if found:
        size = float(found[1]) * MEMORY_UNITS[(found[2] or "").lower()]
        if MIN_MEMORY <= size <= MAX_MEMORY:
            return int(size)
    raise InputError(
        f"expected a size from 1M to 1000T such as 512M or 4G (K, M, G, T: powers of 1000; Ki, "
        f"Mi, Gi, Ti: of 1024), got {value!r}",
        source="--max-memory",
    )


def _check_limits(time_limit: float, workers: int | None, gap: float) -> None:
    check_positive(time_limit, "--time-limit")
    check_positive(workers, "--workers")
    check_ranges(time_limit=time_limit, workers=workers)
    if not 0 <= gap < 1:
        raise InputError(f"expected a relative gap from 0 to below 1, got {gap}", source="--gap")


def _check_start(start: str) -> None:
    """``--start``: an ISO date within 10 years of today (`allocator.limits.user_date`)."""
    from allocator.limits import user_date

    user_date(start, source="--start")


def _check_outputs(outputs: dict[str, Path | None], inputs: dict[str, Path | None]) -> Outputs:
    """The outputs, refused before any work if one would overwrite an input (tables, policy)
    or another output, or cannot be written (see `allocator.io.Outputs`)."""
    from allocator.io import TABLE_SUFFIXES, Outputs

    guard = Outputs(inputs)
    for option, path in outputs.items():
        if path is None:
            continue
        if option != "--summary" and path.suffix.lower() not in TABLE_SUFFIXES:
            raise InputError(
                f"unsupported output file type {path.suffix or '(none)'!r}; expected .csv or .xlsx",
                source=str(path),
            )
        guard.file(option, path)
    return guard


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
    inputs: dict[str, Path | None], dayfirst: bool = False
) -> tuple[dict[str, pd.DataFrame | None], dict[str, Source]]:
    """The tables given and where each came from; no stays file means no stays running."""
    from allocator.io import read_table

    frames: dict[str, pd.DataFrame | None] = {"stays": None}
    sources: dict[str, Source] = {}
    for kind, path in inputs.items():
        if path is not None:
            frames[kind], sources[kind] = read_table(path, kind, dayfirst=dayfirst)
    return frames, sources


def _write_plan(outputs: Outputs, result: Plan, out: Path, summary: Path | None) -> None:
    """The plan, and the key figures if asked, written together or not at all (an abort meanwhile
    leaves the old files, or waits for their replacement to end)."""
    from allocator.cli.interrupts import writing

    with writing(outputs.staging()) as staged:
        staged.table(result.placements, out)
        if summary is not None:
            staged.json(result.summary_dict(), summary)
