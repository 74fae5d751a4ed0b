"""The `allocator` command line: one Typer app, its command groups in the modules beside it."""

from allocator.cli.main import app

__all__ = ["app"]
