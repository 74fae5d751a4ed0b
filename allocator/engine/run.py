"""`RunSettings`: how one solve may run, built once from `plan`'s keyword arguments."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from allocator.engine.params import EngineParams


@dataclass(frozen=True)
class RunSettings:
    """The limits and settings of one solve, checked by `allocator.engine.planning.decide` and
    handed down to `size.solve_within_limits` and the optimiser's search.

    ``deadline`` is a `time.perf_counter` time; ``max_memory`` bytes bound the model (None:
    no bound is checked, for callers of `solve.solve_optimal`); ``stop``, once set from another
    thread, ends the search early."""

    deadline: float
    workers: int
    seed: int
    relative_gap: float
    engine: EngineParams = field(default_factory=EngineParams)
    stop: threading.Event | None = None
    max_memory: int | None = None
