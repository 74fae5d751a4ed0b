"""The library's choices and defaults that the commands' declarations show in `--help`.

Typer reads every command's options whenever the app starts, `--version` included, so what the
declarations need is copied here rather than imported from modules that load pandas, pydantic or
SQLAlchemy. tests/cli/test_startup.py checks each copy against the value it copies.
"""

from __future__ import annotations

from enum import StrEnum


class MethodChoice(StrEnum):
    """`allocator.engine.result.Method`'s values; commands pass the value, which the library
    turns into its `Method`."""

    SOLVER = "solver"
    GREEDY = "greedy"
    HOTEL = "hotel"


# each copies the name's value in the module named in its comment
DB_ENV = "ALLOCATOR_DB"  # allocator.ledger: DB_ENV
EXIT_PATHWAYS = ["public_housing", "rental_agency", "private", "family", "other"]  # EXIT_PATHWAYS
DEFAULT_GAP = 1e-4  # allocator.engine.planning: DEFAULT_GAP
SIMULATION_POLICIES = ("solver", "greedy", "hotel")  # allocator.simulation: DEFAULT_POLICIES
CAPACITY_POLICIES = ("fcfs_fast", "fcfs_event", "greedy", "solver")  # allocator.analysis.capacity
# allocator.analysis.report: DEFAULT_POLICIES, DEFAULT_REPLICATIONS, DEFAULT_SENSITIVITY_...
REPORT_POLICIES = ("solver", "greedy")
REPORT_REPLICATIONS = 20
REPORT_SENSITIVITY_POLICY = "fcfs_fast"
REPORT_SENSITIVITY_REPLICATIONS = 100
