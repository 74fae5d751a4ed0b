"""allocator: allocation and rotation of temporary emergency housing.

Plan a weekly batch with `plan`; see the README for the file formats and the model.

The public names are imported on first use (PEP 562), so that `import allocator`, which every
submodule and the command line's start-up run, does not load pandas and OR-Tools.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from allocator.domain import ExitPathway, Household, Stay, Support, Unit, UnitKind
    from allocator.engine.instance import Overrides
    from allocator.engine.params import EngineParams
    from allocator.engine.planning import plan
    from allocator.engine.result import Method, Plan, Status
    from allocator.errors import AllocatorError, InputError
    from allocator.ledger import Ledger
    from allocator.policy import Policy
    from allocator.simulation import simulate

# public name -> the module that defines it
_LAZY = {
    "AllocatorError": "allocator.errors",
    "EngineParams": "allocator.engine.params",
    "ExitPathway": "allocator.domain",
    "Household": "allocator.domain",
    "InputError": "allocator.errors",
    "Ledger": "allocator.ledger",
    "Method": "allocator.engine.result",
    "Overrides": "allocator.engine.instance",
    "Plan": "allocator.engine.result",
    "Policy": "allocator.policy",
    "Status": "allocator.engine.result",
    "Stay": "allocator.domain",
    "Support": "allocator.domain",
    "Unit": "allocator.domain",
    "UnitKind": "allocator.domain",
    "plan": "allocator.engine.planning",
    "simulate": "allocator.simulation",
}

__all__ = [
    "AllocatorError",
    "EngineParams",
    "ExitPathway",
    "Household",
    "InputError",
    "Ledger",
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
    "simulate",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use; later lookups find the name in globals."""
    if name == "__version__":
        value: Any = _version()
    elif name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, "__version__"})


def _version() -> str:
    """The installed distribution's version: one source, pyproject.toml (importlib.metadata
    costs a few tens of milliseconds, paid only by whoever asks)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("allocator")
    except PackageNotFoundError:  # a source tree on sys.path, not installed
        return "0+unknown"
