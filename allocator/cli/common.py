"""What every command module shares: one-line errors, HOUSEHOLD=UNIT options, the progress bar
and summary tables.

Rich and pandas are imported inside the functions that use them: every start of the app imports
this module, and `allocator --version` needs neither.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from allocator.choices import DB_ENV
from allocator.errors import AllocatorError, InputError

if TYPE_CHECKING:
    import pandas as pd
    from rich.progress import Progress

    from allocator.engine.params import EngineParams
    from allocator.io import Outputs


# the ledger commands and the console: which ledger
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar=DB_ENV,
        help="Ledger: a SQLite file or a database URL (default: allocator.db).",
        show_default=False,
    ),
]

# the simulation commands: an existing Dask cluster to run the replications on
SCHEDULER_ENV = "ALLOCATOR_DASK_SCHEDULER"
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        envvar=SCHEDULER_ENV,
        metavar="ADDRESS",
        help="Run the replications on the Dask cluster whose scheduler is at ADDRESS "
        "(tcp://host:8786); the same seed gives the same numbers as on local processes.",
        show_default=False,
    ),
]
ConnectTimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--connect-timeout",
        metavar="SECONDS",
        help="How long to wait for the --scheduler before giving up (default 10).",
        show_default=False,
    ),
]
# the simulation commands: the solver's settings for every weekly plan of the optimiser policies
EngineOption = Annotated[
    Path | None,
    typer.Option(
        "--engine",
        metavar="FILE",
        help="TOML file of solver settings (allocator.EngineParams fields) for every weekly "
        "plan; fields it leaves out keep the simulation's own.",
        show_default=False,
    ),
]

# `plan` and the ledger imports: how a table's dd/mm/yyyy dates are read
DAYFIRST_HELP = (
    "Read dates written with slashes as dd/mm/yyyy (07/12/2026 = 7 December) even where no day "
    "above 12 in the column shows it; without it such a column is refused, never guessed."
)


def fail(exc: AllocatorError) -> typer.Exit:
    """Print the error as one line on stderr and exit with code 2: no traceback for bad input."""
    message = " ".join(str(exc).splitlines())
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def parse_pairs(values: list[str] | None, option: str) -> list[tuple[str, str]]:
    """Parse repeated HOUSEHOLD=UNIT options (pins and forbids)."""
    pairs = []
    for value in values or []:
        household, sep, unit = value.partition("=")
        household, unit = household.strip(), unit.strip()
        if not sep or not household or not unit:
            raise InputError(f"expected HOUSEHOLD=UNIT, got {value!r}", source=option)
        pairs.append((household, unit))
    return pairs


def parse_pins(values: list[str] | None) -> dict[str, str]:
    """Pins as a mapping; a household pinned to two different units is an error."""
    pins: dict[str, str] = {}
    for household, unit in parse_pairs(values, "--pin"):
        if household in pins and pins[household] != unit:
            raise InputError(
                f"household {household!r} is pinned to two units ({pins[household]}, {unit})",
                source="--pin",
            )
        pins[household] = unit
    return pins


def check_positive(value: float | None, option: str) -> None:
    """A time limit or a worker count: a finite number above zero (None = the default)."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise InputError(f"must be a finite number > 0, got {value}", source=option)


def check_ranges(
    *,
    time_limit: float | None = None,
    workers: int | None = None,
    replications: dict[str, int] | None = None,
    seed: int | None = None,
    solver_seed: bool = False,
    targets: dict[str, float | None] | None = None,
) -> None:
    """The numbers the long commands share, each within the range the library handles exactly
    (`allocator.limits`); an `InputError` names the option, the value and the range.
    ``replications`` and ``targets`` map an option to its value; a target is finite and >= 0."""
    from allocator.limits import (
        MAX_REPLICATIONS,
        MAX_SEED,
        MAX_SOLVER_SEED,
        MAX_TIME_LIMIT,
        MAX_WORKERS,
        check_number,
    )

    if time_limit is not None:
        check_number(time_limit, "--time-limit", 0, MAX_TIME_LIMIT, lo_open=True)
    if workers is not None:
        check_number(workers, "--workers", 1, MAX_WORKERS, whole=True)
    for option, count in (replications or {}).items():
        low = 0 if option.startswith("--sensitivity") else 1
        check_number(count, option, low, MAX_REPLICATIONS, whole=True)
    if seed is not None:
        check_number(seed, "--seed", 0, MAX_SOLVER_SEED if solver_seed else MAX_SEED, whole=True)
    for option, target in (targets or {}).items():
        if target is not None:
            check_number(target, option, 0, 1e12)


def read_engine(path: Path | None) -> EngineParams | None:
    """The --engine file's settings over the weekly loop's own (None without a file), read
    before any run. Callers add the file to their outputs' inputs (no output may overwrite it)."""
    if path is None:
        return None
    from allocator.simulation.weekly import weekly_engine_from_file

    return weekly_engine_from_file(path)


def add_scenario_inputs(outputs: Outputs, path: Path, label: str = "SCENARIO") -> None:
    """A scenario file and the files it extends, as files a run reads (no output may be one).

    Reads only the ``extends`` key of each file; a file that cannot be read is left for
    `load_scenario` to report.
    """
    import yaml

    outputs.add_input(label, path)
    seen = {path.resolve()}
    while True:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return
        if not isinstance(data, dict) or "extends" not in data:
            return
        base = path.parent / str(data["extends"])
        if base.resolve() in seen:
            return
        seen.add(base.resolve())
        outputs.add_input(f"the scenario {base} that {path.name} extends", base)
        path = base


@contextmanager
def dask_client(
    scheduler: str | None, timeout: float | None = None, local_workers: int | None = None
) -> Iterator[Any]:
    """The Dask client a command's replications go to, closed when the block ends: the cluster
    at ``--scheduler``, a LocalCluster of ``local_workers`` processes (``--dask``), or None
    (local processes). An unreachable scheduler is an `InputError` naming ``--scheduler``."""
    if scheduler is None and local_workers is None:
        yield None
        return
    from allocator.io import require

    option = "--scheduler" if scheduler is not None else "--dask"
    require("dask.distributed", option, extra="dask")
    if scheduler is None:
        from allocator.simulation.runner import local_cluster

        with local_cluster(local_workers or 1) as client:
            yield client
        return
    if local_workers is not None:
        raise InputError("give --scheduler or --dask, not both", source="--scheduler")
    check_positive(timeout, "--connect-timeout")
    from allocator.simulation.cluster import CONNECT_TIMEOUT, connect

    address = scheduler.strip()
    with connect(
        address,
        timeout=CONNECT_TIMEOUT if timeout is None else timeout,
        source=f"--scheduler {address}",
    ) as client:
        yield client


def progress_bar() -> Progress:
    """The bar long runs show on stderr (replications, mixes, report stages); gone when done."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    # elapsed, then the time left as Rich estimates it from the recent pace of completed steps
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def print_table(title: str, frame: pd.DataFrame) -> None:
    """A DataFrame as a Rich table on stdout: the index first, values right-aligned."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column(frame.index.name or "")
    for col in frame.columns:
        table.add_column(str(col), justify="right")
    for idx, row in frame.iterrows():
        table.add_row(str(idx), *[str(v) for v in row])
    Console().print(table)
