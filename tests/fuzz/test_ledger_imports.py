"""`allocator units import` and `allocator requests import` on mutated CSV and Excel tables,
into a new ledger, an empty one or one that already holds the demo's units and requests: the
ledger keeps its invariants, or exit code 2 with one line and the ledger file as it was, byte
for byte."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from harness import Case, budget, check, invoke, snapshot
from hypothesis import given
from hypothesis import strategies as st
from strategies import Table, base_grid, csv_layouts, render_csv, render_xlsx, tables, xlsx_layouts

COMMANDS = {"units": "units", "requests": "households"}
DB_STATES = ("missing", "empty", "filled")


@functools.cache
def _template(state: str) -> bytes:
    """A ledger file after `ledger init` ("empty"), then the demo's units and requests imported."""
    from allocator.examples import demo
    from allocator.io import write_table

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "ledger.db"
        assert invoke(["ledger", "init", "--db", str(db)]).exit_code == 0
        if state == "filled":
            households, units, _ = demo()
            for command, frame in (("units", units), ("requests", households)):
                path = Path(tmp) / f"{command}.csv"
                write_table(frame, path)
                assert invoke([command, "import", str(path), "--db", str(db)]).exit_code == 0
        return db.read_bytes()


def _ledger_problems(db: Path) -> list[str]:
    from allocator.ledger import Ledger
    from allocator.ledger.testing import invariant_violations

    if not db.is_file():
        return ["exit 0 but no ledger file"]
    ledger = Ledger.open(str(db))
    try:
        return [f"ledger invariant broken: {p}" for p in invariant_violations(ledger)[:1]]
    finally:
        ledger.close()


@budget(75)
@given(data=st.data())
def test_import_mutated_table(data):
    """A mutated units or households table imported into a ledger in one of three states."""
    command = data.draw(st.sampled_from(sorted(COMMANDS)), label="command")
    kind = COMMANDS[command]
    excel = data.draw(st.booleans(), label="xlsx")
    t = data.draw(tables(kind, typed=excel, base="demo"), label="table")
    t = data.draw(xlsx_layouts(t) if excel else csv_layouts(t), label="layout")
    state = data.draw(st.sampled_from(DB_STATES), label="ledger")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / f"{kind}{'.xlsx' if excel else '.csv'}"
        path.write_bytes(render_xlsx(t) if excel else render_csv(t))
        db = folder / "ledger.db"
        if state != "missing":
            db.write_bytes(_template(state))
        before = snapshot(folder)
        run = invoke([command, "import", str(path), "--db", str(db)])
        labels = [*t.labels, f"{command} import into a {state} ledger"]
        case = Case("ledger", labels, folder, t.must_reject(), {kind: path}, {db.name})
        check(case, run, before, lambda: _ledger_problems(db))


@budget(10)
@given(
    command=st.sampled_from(["units", "requests", "status", "ledger-export"]),
    where=st.sampled_from(["a folder", "a CSV file", "a missing folder", "junk", "an empty file"]),
)
def test_ledger_on_a_path_that_is_no_ledger(command, where):
    """`--db` naming something that is not a ledger: refused in one line, the thing untouched."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        table = folder / "units.csv"
        table.write_bytes(render_csv(Table("units", base_grid("demo", "units", False), False)))
        db = {
            "a folder": folder / "sub",
            "a CSV file": table,
            "a missing folder": folder / "missing" / "ledger.db",
            "junk": folder / "junk.db",
            "an empty file": folder / "empty.db",
        }[where]
        if where == "a folder":
            db.mkdir()
        elif where == "junk":
            db.write_bytes(b"SQLite format 2\x00" + bytes(range(256)) * 8)
        elif where == "an empty file":
            db.write_bytes(b"")
        args = {
            "units": ["units", "import", str(table)],
            "requests": ["requests", "import", str(table)],
            "status": ["status"],
            "ledger-export": ["ledger", "export", "units", str(folder / "out.csv")],
        }[command] + ["--db", str(db)]
        before = snapshot(folder)
        run = invoke(args)
        # an empty file may become a new ledger (SQLite treats it as one); nothing else may
        case = Case("ledger-db", [command, f"--db {where}"], folder, inputs={"units": table},
                    outputs={db.name, "out.csv"} if where == "an empty file" else set())  # fmt: skip
        if where != "an empty file":
            case.must_reject = [f"--db naming {where}"]
        check(case, run, before)
