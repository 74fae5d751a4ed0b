"""`--engine FILE` on the simulating commands: the file's solver settings, over the weekly loop's
own, reach every weekly plan; a bad file is one line naming it and the field, before any run; the
report names the file with its hash and repeats it in its reproduction command."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from allocator.analysis.report import build_report
from allocator.cli import app
from allocator.engine.params import EngineParams
from allocator.simulation.examples import small
from allocator.simulation.weekly import weekly_engine

runner = CliRunner()

# the weekly loop's settings but for one field: what the file below gives
EXPECTED = EngineParams(**{**weekly_engine().model_dump(), "lean_mips": False})


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(small(horizon_weeks=6)))
    return path


@pytest.fixture
def engine_file(tmp_path: Path) -> Path:
    path = tmp_path / "engine.toml"
    path.write_text("lean_mips = false\n")
    return path


def _commands(scenario: Path, tmp_path: Path) -> dict[str, list[str]]:
    """Each simulating command on the small scenario, the optimiser policy, one worker."""
    quick = ["--replications", "1", "--seed", "2", "--workers", "1"]
    return {
        "simulate": ["simulate", str(scenario), *quick, "--policies", "solver"]
        + ["--no-clock-sensitivity"],
        "compare": ["compare", str(scenario), str(scenario), *quick, "--policies", "solver"],
        "capacity": ["capacity", str(scenario), *quick, "--policy", "solver"]
        + ["--rooms", "2,3", "--flats", "0", "--max-wait-p90", "30", "--by", "mean"],
        "report": ["report", str(scenario), "--out", str(tmp_path / "r.html")]
        + ["--replications", "1", "--seed", "2", "--workers", "1", "--policy", "solver"]
        + ["--sensitivity-replications", "0"],
    }


@pytest.mark.parametrize("command", ["simulate", "compare", "capacity", "report"])
def test_the_files_settings_reach_every_weekly_plan(
    command: str, decide_calls, scenario: Path, engine_file: Path, tmp_path: Path
) -> None:
    args = _commands(scenario, tmp_path)[command] + ["--engine", str(engine_file)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert decide_calls and all(engine == EXPECTED for engine in decide_calls.engines)


@pytest.mark.parametrize("command", ["simulate", "compare", "capacity", "report"])
def test_a_bad_file_is_one_line_before_any_run(
    command: str, decide_calls, scenario: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("lean_mips = false\nidle_rounds_before_removal = 0\n")
    result = runner.invoke(app, _commands(scenario, tmp_path)[command] + ["--engine", str(bad)])
    assert result.exit_code == 2, result.output
    assert "bad.toml" in result.output and "idle_rounds_before_removal" in result.output
    assert "Traceback" not in result.output
    assert decide_calls == []  # refused before any weekly plan
    assert not (tmp_path / "r.html").exists()


def test_a_missing_file_is_named(scenario: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    args = _commands(scenario, tmp_path)["simulate"] + ["--engine", str(missing)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "nowhere.toml" in result.output and "file not found" in result.output


def _report(scenario: Path, **settings):
    """A quick report of the optimiser policy alone (one replication, no sensitivity)."""
    return build_report(
        scenario,
        replications=1,
        seed=2,
        policies=["solver"],
        sensitivity_replications=0,
        **settings,
    )


def test_the_report_names_the_file_and_repeats_it(
    decide_calls, scenario: Path, engine_file: Path
) -> None:
    report = _report(scenario, time_limit=4.0, engine=engine_file)
    assert decide_calls and all(engine == EXPECTED for engine in decide_calls.engines)
    row = report.settings["solver settings"]
    assert "lean_mips=False" in row and str(engine_file) in row and "sha256" in row
    assert f"--engine {engine_file}" in report.command
    assert "--time-limit 4" in report.command


def test_settings_given_as_an_object_are_not_in_the_command(decide_calls, scenario: Path) -> None:
    report = _report(scenario, engine=EXPECTED)
    assert "lean_mips=False" in report.settings["solver settings"]
    assert "Python API" in report.settings["solver settings"]
    assert "--engine" not in report.command and "--time-limit" not in report.command
