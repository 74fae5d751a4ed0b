"""The one `allocator` Typer app: its name, its help and `--version`.

The command modules beside this one add their commands and groups to `app`; `allocator.cli`
imports them in the order `allocator --help` lists them.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup


class OneLineErrors(TyperGroup):
    """Usage errors (an unknown option, a value that is not a number) as one line on stderr and
    exit code 2, like every other error of the command line, instead of a usage panel."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except typer.Abort:
            typer.echo("aborted", err=True)
            sys.exit(130)
        except typer.TyperException as exc:  # Click's errors, which Typer vendors
            typer.echo(f"error: {_one_line(exc)}", err=True)
            sys.exit(getattr(exc, "exit_code", 2))
        sys.exit(result if isinstance(result, int) else 0)


def _one_line(exc: Exception) -> str:
    """The message of a usage error, and where to look for the right usage."""
    message = " ".join(str(getattr(exc, "format_message", exc.__str__)()).split())
    ctx = getattr(exc, "ctx", None)
    return f"{message} (see `{ctx.command_path} --help`)" if ctx is not None else message


app = typer.Typer(
    name="allocator",
    cls=OneLineErrors,
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
