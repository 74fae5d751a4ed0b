"""No command writes over a file it reads, the ledger or another of its own outputs, by whatever
name (the same path, ``./path``, a symbolic or a hard link); an output that cannot be written is
refused before any work; each refusal is one line, exit code 2, and nothing is written."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from allocator.cli import app
from allocator.errors import InputError
from allocator.io import Outputs, same_file

runner = CliRunner()
SCENARIOS = Path(__file__).parents[2] / "scenarios"

HOUSEHOLDS = """\
household_id,size,minors,urgency,need_date,expected_stay_days
H1,2,,3,2026-12-07,30
H2,1,0,2,2026-12-10,60
"""
UNITS = "unit_id,kind,capacity\nU1,flat,4\nU2,hub_room,2\n"
STAYS = "household_id,unit_id,start,expected_end\nS1,U1,2026-11-01,2026-12-20\n"
POLICY = "turnover_days = 1\n"
WAYS = ["same", "dot", "symlink", "hardlink"]


def snapshot(folder: Path) -> dict[str, object]:
    """Every name under ``folder`` with what it holds: bytes, a link's target, or a folder."""
    seen: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            seen[name] = ("link", os.readlink(path))
        elif path.is_dir():
            seen[name] = "folder"
        else:
            seen[name] = path.read_bytes()
    return seen


def refused(args: list[str], folder: Path, *words: str) -> str:
    """Run the command; it must fail with one line naming ``words`` and change nothing."""
    before = snapshot(folder)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]
    assert snapshot(folder) == before
    return lines[0]


def alias(way: str, target: Path, name: str) -> str:
    """Another name for ``target``: itself, ``./`` it (run from its folder), or a link ``name``."""
    folder = target.parent
    if way == "same":
        return str(target)
    if way == "dot":
        return f"./{target.name}"
    link = folder / name
    if way == "symlink":
        link.symlink_to(target)
    else:
        os.link(target, link)
    return str(link)


@pytest.fixture
def files(tmp_path, monkeypatch):
    """The plan's inputs (tables and policy) in a fresh folder that is the working directory."""
    monkeypatch.chdir(tmp_path)
    paths = {}
    for option, name, text in [
        ("--households", "households.csv", HOUSEHOLDS),
        ("--units", "units.csv", UNITS),
        ("--stays", "stays.csv", STAYS),
        ("--policy", "policy.toml", POLICY),
    ]:
        paths[option] = tmp_path / name
        paths[option].write_text(text)
    return paths


def plan_args(files, **outputs: str) -> list[str]:
    args = ["plan", "--start", "2026-12-07", "--method", "greedy"]
    for option, path in files.items():
        args += [option, str(path)]
    out = outputs.pop("--out", str(files["--households"].parent / "plan.csv"))
    args += ["--out", out]
    for option, path in outputs.items():
        args += [option, path]
    return args


# --- plan: over an input -----------------------------------------------------------------------


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("read", ["--households", "--units", "--stays", "--policy"])
@pytest.mark.parametrize("write", ["--out", "--summary"])
def test_plan_never_writes_over_an_input(files, tmp_path, way, read, write):
    """`plan --summary policy.toml --policy policy.toml` and every other pair, by any name."""
    if write == "--out" and read == "--policy" and way in ("same", "dot"):
        pytest.skip("a .toml --out is refused for its type first")
    name = "alias.csv" if write == "--out" else "alias.json"
    target = alias(way, files[read], name)
    refused(plan_args(files, **{write: target}), tmp_path, f"{write} would overwrite", read)


@pytest.mark.parametrize("way", WAYS)
def test_plan_outputs_never_write_over_each_other(files, tmp_path, way):
    """--out and --summary naming one file (a previous plan stays as it was)."""
    old = tmp_path / "plan.csv"
    old.write_text("the previous plan\n")
    summary = alias(way, old, "alias.json")
    line = refused(plan_args(files, **{"--out": str(old), "--summary": summary}), tmp_path)
    assert "--summary would overwrite the --out file" in line


def test_plan_writes_when_nothing_clashes(files, tmp_path):
    """The guard lets a good run through: the plan and the summary are written."""
    result = runner.invoke(app, plan_args(files, **{"--summary": "summary.json"}))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "plan.csv").exists() and (tmp_path / "summary.json").exists()


# --- the ledger --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ledger_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ledger") / "ledger.db"
    assert runner.invoke(app, ["ledger", "init", "--db", str(path)]).exit_code == 0
    return path


@pytest.fixture
def ledger(ledger_template, tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ledger.db"
    shutil.copy(ledger_template, path)
    return path


@pytest.mark.parametrize("way", WAYS)
def test_ledger_export_never_writes_over_the_ledger(ledger, tmp_path, way):
    """`ledger export units ledger.db --db ledger.db`, by any name of the ledger file."""
    out = alias(way, ledger, "alias.csv")
    args = ["ledger", "export", "units", out, "--db", str(ledger)]
    refused(args, tmp_path, "OUT would overwrite the ledger (--db)")


@pytest.mark.parametrize("way", WAYS)
def test_ledger_init_never_makes_the_policy_file_a_ledger(tmp_path, monkeypatch, way):
    """`ledger init --db policy.toml --policy policy.toml`: the policy file is read, not written."""
    monkeypatch.chdir(tmp_path)
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    db = alias(way, policy, "alias.db")
    args = ["ledger", "init", "--db", db, "--policy", str(policy)]
    refused(args, tmp_path, "--db would overwrite an input file (--policy)")


@pytest.mark.parametrize("command", ["units", "requests"])
@pytest.mark.parametrize("way", WAYS)
def test_imports_never_make_the_imported_file_the_ledger(tmp_path, monkeypatch, command, way):
    """`units import units.csv --db units.csv`: the imported file is read, not written."""
    monkeypatch.chdir(tmp_path)
    table = tmp_path / "table.csv"
    table.write_text(UNITS if command == "units" else HOUSEHOLDS)
    db = alias(way, table, "alias.db")
    refused([command, "import", str(table), "--db", db], tmp_path, "--db would overwrite")


LEDGER_COMMANDS = [
    ["status"],
    ["status", "--history"],
    ["ledger", "export", "units", "units.csv"],
    ["batch", "show"],
    ["batch", "propose", "--week", "2026-12-07", "--method", "greedy"],
    ["batch", "approve"],
    ["stay", "move-in", "H1", "--date", "2026-12-07", "--unit", "U1"],
    ["stay", "exit", "H1", "--date", "2026-12-07", "--pathway", "family"],
    ["stay", "extend", "H1", "--to", "2026-12-30", "--reason", "waiting"],
]


@pytest.mark.parametrize("command", LEDGER_COMMANDS, ids=" ".join)
def test_ledger_commands_refuse_a_ledger_that_does_not_exist(tmp_path, monkeypatch, command):
    """`status --db mistyped.db` says the file does not exist and creates nothing."""
    monkeypatch.chdir(tmp_path)
    line = refused([*command, "--db", "mistyped.db"], tmp_path, "mistyped.db", "does not exist")
    assert "allocator ledger init" in line


@pytest.mark.parametrize("command", LEDGER_COMMANDS[:3], ids=" ".join)
def test_ledger_commands_refuse_a_database_without_a_ledger(tmp_path, monkeypatch, command):
    """An existing file that holds no ledger (empty, or some other SQLite database) is refused,
    not turned into a ledger."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.db").write_bytes(b"")
    refused([*command, "--db", "empty.db"], tmp_path, "holds no ledger", "allocator ledger init")


def test_ledger_export_of_a_ledger_that_exists_still_works(ledger, tmp_path):
    """The checks let the usual export through."""
    result = runner.invoke(app, ["ledger", "export", "units", "units.csv", "--db", str(ledger)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "units.csv").exists()


def test_the_library_export_refuses_the_ledger_file(ledger):
    """`Ledger.export` itself never writes over its own database file."""
    from allocator.ledger import Ledger

    before = ledger.read_bytes()
    with Ledger.open(ledger) as led, pytest.raises(InputError, match="ledger file itself"):
        led.export("units", ledger)
    assert ledger.read_bytes() == before


# --- simulate, compare, capacity, report ---------------------------------------------------------


@pytest.fixture
def scenario(tmp_path, monkeypatch) -> Path:
    """A variant scenario and the base it extends, copied to a fresh working directory."""
    monkeypatch.chdir(tmp_path)
    for name in ("milan.yaml", "milan_hub_only.yaml"):
        shutil.copy(SCENARIOS / name, tmp_path / name)
    return tmp_path / "milan_hub_only.yaml"


@pytest.mark.parametrize("way", ["symlink", "hardlink"])
@pytest.mark.parametrize("table", ["replications", "weekly", "summary"])
def test_simulate_never_writes_over_the_scenario(scenario, tmp_path, way, table):
    """A Parquet table of `simulate --out` that is the scenario file, by a link."""
    (tmp_path / "res").mkdir()
    alias(way, scenario, f"res/{table}.parquet")
    args = ["simulate", str(scenario), "--out", "res", "--replications", "1"]
    refused(args, tmp_path, "--out would overwrite an input file (SCENARIO)")


@pytest.mark.parametrize("way", WAYS)
def test_compare_never_writes_over_a_scenario(tmp_path, monkeypatch, way):
    """`compare a.csv b.yaml --out a.csv` (a scenario may have any name), by any name."""
    monkeypatch.chdir(tmp_path)
    first = tmp_path / "first.csv"
    shutil.copy(SCENARIOS / "milan.yaml", first)
    shutil.copy(SCENARIOS / "milan.yaml", tmp_path / "second.yaml")
    out = alias(way, first, "alias.csv")
    args = ["compare", str(first), "second.yaml", "--out", out, "--replications", "1"]
    refused(args, tmp_path, "--out would overwrite an input file (SCENARIO)")


@pytest.mark.parametrize("way", ["symlink", "hardlink"])
@pytest.mark.parametrize("option, name", [("--out", "alias.csv"), ("--plot", "alias.png")])
def test_capacity_never_writes_over_the_scenario(scenario, tmp_path, way, option, name):
    """`capacity --out` or `--plot` that is the scenario file."""
    target = alias(way, scenario, name)
    args = ["capacity", str(scenario), "--max-wait-p90", "30", option, target]
    refused(args, tmp_path, f"{option} would overwrite an input file (SCENARIO)")


def test_capacity_never_writes_over_the_scenario_a_variant_extends(scenario, tmp_path):
    """The base file named by `extends:` is an input too."""
    target = alias("symlink", tmp_path / "milan.yaml", "alias.csv")
    args = ["capacity", str(scenario), "--max-wait-p90", "30", "--out", target]
    refused(args, tmp_path, "--out would overwrite the scenario", "milan_hub_only.yaml extends")


@pytest.mark.parametrize("way", ["same", "symlink"])
def test_capacity_outputs_never_write_over_each_other(scenario, tmp_path, way):
    """`--plot` naming the `--out` table (a link named .png to the curve's .csv)."""
    curve = tmp_path / "curve.csv"
    curve.write_text("the previous curve\n")
    plot = alias("symlink", curve, "curve.png") if way == "symlink" else str(curve)
    args = ["capacity", str(scenario), "--max-wait-p90", "30", "--out", str(curve)]
    args += ["--plot", plot]
    refused(args, tmp_path)


@pytest.mark.parametrize("way", WAYS)
def test_report_never_writes_over_the_scenario(tmp_path, monkeypatch, way):
    """`report scenario.html --out scenario.html`, by any name."""
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "scenario.html"
    shutil.copy(SCENARIOS / "milan.yaml", source)
    out = alias(way, source, "alias.html")
    refused(["report", str(source), "--out", out], tmp_path, "--out would overwrite")


# --- outputs that cannot be written: found before the work -------------------------------------


@pytest.fixture
def read_only(tmp_path) -> Path:
    """A folder nobody may write to (chmod; as root, the immutable flag), or skip."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = False
    if _writable(folder):
        immutable = (
            subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
        )
    if _writable(folder):
        folder.chmod(0o755)
        pytest.skip("cannot make a read-only folder here")
    yield folder
    if immutable:
        subprocess.run(["chattr", "-i", str(folder)], check=False)
    folder.chmod(0o755)


def _writable(folder: Path) -> bool:
    probe = folder / "probe"
    try:
        probe.write_text("")
    except OSError:
        return False
    probe.unlink()
    return True


PLAN = ["plan", "--households", "{households}", "--units", "{units}", "--start", "2026-12-07"]
SCENARIO = "{scenario}"


def _arguments(tmp_path: Path, ledger_template: Path, command: list[str], **more) -> list[str]:
    (tmp_path / "households.csv").write_text(HOUSEHOLDS)
    (tmp_path / "units.csv").write_text(UNITS)
    db = tmp_path / "ledger.db"
    shutil.copy(ledger_template, db)
    values = {
        "households": tmp_path / "households.csv",
        "units": tmp_path / "units.csv",
        "tmp": tmp_path,
        "ledger": db,
        "scenario": SCENARIOS / "milan.yaml",
        **more,
    }
    return [a.format(**values) for a in command]


@pytest.mark.parametrize(
    "option, command",
    [
        ("--out", [*PLAN, "--out", "{ro}/plan.csv"]),
        ("--summary", [*PLAN, "--out", "{tmp}/plan.csv", "--summary", "{ro}/summary.json"]),
        ("--out", ["demo", "--out", "{ro}/plan.csv"]),
        ("OUT", ["ledger", "export", "units", "{ro}/units.csv", "--db", "{ledger}"]),
        ("--out", ["simulate", SCENARIO, "--out", "{ro}/res"]),
        ("--out", ["simulate", SCENARIO, "--out", "{ro}"]),
        ("--out", ["compare", SCENARIO, SCENARIO, "--out", "{ro}/compare.csv"]),
        ("--out", ["capacity", SCENARIO, "--max-wait-p90", "30", "--out", "{ro}/curve.csv"]),
        ("--plot", ["capacity", SCENARIO, "--max-wait-p90", "30", "--plot", "{ro}/curve.png"]),
        ("--out", ["report", SCENARIO, "--out", "{ro}/report.html"]),
    ],
    ids=lambda c: c if isinstance(c, str) else " ".join(a for a in c if "{" not in a),
)
def test_a_read_only_output_folder_is_found_before_any_work(
    tmp_path, read_only, ledger_template, option, command
):
    """The output's folder is tried first: one line naming the option, nothing written."""
    args = _arguments(tmp_path, ledger_template, command, ro=read_only)
    refused(args, tmp_path, f"{option} cannot be written", "not writable", str(read_only))


@pytest.mark.parametrize(
    "command, words",
    [
        ([*PLAN, "--out", "{tmp}/folder.csv"], "--out is a folder"),
        ([*PLAN, "--out", "{tmp}/missing/plan.csv"], "folder does not exist"),
        (["ledger", "export", "units", "{tmp}/folder.csv", "--db", "{ledger}"], "OUT is a folder"),
        (["ledger", "export", "units", "{tmp}/no/units.csv", "--db", "{ledger}"], "folder does"),
        (["compare", SCENARIO, SCENARIO, "--out", "{tmp}/missing/compare.csv"], "folder"),
        (["capacity", SCENARIO, "--max-wait-p90", "30", "--plot", "{tmp}/folder.png"], "folder"),
        (["simulate", SCENARIO, "--out", "{tmp}/plan.csv"], "expected a folder"),
        (["simulate", SCENARIO, "--out", "{tmp}/plan.csv/res"], "plan.csv is a file"),
        (["simulate", SCENARIO, "--out", "{tmp}/blocked"], "a folder stands in the way"),
    ],
)
def test_a_folder_in_place_of_a_file_or_a_missing_folder_is_one_line(
    tmp_path, ledger_template, command, words
):
    """A folder where a file goes, a file where a folder goes, or no folder: one line, exit 2."""
    (tmp_path / "plan.csv").write_text("a file")
    for name in ("folder.csv", "folder.png", "blocked/summary.parquet"):
        (tmp_path / name).mkdir(parents=True)
    refused(_arguments(tmp_path, ledger_template, command), tmp_path, words)


# --- the guard itself, over any arrangement of names and links -----------------------------------


@st.composite
def arrangements(draw):
    """A few files, and names for them: each a path, ``./``-path, symlink or hard link."""
    n_files = draw(st.integers(1, 3))
    names = []
    for k in range(draw(st.integers(2, 6))):
        names.append((draw(st.integers(0, n_files - 1)), draw(st.sampled_from(WAYS)), k))
    n_inputs = draw(st.integers(1, len(names) - 1))
    return n_files, names, n_inputs


@given(arrangements())
def test_outputs_refuse_exactly_the_names_of_a_file_already_used(tmp_path_factory, arrangement):
    """Any output naming a file that an input or an earlier output names is refused; any other
    is accepted."""
    n_files, names, n_inputs = arrangement
    folder = tmp_path_factory.mktemp("guard")
    files = [folder / f"file{k}.csv" for k in range(n_files)]
    for path in files:
        path.write_text("data")
    paths = []
    with contextlib.chdir(folder):
        for index, way, k in names:
            if way == "same":
                paths.append(str(files[index]))
            elif way == "dot":
                paths.append(f"./{files[index].name}")
            elif way == "symlink":
                (folder / f"link{k}.csv").symlink_to(files[index])
                paths.append(str(folder / f"link{k}.csv"))
            else:
                os.link(files[index], folder / f"hard{k}.csv")
                paths.append(str(folder / f"hard{k}.csv"))
        guard = Outputs({f"--in{k}": paths[k] for k in range(n_inputs)})
        used = {names[k][0] for k in range(n_inputs)}
        for k in range(n_inputs, len(names)):
            if names[k][0] in used:
                with pytest.raises(InputError, match=f"--out{k} would overwrite"):
                    guard.file(f"--out{k}", paths[k])
            else:
                guard.file(f"--out{k}", paths[k])
                used.add(names[k][0])
        assert all(same_file(p, files[i]) for p, (i, _, _) in zip(paths, names, strict=True))
