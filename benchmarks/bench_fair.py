"""What the fairness bound costs, and what it buys (issue #21, part 4).

Usage (from the repository root)::

    python benchmarks/bench_fair.py milan --bounds 30 14 --replications 20 --workers 2

Simulates the scenario under the ``solver`` policy without the bound (``Policy.fair_wait_days``
none) and with each bound, on the same households (common random numbers: the same seed), plus
``greedy`` (first come, first served) once as the reference. Per bound it prints, paired per
replication with 95% t-intervals: the change in hotel person-nights, in total cost and in mean
wait against the solver without the bound; and, for every run, the households overtaken after
waiting N days as `allocator audit` counts them (a unit with enough beds, step-free when needed,
went to a household that asked later). The audit's count looks at beds and access only, not at
dates, so a few overtakings remain under the bound: units that could not have held the earlier
household for its whole stay. Last, the groups whose mean wait under each solver run is longer
than under greedy's (paired per replication), to show which groups the bound helps.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from allocator.analysis import fairness
from allocator.simulation.results import mean_interval
from allocator.simulation.runner import simulate
from allocator.simulation.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ("hotel_person_nights", "total_cost", "wait_mean")


def with_bound(scenario, bound: int | None, years: int):
    """The scenario with ``fair_wait_days`` = ``bound`` (and ``years`` measured years)."""
    update: dict = {"policy": scenario.policy.model_copy(update={"fair_wait_days": bound})}
    if years:
        update["horizon_weeks"] = 52 * years
    return scenario.model_copy(update=update)


def label(bound: int | None) -> str:
    return "solver" if bound is None else f"solver_fair{bound}"


def run(scenario, bound: int | None, a: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One simulation: its per-replication table and per-household records, the solver's
    renamed after the bound."""
    policies = ["solver", "greedy"] if bound is None else ["solver"]
    t0 = time.perf_counter()
    result = simulate(
        with_bound(scenario, bound, a.years),
        replications=a.replications,
        seed=a.seed,
        policies=policies,
        workers=a.workers,
        time_limit=a.time_limit,
    )
    print(f"  {label(bound)}: {time.perf_counter() - t0:.0f} s", flush=True)
    keep = {"solver", "greedy"}  # `simulate` adds the hotel baseline to every run
    reps = result.replications[result.replications["policy"].isin(keep)]
    reps = reps.replace({"policy": {"solver": label(bound)}})
    records = fairness.records_from_simulation(result)
    records = records[records["policy"].isin(keep)]
    records = records.assign(policy=records["policy"].replace({"solver": label(bound)}))
    return reps, records


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default="milan")
    ap.add_argument("--bounds", type=int, nargs="+", default=[30])
    ap.add_argument("--replications", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=5.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--years", type=int, default=0, help="measured years (default: the scenario's)")
    a = ap.parse_args()
    scenario = load_scenario(ROOT / "scenarios" / f"{a.scenario}.yaml")
    t0 = time.perf_counter()
    runs = [run(scenario, b, a) for b in [None, *a.bounds]]
    reps = pd.concat([r for r, _ in runs], ignore_index=True)
    records = pd.concat([h for _, h in runs], ignore_index=True)
    print(
        f"{a.scenario}, {a.replications} replications, seed {a.seed}, time limit "
        f"{a.time_limit:g} s, {time.perf_counter() - t0:.0f} s wall"
    )
    table = reps.pivot(index="replication", columns="policy", values=list(FIGURES))
    print("\nper replication, mean [95% t-interval]; bound minus no bound, paired:")
    for policy in ["greedy", "solver", *(label(b) for b in a.bounds)]:
        cells = []
        for fig in FIGURES:
            m, lo, hi = mean_interval(table[fig][policy])
            cells.append(f"{fig} {m:,.1f} [{lo:,.1f}, {hi:,.1f}]")
        print(f"  {policy:16s} " + "; ".join(cells))
    for b in a.bounds:
        cells = []
        for fig in FIGURES:
            d = table[fig][label(b)] - table[fig]["solver"]
            m, lo, hi = mean_interval(d)
            base = float(table[fig]["solver"].mean())
            cells.append(f"{fig} {m:+,.1f} [{lo:+,.1f}, {hi:+,.1f}] ({100 * m / base:+.2f}%)")
        print(f"  {label(b)} - solver: " + "; ".join(cells))
    bounds = sorted({0, *a.bounds})
    over = fairness.overtaken(records, bounds)
    print("\nhouseholds overtaken after waiting N days (audit's count), per replication:")
    for row in over.itertuples():
        print(
            f"  {row.policy:16s} N={row.bound_days:3d}: {row.households:7.1f} "
            f"[{row.households_low:.1f}, {row.households_high:.1f}] households "
            f"({100 * row.share:.2f}%), {row.nights:,.0f} waiting nights after"
        )
    print("\ngroups waiting longer than under greedy (paired, interval above zero):")
    for policy in ["solver", *(label(b) for b in a.bounds)]:
        c = fairness.compare_policies(records, policy, "greedy")
        longer = c[c["longer"]]
        text = ", ".join(
            f"{g.grouping}={g.group} {g.difference:+.1f} d [{g.ci_low:+.1f}, {g.ci_high:+.1f}]"
            for g in longer.itertuples()
        )
        print(f"  {policy}: {text or 'none'}")
    print(f"\n{np.sum(reps['seconds']):.0f} s of replication time in all")


if __name__ == "__main__":
    main()
