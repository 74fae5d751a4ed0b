"""Ctrl-C and SIGTERM on the real command: a first Ctrl-C keeps the best plan (status
interrupted), a second one or SIGTERM aborts with code 130 and writes nothing, never a traceback,
the ledger is left as it was, and worker processes neither print nor outlive the command.

Each test runs ``python -m allocator`` in a fresh process and signals it at a known moment: a
line on stderr, the handlers being in place (the process catches SIGTERM, which only
`allocator.__main__` makes it do), or worker processes having started.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from allocator.examples import generate
from allocator.testing import check_plan

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="signals and /proc as on Linux"
)

START = "2026-12-07"
SCENARIO = Path(__file__).parents[2] / "scenarios" / "milan.yaml"
WAIT = 60.0  # seconds to wait for a marker before the test fails (never reached when it passes)


class Command:
    """``python -m allocator ARGS`` with its stderr read line by line as it comes."""

    def __init__(self, *args: str, cwd: Path, group: bool = False) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "allocator", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=group,  # its own process group, as a terminal's foreground job
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def wait_for_line(self, text: str) -> None:
        """Block until a line of stderr contains ``text``."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                if text in self.lines.get(timeout=0.05):
                    return
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
        pytest.fail(f"no line with {text!r} on stderr: {''.join(self.stderr)}")

    def wait_for_handlers(self) -> None:
        """Block until the process catches SIGTERM: `allocator.__main__` has taken over."""
        self._wait_until(lambda: _caught(self.proc.pid, signal.SIGTERM), "the handlers")

    def wait_for_file(self, path: Path) -> None:
        """Block until ``path`` exists (polled every millisecond)."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and self.proc.poll() is None:
            if path.exists():
                return
            time.sleep(0.001)
        pytest.fail(f"{path} never appeared: {''.join(self.stderr)}")

    def wait_for_workers(self) -> None:
        """Block until the process has started child processes (a pool's workers)."""
        self._wait_until(lambda: bool(_children(self.proc.pid)), "worker processes")

    def _wait_until(self, ready, what: str) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and self.proc.poll() is None:
            if ready():
                return
            time.sleep(0.005)
        pytest.fail(f"{what} never appeared: {''.join(self.stderr)}")

    def signal(self, signum: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)

    def signal_group(self, signum: int) -> None:
        """As Ctrl-C in a terminal: to every process of the group, workers included."""
        os.killpg(self.proc.pid, signum)

    def finish(self) -> tuple[int, str]:
        """The exit code and the whole of stderr."""
        self.proc.wait(timeout=WAIT)
        self._reader.join(timeout=WAIT)
        assert self.proc.stdout is not None
        self.proc.stdout.read()
        return self.proc.returncode, "".join(self.stderr)


def _caught(pid: int, signum: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(mask, 16) >> (signum - 1) & 1)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def _alive_in_group(pgid: int) -> list[int]:
    """Processes of the group still running (zombies, already dead, excluded)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def _no_stray_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".bak"))]


def _one_aborted_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aborted"), stderr
    return lines[0]


@pytest.fixture(scope="module")
def week(tmp_path_factory) -> Path:
    """1,000 households and 500 units as CSV: the solver works on it for several seconds."""
    folder = tmp_path_factory.mktemp("week")
    for name, table in zip(
        ("households", "units", "stays"), generate(1000, 500, seed=1), strict=True
    ):
        table.to_csv(folder / f"{name}.csv", index=False)
    return folder


def plan_args(folder: Path, out: Path, summary: Path, *extra: str) -> list[str]:
    return [
        *["plan", "--households", str(folder / "households.csv")],
        *["--units", str(folder / "units.csv"), "--stays", str(folder / "stays.csv")],
        *["--start", START, "--out", str(out), "--summary", str(summary)],
        *["--time-limit", "30", *extra],
    ]


# --- plan --------------------------------------------------------------------------------------


def test_first_ctrl_c_during_the_solve_writes_the_best_plan_as_interrupted(week, tmp_path):
    """Ctrl-C while the solver works: exit 0, the plan so far written and valid, its summary
    saying `interrupted`, and stderr saying so (the convention of MIP solvers)."""
    out, summary = tmp_path / "plan.csv", tmp_path / "summary.json"
    run = Command(*plan_args(week, out, summary), cwd=tmp_path)
    run.wait_for_line("solving")
    run.signal(signal.SIGINT)
    code, stderr = run.finish()
    assert code == 0, stderr
    assert "interrupted: keeping the best plan found so far" in stderr
    assert "Traceback" not in stderr
    assert json.loads(summary.read_text())["status"] == "interrupted"
    plan = pd.read_csv(out, dtype=str, keep_default_na=False)
    tables = [pd.read_csv(week / f"{n}.csv") for n in ("households", "units", "stays")]
    assert check_plan(plan, *tables, START) == []
    assert _no_stray_files(tmp_path) == []


def test_second_ctrl_c_aborts_and_leaves_the_previous_outputs(week, tmp_path):
    """A second Ctrl-C before the plan is written: exit 130, the old files byte for byte."""
    out, summary = tmp_path / "plan.csv", tmp_path / "summary.json"
    out.write_bytes(b"the previous plan\n")
    summary.write_bytes(b'{"previous": true}\n')
    run = Command(*plan_args(week, out, summary), cwd=tmp_path)
    run.wait_for_line("solving")
    run.signal(signal.SIGINT)
    run.wait_for_line("interrupted:")
    run.signal(signal.SIGINT)
    code, stderr = run.finish()
    assert code == 130, stderr
    assert stderr.strip().splitlines()[-1] == "aborted: nothing written"
    assert "Traceback" not in stderr
    assert out.read_bytes() == b"the previous plan\n"
    assert summary.read_bytes() == b'{"previous": true}\n'
    assert _no_stray_files(tmp_path) == []


def test_sigterm_during_the_solve_aborts_and_writes_nothing(week, tmp_path):
    """SIGTERM is a second Ctrl-C: exit 130 at once, one line, no file."""
    out, summary = tmp_path / "plan.csv", tmp_path / "summary.json"
    run = Command(*plan_args(week, out, summary, "--quiet"), cwd=tmp_path)
    run.wait_for_handlers()
    time.sleep(2.5)  # into the reading, the greedy plan or the solve: each must abort the same
    run.signal(signal.SIGTERM)
    code, stderr = run.finish()
    assert code == 130, stderr
    assert _one_aborted_line(stderr) == "aborted (SIGTERM): nothing written"
    assert not out.exists() and not summary.exists()
    assert _no_stray_files(tmp_path) == []


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2, 0.5, 1.0])
def test_ctrl_c_at_start_up_aborts_with_one_line(week, tmp_path, delay):
    """Ctrl-C from the moment the command's handlers are in place (importing Typer and the
    commands, reading the files, greedy's plan): exit 130 and one line, or, once the search has
    begun, the plan kept; never a traceback, never a half-written file."""
    out, summary = tmp_path / "plan.csv", tmp_path / "summary.json"
    run = Command(*plan_args(week, out, summary, "--quiet"), cwd=tmp_path)
    run.wait_for_handlers()
    time.sleep(delay)
    run.signal(signal.SIGINT)
    code, stderr = run.finish()
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    if code == 130:
        assert _one_aborted_line(stderr) in (
            "aborted: nothing written",  # the command line was still loading
            "aborted: no plan yet; nothing written",
        )
        assert not out.exists() and not summary.exists()
    else:  # the search had started: the plan so far is kept
        assert code == 0, stderr
        assert json.loads(summary.read_text())["status"] == "interrupted"
    assert _no_stray_files(tmp_path) == []


def test_the_entry_point_keeps_the_commands_exit_codes_and_output(week, tmp_path):
    """Run in a worker thread behind the handlers, a command still prints and exits as before:
    0 with its output, 2 with one line for bad input."""
    version = subprocess.run(
        [sys.executable, "-m", "allocator", "--version"], capture_output=True, text=True, timeout=60
    )
    assert (version.returncode, version.stdout.startswith("allocator ")) == (0, True)
    missing = tmp_path / "missing.csv"
    run = Command(
        *["plan", "--households", str(missing), "--units", str(week / "units.csv")],
        *["--start", START, "--out", str(tmp_path / "plan.csv")],
        cwd=tmp_path,
    )
    code, stderr = run.finish()
    assert code == 2 and stderr.startswith(f"error: {missing}") and stderr.count("\n") == 1


def test_importing_the_command_line_installs_no_handler():
    """Only the entry point installs handlers: `import allocator.cli` (what tests and CliRunner
    do) leaves Python's own."""
    # compared with the handlers before the import, not with Python's defaults: a shell that
    # starts the test run in the background has SIGINT ignored, and the child inherits that
    code = (
        "import signal\n"
        "before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)\n"
        "import allocator.cli, allocator.cli.entry, allocator.cli.interrupts\n"
        "print(signal.getsignal(signal.SIGINT) == before[0],"
        " signal.getsignal(signal.SIGTERM) == before[1])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["True", "True"], done.stderr


# --- ledger ------------------------------------------------------------------------------------


def _dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return list(connection.iterdump())


@pytest.fixture
def ledger(tmp_path) -> tuple[Path, str]:
    """A ledger of 300 households waiting and 150 units, and next week's Monday."""
    from allocator.ledger import Ledger

    today = dt.date.today()
    monday = today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)
    households, units, _ = generate(300, 150, seed=1, start=monday)
    db = tmp_path / "ledger.db"
    with Ledger.open(db, create=True) as opened:
        opened.import_units(units)
        opened.import_requests(households)
    # a larger file to import: its transaction takes a while
    more, _, _ = generate(3000, 10, seed=2, start=monday)
    more["household_id"] = "N" + more["household_id"].astype(str)
    more.to_csv(tmp_path / "requests.csv", index=False)
    return db, monday.isoformat()


def test_interrupted_batch_proposal_leaves_the_ledger_as_it_was(ledger, tmp_path):
    """Ctrl-C while `batch propose` plans: exit 130, one line, every table as before."""
    db, monday = ledger
    before = _dump(db)
    run = Command("batch", "propose", "--week", monday, "--db", str(db), cwd=tmp_path)
    run.wait_for_handlers()
    time.sleep(2.0)
    run.signal(signal.SIGINT)
    code, stderr = run.finish()
    assert code == 130, stderr
    assert (
        _one_aborted_line(stderr)
        == "aborted: batch propose keeps no partial result; nothing written"
    )
    assert _dump(db) == before


def test_ctrl_c_inside_an_import_transaction_rolls_it_back(ledger, tmp_path):
    """Ctrl-C once `requests import` has begun writing (SQLite's journal exists): exit 130, and
    the transaction never commits: every table as before."""
    db, _ = ledger
    before = _dump(db)
    run = Command("requests", "import", "requests.csv", "--db", str(db), cwd=tmp_path)
    run.wait_for_file(Path(f"{db}-journal"))
    run.signal(signal.SIGINT)
    code, stderr = run.finish()
    assert code == 130, stderr
    _one_aborted_line(stderr)
    assert _dump(db) == before


def test_an_aborted_import_into_a_new_ledger_leaves_no_ledger_file(ledger, tmp_path):
    """Ctrl-C once `requests import` has created a new ledger file: exit 130, and the file and
    its journal are gone (the next command finds no ledger, as before)."""
    run = Command("requests", "import", "requests.csv", "--db", "new.db", cwd=tmp_path)
    run.wait_for_file(tmp_path / "new.db")
    run.signal(signal.SIGINT)
    code, stderr = run.finish()
    assert code == 130, stderr
    _one_aborted_line(stderr)
    assert list(tmp_path.glob("new.db*")) == []


# --- commands with worker processes -------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", str(SCENARIO), "--replications", "8", "--policies", "greedy", "--out", "out"],
        ["compare", str(SCENARIO), str(SCENARIO), "--replications", "8", "--out", "out.csv"],
        [
            "capacity",
            str(SCENARIO),
            "--replications",
            "4",
            "--max-wait-p90",
            "30",
            "--out",
            "c.csv",
        ],
        ["report", str(SCENARIO), "--out", "r.html", "--replications", "4"],
    ],
    ids=["simulate", "compare", "capacity", "report"],
)
def test_ctrl_c_to_a_command_with_workers(tmp_path, args):
    """Ctrl-C from the terminal (the whole process group) while workers run: exit 130 with one
    line saying the command keeps no partial result, no traceback from any worker, no worker
    left running, nothing written."""
    run = Command(*args, "--workers", "2", cwd=tmp_path, group=True)
    run.wait_for_workers()
    time.sleep(0.5)
    run.signal_group(signal.SIGINT)
    code, stderr = run.finish()
    assert code == 130, stderr
    line = _one_aborted_line(stderr)
    assert line == f"aborted: {args[0]} keeps no partial result; nothing written"
    deadline = time.monotonic() + WAIT
    while _alive_in_group(run.proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _alive_in_group(run.proc.pid) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == []
