"""On tiny instances the solver's plan is optimal: compare it with the best of every valid plan.

Every household is either not placed or placed in some unit on some start day of the horizon; the
valid plans are those `allocator.testing.check_plan` accepts. The search below enumerates them
depth-first, household by household. It leaves out only (a) a partial plan that already breaks a
rule (no rule is broken by leaving a household out, so no completion of it is valid) and (b) a
partial plan whose cost plus each remaining household's cheapest option cannot beat the best plan
found, so its minimum is the exact optimum. The smallest instances are also enumerated in full,
through plan tables, `check_plan` and `objective_of`, with no pruning at all. Each comparison is
made on instances of households with a stay length, and on mixed ones where some give an exit
date instead (their stay runs from the start to that date, at most ``max_stay_days``).
"""

from __future__ import annotations

import itertools
import math
import os

import numpy as np
import pytest

from allocator.engine.result import Status
from allocator.testing import (
    RawInstance,
    Scenario,
    brute_force_optimum,
    plan_table,
    random_scenario,
)

SCALE = max(1, int(os.environ.get("ALLOCATOR_TEST_SCALE", "1")))
TIGHT_GAP = 1e-9  # ask the solver for the exact optimum
TOL = 1e-6


def best_plan(inst: RawInstance) -> tuple[float, dict[str, tuple[str, int]], int]:
    """The minimum objective over all valid plans, one plan reaching it, and the nodes visited."""
    return brute_force_optimum(inst)


def exhaustive_best(sc: Scenario) -> float:
    """No pruning at all: every combination of options, judged by check_plan and objective_of."""
    inst = sc.raw()
    hids = list(inst.households)
    choices = [[None] + [(u, d) for u in inst.units for d in range(inst.horizon)] for _ in hids]
    best = math.inf
    for combo in itertools.product(*choices):
        placements = {h: p for h, p in zip(hids, combo, strict=True) if p is not None}
        table = plan_table(inst, placements)
        if not sc.check(table):
            best = min(best, sc.objective(table))
    return best


def tiny(seed: int, exit_dated_share: float = 0.0) -> Scenario:
    rng = np.random.default_rng(10_000 + seed)
    return random_scenario(
        rng,
        n_households=int(rng.integers(2, 6)),
        n_units=int(rng.integers(1, 4)),
        horizon_weeks=int(rng.integers(1, 3)),
        max_stay_days=int(rng.choice([4, 8, 20])),
        stays=bool(rng.random() < 0.6),
        windows=bool(rng.random() < 0.6),
        exit_dated_share=exit_dated_share,
    )


def tiny_mixed(seed: int) -> Scenario:
    """`tiny`, with about half the households giving an exit date (seeds apart from `tiny`'s)."""
    return tiny(50_000 + seed, exit_dated_share=0.5)


@pytest.mark.parametrize(
    ("seed", "mixed"),
    [(s, False) for s in range(40 * SCALE)] + [(s, True) for s in range(30 * SCALE)],
)
def test_solver_reaches_the_brute_force_optimum(seed: int, mixed: bool) -> None:
    """The solver's plan at a gap of 1e-9 costs exactly the brute-force optimum."""
    sc = tiny_mixed(seed) if mixed else tiny(seed)
    inst = sc.raw()
    optimum, witness, _ = best_plan(inst)
    assert sc.check(plan_table(inst, witness)) == []

    result = sc.plan("solver", relative_gap=TIGHT_GAP, time_limit=30)
    assert sc.check(result) == []
    assert sc.objective(result) == pytest.approx(result.objective, abs=TOL)
    assert result.objective == pytest.approx(optimum, abs=TOL), (
        f"solver {result.objective} vs brute force {optimum} (witness {witness})"
    )
    assert result.status is Status.OPTIMAL

    # with the default gap the solver may stop early, but only within that gap
    default = sc.plan("solver", time_limit=30)
    assert sc.check(default) == []
    assert default.objective <= optimum + 1e-4 * abs(optimum) + TOL
    assert default.objective >= optimum - TOL


@pytest.mark.parametrize(
    ("seed", "share"), [(s, 0.0) for s in range(6 * SCALE)] + [(s, 0.5) for s in range(4 * SCALE)]
)
def test_pruned_search_matches_full_enumeration(seed: int, share: float) -> None:
    """The pruned search finds the optimum that every combination of options gives."""
    rng = np.random.default_rng(20_000 + seed + (1000 if share else 0))
    sc = random_scenario(
        rng,
        n_households=2,
        n_units=int(rng.integers(1, 3)),
        horizon_weeks=1,
        max_stay_days=6,
        exit_dated_share=share,
    )
    optimum, _, _ = best_plan(sc.raw())
    assert exhaustive_best(sc) == pytest.approx(optimum, abs=TOL)
    result = sc.plan("solver", relative_gap=TIGHT_GAP)
    assert result.objective == pytest.approx(optimum, abs=TOL)


def test_both_ways_to_prove_optimality_meet_brute_force() -> None:
    """Greedy proven optimal by the bound of households planned alone (no LP), and the LP path:
    the instances above exercise both, so the brute-force check covers the shortcut too."""
    details = [
        tiny(seed).plan("solver", relative_gap=TIGHT_GAP, time_limit=30).details["solver_detail"]
        for seed in range(40)
    ]
    shortcut = sum("planned alone" in d for d in details)
    assert 0 < shortcut < len(details)


@pytest.mark.parametrize("seed", range(10 * SCALE))
def test_a_looser_gap_stops_within_it(seed: int) -> None:
    """Asked for 5%, the solver may stop early: never further than 5% from the optimum."""
    sc = tiny(seed)
    optimum, _, _ = best_plan(sc.raw())
    loose = sc.plan("solver", relative_gap=0.05, time_limit=30)
    assert sc.check(loose) == []
    assert optimum - TOL <= loose.objective <= optimum / 0.95 + TOL
    assert loose.status is Status.OPTIMAL
