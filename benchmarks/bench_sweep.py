"""The Milan capacity sweep with the optimiser policy, on local processes and on a Dask cluster.

Usage (from the repository root)::

    python benchmarks/bench_sweep.py                      # the issue's sweep: 35 x 20 x 10 years
    python benchmarks/bench_sweep.py --mixes 2 --replications 4 --years 1   # minutes, not days

The grid is issue #22's: hub rooms 20:50:5 x flats 0:40:10 (35 mixes, rooms-major;
``--mixes N`` keeps N of them spread evenly over the grid, the first and the last included),
each mix ``--replications`` replications of ``--years`` measured years (plus the scenario's
warm-up), policy ``solver`` and the hotel baseline. Every (mix, replication) is one task, as
`allocator.analysis.capacity.capacity(..., client=...)` runs it, on each backend:

- ``processes``: a local process pool of ``--workers`` processes;
- ``cluster1``, ``cluster2``: a loopback cluster (``dask scheduler`` and 1 or 2 ``dask worker``
  processes with one thread each) that the script starts and stops; its start-up is not timed.

It prints each backend's wall time, the CPU time its workers used, the weekly plans solved and
the CPU per solve (the workers' CPU over the plan calls: the hotel baseline, sampling and Dask's
overhead included; unlike wall time, not inflated by other work on the machine), checks that
every backend gives the same numbers, the scaling from 1 to 2 workers, and what the full sweep
needs on 64 cores.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd

from allocator.analysis.capacity import variant
from allocator.simulation import load_scenario, vary
from allocator.simulation.cluster import LoopbackCluster, connect
from allocator.simulation.runner import replication_jobs, replication_tables, run_jobs

ROOT = Path(__file__).resolve().parent.parent
ROOMS = range(20, 51, 5)
FLATS = range(0, 41, 10)
FULL = {"mixes": len(ROOMS) * len(FLATS), "replications": 20, "years": 10}
BACKENDS = ("processes", "cluster1", "cluster2")


def jobs_for(args: argparse.Namespace) -> list[tuple]:
    milan = load_scenario(ROOT / "scenarios" / "milan.yaml")
    base = vary(milan, {"horizon_weeks": 52 * args.years}, source=f"milan, {args.years} years")
    grid = [(r, f) for r in ROOMS for f in FLATS]
    # spread over the grid: a small mix is overloaded and its weekly solves are the slowest
    picks = sorted({round(k * (len(grid) - 1) / max(args.mixes - 1, 1)) for k in range(args.mixes)})
    mixes = [grid[k] for k in picks]
    policies = [args.policy, "hotel"]
    return [
        job
        for rooms, flats in mixes
        for job in replication_jobs(
            variant(base, rooms, flats), args.replications, args.seed, policies, args.time_limit
        )
    ]


def run(backend: str, jobs: list[tuple], workers: int) -> tuple[float, float, list[tuple]]:
    """The sweep on ``backend``: wall time and the CPU time its workers used (cluster start-up
    excluded from both), and the results."""
    if backend == "processes":
        before = _children_cpu()
        t0 = time.perf_counter()
        results = run_jobs(jobs, workers=workers)  # the pool's processes are reaped on return
        return time.perf_counter() - t0, _children_cpu() - before, results
    n = int(backend.removeprefix("cluster"))
    with tempfile.TemporaryDirectory() as folder, LoopbackCluster(folder) as cluster:
        cluster.start_scheduler()
        for k in range(n):
            cluster.start_worker(f"w{k}")
        with connect(cluster.address) as client:
            client.wait_for_workers(n, timeout=cluster.start_timeout)
            before = _workers_cpu(cluster)
            t0 = time.perf_counter()
            results = run_jobs(jobs, client=client)
            wall = time.perf_counter() - t0
            return wall, _workers_cpu(cluster) - before, results


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _workers_cpu(cluster: LoopbackCluster) -> float:
    """User + system seconds of every worker process (nannies and their workers)."""
    import psutil  # distributed's own dependency

    total = 0.0
    for proc in cluster.workers.values():
        root = psutil.Process(proc.pid)
        for p in [root, *root.children(recursive=True)]:
            times = p.cpu_times()
            total += times.user + times.system
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mixes", type=int, default=FULL["mixes"])
    parser.add_argument("--replications", type=int, default=FULL["replications"])
    parser.add_argument("--years", type=int, default=FULL["years"])
    parser.add_argument("--policy", default="solver")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated")
    parser.add_argument("--workers", type=int, default=2, help="processes backend")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=10.0)
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not 1 <= args.mixes <= FULL["mixes"] or args.replications < 1 or args.years < 1:
        parser.error(f"--mixes is 1 to {FULL['mixes']}; --replications and --years >= 1")
    if set(backends) - set(BACKENDS):
        parser.error(f"--backends are some of {', '.join(BACKENDS)}")
    jobs = jobs_for(args)
    weeks = jobs[0][0].warmup_weeks + jobs[0][0].horizon_weeks
    mixes = len(jobs) // args.replications
    print(
        f"milan sweep: {mixes} mixes x {args.replications} replications x {args.years} "
        f"years (+ {jobs[0][0].warmup_weeks} warm-up weeks), policy {args.policy} + hotel: "
        f"{len(jobs)} tasks"
    )
    times: dict[str, float] = {}
    reference: pd.DataFrame | None = None
    cpu_per_solve = solves = 0.0
    for backend in backends:
        wall, cpu, results = run(backend, jobs, args.workers)
        n = args.replications
        reps = pd.concat(
            [replication_tables(results[k : k + n])[0] for k in range(0, len(results), n)],
            keys=range(len(results) // n),
            names=["mix", None],
        )
        mine = reps[reps["policy"] == args.policy]
        solves = float(mine["plan_calls"].sum())
        in_policy = float(mine["seconds"].sum()) / max(solves, 1)
        cpu_per_solve = cpu / max(solves, 1)
        label = f"processes x{args.workers}" if backend == "processes" else backend
        print(
            f"  {label:<13} {wall:8.1f} s wall, {cpu:8.1f} s CPU of the workers, "
            f"{solves:,.0f} weekly plans: {cpu_per_solve * 1000:.1f} ms CPU per solve "
            f"(everything in the task), {in_policy * 1000:.1f} ms wall per solve in the policy"
        )
        tasks = reps.reset_index(level=0).groupby(["mix", "replication"])["seconds"].sum()
        print(
            f"  {'':<13} tasks {tasks.sum():.1f} s in all, the longest {tasks.max():.1f} s "
            "(a bound on the wall time however many workers)"
        )
        numbers = reps.drop(columns="seconds")
        if reference is None:
            reference = numbers
        else:
            pd.testing.assert_frame_equal(reference, numbers)  # same seed, same numbers
        times[backend] = wall
    if len(backends) > 1:
        print("  every backend gave the same numbers")
    if {"cluster1", "cluster2"} <= times.keys():
        print(f"  scaling 1 -> 2 workers: {times['cluster1'] / times['cluster2']:.2f}x")
    _full_sweep(cpu_per_solve, solves / len(jobs) / weeks)


def _full_sweep(per_solve: float, solves_per_week: float) -> None:
    """The issue's sweep on 64 cores, from the last backend's CPU per solve (perfect scaling)."""
    weeks = 52 + 52 * FULL["years"]
    full = FULL["mixes"] * FULL["replications"] * weeks * solves_per_week
    cpu = full * per_solve
    print(
        f"  full sweep: {FULL['mixes']} x {FULL['replications']} x {weeks} weeks x "
        f"{solves_per_week:.2f} solves a week = {full:,.0f} solves x {per_solve * 1000:.1f} ms "
        f"= {cpu / 3600:.1f} CPU-hours; on 64 cores {cpu / 64 / 60:.0f} min at perfect scaling"
    )


if __name__ == "__main__":
    main()
