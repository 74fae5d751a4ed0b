"""Hooks through which a caller watches the optimiser's stages without patching it.

Tests and benchmarks subclass `SolveCallbacks`, override the hooks they want and pass an instance
to `solve_optimal`; the optimiser calls every hook at a fixed point of its algorithm, and each does
nothing here. A hook only watches: what it does with the objects it is handed must not change
them, or the plan changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from allocator.engine.optimiser.backend import IncrementalLP
    from allocator.engine.optimiser.column_generation import ColumnGeneration, LPState


class SolveCallbacks:
    """No-op hooks, called in the order of the stages."""

    def column_generation(self, cg: ColumnGeneration) -> None:
        """The column generation is built, before its first round."""

    def lp_solved(self, state: LPState, seconds: float) -> None:
        """A run of column generation rounds ended (the first, or a resumed one), after
        ``seconds`` (the first run's include building the restricted LP)."""

    def dive_started(self, lp: IncrementalLP) -> None:
        """A dive starts on this LP (the column generation's own, or a copy), in the thread that
        runs it."""

    def dive_ended(self, values: np.ndarray, integral: bool) -> None:
        """A dive ended with these values of the LP's variables, in the thread that ran it."""
