"""Capacity planning: how many hub rooms and flats keep the waits and hotel nights under a target?

`capacity(scenario, rooms=..., flats=..., target_wait_p90=..., ...)` sweeps a grid of unit mixes.
For each (hub room count, flat count) it makes a variant of the scenario (the counts replaced with
`allocator.simulation.vary`, which re-validates; the units are generated from the scenario's own
capacity mixes, accessible shares and costs), simulates it with `allocator.simulation.simulate`,
and keeps, per mix, the mean and 95% interval over the replications of:

``wait_p90``, ``wait_mean``
    the 90th-percentile and mean wait of the households arriving in the horizon (days);
``hotel_nights_per_year``
    hotel *and* community-shelter person-nights, divided by the horizon in years (days / 365):
    every night a person spends outside the programme waiting for a unit, which is what more units
    reduce (the hotel/shelter split of waiting families is fixed by the scenario's
    ``baseline.shelter_share``, not by the mix, so counting hotels only would just scale it);
``total_cost``, ``savings``
    euros over the whole horizon, as `simulate` reports them (savings: against hotels only).

Every mix uses the same ``seed``, hence the same households in each replication (common random
numbers): differences between mixes are not sampling noise between them.

Targets and the answer
----------------------
A mix *meets* a target when the upper end of the 95% interval of its metric is at most the target
(``by="upper"``, the default: conservative, a planner can say "with 95% confidence, no worse than
this"); ``by="mean"`` uses the mean instead. The answer is the mix that meets every target given
with the fewest units (hub rooms + flats), ties broken by the lower mean total cost, then by fewer
hub rooms. When no mix meets every target the result says which targets fail and gives the best
mix found: the one closest to its targets (the smallest worst ratio of metric to target).

Parallelism: mixes run in a process pool of ``workers`` processes (each mix's replications one
after the other); when there are fewer mixes than workers the mixes run one after the other with
``workers`` passed to `simulate` instead. Each mix's numbers depend only on the scenario, the mix,
the seed and the policy, so the result is the same for any ``workers``. With a Dask ``client``
every (mix, replication) is one task on its cluster (`allocator.simulation.cluster`), with the
same seeds, hence the same numbers.
"""

from __future__ import annotations

import logging
import math
import numbers
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import as_completed
from typing import Any

import numpy as np
import pandas as pd

from allocator.analysis.capacity_result import CAPACITY_METRICS, CapacityResult, Mix
from allocator.choices import CAPACITY_POLICIES as CAPACITY_POLICIES
from allocator.engine.params import EngineParams
from allocator.errors import InputError
from allocator.simulation import (
    Scenario,
    check_seed,
    mean_interval,
    simulate,
    validate_scenario,
    vary,
)
from allocator.simulation.runner import (
    check_engine,
    replication_jobs,
    replication_tables,
    run_jobs,
    worker_pool,
)

log = logging.getLogger("allocator")

__all__ = [
    "CAPACITY_METRICS",
    "CAPACITY_POLICIES",
    "CapacityResult",
    "Mix",
    "capacity",
    "variant",
]

# target argument -> the metric it caps
TARGETS = {
    "target_wait_p90": "wait_p90",
    "target_hotel_nights_per_year": "hotel_nights_per_year",
}
# --- validation -----------------------------------------------------------------------------


def _counts(values: int | Iterable[int], name: str) -> list[int]:
    if isinstance(values, numbers.Integral) and not isinstance(values, bool):
        values = [values]
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InputError("expected a sequence of whole numbers of units", field=name)
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise InputError(f"expected whole numbers of units, got {v!r}", field=name)
        if v < 0:
            raise InputError(f"counts must be >= 0, got {v}", field=name)
        out.append(int(v))
    if not out:
        raise InputError("give at least one count (the grid has no mix)", field=name)
    return sorted(set(out))


def _targets(**given: float | None) -> dict[str, float]:
    targets = {}
    for name, value in given.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InputError(f"expected a number, got {value!r}", field=name)
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"must be a finite number > 0, got {value}", field=name)
        targets[TARGETS[name]] = float(value)
    if not targets:
        raise InputError(
            "give at least one target: target_wait_p90 or target_hotel_nights_per_year",
            field="targets",
        )
    return targets


def variant(scenario: Scenario, rooms: int, flats: int) -> Scenario:
    """The scenario with ``rooms`` hub rooms and ``flats`` flats, re-validated.

    The units are generated as in any scenario, from the groups' capacity mixes, accessible shares
    and costs; explicit units, if any, are kept in every mix. A count above 0 for a group the
    scenario does not define is an error (there is no capacity mix or cost to use).
    """
    changes: dict[str, Any] = {"name": f"{scenario.name} ({rooms} rooms, {flats} flats)"}
    for key, count, name in (("hub_rooms", rooms, "rooms"), ("flats", flats, "flats")):
        if getattr(scenario.units, key) is None:
            if count:
                raise InputError(
                    f"the scenario defines no units.{key} group to copy capacities and costs "
                    f"from; add one to use {count} {key.replace('_', ' ')}",
                    field=name,
                )
            continue
        changes[f"units.{key}.count"] = count
    return vary(scenario, changes, source=f"{scenario.name} with {rooms} rooms and {flats} flats")


# --- the sweep ------------------------------------------------------------------------------


def _run_mix(
    scenario: Scenario,
    mix: Mix,
    replications: int,
    seed: int,
    policy: str,
    workers: int,
    time_limit: float,
    engine: EngineParams | None = None,
) -> pd.DataFrame:
    """One mix: its per-replication metrics (a small frame, cheap to send between processes)."""
    res = simulate(
        scenario,
        replications=replications,
        seed=seed,
        policies=[policy],
        workers=workers,
        time_limit=time_limit,
        engine=engine,
    )
    return _mix_frame(scenario, mix, res.replications, policy)


def _mix_frame(
    scenario: Scenario, mix: Mix, replications: pd.DataFrame, policy: str
) -> pd.DataFrame:
    """The capacity metrics of ``policy`` in a mix's replications table (`simulate`'s)."""
    reps = replications[replications["policy"] == policy]
    years = scenario.horizon_days / 365.0
    return pd.DataFrame(
        {
            "rooms": mix.rooms,
            "flats": mix.flats,
            "replication": reps["replication"].to_numpy(),
            "households": reps["households"].to_numpy(),
            "wait_p90": reps["wait_p90"].to_numpy(float),
            "wait_mean": reps["wait_mean"].to_numpy(float),
            "hotel_nights_per_year": (
                reps["hotel_person_nights"].to_numpy(float)
                + reps["shelter_person_nights"].to_numpy(float)
            )
            / years,
            "total_cost": reps["total_cost"].to_numpy(float),
            "savings": reps["savings"].to_numpy(float),
        }
    )


def _curve(reps: pd.DataFrame, mixes: list[Mix]) -> pd.DataFrame:
    rows = []
    for mix, g in zip(mixes, _groups(reps, mixes), strict=True):
        for metric in CAPACITY_METRICS:
            mean, lo, hi = mean_interval(g[metric].to_numpy(float))
            rows.append(
                {
                    "rooms": mix.rooms,
                    "flats": mix.flats,
                    "units": mix.units,
                    "metric": metric,
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    return pd.DataFrame(rows)


def _groups(reps: pd.DataFrame, mixes: list[Mix]) -> list[pd.DataFrame]:
    by = dict(iter(reps.groupby(["rooms", "flats"], sort=False)))
    return [by[(m.rooms, m.flats)] for m in mixes]


def _decide(
    curve: pd.DataFrame, mixes: list[Mix], targets: dict[str, float], by: str
) -> tuple[pd.DataFrame, Mix | None, Mix, list[str]]:
    """Which mixes meet which target, the answer, the best mix and the targets it misses."""
    wide = curve.pivot(index=["rooms", "flats"], columns="metric", values=["mean", "ci_high"])
    index = pd.MultiIndex.from_tuples([(m.rooms, m.flats) for m in mixes], names=["rooms", "flats"])
    wide = wide.reindex(index)
    table = pd.DataFrame(
        {
            "rooms": [m.rooms for m in mixes],
            "flats": [m.flats for m in mixes],
            "units": [m.units for m in mixes],
            "total_cost": wide[("mean", "total_cost")].to_numpy(float),
        }
    )
    column = "ci_high" if by == "upper" else "mean"
    ratio = np.zeros(len(mixes))
    for metric, target in targets.items():
        checked = wide[(column, metric)].to_numpy(float)
        table[f"{metric}_checked"] = checked
        table[f"meets_{metric}"] = checked <= target
        ratio = np.maximum(ratio, checked / target)
    table["meets"] = table[[f"meets_{m}" for m in targets]].all(axis=1)
    order = table.sort_values(["units", "total_cost", "rooms"], kind="stable")
    meeting = order[order["meets"]]
    chosen = None
    if len(meeting):
        first = meeting.iloc[0]
        chosen = Mix(int(first["rooms"]), int(first["flats"]))
    if chosen is not None:
        return table, chosen, chosen, []
    table["_ratio"] = ratio
    first = table.sort_values(["_ratio", "units", "total_cost", "rooms"], kind="stable").iloc[0]
    table = table.drop(columns="_ratio")
    best = Mix(int(first["rooms"]), int(first["flats"]))
    failed = [m for m in targets if not bool(first[f"meets_{m}"])]
    return table, None, best, failed


def capacity(
    scenario: Scenario | dict,
    *,
    rooms: int | Sequence[int],
    flats: int | Sequence[int],
    target_wait_p90: float | None = None,
    target_hotel_nights_per_year: float | None = None,
    replications: int = 20,
    seed: int = 0,
    policy: str = "fcfs_fast",
    by: str = "upper",
    workers: int = 1,
    time_limit: float = 10.0,
    progress: Callable[[float], None] | None = None,
    client: Any = None,
    engine: EngineParams | None = None,
) -> CapacityResult:
    """Sweep the (hub rooms x flats) grid and find the smallest mix that meets every target.

    ``rooms`` and ``flats`` are the counts to try (each a count or a sequence; duplicates are
    dropped); the grid is every pair. ``target_wait_p90`` caps the 90th-percentile wait (days),
    ``target_hotel_nights_per_year`` the hotel plus shelter person-nights a year; give at least
    one. ``by`` is ``"upper"`` (the 95% interval's upper end must be at most the target; needs 2+
    replications) or ``"mean"``. ``policy`` is ``fcfs_fast`` (default, the engine's greedy rule in
    one pass: fast enough for large grids), ``fcfs_event``, or the slow ``greedy`` and ``solver``
    that call the engine every simulated week (``time_limit`` is the solver's per-week limit).
    ``progress`` is called with 0 once every input is checked, then with the number of mixes
    finished (with a ``client``, a fraction as each replication finishes). A `dask.distributed`
    ``client`` runs every (mix, replication) as a task on its cluster, ``workers`` then unused;
    the numbers are the same. ``engine`` is the solver's settings for every simulated week of
    every mix (None: the weekly loop's, as in `simulate`), so a sweep can be redone with others.
    See the module docstring for the metrics, the rule and the tie-break.
    """
    t0 = time.perf_counter()
    scenario = validate_scenario(scenario)
    room_counts, flat_counts = _counts(rooms, "rooms"), _counts(flats, "flats")
    targets = _targets(
        target_wait_p90=target_wait_p90, target_hotel_nights_per_year=target_hotel_nights_per_year
    )
    seed = _check_run(policy, by, seed, replications, workers)
    check_engine(engine)
    mixes = _grid(scenario, room_counts, flat_counts)
    variants = [variant(scenario, m.rooms, m.flats) for m in mixes]  # every error before any run
    pooled = client is None and workers > 1 and len(mixes) >= workers
    if progress:
        progress(0)  # every input is valid: the sweep starts
    if client is not None:
        from allocator.simulation.cluster import workers_of

        reps = _sweep_on_cluster(
            client, variants, mixes, int(replications), seed, policy, time_limit, progress, engine
        )
        workers = workers_of(client)
    else:
        reps = _sweep(
            variants,
            mixes,
            replications=int(replications),
            seed=seed,
            policy=policy,
            workers=workers,
            pooled=pooled,
            time_limit=time_limit,
            progress=progress,
            engine=engine,
        )
    curve = _curve(reps, mixes)
    table, chosen, best, failed = _decide(curve, mixes, targets, by)
    seconds = time.perf_counter() - t0
    log.info("capacity: %d mixes x %d replications in %.1f s", len(mixes), replications, seconds)
    return CapacityResult(
        scenario=scenario,
        curve=curve,
        mixes=table,
        replications=reps,
        chosen=chosen,
        best=best,
        targets=targets,
        by=by,
        failed=failed,
        policy=policy,
        seed=seed,
        n_replications=int(replications),
        workers=int(workers),
        seconds=seconds,
        details={
            "time_limit": time_limit,
            "engine": engine,
            "pooled_mixes": pooled,
            "backend": "processes" if client is None else "dask",
        },
    )


def _check_run(policy: str, by: str, seed: int, replications: int, workers: int) -> int:
    """Refuse a bad policy, rule, seed, replication or worker count; return the seed checked."""
    if policy not in CAPACITY_POLICIES:
        raise InputError(
            f"unknown policy {policy!r}; expected one of {', '.join(CAPACITY_POLICIES)}",
            field="policy",
        )
    if by not in ("upper", "mean"):
        raise InputError(f"expected 'upper' or 'mean', got {by!r}", field="by")
    seed = check_seed(seed)
    if isinstance(replications, bool) or not isinstance(replications, numbers.Integral):
        raise InputError(f"expected a whole number, got {replications!r}", field="replications")
    if replications < (2 if by == "upper" else 1):
        raise InputError(
            "the upper end of a 95% interval needs at least 2 replications "
            "(or compare means: by='mean', --by mean)"
            if by == "upper"
            else "at least one replication is needed",
            field="replications",
        )
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers < 1:
        raise InputError(f"expected a whole number >= 1, got {workers!r}", field="workers")
    return seed


def _grid(scenario: Scenario, room_counts: list[int], flat_counts: list[int]) -> list[Mix]:
    """Every (rooms, flats) pair, rooms-major; a mix with no unit at all is refused."""
    explicit = len(scenario.units.explicit or [])
    mixes = [Mix(r, f) for r in room_counts for f in flat_counts]
    for mix in mixes:
        if mix.units + explicit == 0:
            raise InputError(
                "a mix of 0 hub rooms and 0 flats has no units; start the counts at 1",
                field="rooms",
            )
    return mixes


def _sweep(
    variants: list[Scenario],
    mixes: list[Mix],
    *,
    replications: int,
    seed: int,
    policy: str,
    workers: int,
    pooled: bool,
    time_limit: float,
    progress: Callable[[int], None] | None,
    engine: EngineParams | None = None,
) -> pd.DataFrame:
    """Every mix's per-replication metrics, in grid order whatever order they finish in.

    ``pooled``: one mix per process; otherwise mixes one after the other, each with ``workers``
    passed on to `simulate` (a small grid still uses every worker).
    """
    frames: dict[int, pd.DataFrame] = {}
    inner = 1 if pooled or workers == 1 else workers
    args = [
        (variants[k], mixes[k], replications, seed, policy, inner, time_limit, engine)
        for k in range(len(mixes))
    ]
    if pooled:
        with worker_pool(workers) as pool:  # workers leave Ctrl-C to this process
            futures = {pool.submit(_run_mix, *a): k for k, a in enumerate(args)}
            for fut in as_completed(futures):
                frames[futures[fut]] = fut.result()
                if progress:
                    progress(len(frames))
    else:
        for k, a in enumerate(args):
            frames[k] = _run_mix(*a)
            if progress:
                progress(len(frames))
    return pd.concat([frames[k] for k in range(len(mixes))], ignore_index=True)


def _sweep_on_cluster(
    client: Any,
    variants: list[Scenario],
    mixes: list[Mix],
    replications: int,
    seed: int,
    policy: str,
    time_limit: float,
    progress: Callable[[float], None] | None,
    engine: EngineParams | None = None,
) -> pd.DataFrame:
    """Every (mix, replication) as one task on the Dask cluster; the frames in grid order.

    Each mix's jobs are `simulate`'s jobs for that mix (the same seeds), so each mix's numbers
    equal those of `_run_mix`.
    """
    policies = [policy, "hotel"]
    jobs = [
        job
        for scenario in variants
        for job in replication_jobs(scenario, replications, seed, policies, time_limit, engine)
    ]
    results = run_jobs(
        jobs,
        client=client,
        progress=(lambda done: progress(done / replications)) if progress else None,
    )
    frames = []
    for k, (scenario, mix) in enumerate(zip(variants, mixes, strict=True)):
        reps, _ = replication_tables(results[k * replications : (k + 1) * replications])
        frames.append(_mix_frame(scenario, mix, reps, policy))
    return pd.concat(frames, ignore_index=True)
