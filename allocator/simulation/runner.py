"""Replications: seeds, processes or a Dask cluster, and the result tables.

Replication ``r`` draws everything from ``SeedSequence(seed).spawn(replications)[r]``; results are
put back in replication order, so the numbers are the same whatever the number of workers or the
backend (processes, a Dask LocalCluster or a remote Dask cluster, `cluster`). Inside a replication
every policy sees the same households.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from allocator.choices import SIMULATION_POLICIES
from allocator.engine.params import EngineParams
from allocator.errors import InputError
from allocator.simulation.announcing import churn
from allocator.simulation.results import (
    PAIRED,
    SimulationResult,
    household_records,
    household_table,
    outcome,
    summarise,
)
from allocator.simulation.sampling import build_units, sample_households
from allocator.simulation.scenario import Scenario, validate_scenario
from allocator.simulation.weekly import POLICIES, allocate

log = logging.getLogger("allocator")

DEFAULT_POLICIES = SIMULATION_POLICIES


def run_replication(
    scenario: Scenario,
    replication: int,
    seed: np.random.SeedSequence,
    policies: Sequence[str],
    time_limit: float = 10.0,
    engine: EngineParams | None = None,
) -> tuple[list[dict[str, Any]], list[pd.DataFrame], list[pd.DataFrame]]:
    """All policies on one replication's households (common random numbers): metrics rows,
    weekly tables and per-household records (`household_records`, not for the hotel baseline).
    ``engine``: the engine policies' settings (None: the weekly loop's, `weekly_engine`)."""
    units = build_units(scenario)
    hh = sample_households(scenario, seed)
    rows, weeks, records = [], [], []
    for policy in policies:
        t0 = time.perf_counter()
        alloc = allocate(policy, scenario, units, hh, time_limit=time_limit, engine=engine)
        row, weekly = outcome(scenario, units, hh, alloc, policy)
        row = {"replication": replication, "policy": policy, **row}
        row["seconds"] = time.perf_counter() - t0
        row["plan_calls"] = alloc.plan_calls
        if scenario.announce_weeks:
            row["announcement_churn"] = churn(alloc.announcements_kept, alloc.announcements_changed)
            row["announcements_forced"] = alloc.announcements_forced
        rows.append(row)
        weekly.insert(0, "policy", policy)
        weekly.insert(0, "replication", replication)
        weeks.append(weekly)
        if policy != "hotel":
            rec = household_records(scenario, units, hh, alloc, policy)
            rec.insert(0, "policy", policy)
            rec.insert(0, "replication", replication)
            records.append(rec)
    return rows, weeks, records


def ignore_interrupts() -> None:
    """A worker process's initializer: Ctrl-C is its parent's to handle.

    The terminal sends SIGINT to every process of the foreground group, workers included; each
    would print a KeyboardInterrupt traceback. The parent decides (the command line ends its
    workers when it aborts; a Python caller's interrupted `simulate` shuts the pool down).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """Processes whose workers ignore Ctrl-C (`ignore_interrupts`); when the block fails or is
    interrupted, the work not started is cancelled and the workers are ended, not waited for."""
    pool = ProcessPoolExecutor(max_workers=workers, initializer=ignore_interrupts)
    try:
        yield pool
    except BaseException:
        # the pool has no public way to end its workers before Python 3.14
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        raise
    pool.shutdown(wait=True)


def check_seed(seed: object, field: str = "seed") -> int:
    """A master seed is a whole number >= 0 (what `numpy.random.SeedSequence` takes)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"expected a whole number >= 0, got {seed!r}", field=field)
    return int(seed)


def check_engine(engine: object) -> None:
    """The solver's settings are an `EngineParams`, or None for the weekly loop's own."""
    if engine is not None and not isinstance(engine, EngineParams):
        raise InputError(f"expected EngineParams or None, got {engine!r}", field="engine")


def _check_policies(policies: Sequence[str]) -> list[str]:
    policies = list(dict.fromkeys(policies))
    bad = [p for p in policies if p not in POLICIES]
    if bad or not policies:
        raise InputError(
            f"unknown policy {bad[0] if bad else '(none)'}; expected some of {', '.join(POLICIES)}",
            field="policies",
        )
    return policies


def replication_jobs(
    scenario: Scenario,
    replications: int,
    seed: int,
    policies: Sequence[str],
    time_limit: float,
    engine: EngineParams | None = None,
) -> list[tuple]:
    """The arguments of `run_replication` for replications ``0 .. replications - 1``: replication
    ``r`` draws from ``SeedSequence(seed).spawn(replications)[r]``."""
    seeds = np.random.SeedSequence(seed).spawn(replications)
    return [
        (scenario, r, seeds[r], list(policies), time_limit, engine) for r in range(replications)
    ]


def run_jobs(
    jobs: Sequence[tuple],
    *,
    workers: int = 1,
    client: Any = None,
    progress: Callable[[int], None] | None = None,
) -> list[tuple]:
    """`run_replication` on every job, in this process, ``workers`` processes or on the Dask
    ``client``'s cluster; the results in job order whatever order they finish in."""
    if client is not None:
        from allocator.simulation.cluster import run_jobs as on_cluster

        return on_cluster(client, run_replication, jobs, progress=progress)
    results: dict[int, tuple] = {}
    if workers <= 1:
        for k, job in enumerate(jobs):
            results[k] = run_replication(*job)
            if progress:
                progress(len(results))
    else:
        with worker_pool(workers) as pool:
            futures = {pool.submit(run_replication, *job): k for k, job in enumerate(jobs)}
            for fut in as_completed(futures):
                results[futures[fut]] = fut.result()
                if progress:
                    progress(len(results))
    return [results[k] for k in range(len(jobs))]


def replication_tables(
    results: Sequence[tuple[list[dict[str, Any]], list[pd.DataFrame]]],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The replications table (with the savings paired against ``hotel`` in each replication)
    and the weekly table, from `run_replication`'s results in replication order."""
    reps = pd.DataFrame([row for rows, *_ in results for row in rows])
    baseline = reps.loc[reps["policy"] == "hotel"].set_index("replication")
    for paired, metric in PAIRED.items():
        reps[paired] = reps["replication"].map(baseline[metric]) - reps[metric]
    weekly = pd.concat([w for _, weeks, *_ in results for w in weeks], ignore_index=True)
    return reps, weekly


def simulate(
    scenario: Scenario | dict,
    *,
    replications: int = 20,
    seed: int = 0,
    policies: Sequence[str] = DEFAULT_POLICIES,
    workers: int = 1,
    backend: str = "processes",
    client: Any = None,
    time_limit: float = 10.0,
    progress: Callable[[int], None] | None = None,
    engine: EngineParams | None = None,
) -> SimulationResult:
    """Simulate ``replications`` runs of ``scenario`` under each policy and summarise them.

    ``workers`` > 1 runs replications in that many processes; a `dask.distributed` ``client``
    sends them to its cluster instead (a remote one, `allocator.simulation.cluster.connect`, or a
    LocalCluster), and ``backend="dask"`` without one makes a LocalCluster of ``workers``
    processes for the run. The numbers are the same on every backend for any number of workers.
    ``progress`` is called with the number of replications finished so far. ``time_limit`` is the
    solver's per-week limit (the ``solver`` policy's results can then depend on machine speed).
    ``engine``: the solver's settings for every week (`EngineParams`; None: the weekly loop's,
    `allocator.simulation.weekly.weekly_engine`), to compare them on the same replications.
    Savings are computed against ``hotel``, which is added to the policies when missing.
    """
    scenario = validate_scenario(scenario)
    seed = check_seed(seed)
    if replications < 1:
        raise InputError("at least one replication is needed", field="replications")
    if backend not in ("processes", "dask"):
        raise InputError("backend must be 'processes' or 'dask'", field="backend")
    policies = _check_policies(policies)
    if "hotel" not in policies:
        policies.append("hotel")
    check_engine(engine)
    jobs = replication_jobs(scenario, replications, seed, policies, time_limit, engine)
    t0 = time.perf_counter()
    if client is not None:
        from allocator.simulation.cluster import workers_of

        backend = "dask"
        results = run_jobs(jobs, client=client, progress=progress)
        workers = workers_of(client)
    elif backend == "dask":
        with local_cluster(max(workers, 1)) as own:
            results = run_jobs(jobs, client=own, progress=progress)
    else:
        results = run_jobs(jobs, workers=workers, progress=progress)
    reps, weekly = replication_tables(results)
    seconds = time.perf_counter() - t0
    log.info("simulated %d replications in %.1f s", replications, seconds)
    return SimulationResult(
        scenario=scenario,
        replications=reps,
        weekly=weekly,
        summary=summarise(reps),
        seed=seed,
        policies=policies,
        seconds=seconds,
        workers=workers,
        backend=backend,
        households=household_table(results),
    )


@contextmanager
def local_cluster(workers: int) -> Iterator[Any]:
    """A client of a LocalCluster of ``workers`` single-threaded processes, closed after use."""
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield client
