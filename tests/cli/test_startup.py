"""Start-up imports only what a command uses: structural checks on `sys.modules`, not timings.

Each case runs the app in a fresh interpreter and lists the modules loaded once it is done;
benchmarks/bench_startup.py measures the time.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import allocator
from allocator.examples import generate

HEAVY = ("pandas", "numpy", "ortools", "matplotlib", "scipy", "sqlalchemy")

RUN_APP = """
import contextlib, io, json, sys
from allocator.cli import app
code = None
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        app(sys.argv[1:], prog_name="allocator")
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "stdout": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def run_app(*args: str) -> dict:
    """The exit code, the output and the loaded modules of `allocator ARGS` in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", RUN_APP, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def loaded(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules} & set(packages))


def test_version_imports_none_of_the_heavy_libraries():
    """`allocator --version` prints the version without pandas, NumPy, OR-Tools, matplotlib,
    SciPy or SQLAlchemy."""
    result = run_app("--version")
    assert result["code"] == 0
    assert result["stdout"] == f"allocator {allocator.__version__}\n"
    assert loaded(result["modules"], HEAVY) == []


@pytest.mark.parametrize("args", [["--help"], ["plan", "--help"], ["ledger", "--help"]])
def test_help_imports_none_of_the_heavy_libraries(args):
    """Help is built from the declarations alone: no library behind a command is imported."""
    result = run_app(*args)
    assert result["code"] == 0 and "Usage: allocator" in result["stdout"]
    assert loaded(result["modules"], HEAVY) == []


def test_plan_imports_the_engine_but_not_the_simulation_ledger_or_plots(tmp_path):
    """`allocator plan` loads the engine and the file readers, not what other commands use."""
    households, units, _ = generate(12, 6, seed=1)
    households.to_csv(tmp_path / "households.csv", index=False)
    units.to_csv(tmp_path / "units.csv", index=False)
    result = run_app(
        *["plan", "--households", str(tmp_path / "households.csv")],
        *["--units", str(tmp_path / "units.csv"), "--start", "2026-12-07"],
        *["--out", str(tmp_path / "plan.csv"), "--method", "greedy", "--quiet"],
    )
    assert result["code"] == 0
    assert (tmp_path / "plan.csv").exists()
    modules = result["modules"]
    assert "allocator.engine.planning" in modules
    assert loaded(modules, ("matplotlib", "scipy", "sqlalchemy", "jinja2")) == []
    assert not [m for m in modules if m.startswith(("allocator.simulation", "allocator.ledger"))]
    assert not [m for m in modules if m.startswith("allocator.analysis")]


def test_import_allocator_is_light_and_public_names_resolve_on_use():
    """`import allocator` loads no library; each public name imports its module when used."""
    names = ", ".join(allocator.__all__)
    code = (
        "import sys, allocator\n"
        f"light = not {{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})\n"
        f"from allocator import {names}\n"
        "print(light, isinstance(allocator.__version__, str), 'plan' in dir(allocator))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True"]
