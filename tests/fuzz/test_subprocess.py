"""`python -m allocator` in a process of its own on a few damaged files: what `CliRunner` cannot
see (start-up, the interpreter's own traceback printing, the real exit status) keeps the promise
too. Few cases: each start costs a second or two."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from harness import HANG_SECONDS, START, Case, Run, budget, check, snapshot
from hypothesis import given
from hypothesis import strategies as st
from settings_files import Settings, render_scenario, scenario_base
from strategies import KINDS, Table, base_grid, csv_layouts, render_csv, tables


def _run(args: list[str], cwd: Path) -> Run:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "allocator", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=HANG_SECONDS,
            env={**os.environ, "COLUMNS": "100"},
        )
    except subprocess.TimeoutExpired as exc:
        from harness import Hang

        return Run(args, None, exception=Hang(str(exc)))
    return Run(args, done.returncode, done.stdout, done.stderr)


def _plan(folder: Path, files: dict[str, bytes], extra: list[str] = ()) -> tuple[Run, dict]:
    for kind, data in files.items():
        (folder / f"{kind}.csv").write_bytes(data)
    args = ["plan", *[a for kind in files for a in (f"--{kind}", f"{kind}.csv")]]
    args += ["--start", START.isoformat(), "--out", "plan.csv", "--method", "greedy", *extra]
    before = snapshot(folder)
    return _run(args, folder), before


def _valid(kind: str) -> bytes:
    return render_csv(Table(kind, base_grid("demo", kind, False), False))


@budget(5)
@given(data=st.data())
def test_process_on_a_mutated_table(data):
    """A mutated table, as a fresh process reads it."""
    target = data.draw(st.sampled_from(KINDS), label="target")
    t = data.draw(tables(target, typed=False, base="demo"), label="table")
    t = data.draw(csv_layouts(t), label="layout")
    files = {kind: render_csv(t) if kind == target else _valid(kind) for kind in KINDS}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run, before = _plan(folder, files)
        inputs = {kind: folder / f"{kind}.csv" for kind in KINDS}
        check(Case("process", t.labels, folder, t.must_reject(), inputs, {"plan.csv"}), run, before)


CASES = {
    "utf-16 households": ("households", lambda b: b.decode().encode("utf-16")),
    "binary units": ("units", lambda b: bytes(range(256)) * 4),
    "unterminated quote in stays": ("stays", lambda b: b.replace(b"\n", b'\n"', 2)),
    "truncated households": ("households", lambda b: b[: len(b) // 3]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_process_on_a_damaged_table(name):
    """A few damaged tables named: exit code 2, one line, no traceback, nothing written."""
    target, damage = CASES[name]
    files = {kind: damage(_valid(kind)) if kind == target else _valid(kind) for kind in KINDS}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run, before = _plan(folder, files)
        inputs = {kind: folder / f"{kind}.csv" for kind in KINDS}
        check(Case("process", [name], folder, [name], inputs, {"plan.csv"}), run, before)


def test_process_on_a_bad_option_and_a_truncated_scenario():
    """A number option that is no number, and a scenario cut in the middle: one line each."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = {kind: _valid(kind) for kind in KINDS}
        run, before = _plan(folder, files, ["--time-limit", "soon"])
        inputs = {kind: folder / f"{kind}.csv" for kind in KINDS}
        check(Case("process", ["--time-limit soon"], folder, ["no number"], inputs), run, before)
        scenario = Settings(scenario_base("small"))
        text = render_scenario(scenario)
        (folder / "s.yaml").write_bytes(text[: len(text) // 2])
        before = snapshot(folder)
        run = _run(["simulate", "s.yaml", "--replications", "1", "--policies", "greedy"], folder)
        check(Case("process", ["truncated scenario"], folder), run, before)
