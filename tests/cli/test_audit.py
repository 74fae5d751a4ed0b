"""`allocator audit simulation|plan|ledger`: real files in, tables and figures out, exit codes,
and one-line errors for a bad path or column."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from allocator.cli import app
from allocator.examples import demo
from allocator.ledger import Ledger
from allocator.simulation.examples import small

runner = CliRunner()


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """The output folder of `allocator simulate --out` on the small scenario."""
    folder = tmp_path_factory.mktemp("sim")
    scenario = folder / "small.yaml"
    scenario.write_text(yaml.safe_dump(small()))
    out = folder / "results"
    args = ["simulate", str(scenario), "--replications", "3", "--seed", "1", "--workers", "1"]
    args += ["--policies", "fcfs_fast,greedy", "--no-clock-sensitivity", "--out", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def plan_files(tmp_path_factory):
    """A plan written by `allocator plan` with its households and units files."""
    folder = tmp_path_factory.mktemp("plan")
    households, units, stays = demo()
    paths = {}
    for name, frame in (("households", households), ("units", units), ("stays", stays)):
        paths[name] = folder / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    paths["plan"] = folder / "plan.csv"
    args = ["plan", "--households", str(paths["households"]), "--units", str(paths["units"])]
    args += ["--stays", str(paths["stays"]), "--start", "2026-12-07", "--method", "greedy"]
    res = runner.invoke(app, [*args, "--out", str(paths["plan"]), "--quiet"])
    assert res.exit_code == 0, res.output
    return paths


def test_audit_simulation_writes_tables_and_plot(simulated, tmp_path):
    """The simulation's audit prints the groups, the comparison and the overtaking counts, and
    writes the three tables and the figure."""
    out = {k: tmp_path / f"{k}.csv" for k in ("groups", "comparison", "overtaking")}
    plot = tmp_path / "waits.png"
    args = ["audit", "simulation", str(simulated), "--out", str(out["groups"])]
    args += ["--comparison-out", str(out["comparison"]), "--overtaking-out", str(out["overtaking"])]
    res = runner.invoke(app, [*args, "--plot", str(plot), "--bounds", "0,7"])
    assert res.exit_code == 0, res.output
    assert "Waits per group" in res.output and "minus greedy" in res.output
    groups = pd.read_csv(out["groups"])
    assert {"size", "urgency", "pathway"} <= set(groups["grouping"])
    assert set(pd.read_csv(out["overtaking"])["bound_days"]) == {0, 7}
    assert len(pd.read_csv(out["comparison"])) > 0
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_audit_plan(plan_files, tmp_path):
    """A plan with its households and units: the group table, with intervals over households."""
    out = tmp_path / "groups.xlsx"
    args = ["audit", "plan", str(plan_files["plan"]), "--households", str(plan_files["households"])]
    res = runner.invoke(app, [*args, "--units", str(plan_files["units"]), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "households, Welch t" in res.output and "Overtaken" in res.output
    groups = pd.read_excel(out)
    assert groups.loc[groups["grouping"] == "all", "households"].item() == 24


def test_audit_ledger(tmp_path):
    """The ledger's history up to a day, read through --db."""
    households, units, _ = demo()
    db = tmp_path / "ledger.db"
    with Ledger.open(db, create=True) as ledger:
        ledger.import_units(units)
        ledger.import_requests(households)
        ledger.propose("2026-12-07", method="greedy")
        ledger.approve()
    out = tmp_path / "groups.csv"
    args = ["audit", "ledger", "--db", str(db), "--today", "2026-12-20", "--out", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "the ledger, up to 2026-12-20" in res.output
    assert (pd.read_csv(out)["policy"] == "ledger").all()


def one_line_error(res, *words):
    assert res.exit_code == 2, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    for word in words:
        assert word in lines[0], lines[0]


def test_bad_inputs_are_one_line_errors(simulated, plan_files, tmp_path):
    """A missing folder or file, a folder without per-household records, a plan without its
    wait column, a bad option value and a missing ledger: one line each, exit code 2, nothing
    written."""
    out = tmp_path / "groups.csv"
    base = ["--out", str(out)]
    one_line_error(
        runner.invoke(app, ["audit", "simulation", str(tmp_path / "nope"), *base]), "nope"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(runner.invoke(app, ["audit", "simulation", str(empty)]), "households.parquet")
    bad = tmp_path / "bad.csv"
    pd.read_csv(plan_files["plan"]).drop(columns="wait_days").to_csv(bad, index=False)
    hh = ["--households", str(plan_files["households"])]
    one_line_error(
        runner.invoke(app, ["audit", "plan", str(bad), *hh, *base]), "bad.csv", "wait_days"
    )
    missing = ["--households", str(tmp_path / "none.csv")]
    res = runner.invoke(app, ["audit", "plan", str(plan_files["plan"]), *missing])
    one_line_error(res, "none.csv", "not found")
    res = runner.invoke(app, ["audit", "simulation", str(simulated), "--bounds", "7,x"])
    one_line_error(res, "--bounds")
    res = runner.invoke(app, ["audit", "simulation", str(simulated), "--baseline", "fcfs"])
    one_line_error(res, "fcfs")
    one_line_error(runner.invoke(app, ["audit", "ledger", "--db", str(tmp_path / "x.db")]), "x.db")
    assert not out.exists()


def test_out_may_not_overwrite_an_input(plan_files):
    """--out naming the households file is refused before anything is read."""
    args = ["audit", "plan", str(plan_files["plan"]), "--households", str(plan_files["households"])]
    res = runner.invoke(app, [*args, "--out", str(plan_files["households"])])
    one_line_error(res, "overwrite")


def test_audit_reads_its_files_through_allocator_io(plan_files, tmp_path):
    """The command reads no table itself (only `allocator.io` does); the readers' refusals of
    an unreadable parquet file, a plan that is no table file and a broken workbook are one
    line each, naming the file."""
    import inspect

    import allocator.cli.audit as command
    from allocator.errors import InputError
    from allocator.io.reading import read_plan, read_simulation_households

    source = inspect.getsource(command)
    assert not any(f"read_{kind}(" in source for kind in ("parquet", "csv", "excel"))
    broken = tmp_path / "sim"
    broken.mkdir()
    (broken / "households.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match=r"cannot read the table \(") as info:
        read_simulation_households(broken)
    assert str(broken / "households.parquet") in str(info.value)
    one_line_error(
        runner.invoke(app, ["audit", "simulation", str(broken)]), "cannot read the table"
    )
    text = tmp_path / "plan.txt"
    text.write_text("household_id\n")
    with pytest.raises(InputError, match=r"expected a \.csv or \.xlsx file"):
        read_plan(text)
    workbook = tmp_path / "plan.xlsx"
    workbook.write_bytes(b"not a workbook")
    hh = ["--households", str(plan_files["households"])]
    res = runner.invoke(app, ["audit", "plan", str(workbook), *hh])
    one_line_error(res, "plan.xlsx", "cannot read the plan")
    assert read_plan(plan_files["plan"]).equals(
        pd.read_csv(plan_files["plan"], dtype=str, keep_default_na=False)
    )
