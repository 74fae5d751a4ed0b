"""The announcement commands: `batch approve --announce`, `batch announce`, `batch unannounce`,
`batch announcements` and `batch changes` work on a real ledger file, and bad input is one line
on stderr with exit code 2."""

from __future__ import annotations

import datetime as dt

from typer.testing import CliRunner

from allocator.cli import app
from allocator.examples import generate
from allocator.ledger import Ledger

WEEK = dt.date(2026, 12, 7)


def test_announce_commands_round_trip(tmp_path, monkeypatch):
    """Approve with --announce, list, propose next week (changes listed), announce and
    unannounce one household; errors exit 2 with one line."""
    monkeypatch.chdir(tmp_path)
    households, units, _ = generate(14, 5, seed=4)
    units["available_from"] = None
    households["accessible"] = False
    households.to_csv("households.csv", index=False)
    units.to_csv("units.csv", index=False)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, [*args, "--db", "l.db"])

    assert run("ledger", "init").exit_code == 0
    assert run("units", "import", "units.csv").exit_code == 0
    assert run("requests", "import", "households.csv").exit_code == 0
    assert run("batch", "propose", "--week", str(WEEK), "--method", "greedy").exit_code == 0
    out = run("batch", "approve", "--announce", "--by", "p1")
    assert out.exit_code == 0, out.output
    assert "announcements held" in out.output
    with Ledger.open("l.db", create=False) as ledger:
        told = ledger.announcements()
    assert len(told) > 0
    listed = run("batch", "announcements")
    assert listed.exit_code == 0 and told.household_id.iloc[0] in listed.output

    nxt = str(WEEK + dt.timedelta(days=7))
    out = run("batch", "propose", "--week", nxt, "--method", "solver", "--time-limit", "5")
    assert out.exit_code == 0, out.output
    assert run("batch", "changes").exit_code == 0
    assert run("batch", "changes", "2").exit_code == 0

    h = str(households.household_id.iloc[-1])
    u = str(units.unit_id.iloc[0])
    out = run("batch", "announce", h, "--unit", u, "--start", nxt, "--by", "p2")
    assert out.exit_code == 0, out.output
    assert run("batch", "unannounce", h, "--by", "p2").exit_code == 0
    for bad, words in (
        (("batch", "announce", h, "--unit", "NOWHERE", "--start", nxt), "unknown unit"),
        (("batch", "announce", h, "--unit", u, "--start", "soon"), "start"),
        (("batch", "unannounce", h), "has no announcement"),
        (("batch", "changes", "99"), "unknown batch 99"),
    ):
        out = run(*bad)
        assert out.exit_code == 2, out.output
        assert out.output.count("\n") == 1 and words in out.output
