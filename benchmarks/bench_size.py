"""Benchmark the solver's size limits: time, memory and what it did, from 1,000 to 100,000 households.

    python benchmarks/bench_size.py --time-limit 5
    python benchmarks/bench_size.py --sizes 1000,5000 --time-limit 30 --max-memory 2e9

For each N the instance is `allocator.examples.generate(N, N // 2, seed=1)` (start 2026-12-07,
26 weeks, the default policy), planned by ``plan(method="solver", time_limit=T)`` in a fresh
process (`tasks.run_isolated`), one size after the other: run no other benchmark beside it, the
peak memory is the machine's. Prints one row per size: the plan's wall time (validation, model
and explanations included) against the limit, the process's peak resident memory (generating
the instance included), the status, the solver's estimate of its model (columns, memory) and the
columns it built (none when the model did not fit), and the detail (what planned the batch).
``--no-reasons`` leaves out the explanations, which `plan` writes after the solver's limit.
"""

from __future__ import annotations

import argparse
import sys
import time

import tasks

START = "2026-12-07"


def plan_once(
    n_households: int, time_limit: float, max_memory: float | None, reasons: bool
) -> dict:
    """One plan in this (fresh) process: the figures of one row."""
    import allocator
    from allocator.examples import generate

    t0 = time.perf_counter()
    households, units, stays = generate(n_households, n_households // 2, seed=1)
    generated = time.perf_counter() - t0
    t1 = time.perf_counter()
    plan = allocator.plan(
        households,
        units,
        stays,
        start=START,
        time_limit=time_limit,
        max_memory=max_memory,
        reasons=reasons,
    )
    details = plan.details
    greedy = details.get("greedy_objective")
    return {
        "generate_s": generated,
        "plan_s": time.perf_counter() - t1,
        "status": plan.status.value,
        "estimate_columns": details.get("model_columns_estimate"),
        "estimate_gb": (details.get("model_bytes_estimate") or 0) / 1e9,
        "max_memory_gb": (details.get("max_memory") or 0) / 1e9,
        "built_columns": details.get("columns"),
        "vs_greedy_pct": 100 * (greedy - plan.objective) / greedy if greedy else None,
        "detail": details.get("size_limit") or details.get("solver_detail"),
    }


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--sizes",
        default="1000,5000,20000,100000",
        help="households, comma-separated (units: half as many)",
    )
    ap.add_argument("--time-limit", type=float, default=5.0, help="the solver's limit [s]")
    ap.add_argument(
        "--max-memory", type=float, default=None, help="bytes (default: the solver's own)"
    )
    ap.add_argument(
        "--no-reasons",
        action="store_true",
        help="skip the explanations (their time comes after the solver's limit)",
    )
    return ap.parse_args(argv)


def _cell(value, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def main(argv=None) -> None:
    args = parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    T = args.time_limit
    print(
        f"{'N':>7} {'plan s':>7} {'over T':>7} {'peak MB':>8} {'status':>9} {'est cols':>12}"
        f" {'est GB':>7} {'limit GB':>8} {'built cols':>11} {'vs greedy':>9}  detail"
    )
    for n in sizes:
        print(f"planning {n} households, T = {T:g} s ...", file=sys.stderr, flush=True)
        task = (n, T, args.max_memory, not args.no_reasons)
        r = tasks.run_isolated(plan_once, task, timeout=max(900.0, 20 * T))
        if not r.get("ok"):
            print(f"{n:>7} failed: {r.get('error')} (peak {r.get('peak_mb', 0):.0f} MB)")
            continue
        print(
            f"{n:>7} {r['plan_s']:>7.2f} {r['plan_s'] - T:>+7.2f} {r['peak_mb']:>8.0f}"
            f" {r['status']:>9} {_cell(r['estimate_columns'], ',d'):>12}"
            f" {r['estimate_gb']:>7.2f} {r['max_memory_gb']:>8.2f}"
            f" {_cell(r['built_columns'] or None, ',d'):>11}"
            f" {_cell(r['vs_greedy_pct'], '.1f'):>8}%  {r['detail']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
