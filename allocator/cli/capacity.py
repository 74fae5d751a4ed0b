"""`allocator capacity`: how many hub rooms and flats meet a waiting or hotel-night target.

Errors the user can fix print one line ``error: <message>`` to stderr and exit with code 2, and
no file is written (the curve and the plot are written together at the end, or not at all). The
sweep (the simulation) and matplotlib are imported when the command runs, not at start-up.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from allocator.choices import CAPACITY_POLICIES
from allocator.cli.common import (
    ConnectTimeoutOption,
    EngineOption,
    SchedulerOption,
    add_scenario_inputs,
    check_positive,
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
    from allocator.analysis.capacity import CapacityResult
    from allocator.io import Outputs
    from allocator.simulation import Scenario

TABLE_SUFFIXES = (".csv", ".xlsx")
MAX_GRID_VALUES = 10_000


def parse_counts(text: str, option: str) -> list[int]:
    """``"20:50:5"`` (from 20 to 50 inclusive, step 5), ``"20:50"`` (step 1), ``"0,10,25"``, or
    a comma list mixing both; whole numbers >= 0."""
    values: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise InputError(
                f"empty item in {text!r}; expected a:b:step or a comma list", source=option
            )
        bits = [b.strip() for b in part.split(":")]
        try:
            numbers = [int(b) for b in bits]
        except ValueError:
            raise InputError(
                f"expected whole numbers as a:b:step or a comma list, got {part!r}", source=option
            ) from None
        if len(numbers) == 1:
            values.append(numbers[0])
            continue
        if len(numbers) > 3:
            raise InputError(f"expected a:b or a:b:step, got {part!r}", source=option)
        low, high = numbers[0], numbers[1]
        step = numbers[2] if len(numbers) == 3 else 1
        if step <= 0:
            raise InputError(f"the step must be >= 1, got {step} in {part!r}", source=option)
        if high < low:
            raise InputError(f"the range {part!r} ends before it starts", source=option)
        if (high - low) // step + 1 + len(values) > MAX_GRID_VALUES:
            raise InputError(f"the range {part!r} has too many values", source=option)
        values.extend(range(low, high + 1, step))
    bad = [v for v in values if v < 0]
    if bad:
        raise InputError(f"counts must be >= 0, got {bad[0]}", source=option)
    return sorted(set(values))


def _check_output(path: Path | None, suffixes: tuple[str, ...], option: str) -> None:
    """Fail before the sweep, not after it, on an output that cannot be written."""
    if path is None:
        return
    if path.is_dir():
        raise InputError("is a folder; expected a file name", source=str(path))
    if not path.parent.is_dir():
        raise InputError("the folder does not exist", source=str(path))
    if path.suffix.lower() not in suffixes:
        raise InputError(
            f"expected a file ending in {', '.join(suffixes)} for {option}", source=str(path)
        )


def _plot_suffixes() -> tuple[str, ...]:
    from matplotlib.figure import Figure

    return tuple(f".{s}" for s in Figure().canvas.get_supported_filetypes())


def _default(scenario: Scenario, key: str) -> list[int]:
    group = getattr(scenario.units, key)
    return [group.count if group is not None else 0]


def _run(scenario: Scenario, n_mixes: int, **kwargs: Any) -> CapacityResult:
    from allocator.analysis.capacity import capacity

    # counting mixes; it starts when `capacity` reports 0 (inputs checked), so a bad input
    # prints only its one line
    bar = progress_bar()
    task = bar.add_task(f"{scenario.name}: mixes", total=n_mixes)

    def report(done: float) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done)

    try:
        return capacity(scenario, progress=report, **kwargs)
    finally:
        if bar.live.is_started:
            bar.stop()


def _figure_bytes(result: CapacityResult, path: Path) -> bytes:
    from allocator.analysis.plots import capacity_curves

    metrics = ["wait_p90", "hotel_nights_per_year"]
    # a target far below the grid's largest values (typical: 30 days vs years for 20 rooms)
    # is unreadable on a linear axis
    fig = capacity_curves(result, metrics, yscale="symlog")
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.suffix.lower().lstrip("."), dpi=120)
    return buffer.getvalue()


@app.command("capacity")
def capacity_cmd(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    rooms: Annotated[
        str | None,
        typer.Option(
            help="Hub room counts: a range like 20:50:5 (20 to 50 inclusive, step 5), a comma "
            "list like 20,35,50, or both. Default: the scenario's count."
        ),
    ] = None,
    flats: Annotated[
        str | None,
        typer.Option(help="Flat counts, like --rooms. Default: the scenario's count."),
    ] = None,
    max_wait_p90: Annotated[
        float | None, typer.Option(help="Target: 90th-percentile wait at most this many days.")
    ] = None,
    max_hotel_nights: Annotated[
        float | None,
        typer.Option(help="Target: hotel and shelter person-nights a year at most this."),
    ] = None,
    by: Annotated[
        str,
        typer.Option(
            help="upper: the 95% interval's upper end must meet the target (conservative); "
            "mean: the mean must."
        ),
    ] = "upper",
    replications: Annotated[int, typer.Option(help="Replications per mix.")] = 20,
    seed: Annotated[int, typer.Option(help="Master seed, the same for every mix.")] = 0,
    policy: Annotated[
        str, typer.Option(help=f"One of {', '.join(CAPACITY_POLICIES)} (greedy, solver: slow).")
    ] = "fcfs_fast",
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 2,
    scheduler: SchedulerOption = None,
    connect_timeout: ConnectTimeoutOption = None,
    time_limit: Annotated[float, typer.Option(help="Solver seconds per weekly plan.")] = 10.0,
    engine: EngineOption = None,
    out: Annotated[Path | None, typer.Option(help="The curve as a CSV or XLSX table.")] = None,
    plot: Annotated[
        Path | None, typer.Option(help="The capacity curves as a picture (.png).")
    ] = None,
) -> None:
    """Sweep hub rooms x flats; print the smallest mix meeting every target and the curve."""
    from allocator.io import Outputs
    from allocator.simulation import load_scenario

    try:
        if max_wait_p90 is None and max_hotel_nights is None:
            raise InputError("give a target: --max-wait-p90 DAYS and/or --max-hotel-nights N")
        check_positive(time_limit, "--time-limit")
        check_ranges(
            time_limit=time_limit,
            workers=workers,
            replications={"--replications": replications},
            seed=seed,
            targets={"--max-wait-p90": max_wait_p90, "--max-hotel-nights": max_hotel_nights},
        )
        _check_output(out, TABLE_SUFFIXES, "--out")
        _check_output(plot, _plot_suffixes(), "--plot")
        outputs = Outputs()
        add_scenario_inputs(outputs, scenario)
        outputs.add_input("--engine", engine)
        outputs.file("--out", out)
        outputs.file("--plot", plot)
        room_counts = parse_counts(rooms, "--rooms") if rooms is not None else None
        flat_counts = parse_counts(flats, "--flats") if flats is not None else None
        base = load_scenario(scenario)
        room_counts = room_counts if room_counts is not None else _default(base, "hub_rooms")
        flat_counts = flat_counts if flat_counts is not None else _default(base, "flats")
        settings = read_engine(engine)
        with dask_client(scheduler, connect_timeout) as client:
            result = _run(
                base,
                len(room_counts) * len(flat_counts),
                rooms=room_counts,
                flats=flat_counts,
                target_wait_p90=max_wait_p90,
                target_hotel_nights_per_year=max_hotel_nights,
                replications=replications,
                seed=seed,
                policy=policy,
                by=by,
                workers=workers,
                time_limit=time_limit,
                client=client,
                engine=settings,
            )
        _write_outputs(outputs, result, out, plot)
    except AllocatorError as exc:
        raise fail(exc) from None
    _print_result(result, out, plot, replications=replications, policy=policy, seed=seed)


def _write_outputs(
    outputs: Outputs, result: CapacityResult, out: Path | None, plot: Path | None
) -> None:
    """The curve and the plot, written together or not at all."""
    picture = _figure_bytes(result, plot) if plot is not None else None
    if out is not None or plot is not None:
        from allocator.cli.interrupts import writing

        with writing(outputs.staging()) as staged:
            if out is not None:
                staged.table(result.curve, out)
            if picture is not None and plot is not None:
                staged.bytes(picture, plot)


def _print_result(
    result: CapacityResult,
    out: Path | None,
    plot: Path | None,
    *,
    replications: int,
    policy: str,
    seed: int,
) -> None:
    """The answer in a sentence, the summary of every mix, and the files written."""
    from rich.console import Console

    console = Console()
    console.print(result.answer(), markup=False, emoji=False)
    head = (
        f"{result.scenario.name}: {len(result.mixes)} mixes x {replications} replications x "
        f"{result.scenario.horizon_weeks} weeks, policy {policy}, seed {seed}, "
        f"{result.seconds:.1f} s on {result.workers} worker(s)"
        + (" of a Dask cluster" if result.details.get("backend") == "dask" else "")
    )
    print_table(head + " (mean [95% interval])", result.wide_summary())
    if out is not None:
        console.print(f"curve written to {out}")
    if plot is not None:
        console.print(f"plot written to {plot}")
