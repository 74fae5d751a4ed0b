"""Benchmark `allocator.plan` (greedy and solver) against the full LP bound and a naive MIP peer.

    python benchmarks/bench_plan.py --sizes 100x60,1000x500 --time-limit 60 --seeds 1
    python benchmarks/bench_plan.py --quick          # CI smoke: 100x60, T = 10 s
    python benchmarks/bench_plan.py --sizes 1000x500 --exit-dated-share 0.5 --skip peer

For each size (households x units) and seed, the instance is `allocator.examples.generate` (start
2026-12-07, 26 weeks), and each method runs in its own fresh process, one at a time. Prints one
table (a column per instance) and writes one CSV row per instance to benchmarks/results/. See
benchmarks/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import os
import sys
from pathlib import Path

import tasks

RESULTS = Path(__file__).resolve().parent / "results"
# issue #2's targets, (gap to the full LP, wall seconds) by number of households: 100x60 optimal
# (within 0.1%) in 2 s, 1000x500 within 0.1% in 15 s, 5000x2500 (a city) within 1% in 120 s
TARGETS = {100: (1e-3, 2.0), 1000: (1e-3, 15.0), 5000: (1e-2, 120.0)}

# (CSV key, label in the printed table, format)
ROWS = [
    ("instance", "instance", "s"),
    ("greedy_s", "greedy: time [s]", ".2f"),
    ("greedy_obj", "greedy: objective", ".2f"),
    ("solver_s", "solver: wall time [s]", ".2f"),
    ("solver_obj", "solver: objective", ".2f"),
    ("solver_bound", "solver: own best_bound", ".2f"),
    ("solver_gap", "solver: own gap", "%"),
    ("solver_status", "solver: status", "s"),
    ("solver_source", "solver: plan from", "s"),
    ("solver_lp_bound", "solver: its LP bound", ".2f"),
    ("solver_lp_s", "solver: LP stage [s]", ".2f"),
    ("solver_mip_s", "solver: MIP stage [s]", ".2f"),
    ("improvement_pct", "solver vs greedy: objective [%]", ".3f"),
    ("improvement_hpn", "solver vs greedy: hotel person-nights", "d"),
    ("first_plan_s", "solver: first plan >= greedy [s]", ".2f"),
    ("solver_peak_mb", "solver: peak RSS [MB]", ".0f"),
    ("lp_value", "full LP: value", ".2f"),
    ("lp_bound", "full LP: bound from its duals", ".2f"),
    ("lp_s", "full LP: time [s]", ".2f"),
    ("lp_status", "full LP: status", "s"),
    ("lp_columns", "full LP: columns", "d"),
    ("lp_peak_mb", "full LP: peak RSS [MB]", ".0f"),
    ("solver_gap_lp", "solver: gap vs full LP", "%"),
    ("solver_gap_best", "solver: gap vs best bound", "%"),
    ("target", "target (issue #2)", "s"),
    ("meets_target", "solver: meets it", "s"),
    ("peer_s", "peer MIP: time [s]", ".2f"),
    ("peer_build_s", "peer MIP: of which build [s]", ".2f"),
    ("peer_obj", "peer MIP: objective", ".2f"),
    ("peer_bound", "peer MIP: HiGHS bound", ".2f"),
    ("peer_status", "peer MIP: status", "s"),
    ("peer_binaries", "peer MIP: binaries", "d"),
    ("peer_nnz", "peer MIP: non-zeros", "d"),
    ("peer_peak_mb", "peer MIP: peak RSS [MB]", ".0f"),
]


def verdict(row: dict, gap: float, seconds: float) -> str:
    """Whether a solver row meets its target: in time, and within the target's gap of the
    strongest lower bound at hand, the full LP's or the solver's own, whichever is higher.

    Where the LP relaxation has an integrality gap above the target's (100x60 seed 1: 0.13%), no
    plan is within it of the LP, and the solver's own bound (HiGHS's branch and bound, or the LP
    with cuts), which is valid and higher, is what a plan can be measured against.
    """
    if row["solver_s"] > seconds:
        return "NO"
    if row["solver_gap_lp"] <= gap:
        return "yes"
    if row["solver_gap_best"] <= gap:
        return "yes (against its own bound, above the LP's)"
    return "NO"


def parse_size(text: str) -> tuple[int, int]:
    try:
        n, u = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1000x500, got {text!r}") from None
    return n, u


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--sizes", default="100x60,1000x500", help="households x units, comma-separated"
    )
    ap.add_argument("--seeds", type=int, default=1, help="number of seeds per size")
    ap.add_argument(
        "--first-seed", type=int, default=1, help="seeds are first-seed, first-seed+1.."
    )
    ap.add_argument("--time-limit", type=float, default=60.0, help="solver and peer MIP limit [s]")
    ap.add_argument(
        "--gap", type=float, default=1e-4, help="solver's relative gap (plan's relative_gap)"
    )
    ap.add_argument("--lp-time-limit", type=float, default=600.0, help="full LP limit [s]")
    ap.add_argument(
        "--lp-algorithm",
        default="simplex",
        choices=["simplex", "ipm", "pdlp", "choose"],
        help="HiGHS LP algorithm for the full LP",
    )
    ap.add_argument(
        "--lp-method",
        default="auto",
        choices=["auto", "highs", "colgen"],
        help="full LP by HiGHS, or by column generation (auto: above 4M columns)",
    )
    ap.add_argument(
        "--peer-max-nnz", type=float, default=3e8, help="skip the peer MIP above this many nnz"
    )
    ap.add_argument(
        "--exit-dated-share",
        type=float,
        default=0.0,
        help="share of households with an exit date instead of a stay length (0..1); the peer\n"
        "MIP, which assumes fixed stay lengths, is then skipped",
    )
    ap.add_argument("--skip", default="", help="comma-separated: lp, peer")
    ap.add_argument("--quick", action="store_true", help="CI smoke run: 100x60, T = 10 s, 1 seed")
    ap.add_argument(
        "--csv", type=Path, default=None, help="CSV path (default: benchmarks/results/)"
    )
    ap.add_argument("--verbose", action="store_true", help="let solver logs through")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.seeds, args.time_limit = "100x60", 1, 10.0
        args.lp_time_limit = min(args.lp_time_limit, 60.0)
    args.sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = args.skip - {"lp", "peer"}
    if unknown:
        ap.error(f"--skip takes lp and/or peer, not {', '.join(sorted(unknown))}")
    if not 0.0 <= args.exit_dated_share <= 1.0:
        ap.error(f"--exit-dated-share must be from 0 to 1, not {args.exit_dated_share:g}")
    return args


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def failed(out: dict) -> str | None:
    """A short message for the table (the CSV keeps it whole)."""
    if out.get("ok"):
        return None
    first_line = str(out.get("error")).splitlines()[0]
    return "error: " + (first_line if len(first_line) <= 60 else first_line[:57] + "...")


def bench_instance(n: int, u: int, seed: int, args) -> dict:
    T = args.time_limit
    quiet = not args.verbose
    key = (n, u, seed)
    share = args.exit_dated_share
    name = f"{n}x{u} s{seed}" + (f" x{share:g}" if share else "")
    row: dict = {"instance": name, "households": n, "units": u, "seed": seed}
    row["exit_dated_share"] = share
    row["time_limit"], row["lp_time_limit"] = T, args.lp_time_limit

    g = tasks.run_isolated(tasks.greedy, key, timeout=600, quiet=quiet)
    log(f"{row['instance']}: greedy {g.get('seconds', g.get('error'))}")
    if not g["ok"]:
        row["greedy_obj"] = failed(g)
    else:
        row.update(greedy_s=g["seconds"], greedy_obj=g["objective"], first_plan_s=g["seconds"])

    s = tasks.run_isolated(tasks.solver, (*key, T, args.gap), timeout=2 * T + 300, quiet=quiet)
    log(f"{row['instance']}: solver {s.get('seconds', s.get('error'))}")
    row["solver_peak_mb"] = s.get("peak_mb")
    if not s["ok"]:
        row["solver_status"] = failed(s)
    else:
        row.update(
            solver_s=s["seconds"],
            solver_obj=s["objective"],
            solver_bound=s["best_bound"],
            solver_gap=s["gap"],
            solver_status=s["status"],
            solver_source=s["plan_source"],
            solver_lp_bound=s["lp_bound"],
            solver_lp_s=s["lp_seconds"],
            solver_mip_s=s["mip_seconds"],
        )
        if g["ok"]:
            row["improvement_pct"] = 100 * (g["objective"] - s["objective"]) / g["objective"]
            row["improvement_hpn"] = g["hotel_person_nights"] - s["hotel_person_nights"]

    if "lp" not in args.skip:
        lp_args = (*key, args.lp_time_limit, args.lp_algorithm, args.lp_method)
        lp = tasks.run_isolated(
            tasks.full_lp, lp_args, timeout=1.5 * args.lp_time_limit + 600, quiet=quiet
        )
        log(f"{row['instance']}: full LP {lp.get('seconds', lp.get('error'))}")
        row["lp_peak_mb"] = lp.get("peak_mb")
        if not lp["ok"]:
            row["lp_status"] = failed(lp)
        else:
            row.update(
                lp_value=lp["value"],
                lp_bound=lp["bound"],
                lp_s=lp["seconds"],
                lp_status=lp["status"],
                lp_columns=lp["columns"],
            )
            # the bound recomputed from the duals does not trust HiGHS's tolerances, and holds
            # even when the LP stopped at its time limit
            bound = lp["bound"] if lp["bound"] is not None else lp["value"]
            obj = row.get("solver_obj")
            if bound is not None and math.isfinite(bound) and obj is not None:
                row["solver_gap_lp"] = max(0.0, (obj - bound) / abs(obj)) if obj else 0.0
                own = row.get("solver_bound")
                best = max(bound, own) if isinstance(own, float) and math.isfinite(own) else bound
                row["solver_gap_best"] = max(0.0, (obj - best) / abs(obj)) if obj else 0.0
                if n in TARGETS:
                    gap, seconds = TARGETS[n]
                    row["target"] = f"{gap:.1%} in {seconds:g} s"
                    row["meets_target"] = verdict(row, gap, seconds)

    if "peer" not in args.skip:
        peer_args = (*key, T, args.peer_max_nnz, 1e-4)
        p = tasks.run_isolated(tasks.peer, peer_args, timeout=2 * T + 900, quiet=quiet)
        log(f"{row['instance']}: peer {p.get('status', p.get('error'))}")
        if not p["ok"]:
            row["peer_status"] = failed(p)
        else:
            row.update(
                peer_status=p["status"],
                peer_binaries=p.get("binaries"),
                peer_nnz=p.get("nnz"),
                peer_build_s=p.get("build_seconds"),
                peer_obj=p.get("objective"),
                peer_bound=p.get("bound"),
            )
            if "seconds" in p:
                row["peer_s"] = p["build_seconds"] + p["seconds"]
                row["peer_peak_mb"] = p["peak_mb"]
            if p.get("objective") is not None and abs(p["objective"] - p["rescored"]) > 1e-6:
                log(f"warning: peer objective {p['objective']} rescored as {p['rescored']}")
    return row


def fmt(value, spec: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-" if value is None else str(value)
    if spec == "s" or isinstance(value, str):
        return str(value)
    if spec == "%":
        return f"{100 * value:.3f}%"
    if spec == "d":
        return f"{int(value):,}"
    return f"{value:,{spec}}"


def table(rows: list[dict]) -> str:
    cells = [[label] + [fmt(r.get(k), spec) for r in rows] for k, label, spec in ROWS]
    widths = [max(len(line[j]) for line in cells) for j in range(len(cells[0]))]
    lines = []
    for i, line in enumerate(cells):
        first = line[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)]
        lines.append("  ".join([first, *rest]))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_csv(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = ["households", "units", "seed", "exit_dated_share", "time_limit", "lp_time_limit"]
    keys += [k for k, _, _ in ROWS]
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def main(argv=None) -> int:
    args = parse_args(argv)
    # the task processes read it (they are spawned, so they inherit the environment)
    os.environ[tasks.EXIT_DATED_SHARE_ENV] = repr(args.exit_dated_share)
    rows = []
    for n, u in args.sizes:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            rows.append(bench_instance(n, u, seed, args))
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = args.csv or RESULTS / f"bench_plan_{stamp}.csv"
    write_csv(rows, path)
    print(
        f"time limit {args.time_limit:g} s (solver, peer MIP), full LP limit "
        f"{args.lp_time_limit:g} s; gaps are (objective - bound) / objective"
    )
    print(table(rows))
    print(f"CSV: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
