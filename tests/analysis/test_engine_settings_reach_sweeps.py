"""The solver's settings given to a capacity sweep or a report reach every weekly plan of every
run they make (each mix; the main comparison and the sensitivity variants), as `simulate`'s do,
and the report lists them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from allocator.analysis.capacity import capacity
from allocator.analysis.report import build_report
from allocator.engine.params import EngineParams
from allocator.errors import InputError
from allocator.simulation.examples import small

MINE = EngineParams(breakpoint_rows_up_to=0, lean_mips=False, grow_before_proof=math.inf)


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(small(horizon_weeks=8)))
    return path


def test_every_mix_gets_the_settings_given(decide_calls) -> None:
    result = capacity(
        small(horizon_weeks=8),
        rooms=[2, 3],
        flats=0,
        target_wait_p90=30,
        replications=1,
        by="mean",
        seed=3,
        policy="solver",
        workers=1,
        engine=MINE,
    )
    assert len(result.mixes) == 2
    assert decide_calls and all(engine is MINE for engine in decide_calls.engines)


def test_main_comparison_gets_the_settings_given(decide_calls, scenario_file: Path) -> None:
    report = build_report(
        scenario_file,
        replications=1,
        seed=3,
        policies=["solver"],
        sensitivity_replications=0,
        engine=MINE,
    )
    reps = report.result.replications
    calls = int(reps.loc[reps["policy"] == "solver", "plan_calls"].sum())
    assert calls > 0 and len(decide_calls) == calls
    assert all(engine is MINE for engine in decide_calls.engines)
    listed = report.settings["solver settings"]
    assert "breakpoint_rows_up_to=0" in listed and "lean_mips=False" in listed
    assert "command below does not set them" in listed


def test_a_report_without_settings_says_it_used_the_simulations_own(scenario_file: Path) -> None:
    report = build_report(
        scenario_file, replications=1, seed=3, policies=["greedy"], sensitivity_replications=0
    )
    assert report.settings["solver settings"] == "–"  # no solver ran
    report = build_report(
        scenario_file, replications=1, seed=3, policies=["solver"], sensitivity_replications=0
    )
    assert report.settings["solver settings"].startswith("the simulation's own")


def test_sensitivity_runs_get_the_settings_given(decide_calls, scenario_file: Path) -> None:
    """More weekly plans than the main comparison's: the sensitivity's solver runs made them,
    with the same settings and time limit."""
    report = build_report(
        scenario_file,
        replications=1,
        seed=3,
        policies=["solver"],
        sensitivity_policy="solver",
        sensitivity_replications=1,
        time_limit=7.0,
        engine=MINE,
    )
    reps = report.result.replications
    main = int(reps.loc[reps["policy"] == "solver", "plan_calls"].sum())
    assert report.sensitivity and len(decide_calls) > main > 0
    assert all(engine is MINE for engine in decide_calls.engines)
    assert decide_calls.time_limits == [7.0] * len(decide_calls)


def test_settings_of_another_type_are_refused_before_any_run(
    decide_calls, scenario_file: Path
) -> None:
    wrong = {"lean_mips": True}
    with pytest.raises(InputError) as caught:
        capacity(
            small(horizon_weeks=8),
            rooms=[2],
            flats=0,
            target_wait_p90=30,
            replications=1,
            by="mean",
            policy="solver",
            engine=wrong,
        )
    assert caught.value.field == "engine"
    with pytest.raises(InputError) as caught:
        build_report(
            scenario_file,
            replications=1,
            policies=["solver"],
            sensitivity_replications=0,
            engine=wrong,
        )
    assert caught.value.field == "engine"
    assert decide_calls == []
