"""`allocator plan` under the fairness bound: the key figures say what the bound did, the
reasons name it, and the summary file holds ``details["fairness"]``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from allocator.cli import app
from allocator.io import read_plan

runner = CliRunner()

# H017 has waited 40 days (urgency 1), H020 asked on the plan's start (urgency 5); the one unit
# holds one of their 30-night stays within the 2-week horizon
HOUSEHOLDS = """\
household_id,size,urgency,need_date,expected_stay_days
H017,1,1,2026-01-21,30
H020,1,5,2026-03-02,30
"""
UNITS = """\
unit_id,kind,capacity
F3,flat,2
"""


def _plan(tmp_path, policy: str):
    (tmp_path / "households.csv").write_text(HOUSEHOLDS)
    (tmp_path / "units.csv").write_text(UNITS)
    (tmp_path / "policy.toml").write_text(f"horizon_weeks = 2\n{policy}")
    args = ["plan", "--households", str(tmp_path / "households.csv")]
    args += ["--units", str(tmp_path / "units.csv"), "--start", "2026-03-02"]
    args += ["--policy", str(tmp_path / "policy.toml"), "--out", str(tmp_path / "plan.csv")]
    args += ["--summary", str(tmp_path / "summary.json"), "--time-limit", "20"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output, json.loads((tmp_path / "summary.json").read_text())


def test_the_key_figures_and_summary_say_what_the_bound_decided(tmp_path):
    """With a 30-day bound the table has its row and the summary its record."""
    output, summary = _plan(tmp_path, "fair_wait_days = 30\n")
    assert "fairness bound (30 days)" in output and "decided 2 households" in output
    reasons = read_plan(tmp_path / "plan.csv").set_index("household_id").reason
    assert reasons.str.endswith("(fairness bound)").all()
    assert summary["fairness"] == {
        "days": 30,
        "rows": 1,
        "binding": True,
        "households_decided": 2,
    }


def test_without_the_bound_nothing_is_said(tmp_path):
    """No bound in the policy: no row, no record, no reason names it."""
    output, summary = _plan(tmp_path, "")
    assert "fairness" not in output and "fairness" not in summary
    reasons = read_plan(tmp_path / "plan.csv").reason
    assert not reasons.str.contains("fairness").any()
