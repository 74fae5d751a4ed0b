"""What the optimiser hands back, and the gap tests that every stage applies to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from allocator.engine.optimiser.fairness import FairnessRecord


@dataclass
class SolveOutcome:
    """The best plan found so far and what is known about it; the stages improve it in place."""

    pool: np.ndarray
    start: np.ndarray
    objective: float
    best_bound: float
    proven_optimal: bool
    # the stage whose plan it is: greedy, heuristic, lp, rounding, dive, lp with cuts or mip
    source: str
    detail: str
    columns: int
    mip_columns: int  # columns the last MIP covered (before any fixing at the centre)
    lp_seconds: float
    mip_seconds: float
    lp_bound: float = -np.inf  # the LP relaxation's value (a Lagrangian bound if not converged)
    # what the fairness bound did (`fairness.FairnessRecord`); None when the policy has no bound
    fairness: FairnessRecord | None = None

    @classmethod
    def of_greedy(
        cls, plan: tuple[np.ndarray, np.ndarray], objective: float, columns: int
    ) -> SolveOutcome:
        """Greedy's plan as the first incumbent, with nothing known about it yet."""
        pool, start = plan
        return cls(pool, start, objective, -np.inf, False, "greedy", "", columns, 0, 0.0, 0.0)


def within_gap(objective: float, bound: float, relative_gap: float) -> bool:
    """The caller's test of a plan against a bound: the solver stops, the plan counts as optimal."""
    return objective - bound <= relative_gap * max(abs(objective), 1e-9)


def proven(outcome: SolveOutcome) -> bool:
    """The bound reaches the plan, up to the solvers' tolerance."""
    return outcome.best_bound >= outcome.objective - 1e-6 * max(1.0, abs(outcome.objective))


def cutoff(incumbent: float, relative_gap: float) -> float:
    """Only plans below this are worth finding: anything else is within the gap of the incumbent.

    Nudged up to the float at which ``incumbent - cutoff`` does not exceed the gap, so that a
    bound equal to the cutoff passes the gap tests exactly (half of random cases failed them by
    one rounding step).
    """
    allowed = max(relative_gap * abs(incumbent), 1e-6 * max(1.0, abs(incumbent)))
    cut = incumbent - allowed
    while incumbent - cut > allowed:
        cut = np.nextafter(cut, np.inf)
    return float(cut)
