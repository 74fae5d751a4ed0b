"""`allocator simulate` and `allocator compare`: the throughput simulation against the hotel
baseline.

Errors the user can fix print one line ``error: <message>`` to stderr and exit with code 2. The
simulation (SciPy, pandas) is imported when a command runs, not at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from allocator.choices import SIMULATION_POLICIES
from allocator.cli.common import (
    ConnectTimeoutOption,
    EngineOption,
    SchedulerOption,
    add_scenario_inputs,
    check_ranges,
    dask_client,
    fail,
    print_table,
    progress_bar,
    read_engine,
)
from allocator.cli.root import app
from allocator.errors import AllocatorError, InputError

if TYPE_CHECKING:
    import pandas as pd

    from allocator.engine.params import EngineParams
    from allocator.io import Outputs
    from allocator.simulation import SimulationResult

DEFAULT_POLICY_LIST = ",".join(SIMULATION_POLICIES)
# the metrics `compare` puts side by side
COMPARED = [
    "served",
    "hotel_person_nights",
    "wait_mean",
    "wait_p90",
    "occupancy",
    "separations",
    "total_cost",
    "savings",
]

Policies = Annotated[
    str,
    typer.Option(
        "--policies",
        help="Comma-separated: solver, greedy, fcfs_fast, fcfs_event, hotel (hotel is always added).",
    ),
]


def _run(
    path: Path,
    replications: int,
    seed: int,
    policies: str,
    workers: int,
    client: Any,
    time_limit: float,
    engine: EngineParams | None,
    switch_clocks: bool = False,
) -> SimulationResult:
    """Simulate the scenario in ``path`` (on the Dask ``client``'s cluster if given);
    ``switch_clocks``: with every pathway on the other stay clock (the clock sensitivity)."""
    from allocator.simulation import load_scenario, simulate
    from allocator.simulation import switch_clocks as switched

    reps = {"--replications": replications}
    check_ranges(time_limit=time_limit, workers=workers, replications=reps, seed=seed)
    scenario = load_scenario(path)
    if switch_clocks:
        scenario = switched(scenario, source=str(path))
    with progress_bar() as bar:
        task = bar.add_task(scenario.name, total=replications)
        return simulate(
            scenario,
            replications=replications,
            seed=seed,
            policies=[p.strip() for p in policies.split(",") if p.strip()],
            workers=workers,
            client=client,
            time_limit=time_limit,
            progress=lambda done: bar.update(task, completed=done),
            engine=engine,
        )


def _check_first(
    paths: list[Path],
    replications: int,
    seed: int,
    workers: int,
    time_limit: float,
    engine: Path | None,
) -> EngineParams | None:
    """The numbers, the scenarios and the solver's settings (returned), checked before
    connecting to a cluster (which may take the whole --connect-timeout to fail)."""
    from allocator.simulation import load_scenario

    reps = {"--replications": replications}
    check_ranges(time_limit=time_limit, workers=workers, replications=reps, seed=seed)
    for path in paths:
        load_scenario(path)
    return read_engine(engine)


# what `simulate --out` writes, as Parquet; households: per-household waits (`allocator audit`)
TABLES = ("replications", "weekly", "summary", "households")


def _check_out_folder(
    scenario: Path, out: Path | None, engine: Path | None, clocks: bool = False
) -> Outputs:
    from allocator.io import Outputs

    if out is not None and out.exists() and not out.is_dir():
        raise InputError("expected a folder for the Parquet tables, found a file", source=str(out))
    outputs = Outputs()
    add_scenario_inputs(outputs, scenario)
    outputs.add_input("--engine", engine)
    if out is not None:
        names = [*TABLES, "clocks"] if clocks else list(TABLES)
        outputs.folder("--out", out, [f"{name}.parquet" for name in names])
    return outputs


@app.command("simulate")
def simulate_cmd(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    replications: Annotated[int, typer.Option(help="Independent replications.")] = 20,
    seed: Annotated[int, typer.Option(help="Master seed (SeedSequence).")] = 0,
    policies: Policies = DEFAULT_POLICY_LIST,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 2,
    dask: Annotated[
        bool, typer.Option("--dask", help="Run on a local Dask cluster of --workers processes.")
    ] = False,
    scheduler: SchedulerOption = None,
    connect_timeout: ConnectTimeoutOption = None,
    time_limit: Annotated[float, typer.Option(help="Solver seconds per weekly plan.")] = 10.0,
    engine: EngineOption = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the Parquet tables.")] = None,
    clock_sensitivity: Annotated[
        bool,
        typer.Option(
            help="Also run every pathway on the other stay clock (same seed) and print the "
            "savings side by side; doubles the run time."
        ),
    ] = True,
) -> None:
    """Simulate a scenario week by week under each policy; print the summary, write Parquet."""
    clocks = None
    try:
        # before hours of simulation, not after
        outputs = _check_out_folder(scenario, out, engine, clock_sensitivity)
        settings = _check_first([scenario], replications, seed, workers, time_limit, engine)
        local = workers if dask else None
        with dask_client(scheduler, connect_timeout, local) as client:
            args = (replications, seed, policies, workers, client, time_limit, settings)
            result = _run(scenario, *args)
            if clock_sensitivity:
                from allocator.simulation import clock_table

                other = _run(scenario, *args, switch_clocks=True)
                clocks = clock_table(result, other)
        if out is not None:
            _write_tables(outputs, result, out, clocks)
    except AllocatorError as exc:
        raise fail(exc) from None
    head = (
        f"{result.scenario.name}: {replications} replications x {result.measured}, "
        f"seed {seed}, {result.seconds:.1f} s"
    )
    print_table(head + " (mean [95% interval])", result.wide_summary())
    if clocks is not None:
        from allocator.simulation import clock_caption, clock_wide

        print_table(
            "Stay clocks: the savings as in the scenario and with every pathway switched to the "
            f"other clock, same seed ({clock_caption(clocks)}; mean [95% interval])",
            clock_wide(clocks),
        )
    if out is not None:
        from rich.console import Console

        written = "replications, weekly, summary, households" + (
            ", clocks" if clocks is not None else ""
        )
        Console().print(f"tables written to {out}/ ({written} .parquet)")


@app.command("compare")
def compare_cmd(
    scenarios: Annotated[list[Path], typer.Argument(help="Two or more scenario YAML files.")],
    replications: Annotated[int, typer.Option()] = 20,
    seed: Annotated[int, typer.Option()] = 0,
    policies: Policies = "greedy,hotel",
    workers: Annotated[int, typer.Option()] = 2,
    scheduler: SchedulerOption = None,
    connect_timeout: ConnectTimeoutOption = None,
    time_limit: Annotated[float, typer.Option()] = 10.0,
    engine: EngineOption = None,
    out: Annotated[Path | None, typer.Option(help="CSV of the comparison.")] = None,
) -> None:
    """Run the same seeds on several scenarios and print their key metrics side by side."""
    import pandas as pd

    frames: list[pd.DataFrame] = []
    try:
        if out is not None and not (out.parent.is_dir() and not out.is_dir()):
            raise InputError("expected a CSV file in an existing folder", source=str(out))
        from allocator.io import TABLE_SUFFIXES, Outputs

        if out is not None and out.suffix.lower() not in TABLE_SUFFIXES:
            raise InputError("expected a .csv or .xlsx file", source=str(out))
        outputs = Outputs()
        for path in scenarios:
            add_scenario_inputs(outputs, path)
        outputs.add_input("--engine", engine)
        outputs.file("--out", out)
        settings = _check_first(scenarios, replications, seed, workers, time_limit, engine)
        with dask_client(scheduler, connect_timeout) as client:
            for path in scenarios:
                r = _run(path, replications, seed, policies, workers, client, time_limit, settings)
                frames.append(_key_metrics(r, path, frames))
        table = pd.concat(frames, ignore_index=True)
        if out is not None:
            from allocator.cli.interrupts import writing

            with writing(outputs.staging()) as staged:
                staged.table(table, out)
    except AllocatorError as exc:
        raise fail(exc) from None
    title = f"{replications} replications, seed {seed} (mean [95% interval])"
    print_table(title, _side_by_side(table))


def _write_tables(
    outputs: Outputs, result: SimulationResult, out: Path, clocks: pd.DataFrame | None = None
) -> None:
    """The three tables (and the clock sensitivity) as Parquet in `out`, written together or not
    at all (an abort meanwhile leaves no file, and no folder it made)."""
    from allocator.cli.interrupts import on_abort, writing

    made = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    with on_abort(out.rmdir if made else lambda: None), writing(outputs.staging()) as staged:
        for name in TABLES:
            staged.parquet(getattr(result, name), out / f"{name}.parquet")
        if clocks is not None:
            staged.parquet(clocks, out / "clocks.parquet")


def _key_metrics(result: SimulationResult, path: Path, earlier: list[pd.DataFrame]) -> pd.DataFrame:
    """One scenario's compared metrics, labelled by its name (and its file, if two share it)."""
    s = result.summary[result.summary["metric"].isin(COMPARED)].copy()
    label = result.scenario.name
    if any(f["scenario"].iloc[0] == label for f in earlier):  # two files, one name
        label = f"{label} ({path}, #{len(earlier) + 1})"
    s.insert(0, "scenario", label)
    return s


def _side_by_side(table: pd.DataFrame) -> pd.DataFrame:
    """`mean [low, high]` cells, a row per policy and metric, a column per scenario."""
    import pandas as pd

    table = table.copy()
    table["value"] = [
        f"{m:,.4g} [{lo:,.4g}, {hi:,.4g}]" if pd.notna(lo) else f"{m:,.4g}"
        for m, lo, hi in zip(table["mean"], table["ci_low"], table["ci_high"], strict=True)
    ]
    wide = table.pivot(index=["policy", "metric"], columns="scenario", values="value")
    wide = wide.reindex(columns=list(dict.fromkeys(table["scenario"])))
    wide.index = [f"{p} {m}" for p, m in wide.index]
    wide.index.name = "policy metric"
    return wide
