"""Replications: seeds, processes or a Dask cluster, and the result tables.

Replication ``r`` draws everything from ``SeedSequence(seed).spawn(replications)[r]``; results are
put back in replication order, so the numbers are the same whatever the number of workers or the
backend (``processes`` or ``dask``). Inside a replication every policy sees the same households.
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
from allocator.errors import InputError
from allocator.simulation.results import PAIRED, SimulationResult, outcome, summarise
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
) -> tuple[list[dict[str, Any]], list[pd.DataFrame]]:
    """All policies on one replication's households (common random numbers)."""
    units = build_units(scenario)
    hh = sample_households(scenario, seed)
    rows, weeks = [], []
    for policy in policies:
        t0 = time.perf_counter()
        alloc = allocate(policy, scenario, units, hh, time_limit=time_limit)
        row, weekly = outcome(scenario, units, hh, alloc, policy)
        row = {"replication": replication, "policy": policy, **row}
        row["seconds"] = time.perf_counter() - t0
        row["plan_calls"] = alloc.plan_calls
        rows.append(row)
        weekly.insert(0, "policy", policy)
        weekly.insert(0, "replication", replication)
        weeks.append(weekly)
    return rows, weeks


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


def _check_policies(policies: Sequence[str]) -> list[str]:
    policies = list(dict.fromkeys(policies))
    bad = [p for p in policies if p not in POLICIES]
    if bad or not policies:
        raise InputError(
            f"unknown policy {bad[0] if bad else '(none)'}; expected some of {', '.join(POLICIES)}",
            field="policies",
        )
    return policies


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
) -> SimulationResult:
    """Simulate ``replications`` runs of ``scenario`` under each policy and summarise them.

    ``workers`` > 1 runs replications in that many processes; ``backend="dask"`` sends them to a
    `dask.distributed` ``client`` instead (one is made on a LocalCluster when none is given).
    ``progress`` is called with the number of replications finished so far. ``time_limit`` is the
    solver's per-week limit (the ``solver`` policy's results can then depend on machine speed).
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
    seeds = np.random.SeedSequence(seed).spawn(replications)
    t0 = time.perf_counter()
    results: dict[int, tuple] = {}
    args = [(scenario, r, seeds[r], policies, time_limit) for r in range(replications)]
    if backend == "dask":
        results = _run_dask(args, client, progress)
        workers = len(client.scheduler_info()["workers"]) if client is not None else workers
    elif workers <= 1:
        for a in args:
            results[a[1]] = run_replication(*a)
            if progress:
                progress(len(results))
    else:
        with worker_pool(workers) as pool:
            futures = {pool.submit(run_replication, *a): a[1] for a in args}
            for fut in as_completed(futures):
                results[futures[fut]] = fut.result()
                if progress:
                    progress(len(results))
    rows = [row for r in range(replications) for row in results[r][0]]
    reps = pd.DataFrame(rows)
    baseline = reps.loc[reps["policy"] == "hotel"].set_index("replication")
    for paired, metric in PAIRED.items():
        reps[paired] = reps["replication"].map(baseline[metric]) - reps[metric]
    weekly = pd.concat([w for r in range(replications) for w in results[r][1]], ignore_index=True)
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
    )


def _run_dask(args, client, progress) -> dict[int, tuple]:
    from dask.distributed import Client, LocalCluster
    from dask.distributed import as_completed as dask_completed

    own = client is None
    if own:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True)
        client = Client(cluster)
    try:
        futures = [client.submit(run_replication, *a, pure=False) for a in args]
        index = {f.key: a[1] for f, a in zip(futures, args, strict=True)}
        results = {}
        for fut in dask_completed(futures):
            results[index[fut.key]] = fut.result()
            if progress:
                progress(len(results))
        return results
    finally:
        if own:
            client.close()
            cluster.close()
