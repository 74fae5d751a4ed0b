"""The `allocator` command line: good runs, and one-line errors that name file, row and column."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from allocator.cli import app
from allocator.engine import planning
from allocator.engine.result import PLAN_COLUMNS
from allocator.examples import generate
from allocator.io import read_table, write_table

runner = CliRunner()

HOUSEHOLDS = """\
household_id,size,minors,urgency,need_date,expected_stay_days,support,accessible,language
H1,2,,3,2026-12-07,30,,,
H2,1,0,2,2026-12-10,60,low,false,
H3,3,1,4,2026-12-01,45,high,,arabic
"""
UNITS = """\
unit_id,kind,capacity,accessible,available_from,nightly_cost
U1,flat,4,true,,40
U2,hub_room,2,,,
"""
STAYS = """\
household_id,unit_id,start,expected_end,size
S1,U1,2026-11-01,2026-12-20,
"""
SUMMARY_KEYS = {
    "status",
    "objective",
    "best_bound",
    "gap",
    "solve_seconds",
    "hotel_person_nights",
    "wasted_bed_nights",
    "placed",
    "not_placed",
}


@pytest.fixture
def files(tmp_path):
    """The three good input files; a test overwrites one to make it bad."""
    paths = {}
    for kind, text in [("households", HOUSEHOLDS), ("units", UNITS), ("stays", STAYS)]:
        paths[kind] = tmp_path / f"{kind}.csv"
        paths[kind].write_text(text)
    return paths


def run(files, *extra, out=None, summary=None, stays=True):
    out = out or files["households"].parent / "plan.csv"
    args = ["plan", "--households", str(files["households"]), "--units", str(files["units"])]
    if stays:
        args += ["--stays", str(files["stays"])]
    args += ["--start", "2026-12-07", "--out", str(out), "--time-limit", "10"]
    if summary is not None:
        args += ["--summary", str(summary)]
    return runner.invoke(app, [*args, *extra])


def assert_clean_failure(result, *paths):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    for path in paths:
        assert not path.exists()
        assert not [p for p in path.parent.glob("*.tmp")]
    return lines[0]


def without_column(csv_text: str, column: str) -> str:
    rows = [line.split(",") for line in csv_text.splitlines()]
    k = rows[0].index(column)
    return "".join(",".join(r[:k] + r[k + 1 :]) + "\n" for r in rows)


# --- bad input: exit 2, one line naming file, row and column, nothing written ----------------

BAD_INPUTS = [
    # (table, contents, row or None, column, words)
    ("households", without_column(HOUSEHOLDS, "urgency"), None, "urgency", "missing"),
    ("units", UNITS.replace("nightly_cost", "colour"), None, "colour", "unknown column"),
    ("households", HOUSEHOLDS.replace("H2,1,", "H2,abc,"), 3, "size", "integer"),
    ("households", HOUSEHOLDS.replace("2026-12-07", "2026-13-01"), 2, "need_date", "date"),
    ("households", HOUSEHOLDS.replace("H3,", "H1,"), 4, "household_id", "duplicate id 'H1'"),
    ("households", HOUSEHOLDS.replace("H1,2,", "H1,0,"), 2, "size", "greater than or equal"),
    ("units", UNITS.replace("U2,", "U1,"), 3, "unit_id", "duplicate id 'U1'"),
    ("units", UNITS.replace("U2,hub_room", "U2,castle"), 3, "kind", "flat"),
    ("stays", STAYS.replace("S1,U1", "S1,U9"), 2, "unit_id", "unknown unit 'U9'"),
    (
        "stays",
        STAYS + "S2,U1,2026-12-10,2027-01-20,\n",
        3,
        "start",
        "overlaps the stay in row 2",
    ),
    ("stays", STAYS.replace(",\n", ",9\n"), 2, "size", "beds"),
]


@pytest.mark.parametrize(
    ("kind", "contents", "row", "column", "words"),
    BAD_INPUTS,
    ids=[
        "missing-column",
        "unknown-column",
        "size-abc",
        "date-month-13",
        "duplicate-household",
        "size-0",
        "duplicate-unit",
        "unknown-kind",
        "stay-unknown-unit",
        "overlapping-stays",
        "stay-too-large",
    ],
)
def test_bad_input_fails_cleanly(files, tmp_path, kind, contents, row, column, words):
    files[kind].write_text(contents)
    out, summary = tmp_path / "plan.csv", tmp_path / "summary.json"
    line = assert_clean_failure(run(files, out=out, summary=summary), out, summary)
    assert files[kind].name in line
    assert str(files[kind]) in line
    if row is not None:
        assert f"row {row}," in line
    assert f"column '{column}'" in line
    assert words in line


def test_stay_ending_before_it_starts(files, tmp_path):
    files["stays"].write_text(STAYS.replace("2026-12-20", "2026-10-20"))
    out = tmp_path / "plan.csv"
    line = assert_clean_failure(run(files, out=out), out)
    assert "stays.csv" in line
    assert "row 2" in line
    assert "must be after start" in line


def test_stay_ending_before_it_starts_names_the_column(files, tmp_path):
    files["stays"].write_text(STAYS.replace("2026-12-20", "2026-10-20"))
    out = tmp_path / "plan.csv"
    line = assert_clean_failure(run(files, out=out), out)
    assert "column 'expected_end'" in line


@pytest.mark.parametrize("kind", ["households", "units"])
@pytest.mark.parametrize("contents", ["", "header-only"], ids=["zero-bytes", "header-only"])
def test_empty_file(files, tmp_path, kind, contents):
    header = {"households": HOUSEHOLDS, "units": UNITS}[kind].splitlines()[0] + "\n"
    files[kind].write_text(header if contents else "")
    out = tmp_path / "plan.csv"
    line = assert_clean_failure(run(files, out=out), out)
    assert str(files[kind]) in line
    assert "empty" in line


def test_zero_byte_stays_file_is_an_error_but_header_only_is_no_stays(files, tmp_path):
    out = tmp_path / "plan.csv"
    files["stays"].write_text("")
    line = assert_clean_failure(run(files, out=out), out)
    assert str(files["stays"]) in line
    files["stays"].write_text(STAYS.splitlines()[0] + "\n")
    assert run(files, out=out).exit_code == 0
    assert out.exists()


def test_bad_cell_in_xlsx_names_sheet_row(files, tmp_path):
    frame = pd.read_csv(files["households"], dtype=str, keep_default_na=False)
    frame.loc[2, "expected_stay_days"] = "long"
    files["households"] = tmp_path / "households.xlsx"
    write_table(frame, files["households"])
    out = tmp_path / "plan.xlsx"
    line = assert_clean_failure(run(files, out=out), out)
    assert "households.xlsx, row 4, column 'expected_stay_days'" in line


@pytest.mark.parametrize(
    ("kind", "name", "words"),
    [
        ("households", "nope.csv", "file not found"),
        ("units", "units.ods", "unsupported file type"),
    ],
)
def test_missing_or_unknown_file(files, tmp_path, kind, name, words):
    files[kind] = tmp_path / name
    if name.endswith(".ods"):
        files[kind].write_text("x")
    out = tmp_path / "plan.csv"
    line = assert_clean_failure(run(files, out=out), out)
    assert name in line
    assert words in line


def test_failure_leaves_an_existing_output_untouched(files, tmp_path):
    out, summary = tmp_path / "plan.csv", tmp_path / "summary.json"
    out.write_text("last week's plan\n")
    summary.write_text("{}")
    files["households"].write_text(HOUSEHOLDS.replace("H2,1,", "H2,abc,"))
    assert run(files, out=out, summary=summary).exit_code == 2
    assert out.read_text() == "last week's plan\n"
    assert summary.read_text() == "{}"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--pin", "H1"], "--pin: expected HOUSEHOLD=UNIT"),
        (["--pin", "H1=U9"], "unknown unit 'U9'"),
        (["--pin", "H9=U1"], "unknown household 'H9'"),
        (["--pin", "H1=U1", "--pin", "H1=U2"], "pinned to two units"),
        (["--forbid", "=U1"], "--forbid: expected HOUSEHOLD=UNIT"),
        (["--pin", "H1=U1", "--forbid", "H1=U1"], "both pinned to and forbidden"),
        (["--horizon-weeks", "0"], "--horizon-weeks"),
        (["--time-limit", "0"], "--time-limit: must be a finite number > 0"),
        (["--workers", "0"], "--workers: must be a finite number > 0"),
        (["--gap", "1.5"], "--gap: expected a relative gap"),
        (["--gap", "nan"], "--gap: expected a relative gap"),
        (["--policy", "nope.toml"], "nope.toml: file not found"),
    ],
)
def test_bad_options(files, tmp_path, extra, words):
    out = tmp_path / "plan.csv"
    line = assert_clean_failure(run(files, *extra, out=out), out)
    assert words in line


def test_policy_that_is_a_folder(files, tmp_path):
    out = tmp_path / "plan.csv"
    line = assert_clean_failure(run(files, "--policy", str(tmp_path), out=out), out)
    assert str(tmp_path) in line
    assert "cannot read the file" in line


def test_bad_start_date(files, tmp_path):
    out = tmp_path / "plan.csv"
    result = runner.invoke(
        app,
        ["plan", "--households", str(files["households"]), "--units", str(files["units"])]
        + ["--start", "2026-13-01", "--out", str(out)],
    )
    line = assert_clean_failure(result, out)
    assert "2026-13-01" in line


def test_bad_policy_file_names_file_and_field(files, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text("turnover_days = -1\n")
    out = tmp_path / "plan.csv"
    line = assert_clean_failure(run(files, "--policy", str(policy), out=out), out)
    assert "policy.toml" in line
    assert "turnover_days" in line


@pytest.mark.parametrize(
    ("out_name", "summary_name", "words"),
    [
        ("plan.txt", None, "unsupported output file type"),
        ("missing/plan.csv", None, "folder does not exist"),
        ("households.csv", None, "would overwrite an input file"),
        ("plan.csv", "plan.csv", "would overwrite the --out file"),
    ],
)
def test_bad_output_paths(files, tmp_path, out_name, summary_name, words):
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    summary = tmp_path / summary_name if summary_name else None
    result = run(files, out=tmp_path / out_name, summary=summary)
    assert result.exit_code == 2
    assert words in result.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_unexpected_errors_are_not_swallowed(files, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(planning, "plan", broken)  # the command looks it up when it runs
    out = tmp_path / "plan.csv"
    result = run(files, out=out)
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)
    assert not out.exists()


# --- good runs -------------------------------------------------------------------------------


def test_good_run_writes_plan_and_summary(files, tmp_path):
    out, summary = tmp_path / "plan.csv", tmp_path / "summary.json"
    result = run(files, out=out, summary=summary)
    assert result.exit_code == 0, result.output
    plan = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(plan.columns) == PLAN_COLUMNS
    assert list(plan["household_id"]) == ["H1", "H2", "H3"]
    assert set(plan["status"]) <= {"placed", "not_placed"}
    placed = plan[plan["status"] == "placed"]
    assert placed["start"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    data = json.loads(summary.read_text())
    assert SUMMARY_KEYS <= set(data)
    assert data["status"] == "optimal"
    assert data["method"] == "solver"
    assert data["placed"] + data["not_placed"] == 3
    assert data["placed"] == len(placed)
    for words in ["Key figures", "objective", "best bound", "gap", "hotel person-nights"]:
        assert words in result.stdout
    assert "wasted bed-nights" in result.stdout
    assert "not placed" in result.stdout
    assert result.stderr == ""
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_summary_is_optional_and_quiet_prints_nothing(files, tmp_path):
    out = tmp_path / "plan.csv"
    result = run(files, "--quiet", out=out)
    assert result.exit_code == 0
    assert result.output == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "households.csv",
        "plan.csv",
        "stays.csv",
        "units.csv",
    ]


def test_stays_are_optional(files, tmp_path):
    out = tmp_path / "plan.csv"
    assert run(files, out=out, stays=False).exit_code == 0
    assert out.exists()


def test_xlsx_in_and_out_round_trip(tmp_path):
    tables = dict(zip(("households", "units", "stays"), generate(8, 5, seed=2), strict=True))
    results = {}
    for suffix in (".csv", ".xlsx"):
        files = {}
        for kind, df in tables.items():
            files[kind] = tmp_path / f"{kind}{suffix}"
            write_table(df, files[kind])
        out = tmp_path / f"plan{suffix}"
        result = run(files, "--method", "greedy", out=out)
        assert result.exit_code == 0, result.output
        results[suffix], _ = read_table(out, "stays")
    assert list(results[".xlsx"].columns) == PLAN_COLUMNS
    pd.testing.assert_frame_equal(results[".csv"], results[".xlsx"])
    assert results[".xlsx"]["start"].str.fullmatch(r"(\d{4}-\d{2}-\d{2})?").all()


@pytest.mark.parametrize("method", ["greedy", "hotel"])
def test_baseline_methods(files, tmp_path, method):
    out, summary = tmp_path / "plan.csv", tmp_path / "summary.json"
    result = run(files, "--method", method, out=out, summary=summary)
    assert result.exit_code == 0, result.output
    data = json.loads(summary.read_text())
    assert (data["method"], data["status"]) == (method, "heuristic")
    assert data["best_bound"] is None and data["gap"] is None
    if method == "greedy":  # the summary keeps the key a solver's summary has too
        assert data["greedy_objective"] == pytest.approx(data["objective"])
    plan = pd.read_csv(out, dtype=str, keep_default_na=False)
    if method == "hotel":
        assert (plan["status"] == "not_placed").all()
        assert data["placed"] == 0
    else:
        assert data["placed"] > 0


def test_pin_forces_the_unit(files, tmp_path):
    out = tmp_path / "plan.csv"
    assert run(files, out=out).exit_code == 0
    free_choice = pd.read_csv(out, dtype=str).set_index("household_id")
    assert free_choice.loc["H1", "unit_id"] == "U2"  # the 2-bed room fits best
    assert run(files, "--pin", "H1=U1", out=out).exit_code == 0
    pinned = pd.read_csv(out, dtype=str).set_index("household_id")
    assert pinned.loc["H1", "unit_id"] == "U1"
    assert pinned.loc["H1", "status"] == "placed"
    assert "pinned" in pinned.loc["H1", "reason"]


def test_forbid_keeps_a_household_out_of_a_unit(files, tmp_path):
    out = tmp_path / "plan.csv"
    assert run(files, "--forbid", "H1=U2", "--forbid", "H2=U2", out=out).exit_code == 0
    plan = pd.read_csv(out, dtype=str).set_index("household_id")
    assert plan.loc["H1", "unit_id"] != "U2"
    assert plan.loc["H2", "unit_id"] != "U2"


def test_horizon_weeks_overrides_the_policy(files, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text("horizon_weeks = 8\nturnover_days = 2\n")
    summary = tmp_path / "summary.json"
    assert run(files, "--policy", str(policy), summary=summary).exit_code == 0
    assert json.loads(summary.read_text())["horizon_weeks"] == 8
    result = run(files, "--policy", str(policy), "--horizon-weeks", "4", summary=summary)
    assert result.exit_code == 0
    assert json.loads(summary.read_text())["horizon_weeks"] == 4


def test_seed_and_workers_reach_the_summary(files, tmp_path):
    summary = tmp_path / "summary.json"
    assert run(files, "--seed", "5", "--workers", "1", summary=summary).exit_code == 0
    data = json.loads(summary.read_text())
    assert (data["seed"], data["workers"]) == (5, 1)


def test_no_household_ids_in_the_logs(files, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    files["households"].write_text(HOUSEHOLDS.replace("H1", "SECRETID1"))
    assert run(files).exit_code == 0
    assert caplog.records  # the run does log
    assert "SECRETID1" not in caplog.text


# --- demo and entry points -------------------------------------------------------------------


def test_demo_prints_plan_kpis_and_comparison():
    result = runner.invoke(app, ["demo", "--time-limit", "10"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for words in ["Key figures", "objective", "hotel person-nights", "wasted bed-nights"]:
        assert words in out
    assert "Compared with the baselines" in out
    assert "greedy" in out and "hotel" in out
    assert "H00000" in out  # the plan, with reasons
    assert "smallest unit size that fits" in " ".join(out.split())


def test_demo_greedy_writes_optional_out(tmp_path):
    out = tmp_path / "demo.xlsx"
    result = runner.invoke(app, ["demo", "--method", "greedy", "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame, _ = read_table(out, "stays")
    assert list(frame.columns) == PLAN_COLUMNS
    assert len(frame) == 24


def test_demo_bad_out_is_a_clean_error(tmp_path):
    out = tmp_path / "demo.json"
    result = runner.invoke(app, ["demo", "--out", str(out)])
    assert_clean_failure(result, out)


def test_python_dash_m_runs():
    result = subprocess.run(
        [sys.executable, "-m", "allocator", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "plan" in result.stdout and "demo" in result.stdout


def test_python_dash_m_error_is_one_line_exit_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "allocator", "plan", "--households", str(tmp_path / "h.csv")]
        + ["--units", str(tmp_path / "u.csv"), "--start", "2026-12-07"]
        + ["--out", str(tmp_path / "plan.csv")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'h.csv'}: file not found"
    assert result.stdout == ""
