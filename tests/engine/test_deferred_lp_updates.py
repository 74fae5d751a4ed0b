"""`IncrementalLP` holds new columns and rows until the next solve: what it sends then is what
the caller passed at the call, even if the caller changes its arrays in between."""

from __future__ import annotations

import numpy as np
import pytest

from allocator.engine.optimiser import backend


def _empty_lp(n: int) -> backend.IncrementalLP:
    """max sum x over n variables in [0, 1] (as a minimisation), no rows yet."""
    return backend.IncrementalLP(
        backend.SparseModel.without_entries(
            cost=-np.ones(n),
            var_lb=np.zeros(n),
            var_ub=np.ones(n),
            row_lb=np.zeros(0),
            row_ub=np.zeros(0),
        )
    )


def _solve(changed: bool) -> float:
    """Two variables, a row x0 + x1 <= 1, then a column of cost -2 in that row; with
    ``changed`` every array passed is overwritten before the solve."""
    lp = _empty_lp(2)
    positions, local, upper = np.array([0, 1]), np.array([0, 0]), np.array([1.0])
    lp.add_rows(positions, local, upper)
    cost, rows, new, vals = np.array([-2.0]), np.array([0]), np.array([0]), np.array([1.0])
    lp.add_columns(cost, rows, new, vals)
    if changed:
        for array in (positions, local, upper, cost, rows, new, vals):
            array[:] = 0
    answer = lp.solve(10.0)
    assert answer.optimal
    return answer.objective


def test_arrays_changed_after_the_calls_do_not_change_the_lp() -> None:
    """The row's bound and the column's cost and entries are those passed at the calls."""
    assert _solve(changed=False) == pytest.approx(-2.0)
    assert _solve(changed=True) == pytest.approx(-2.0)
