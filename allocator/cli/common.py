"""What every command module shares: one-line errors, HOUSEHOLD=UNIT options, the progress bar
and summary tables.

Rich and pandas are imported inside the functions that use them: every start of the app imports
this module, and `allocator --version` needs neither.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import typer

from allocator.errors import AllocatorError, InputError

if TYPE_CHECKING:
    import pandas as pd
    from rich.progress import Progress


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


def progress_bar() -> Progress:
    """The bar long runs show on stderr (replications, mixes, report stages); gone when done."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
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
