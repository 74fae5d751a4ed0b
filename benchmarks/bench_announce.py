"""Announcing placements N weeks ahead: churn against hotel nights (issue #21, part 1).

Usage (from the repository root)::

    python benchmarks/bench_announce.py milan --policy solver --weeks 0 1 2 4 \\
        --weights 100 --firm both --replications 20 --time-limit 2 --workers 2

For each (weeks, weight) it runs the engine's weekly loop on the same households per replication
(common random numbers, `SeedSequence(seed).spawn`) and prints the hotel person-nights of the
measured years (mean and 95% interval over replications), their change against no announcement,
and the churn: the share of announced placements changed before move-in (pooled over
replications, with the counts).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from allocator.simulation import load_scenario
from allocator.simulation.announcing import churn
from allocator.simulation.results import outcome
from allocator.simulation.sampling import build_units, sample_households
from allocator.simulation.weekly import run_engine

ROOT = Path(__file__).resolve().parent.parent


def replication_inputs(name: str, weight: float, years: int, seed: int, reps: int, k: int):
    """The scenario at ``weight`` (and ``years`` measured years), its units and replication k's
    households: the same households at every weight (common random numbers)."""
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    update: dict = {"policy": scenario.policy.model_copy(update={"announcement_weight": weight})}
    if years:
        update["horizon_weeks"] = 52 * years
    scenario = scenario.model_copy(update=update)
    hh = sample_households(scenario, np.random.SeedSequence(seed).spawn(reps)[k])
    return scenario, build_units(scenario), hh


def run_all(one, jobs: list, workers: int, csv: str | None) -> list[dict]:
    """Each job's row, in order, with progress on stderr; the rows also to ``csv`` if given."""
    t0 = time.perf_counter()
    rows = []
    with ProcessPoolExecutor(workers) as pool:
        for k, row in enumerate(pool.map(one, jobs)):
            rows.append(row)
            print(f"{k + 1}/{len(jobs)} done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    if csv:
        import pandas as pd

        pd.DataFrame(rows).to_csv(csv, index=False)
    return rows


def one(args: tuple) -> dict:
    scenario_name, policy, weeks, weight, replication, seed, time_limit, reps, firm, years = args
    scenario, units, hh = replication_inputs(scenario_name, weight, years, seed, reps, replication)
    t0 = time.perf_counter()
    alloc = run_engine(
        scenario,
        units,
        hh,
        method=policy,
        time_limit=time_limit,
        announce_weeks=weeks,
        announce_firm_only=firm,
    )
    row, _ = outcome(scenario, units, hh, alloc, policy)
    return {
        "weeks": weeks,
        "weight": weight,
        "firm": firm,
        "replication": replication,
        "hotel": row["hotel_person_nights"],
        "made": alloc.announced,
        "kept": alloc.announcements_kept,
        "changed": alloc.announcements_changed,
        "forced": alloc.announcements_forced,
        "seconds": time.perf_counter() - t0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default="milan")
    ap.add_argument("--policy", default="solver", choices=["solver", "greedy"])
    ap.add_argument("--weeks", type=int, nargs="+", default=[0, 1, 2, 4])
    ap.add_argument("--weights", type=float, nargs="+", default=[100.0])
    ap.add_argument("--replications", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=2.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--csv", default=None, help="also write the per-replication rows here")
    ap.add_argument("--years", type=int, default=0, help="measured years (default: the scenario's)")
    ap.add_argument(
        "--combos",
        nargs="+",
        default=None,
        help="WEEKS:WEIGHT:FIRM triples (e.g. 2:100:yes) instead of --weeks x --weights x --firm",
    )
    ap.add_argument(
        "--firm",
        choices=["no", "yes", "both"],
        default="no",
        help="announce only placements behind a departure already known (or a free unit)",
    )
    a = ap.parse_args()
    firms = {"no": [False], "yes": [True], "both": [False, True]}[a.firm]
    combos = [(0, a.weights[0], False)] + [
        (w, x, f) for f, w, x in itertools.product(firms, a.weeks, a.weights) if w > 0
    ]
    if a.combos:
        combos = [(0, a.weights[0], False)] + [
            (int(w), float(x), f == "yes") for w, x, f in (c.split(":") for c in a.combos)
        ]
    jobs = [
        (a.scenario, a.policy, w, x, r, a.seed, a.time_limit, a.replications, f, a.years)
        for (w, x, f) in combos
        for r in range(a.replications)
    ]
    t0 = time.perf_counter()
    rows = run_all(one, jobs, a.workers, a.csv)
    base = {r["replication"]: r["hotel"] for r in rows if r["weeks"] == 0}
    print(
        f"{a.scenario} ({a.years or 'all'} measured years), policy {a.policy}, "
        f"{a.replications} replications, seed {a.seed}, "
        f"time limit {a.time_limit:g} s "
        f"({time.perf_counter() - t0:.0f} s wall)"
    )
    print(
        "weeks  firm  weight   hotel p-n (95% CI)   vs none: paired diff (95% CI), ratio of "
        "means   churn   changed/ended (forced by a rule)"
    )
    for w, x, f in combos:
        sel = [r for r in rows if (r["weeks"], r["weight"], r["firm"]) == (w, x, f)]
        hotel = np.array([r["hotel"] for r in sel], dtype=float)
        diff = np.array([r["hotel"] - base[r["replication"]] for r in sel], dtype=float)
        ratio = 100 * (hotel.mean() / np.mean([base[r["replication"]] for r in sel]) - 1)
        kept = sum(r["kept"] for r in sel)
        changed = sum(r["changed"] for r in sel)
        ended = kept + changed
        forced = sum(r["forced"] for r in sel)
        pooled = 100 * churn(kept, changed)
        print(
            f"{w:5d}  {'yes' if f else 'no':4s}  {x:6g}   {hotel.mean():9.0f} ({_ci(hotel):5.0f})    "
            f"{diff.mean():+7.0f} ({_ci(diff):5.0f}), {ratio:+5.1f}%     "
            f"{pooled:5.1f}%  {changed}/{ended} ({forced})"
        )


def _ci(x: np.ndarray) -> float:
    """Half-width of the 95% interval of the mean (normal approximation)."""
    return float(1.96 * x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else float("nan")


if __name__ == "__main__":
    main()
