"""The one `allocator` Typer app: its name, its help and `--version`.

The command modules beside this one add their commands and groups to `app`; `allocator.cli`
imports them in the order `allocator --help` lists them.
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    name="allocator",
    help="Allocation and rotation of temporary emergency housing: plan a week's batch.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals would hold household data
)


def _version(value: bool) -> None:
    if value:
        from allocator import __version__

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
