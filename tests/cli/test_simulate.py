"""`simulate` and `compare` commands: real files, Parquet output and exit codes."""

from __future__ import annotations

import pandas as pd
import yaml
from typer.testing import CliRunner

from allocator.cli import app
from allocator.simulation.examples import small

runner = CliRunner()


def _write(tmp_path, name, **changes):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(small(name=name, **changes)))
    return path


def test_simulate_writes_parquet_and_prints_summary(tmp_path):
    """The command writes the three tables and prints the summary; exit code 0."""
    scn = _write(tmp_path, "a")
    out = tmp_path / "res"
    res = runner.invoke(
        app,
        [
            "simulate",
            str(scn),
            "--replications",
            "2",
            "--seed",
            "1",
            "--workers",
            "1",
            "--policies",
            "fcfs_fast",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "savings" in res.output
    reps = pd.read_parquet(out / "replications.parquet")
    assert set(reps["policy"]) == {"fcfs_fast", "hotel"} and len(reps) == 4
    assert len(pd.read_parquet(out / "weekly.parquet")) == 4 * 26


def test_bad_scenario_exits_2_naming_the_field(tmp_path):
    """A negative rate is one line on stderr naming the field, exit code 2."""
    scn = _write(tmp_path, "bad", arrivals={"weekly_rate": -2})
    res = runner.invoke(app, ["simulate", str(scn), "--workers", "1"])
    assert res.exit_code == 2
    assert "arrivals.weekly_rate" in res.output


def test_negative_seed_exits_2_naming_it(tmp_path):
    scn = _write(tmp_path, "ok")
    res = runner.invoke(app, ["simulate", str(scn), "--workers", "1", "--seed", "-1"])
    assert res.exit_code == 2, res.output
    assert "seed" in res.output and "Traceback" not in res.output


def test_compare_two_scenarios(tmp_path):
    """compare prints one column per scenario."""
    a = _write(tmp_path, "a")
    b = _write(
        tmp_path,
        "b",
        units={
            "hub_rooms": {"count": 3, "capacity_mix": {2: 1.0}, "operating_cost_per_unit_night": 10}
        },
    )
    res = runner.invoke(
        app,
        [
            "compare",
            str(a),
            str(b),
            "--replications",
            "2",
            "--workers",
            "1",
            "--policies",
            "fcfs_fast",
            "--out",
            str(tmp_path / "cmp.csv"),
        ],
    )
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "cmp.csv")
    assert set(table["scenario"]) == {"a", "b"}
