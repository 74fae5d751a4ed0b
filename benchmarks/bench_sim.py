"""Simulation benchmarks: Milan over 10 years, and the M/M/c validation case against Ciw.

Usage (from the repository root)::

    python benchmarks/bench_sim.py milan --policy fcfs_fast --replications 100 --workers 2
    python benchmarks/bench_sim.py milan --policy greedy --replications 4 --workers 2
    python benchmarks/bench_sim.py ciw --customers 100000
    python benchmarks/bench_sim.py warm --replications 4 --workers 2
    python benchmarks/bench_sim.py settings --replications 20 --workers 2 \
        --other '{"initial_columns_per_household": 3, "columns_added_per_household": 20}'

``milan`` times a sweep (policy + hotel baseline) and extrapolates to 100 replications when run
with fewer. ``settings`` runs the optimiser policy on each replication twice, in one process,
with the weekly loop's settings (`weekly_engine`) and with them changed by ``--other`` (JSON
of `EngineParams` fields), the order alternating between replications, and prints each pair's
CPU seconds: paired, the comparison holds on a machine whose speed drifts between runs. ``warm`` runs the optimiser policy's weekly loop on the same replications solved from
scratch each week and warm-started (`allocator.engine.optimiser.warm`), and prints each one's CPU
seconds per replication, whether the allocations are the same and the hotel person-nights. ``ciw`` runs the same M/M/c case (lambda=4, mu=1, c=5) in our event-driven engine
and in Ciw, and prints both mean waits with 95% batch-means intervals, Erlang C, and run times.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import time
from pathlib import Path

import numpy as np

from allocator.engine.params import EngineParams
from allocator.simulation import load_scenario, mmc_mean_wait, simulate, simulate_mmc
from allocator.simulation.queueing import batch_means
from allocator.simulation.results import outcome
from allocator.simulation.sampling import build_units, sample_households
from allocator.simulation.weekly import allocate, weekly_engine

ROOT = Path(__file__).resolve().parent.parent


def bench_milan(args: argparse.Namespace) -> None:
    scenario = load_scenario(ROOT / "scenarios" / f"{args.scenario}.yaml")
    t0, cpu0 = time.perf_counter(), _cpu_seconds()
    res = simulate(
        scenario,
        replications=args.replications,
        seed=args.seed,
        policies=[args.policy],
        workers=args.workers,
        time_limit=args.time_limit,
    )
    wall = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    per100 = wall / args.replications * 100
    reps = res.replications[res.replications["policy"] == args.policy]
    print(
        f"{args.scenario}: {args.replications} replications x {scenario.horizon_weeks} weeks, "
        f"policy {args.policy} (+ hotel), {args.workers} worker(s): {wall:.1f} s wall "
        f"({per100:.1f} s per 100 replications); per replication {reps['seconds'].mean():.2f} s "
        f"wall in the policy, {reps['plan_calls'].mean():.0f} plan calls"
    )
    # on a shared machine CPU time moves far less with the other work than wall time
    print(
        f"CPU: {cpu:.1f} s in all ({cpu / args.replications:.2f} s per replication, policies "
        f"and hotel baseline); load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(res.wide_summary().to_string())


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished workers (a process pool's workers are
    waited for when it shuts down)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _replication(
    scenario_path: Path,
    seed: np.random.SeedSequence,
    warm: bool,
    time_limit: float,
    engine: EngineParams | None = None,
):
    """One replication's optimiser policy: CPU seconds, plan calls, allocation, hotel nights."""
    scenario = load_scenario(scenario_path)
    units, hh = build_units(scenario), sample_households(scenario, seed)
    began = time.process_time()
    alloc = allocate(
        "solver", scenario, units, hh, time_limit=time_limit, warm_start=warm, engine=engine
    )
    cpu = time.process_time() - began
    row = outcome(scenario, units, hh, alloc, "solver")[0]
    return cpu, alloc.plan_calls, alloc, row["hotel_person_nights"]


def bench_warm(args: argparse.Namespace) -> None:
    from concurrent.futures import ProcessPoolExecutor

    path = ROOT / "scenarios" / f"{args.scenario}.yaml"
    seeds = np.random.SeedSequence(args.seed).spawn(args.replications)
    results = {}
    for warm in (False, True):  # cold first: the order the sweep would pay them in
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            n = len(seeds)
            runs = list(
                pool.map(_replication, [path] * n, seeds, [warm] * n, [args.time_limit] * n)
            )
        results[warm] = (time.perf_counter() - t0, runs)
    for warm, (wall, runs) in results.items():
        cpu = np.mean([r[0] for r in runs])
        hotel = np.mean([r[3] for r in runs])
        print(
            f"{'warm' if warm else 'cold'}: {args.replications} replications, {args.workers} "
            f"worker(s): {wall:.1f} s wall ({wall / args.replications * 100:.0f} s per 100); "
            f"{cpu:.2f} s CPU per replication, {runs[0][1]} plan calls; "
            f"mean hotel person-nights {hotel:,.0f}"
        )
    same = sum(
        np.array_equal(a[2].unit, b[2].unit)
        and np.array_equal(a[2].start, b[2].start, equal_nan=True)
        for a, b in zip(results[False][1], results[True][1], strict=True)
    )
    print(f"allocations identical in {same} of {args.replications} replications")


def _paired(
    scenario_path: Path,
    seed: np.random.SeedSequence,
    other: EngineParams,
    time_limit: float,
    other_first: bool,
) -> tuple[float, float, float, float]:
    """One replication's optimiser policy with the weekly settings and with ``other``: CPU
    seconds and hotel person-nights of each."""
    runs = {}
    for engine in (other, weekly_engine()) if other_first else (weekly_engine(), other):
        cpu, _, _, hotel = _replication(scenario_path, seed, False, time_limit, engine)
        runs[engine is other] = (cpu, hotel)
    return (*runs[False], *runs[True])


def bench_settings(args: argparse.Namespace) -> None:
    from concurrent.futures import ProcessPoolExecutor

    other = weekly_engine().changed(json.loads(args.other))
    path = ROOT / "scenarios" / f"{args.scenario}.yaml"
    n = args.replications
    seeds = np.random.SeedSequence(args.seed).spawn(n)
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        pairs = list(
            pool.map(
                _paired,
                [path] * n,
                seeds,
                [other] * n,
                [args.time_limit] * n,
                [k % 2 == 1 for k in range(n)],
            )
        )
    for k, (own, _, theirs, _) in enumerate(pairs):
        print(f"replication {k}: weekly settings {own:.2f} s, other {theirs:.2f} s")
    own, own_hotel, theirs, their_hotel = np.mean(pairs, axis=0)
    faster = sum(p[0] < p[2] for p in pairs)
    print(
        f"{n} replications (seed {args.seed}), {args.workers} worker(s), CPU per replication: "
        f"weekly settings {own:.2f} s, other {theirs:.2f} s ({own / theirs - 1:+.1%}); weekly "
        f"settings faster in {faster} of {n}; mean hotel person-nights {own_hotel:,.0f} against "
        f"{their_hotel:,.0f}"
    )


def _ciw_run(lam: float, mu: float, c: int, n: int, seed: int) -> tuple[np.ndarray, float]:
    import ciw

    ciw.seed(seed)  # Ciw only offers a global seed; acceptable in a benchmark
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=lam)],
        service_distributions=[ciw.dists.Exponential(rate=mu)],
        number_of_servers=[c],
    )
    t0 = time.perf_counter()
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(n / lam)
    recs = sorted(sim.get_all_records(), key=lambda r: r.arrival_date)
    return np.array([r.waiting_time for r in recs]), time.perf_counter() - t0


def bench_ciw(args: argparse.Namespace) -> None:
    lam, mu, c, n = 4.0, 1.0, 5, args.customers
    warm = n // 10
    t0 = time.perf_counter()
    ours = simulate_mmc(lam, mu, c, n, seed=args.seed)
    t_ours = time.perf_counter() - t0
    w_ciw, t_ciw = _ciw_run(lam, mu, c, n, args.seed)
    m1, h1 = batch_means(ours.wait[warm:], 30)
    m2, h2 = batch_means(w_ciw[len(w_ciw) // 10 :], 30)
    theory = mmc_mean_wait(lam, mu, c)
    print(f"M/M/{c}, lambda={lam}, mu={mu}, ~{n} customers; Erlang C mean wait {theory:.4f}")
    print(f"  allocator fcfs_kernel: {m1:.4f} +- {h1:.4f}  in {t_ours:.2f} s")
    print(f"  ciw {__import__('ciw').__version__}:          {m2:.4f} +- {h2:.4f}  in {t_ciw:.2f} s")
    ok = abs(m1 - theory) <= h1 and abs(m2 - theory) <= h2 and abs(m1 - m2) <= math.hypot(h1, h2)
    print(f"  agree within intervals: {ok}; speed-up {t_ciw / t_ours:.1f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    # what every Milan mode takes; each sets its own replications and seed defaults
    runs = argparse.ArgumentParser(add_help=False)
    runs.add_argument("--scenario", default="milan")
    runs.add_argument("--workers", type=int, default=2)
    runs.add_argument("--time-limit", type=float, default=10.0)
    modes = {}
    for name, func, replications, seed in (
        ("milan", bench_milan, 100, 1),
        ("warm", bench_warm, 4, 1),
        ("settings", bench_settings, 10, 0),
    ):
        mode = modes[name] = sub.add_parser(name, parents=[runs])
        mode.add_argument("--replications", type=int, default=replications)
        mode.add_argument("--seed", type=int, default=seed)
        mode.set_defaults(func=func)
    modes["milan"].add_argument("--policy", default="fcfs_fast")
    modes["settings"].add_argument(
        "--other", required=True, help="EngineParams fields to change, as JSON"
    )
    q = sub.add_parser("ciw")
    q.add_argument("--customers", type=int, default=100_000)
    q.add_argument("--seed", type=int, default=1)
    q.set_defaults(func=bench_ciw)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
