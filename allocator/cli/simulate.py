"""`allocator simulate` and `allocator compare`: the simulation's command line (a Typer sub-app).

Mounted by `allocator.cli` (``app.command("simulate")(simulate_cmd)`` and
``app.command("compare")(compare_cmd)``), or run on its own: ``python -m allocator.cli.simulate``.
Errors the user can fix print one line ``error: <message>`` to stderr and exit with code 2.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console

from allocator.cli.common import fail, print_table, progress_bar
from allocator.errors import AllocatorError, InputError
from allocator.io import Staging, write_table
from allocator.simulation import DEFAULT_POLICIES, SimulationResult, load_scenario, simulate

log = logging.getLogger("allocator")
DEFAULT_POLICY_LIST = ",".join(DEFAULT_POLICIES)
app = typer.Typer(
    name="allocator-sim",
    help="Throughput simulation of the allocation engine against the hotel baseline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

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
    dask: bool,
    time_limit: float,
) -> SimulationResult:
    scenario = load_scenario(path)
    client = None
    if dask:
        from dask.distributed import Client, LocalCluster

        client = Client(LocalCluster(n_workers=workers, threads_per_worker=1))
    try:
        with progress_bar() as bar:
            task = bar.add_task(scenario.name, total=replications)
            return simulate(
                scenario,
                replications=replications,
                seed=seed,
                policies=[p.strip() for p in policies.split(",") if p.strip()],
                workers=workers,
                backend="dask" if dask else "processes",
                client=client,
                time_limit=time_limit,
                progress=lambda done: bar.update(task, completed=done),
            )
    finally:
        if client is not None:
            client.close()


def _check_out_folder(out: Path | None) -> None:
    if out is not None and out.exists() and not out.is_dir():
        raise InputError("expected a folder for the Parquet tables, found a file", source=str(out))


@app.command("simulate")
def simulate_cmd(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    replications: Annotated[int, typer.Option(min=1, help="Independent replications.")] = 20,
    seed: Annotated[int, typer.Option(help="Master seed (SeedSequence).")] = 0,
    policies: Policies = DEFAULT_POLICY_LIST,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
    dask: Annotated[bool, typer.Option("--dask", help="Run on a local Dask cluster.")] = False,
    time_limit: Annotated[float, typer.Option(help="Solver seconds per weekly plan.")] = 10.0,
    out: Annotated[Path | None, typer.Option(help="Folder for the Parquet tables.")] = None,
) -> None:
    """Simulate a scenario week by week under each policy; print the summary, write Parquet."""
    try:
        _check_out_folder(out)  # before hours of simulation, not after
        result = _run(scenario, replications, seed, policies, workers, dask, time_limit)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            with Staging() as staged:
                for name in ("replications", "weekly", "summary"):
                    staged.parquet(getattr(result, name), out / f"{name}.parquet")
    except AllocatorError as exc:
        raise fail(exc) from None
    head = (
        f"{result.scenario.name}: {replications} replications x {result.scenario.horizon_weeks} "
        f"weeks, seed {seed}, {result.seconds:.1f} s"
    )
    print_table(head + " (mean [95% interval])", result.wide_summary())
    if out is not None:
        Console().print(f"tables written to {out}/ (replications, weekly, summary .parquet)")


@app.command("compare")
def compare_cmd(
    scenarios: Annotated[list[Path], typer.Argument(help="Two or more scenario YAML files.")],
    replications: Annotated[int, typer.Option(min=1)] = 20,
    seed: Annotated[int, typer.Option()] = 0,
    policies: Policies = "greedy,hotel",
    workers: Annotated[int, typer.Option(min=1)] = 2,
    time_limit: Annotated[float, typer.Option()] = 10.0,
    out: Annotated[Path | None, typer.Option(help="CSV of the comparison.")] = None,
) -> None:
    """Run the same seeds on several scenarios and print their key metrics side by side."""
    keys = [
        "served",
        "hotel_person_nights",
        "wait_mean",
        "wait_p90",
        "occupancy",
        "separations",
        "total_cost",
        "savings",
    ]
    frames = []
    try:
        if out is not None and not (out.parent.is_dir() and not out.is_dir()):
            raise InputError("expected a CSV file in an existing folder", source=str(out))
        for path in scenarios:
            r = _run(path, replications, seed, policies, workers, False, time_limit)
            s = r.summary[r.summary["metric"].isin(keys)].copy()
            label = r.scenario.name
            if any(f["scenario"].iloc[0] == label for f in frames):  # two files, one name
                label = f"{label} ({path}, #{len(frames) + 1})"
            s.insert(0, "scenario", label)
            frames.append(s)
    except AllocatorError as exc:
        raise fail(exc) from None
    table = pd.concat(frames, ignore_index=True)
    if out is not None:
        try:
            write_table(table, out)
        except AllocatorError as exc:
            raise fail(exc) from None
    table["value"] = [
        f"{m:,.4g} [{lo:,.4g}, {hi:,.4g}]" if pd.notna(lo) else f"{m:,.4g}"
        for m, lo, hi in zip(table["mean"], table["ci_low"], table["ci_high"], strict=True)
    ]
    wide = table.pivot(index=["policy", "metric"], columns="scenario", values="value")
    wide = wide.reindex(columns=list(dict.fromkeys(table["scenario"])))
    wide.index = [f"{p} {m}" for p, m in wide.index]
    wide.index.name = "policy metric"
    print_table(f"{replications} replications, seed {seed} (mean [95% interval])", wide)


if __name__ == "__main__":
    app()
