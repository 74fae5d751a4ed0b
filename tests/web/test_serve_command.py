"""`allocator serve` refuses a ledger that does not exist (one line, exit 2) and warns when it
would listen beyond loopback without HTTPS; the demo ledger holds the demo week."""

from __future__ import annotations

from typer.testing import CliRunner

from allocator.cli import app as cli
from allocator.cli.web import _check_host
from allocator.ledger import Ledger
from allocator.web import demo


def test_serve_refuses_a_missing_ledger(tmp_path):
    """A mistyped --db is an error before any server starts."""
    result = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "missing.db")])
    assert result.exit_code == 2
    assert "ledger init" in result.output


def test_warning_beyond_loopback(capsys):
    """0.0.0.0 without --https warns; loopback or --https does not."""
    _check_host("0.0.0.0", https=False)
    assert "without --https" in capsys.readouterr().err
    for host, https in (("127.0.0.1", False), ("localhost", False), ("0.0.0.0", True)):
        _check_host(host, https)
        assert capsys.readouterr().err == ""


def test_demo_fill(template_ledger):
    """The demo ledger: 14 units, stays running and ended, a proposed batch, no invariant broken."""
    from allocator.ledger.testing import invariant_violations

    with Ledger.open(template_ledger) as ledger:
        assert len(ledger.table("units")) == 14
        stays = ledger.table("stays")
        assert stays.actual_end.notna().any() and stays.actual_end.isna().any()
        assert ledger.table("batches").status.tolist() == ["proposed"]
        assert invariant_violations(ledger) == []
        assert set(ledger.table("audit").actor) >= {demo.SETUP}
