"""`allocator plan` with odd options (numbers out of range, NaN, dates in other formats, pins to
nowhere) and odd output paths (an input, the policy, a link to an input, the other output, a
folder, a missing folder): a valid plan, or exit code 2 with one line and nothing written."""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from pathlib import Path

from harness import Case, budget, check, invoke, plan_problems, snapshot
from hypothesis import given
from hypothesis import strategies as st
from settings_files import policies, render_policy
from strategies import DATE_TEXTS, FAR_DAYS, HUGE, KINDS, render_csv, tables

NUMBERS = ["nan", "inf", "-inf", "-1", "0", "1e-9", "0.5", "1e308", "abc", "", "1e3", "3"]
OPTIONS = {
    "--time-limit": NUMBERS + ["5", "5"],
    "--gap": NUMBERS + ["0.01", "1", "0.999999"],
    "--seed": ["-1", "0", "1", "2147483647", "2147483648", "9" * 30, "1.5", "abc"],
    "--horizon-weeks": ["0", "1", "2", "52", "104", "105", "-3", "1e3", "2**63"],
    "--workers": ["0", "-1", "1", "2", "1.5", "abc"],
    "--method": ["greedy", "GREEDY", "hotel", "Solver", "best", ""],
    "--pin": ["H00000=U00000", "H00001=U00003", "H00000", "=U00000", "H00000=", "H00000=U99999",
              "nobody=U00000", " H00000 = U00000 ", "H00000=U00000=U1", "S00000=U00000"],
    "--forbid": ["H00000=U00000", "H00000", "H00000=U99999", "nobody=nowhere", "=", "a=b=c"],
}  # fmt: skip
OUTS = [
    "plan.csv", "plan.csv", "plan.xlsx", "plan.CSV", "plan.txt", "plan", "sub/plan.csv",
    "{households}", "{units}", "{stays}", "{policy}", "link.csv", "folder", "./plan.csv",
]  # fmt: skip
SUMMARIES = [None, "summary.json", "summary.json", "{out}", "{households}", "{policy}",
             "folder", "sub/s.json", "summary.csv", "link.csv"]  # fmt: skip


def _start_texts():
    near = st.integers(-30, 30).map(lambda d: dt.date(2026, 12, 7) + dt.timedelta(days=d))
    return st.one_of(near.map(dt.date.isoformat), near.map(dt.date.isoformat),
                     st.sampled_from(DATE_TEXTS), st.dates().map(dt.date.isoformat))  # fmt: skip


def _must_reject(options: list[tuple[str, str]]) -> list[str]:
    """Values the issue says are refused: non-finite or huge numbers, dates far from today."""
    reasons = []
    last = {name: value for name, value in options if name not in ("--pin", "--forbid")}
    for name, value in last.items():  # the last of a repeated option is the one that counts
        if name == "--start":
            try:
                day = dt.date.fromisoformat(value.strip()[:10])
            except ValueError:
                continue
            if abs((day - dt.date.today()).days) > FAR_DAYS:
                reasons.append(f"--start {value}, far from today")
        elif name in ("--time-limit", "--gap", "--horizon-weeks", "--workers", "--seed"):
            try:
                number = float(value)
            except ValueError:
                continue
            if not math.isfinite(number) or abs(number) > HUGE:
                reasons.append(f"{name} {value}, out of any range")
    return reasons


@budget(120)
@given(data=st.data())
def test_plan_with_odd_options_and_outputs(data):
    """Valid tables and policy; zero to three odd options; odd --out and --summary paths."""
    files = {}
    for kind in KINDS:
        t = data.draw(tables(kind, typed=False, base="demo", mutate=False), label=kind)
        files[kind] = render_csv(t)
    chosen = data.draw(st.lists(st.sampled_from(sorted(OPTIONS)), max_size=3), label="options")
    options = [("--start", data.draw(_start_texts(), label="--start"))]
    options += [(name, data.draw(st.sampled_from(OPTIONS[name]), label=name)) for name in chosen]
    if "--method" not in chosen:
        options.append(("--method", data.draw(st.sampled_from(["greedy", "greedy", "solver"]))))
    if "--time-limit" not in chosen:
        options.append(("--time-limit", "5"))
    out_spec = data.draw(st.sampled_from(OUTS), label="--out")
    summary_spec = data.draw(st.sampled_from(SUMMARIES), label="--summary")
    with_policy = data.draw(st.booleans(), label="with policy")
    previous = data.draw(st.booleans(), label="previous outputs")
    policy_text = render_policy(data.draw(policies(mutate=False))) if with_policy else None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inputs = {kind: folder / f"{kind}.csv" for kind in KINDS}
        for kind, path in inputs.items():
            path.write_bytes(files[kind])
        named = dict(inputs)
        if policy_text is not None:
            named["policy"] = folder / "policy.toml"
            named["policy"].write_bytes(policy_text)
        (folder / "folder").mkdir()
        os.symlink(inputs["households"], folder / "link.csv")  # a link naming an input
        if previous:
            (folder / "plan.csv").write_text("previous plan\n")
            (folder / "summary.json").write_text('{"previous": true}\n')

        def place(spec: str | None, out: Path | None = None) -> Path | None:
            if spec is None:
                return None
            if spec.startswith("{"):
                key = spec.strip("{}")
                return out if key == "out" else named.get(key, folder / f"{key}.csv")
            return folder / spec

        out = place(out_spec)
        summary = place(summary_spec, out)
        args = ["plan", *[a for kind in KINDS for a in (f"--{kind}", str(inputs[kind]))]]
        args += ["--out", str(out)] + (["--summary", str(summary)] if summary else [])
        if "policy" in named:
            args += ["--policy", str(named["policy"])]
        for name, value in options:
            args += [name, value]
        labels = [f"{n} {v!r}" for n, v in options] + [
            f"--out {out_spec}",
            f"--summary {summary_spec}",
        ]
        must_reject = _must_reject(options)
        targets = {p.resolve() for p in named.values()}
        if out.resolve() in targets or (summary and summary.resolve() in targets | {out.resolve()}):
            must_reject.append("an output over an input or the other output")
        before = snapshot(folder)
        run = invoke(args)
        written = {str(p.relative_to(folder)) for p in (out, summary) if p is not None}
        case = Case("options", labels, folder, must_reject, named, written)
        pins = [v for n, v in options if n == "--pin"]
        forbids = [v for n, v in options if n == "--forbid"]
        horizon = dict(options).get("--horizon-weeks")

        def good_plan() -> list[str]:
            from allocator.cli.common import parse_pairs, parse_pins

            return plan_problems(
                out, summary, inputs, dict(options)["--start"], named.get("policy"), horizon,
                pins=parse_pins(pins), forbids=parse_pairs(forbids, "--forbid"),
            )  # fmt: skip

        check(case, run, before, good_plan)
