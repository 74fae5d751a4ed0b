"""allocator: allocation and rotation of temporary emergency housing.

Plan a weekly batch with `plan`; see the README for the file formats and the model.
"""

from allocator.domain import ExitPathway, Household, Stay, Support, Unit, UnitKind
from allocator.errors import AllocatorError, InputError
from allocator.engine.instance import Overrides
from allocator.engine.planning import plan
from allocator.policy import Policy
from allocator.engine.result import Method, Plan, Status

__all__ = [
    "AllocatorError",
    "ExitPathway",
    "Household",
    "InputError",
    "Method",
    "Overrides",
    "Plan",
    "Policy",
    "Status",
    "Stay",
    "Support",
    "Unit",
    "UnitKind",
    "plan",
]
__version__ = "0.1.0"
