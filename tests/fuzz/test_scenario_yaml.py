"""`allocator simulate` and `allocator compare` on scenario files mutated from the small example
and Milan's (four weeks, one replication, greedy: quick): odd values, missing and unknown fields,
duplicate keys, unquoted dates, tabs, damaged text. Results written in full, or exit code 2 with
one line and nothing written."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from harness import Case, budget, check, invoke, snapshot
from hypothesis import given
from hypothesis import strategies as st
from settings_files import render_scenario, scenario_base, scenarios, yaml_text

OPTIONS = {
    "--replications": ["0", "-1", "2", "abc", "1.5"],
    "--seed": ["-1", "0", "7", "18446744073709551616", "abc"],
    "--time-limit": ["nan", "inf", "-1", "0", "1e308", "abc"],
    "--policies": ["greedy", "", ",", "foo", "greedy,greedy", "hotel", "GREEDY", "solver",
                   "fcfs_fast", "fcfs_event"],
}  # fmt: skip


@budget(90)
@given(data=st.data())
def test_simulate_and_compare_on_mutated_scenario(data):
    """One scenario mutated; `simulate` writes its Parquet tables, `compare` its CSV, or neither."""
    scenario = data.draw(scenarios(), label="scenario")
    command = data.draw(st.sampled_from(["simulate", "simulate", "compare"]), label="command")
    chosen = data.draw(st.lists(st.sampled_from(sorted(OPTIONS)), max_size=1), label="options")
    options = {"--replications": "1", "--policies": "greedy", "--time-limit": "5"}
    options.update({name: data.draw(st.sampled_from(OPTIONS[name]), label=name) for name in chosen})
    write_out = data.draw(st.booleans(), label="--out")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # the base a variant extends, and a second scenario for `compare`
        (folder / "milan.yaml").write_text(yaml_text(scenario_base("milan")), encoding="utf-8")
        (folder / "other.yaml").write_text(yaml_text(scenario_base("small")), encoding="utf-8")
        path = folder / "scenario.yaml"
        path.write_bytes(render_scenario(scenario))
        if command == "simulate":
            out = folder / "results"
            args = ["simulate", str(path), "--workers", "1"]
            # clocks: the savings with every pathway on the other clock (issue #19)
            outputs = {"results", *(f"results/{n}.parquet" for n in [*TABLES, "clocks"])}
        else:
            out = folder / "compare.csv"
            args = ["compare", str(path), str(folder / "other.yaml"), "--workers", "1"]
            outputs = {out.name}
        if write_out:
            args += ["--out", str(out)]
        for name, value in options.items():
            args += [name, value]
        labels = scenario.labels + [f"{command}"] + [f"{n} {v!r}" for n, v in options.items()]
        before = snapshot(folder)
        run = invoke(args)
        inputs = {p.stem: p for p in folder.glob("*.yaml")}
        case = Case("yaml", labels, folder, scenario.must_reject(), inputs, outputs)
        check(case, run, before, lambda: _results(command, out if write_out else None))


TABLES = ("replications", "weekly", "summary", "households")


def _results(command: str, out: Path | None) -> list[str]:
    """The tables a good run wrote, each readable and not empty."""
    if out is None:
        return []
    if command == "compare":
        table = pd.read_csv(out)
        return [] if len(table) and "scenario" in table.columns else ["compare wrote an empty CSV"]
    missing = [n for n in TABLES if not (out / f"{n}.parquet").is_file()]
    if missing:
        return [f"simulate did not write {', '.join(missing)}"]
    reps = pd.read_parquet(out / "replications.parquet")
    return [] if len(reps) else ["simulate wrote no replications"]
