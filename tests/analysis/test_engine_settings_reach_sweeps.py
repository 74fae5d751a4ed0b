"""The solver's settings given to a capacity sweep or a report reach every weekly plan of every
run they make (each mix; the main comparison and the sensitivity variants), as `simulate`'s do,
and the report lists them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

import allocator.engine.planning as planning
from allocator.analysis.capacity import capacity
from allocator.analysis.report import build_report
from allocator.engine.params import EngineParams
from allocator.errors import InputError
from allocator.simulation.examples import small

MINE = EngineParams(breakpoint_rows_up_to=0, lean_mips=False, grow_before_proof=math.inf)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[EngineParams | None]:
    """The settings each weekly `decide` received, in call order."""
    calls: list[EngineParams | None] = []
    decide = planning.decide

    def recording(*args, **kwargs):
        calls.append(kwargs.get("engine"))
        LIMITS.append(kwargs.get("time_limit"))
        return decide(*args, **kwargs)

    LIMITS.clear()
    monkeypatch.setattr(planning, "decide", recording)
    return calls


LIMITS: list[float | None] = []  # the time limit each weekly `decide` received (`seen`)


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(small(horizon_weeks=8)))
    return path


def test_every_mix_gets_the_settings_given(seen: list[EngineParams | None]) -> None:
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
    assert seen and all(engine is MINE for engine in seen)


def test_main_comparison_gets_the_settings_given(
    seen: list[EngineParams | None], scenario_file: Path
) -> None:
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
    assert calls > 0 and len(seen) == calls
    assert all(engine is MINE for engine in seen)
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


def test_sensitivity_runs_get_the_settings_given(
    seen: list[EngineParams | None], scenario_file: Path
) -> None:
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
    assert report.sensitivity and len(seen) > main > 0
    assert all(engine is MINE for engine in seen)
    assert LIMITS == [7.0] * len(seen)


def test_settings_of_another_type_are_refused_before_any_run(
    seen: list[EngineParams | None], scenario_file: Path
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
    assert seen == []
