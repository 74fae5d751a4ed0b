"""The enumerations and defaults that both the library and the command line name.

Kept to the standard library: the command line declares its options (choices, defaults in
`--help`) from these at every start, `--version` included, and must not pay for pandas, pydantic
or SQLAlchemy to do so. Each is defined here once; the modules that use them import them.
"""

from __future__ import annotations

from enum import StrEnum


class UnitKind(StrEnum):
    HUB_ROOM = "hub_room"
    FLAT = "flat"


class Support(StrEnum):
    """Intensity of social accompaniment a household needs."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ExitPathway(StrEnum):
    PUBLIC_HOUSING = "public_housing"
    RENTAL_AGENCY = "rental_agency"
    PRIVATE = "private"
    FAMILY = "family"
    OTHER = "other"
    UNKNOWN = "unknown"


class ConnectingRooms(StrEnum):
    """When the rooms of one connecting group may be combined for one household."""

    NEVER = "never"
    WHEN_NEEDED = "when_needed"  # only for a household that no single unit of the programme fits
    COMFORT = "comfort"  # for any household, when the cost says a combination is better


class Status(StrEnum):
    OPTIMAL = "optimal"  # proven within the requested relative gap
    FEASIBLE = "feasible"  # a valid plan, not proven optimal (time limit)
    HEURISTIC = "heuristic"  # a baseline method: valid plan, no bound
    INTERRUPTED = "interrupted"  # the search was stopped (Ctrl-C): its best plan so far

    @property
    def is_ok(self) -> bool:
        return True  # every status carries a valid plan; a plan is never empty for lack of time


class Method(StrEnum):
    SOLVER = "solver"
    GREEDY = "greedy"
    HOTEL = "hotel"


# the pathways a recorded exit may name ("unknown" is only ever inferred, never recorded)
EXIT_PATHWAYS = [p.value for p in ExitPathway if p is not ExitPathway.UNKNOWN]
DEFAULT_GAP = 1e-4  # the solver stops once its plan is within 0.01% of its best bound
DB_ENV = "ALLOCATOR_DB"  # the environment variable naming the ledger's database
SIMULATION_POLICIES = ("solver", "greedy", "hotel")  # what `simulate` compares by default
CAPACITY_POLICIES = ("fcfs_fast", "fcfs_event", "greedy", "solver")  # allocators a sweep can use
REPORT_POLICIES = ("solver", "greedy")  # the report's policies against the hotel baseline
REPORT_REPLICATIONS = 20
REPORT_SENSITIVITY_POLICY = "fcfs_fast"  # quick enough for the sensitivity runs
REPORT_SENSITIVITY_REPLICATIONS = 100
REPORT_TIME_LIMIT = 10.0  # the solver's seconds per simulated weekly plan
