"""The `allocator` command line: one Typer app, `app`, and the modules that add its commands.

`root` holds the app; `planning` adds ``plan`` and ``demo``, `ledger` the ledger's groups and
``status``, `simulate` ``simulate`` and ``compare``, `report` and `capacity` theirs, `web`
``serve`` and ``users``. Each command imports the library it calls when it runs, so that start-up
(`allocator --version`, `--help`) loads Typer and little else.
"""

from importlib import import_module

from allocator.cli.root import app

# the modules that add commands to `app`, in the order `allocator --help` lists the commands
COMMAND_MODULES = ("planning", "ledger", "simulate", "report", "capacity", "audit", "web")
for _module in COMMAND_MODULES:
    import_module(f"allocator.cli.{_module}")

__all__ = ["app"]
