"""The solver's settings reach every weekly plan of a simulation: `simulate(engine=...)` hands
them to each week's `decide`, on processes as in this one, and None means the weekly loop's own
(`weekly_engine`)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from allocator.engine.params import EngineParams
from allocator.errors import InputError
from allocator.simulation import simulate, validate_scenario
from allocator.simulation.examples import small
from allocator.simulation.weekly import weekly_engine

SCN = validate_scenario(small(horizon_weeks=8))


def _tables(result) -> tuple[pd.DataFrame, pd.DataFrame]:
    return result.replications.drop(columns="seconds"), result.weekly


def test_no_settings_means_the_weekly_loops_own() -> None:
    """``engine=None`` and ``engine=weekly_engine()`` give the same tables, in one process and
    in two."""
    default = simulate(SCN, replications=2, seed=3, policies=["solver"], workers=1)
    explicit = simulate(
        SCN, replications=2, seed=3, policies=["solver"], workers=2, engine=weekly_engine()
    )
    for a, b in zip(_tables(default), _tables(explicit), strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_every_week_gets_the_settings_given(decide_calls) -> None:
    """Each weekly `decide` receives the settings passed to `simulate`, and only the solver's
    weeks call it with them."""
    mine = EngineParams(breakpoint_rows_up_to=0, lean_mips=False, grow_before_proof=math.inf)
    result = simulate(SCN, replications=1, seed=3, policies=["solver"], workers=1, engine=mine)
    calls = int(result.replications.query("policy == 'solver'").plan_calls.sum())
    assert calls > 0 and len(decide_calls) == calls
    assert all(engine is mine for engine in decide_calls.engines)


def test_settings_of_another_type_are_refused() -> None:
    with pytest.raises(InputError) as caught:
        simulate(SCN, replications=1, policies=["solver"], engine={"lean_mips": True})
    assert caught.value.field == "engine"
