"""`python -m allocator`: the same command line as the `allocator` script."""

from allocator.cli import app

app(prog_name="allocator")
