"""`--scheduler`: an unreachable or malformed address is one line on stderr and exit 2, with no
traceback and nothing written, on every command that simulates."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
import yaml
from typer.testing import CliRunner

from allocator.simulation.examples import small

pytest.importorskip("distributed")

runner = CliRunner()


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(small()))
    return path


@pytest.fixture
def closed_address():
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"


def _commands(scn, tmp_path):
    return {
        "simulate": ["simulate", str(scn), "--replications", "2", "--out", str(tmp_path / "o")],
        "compare": ["compare", str(scn), str(scn), "--out", str(tmp_path / "c.csv")],
        "capacity": [
            "capacity",
            str(scn),
            "--max-wait-p90",
            "30",
            "--out",
            str(tmp_path / "c.csv"),
        ],
        "report": ["report", str(scn), "--out", str(tmp_path / "r.html")],
    }


def test_unreachable_scheduler_one_line_exit_2(scenario, closed_address, tmp_path):
    """A real `allocator simulate` process: exactly one stderr line naming --scheduler and the
    address, exit 2, no traceback (not even from the client's clean-up at exit)."""
    args = _commands(scenario, tmp_path)["simulate"]
    proc = subprocess.run(
        [sys.executable, "-m", "allocator", *args, "--scheduler", closed_address,
         "--connect-timeout", "1"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(
        f"error: --scheduler {closed_address}: cannot reach the Dask scheduler ("
    ), lines[0]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", ["compare", "capacity", "report"])
def test_every_simulating_command_refuses_an_unreachable_scheduler(
    command, scenario, closed_address, tmp_path
):
    """compare, capacity and report say the same one line, with the address from the
    environment, and write nothing."""
    args = _commands(scenario, tmp_path)[command]
    res = runner.invoke(
        app_(),
        [*args, "--connect-timeout", "0.5"],
        env={"ALLOCATOR_DASK_SCHEDULER": closed_address},
    )
    assert res.exit_code == 2, res.output
    assert f"--scheduler {closed_address}: cannot reach the Dask scheduler (" in res.output
    assert "Traceback" not in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--scheduler", "not an address"], "--scheduler not an address: cannot reach the Dask"),
        (["--scheduler", "bogus://host:1"], "--scheduler bogus://host:1: cannot reach the Dask"),
        (["--scheduler", "tcp://127.0.0.1:1", "--connect-timeout", "0"], "--connect-timeout"),
        (["--scheduler", "tcp://127.0.0.1:1", "--dask"], "give --scheduler or --dask, not both"),
    ],
    ids=["no-port", "scheme", "timeout", "both"],
)
def test_bad_scheduler_settings_one_line(extra, expected, scenario, tmp_path):
    """A malformed address, a timeout <= 0 or --dask with --scheduler: one line, exit 2."""
    args = _commands(scenario, tmp_path)["simulate"]
    res = runner.invoke(app_(), [*args, *extra])
    assert res.exit_code == 2, res.output
    assert expected in res.output and "Traceback" not in res.output


def test_bad_input_is_reported_before_connecting(closed_address, tmp_path):
    """A bad seed is refused at once, not after waiting for the scheduler."""
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(small()))
    res = runner.invoke(
        app_(), ["simulate", str(path), "--seed", "-1", "--scheduler", closed_address,
                 "--connect-timeout", "30"],
    )  # fmt: skip
    assert res.exit_code == 2 and "--seed" in res.output and "Dask" not in res.output


def app_():
    from allocator.cli import app

    return app
