"""The per-week cost of keeping announcements, paired (issue #21, part 1).

Usage (from the repository root)::

    python benchmarks/bench_announce_paired.py milan --weights 1 3 10 30 --replications 20 \\
        --years 10 --time-limit 5 --workers 2

Whole runs with and without announcements diverge week after week, so their difference in hotel
nights is mostly noise. This benchmark runs the engine's weekly loop with announcements
(``announce_weeks``, ``announce_firm_only`` as `bench_announce.py`) at each weight, and in every
week with announcements in force plans the same week's inputs a second time without the
announcement term (``--off zero``: ``Policy.announcement_weight`` 0, the same instance and pools;
``--off none``: no announcements at all). The loop goes on with the first plan, unchanged.

Per weight it prints, pooled over the measured weeks of all replications: the relative increase
of the plans' urgency-weighted hotel person-nights within the plan horizon (sum with
announcements / sum without - 1; placed households until their start, unplaced ones until the
horizon or their exit date, as `Plan.hotel_person_nights` counts them, times the urgency
weight), the same for plain hotel person-nights and for the objective without the announcement
term, each with a 95% bootstrap interval over replications; how many announcements in force the
plan without the term would have changed (and how many a hard rule forced anyway); and the
churn of the run, as `bench_announce.py` prints it. This is the cost of keeping promises in the
week they are kept, not the whole run's: a plan that keeps one changes the next weeks' inputs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import numpy as np
from bench_announce import replication_inputs, run_all  # this folder: run as a script

import allocator.engine.planning as planning
from allocator.engine import announcements
from allocator.engine.columns import objective
from allocator.simulation.announcing import churn
from allocator.simulation.weekly import run_engine

ROOT = Path(__file__).resolve().parent.parent
SUMS = ("uhpn", "hpn", "obj")


def _week_figures(d: planning.Decision, told: dict) -> dict:
    """One plan's figures: (urgency-weighted) hotel person-nights within the horizon as
    `planning._written_up` counts them, the objective less the announcement term, and how many
    of ``told`` (household -> (unit, date)) the plan keeps."""
    inst, pool, start = d.inst, d.pool, d.start
    placed = pool >= 0
    waits_until = np.where(inst.exit_dated, np.minimum(inst.horizon, inst.exit_day), inst.horizon)
    hotel = np.where(placed, start - inst.release, np.maximum(waits_until - inst.release, 0))
    idx = np.flatnonzero(placed)
    term = np.sum(announcements.change_cost(inst, idx, pool[idx], start[idx]))
    term += np.sum(announcements.unplaced_change_cost(inst) * ~placed)
    index = {h: j for j, h in enumerate(inst.household_ids)}
    kept = 0
    for h, (u, day) in told.items():
        j = index.get(h)
        if j is None or d.unit[j] < 0 or j in d.joined:
            continue
        kept += inst.unit_ids[d.unit[j]] == u and inst.day(d.start[j]) == day
    return {
        "uhpn": float((hotel * inst.size * inst.weight).sum()),
        "hpn": float((hotel * inst.size).sum()),
        "obj": objective(inst, pool, start) - float(term),
        "kept": kept,
    }


def one(args: tuple) -> dict:
    scenario_name, policy, weeks, weight, replication, seed, time_limit, reps, firm, years, off = (
        args
    )
    scenario, units, hh = replication_inputs(scenario_name, weight, years, seed, reps, replication)
    measured_from = scenario.run_start + dt.timedelta(days=scenario.warmup_days)
    acc = dict.fromkeys([f"{k}_{s}" for k in SUMS for s in ("on", "off")], 0.0)
    acc.update(weeks_paired=0, told=0, forced=0, kept_on=0, kept_off=0)
    real = planning.decide

    def paired(*a, **kw):  # the loop's `decide`: plans twice where announcements are in force
        d = real(*a, **kw)
        told = kw.get("announced") or {}
        if not told or planning._as_date(kw["start"]) < measured_from:
            return d
        if off == "none":
            other = real(*a, **{**kw, "announced": None})
        else:
            zero = kw["policy"].model_copy(update={"announcement_weight": 0.0})
            other = real(*a, **{**kw, "policy": zero})
        on, without = _week_figures(d, told), _week_figures(other, told)
        for k in SUMS:
            acc[f"{k}_on"] += on[k]
            acc[f"{k}_off"] += without[k]
        ann = d.inst.announcements
        acc["weeks_paired"] += 1
        acc["told"] += len(told)
        acc["forced"] += len(ann.broken) if ann is not None else 0
        acc["kept_on"] += on["kept"]
        acc["kept_off"] += without["kept"]
        return d

    t0 = time.perf_counter()
    planning.decide = paired  # run_engine imports `decide` from here when called
    try:
        alloc = run_engine(
            scenario,
            units,
            hh,
            method=policy,
            time_limit=time_limit,
            announce_weeks=weeks,
            announce_firm_only=firm,
        )
    finally:
        planning.decide = real
    return {
        "weight": weight,
        "replication": replication,
        **acc,
        "kept": alloc.announcements_kept,
        "changed": alloc.announcements_changed,
        "churn_forced": alloc.announcements_forced,
        "seconds": time.perf_counter() - t0,
    }


def _ratio_ci(on: np.ndarray, off: np.ndarray, rng: np.random.Generator) -> tuple[float, ...]:
    """sum(on) / sum(off) - 1 in %, and its 95% bootstrap interval over replications."""
    point = 100 * (on.sum() / off.sum() - 1)
    k = rng.integers(0, on.size, size=(4000, on.size))
    boot = 100 * (on[k].sum(axis=1) / off[k].sum(axis=1) - 1)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return point, lo, hi


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default="milan")
    ap.add_argument("--policy", default="solver", choices=["solver", "greedy"])
    ap.add_argument("--weeks", type=int, default=2, help="announce this many weeks ahead")
    ap.add_argument("--firm", choices=["yes", "no"], default="yes")
    ap.add_argument("--weights", type=float, nargs="+", default=[1.0, 3.0, 10.0, 30.0])
    ap.add_argument("--off", choices=["zero", "none"], default="zero")
    ap.add_argument("--replications", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=5.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--years", type=int, default=0, help="measured years (default: the scenario's)")
    ap.add_argument("--csv", default=None, help="also write the per-replication rows here")
    a = ap.parse_args()
    firm = a.firm == "yes"
    jobs = [
        (a.scenario, a.policy, a.weeks, x, r, a.seed, a.time_limit, a.replications, firm, a.years)
        + (a.off,)
        for x in a.weights
        for r in range(a.replications)
    ]
    t0 = time.perf_counter()
    rows = run_all(one, jobs, a.workers, a.csv)
    print(
        f"{a.scenario} ({a.years or 'all'} measured years), policy {a.policy}, announcing "
        f"{a.weeks} weeks ahead (firm only: {a.firm}), without the term: {a.off}, "
        f"{a.replications} replications, seed {a.seed}, time limit {a.time_limit:g} s "
        f"({time.perf_counter() - t0:.0f} s wall)"
    )
    print(
        "per week with announcements, with vs without the term (pooled, 95% bootstrap CI):\n"
        "weight  weeks  urgency-w. hotel p-n     hotel p-n              objective w/o term"
        "      told  broken with/w/o (forced)  run churn (changed/ended)"
    )
    rng = np.random.default_rng(a.seed)
    for x in a.weights:
        sel = [r for r in rows if r["weight"] == x]
        cells = []
        for k in SUMS:
            on = np.array([r[f"{k}_on"] for r in sel])
            off = np.array([r[f"{k}_off"] for r in sel])
            cells.append("{:+6.2f}% [{:+.2f}, {:+.2f}]".format(*_ratio_ci(on, off, rng)))
        told = sum(r["told"] for r in sel)
        broken_off = told - sum(r["kept_off"] for r in sel)
        broken_on = told - sum(r["kept_on"] for r in sel)
        forced = sum(r["forced"] for r in sel)
        kept, changed = sum(r["kept"] for r in sel), sum(r["changed"] for r in sel)
        print(
            f"{x:6g}  {sum(r['weeks_paired'] for r in sel):5d}  {'  '.join(cells)}  "
            f"{told:6d}  {broken_on:5d}/{broken_off:5d} ({forced:5d})  "
            f"{100 * churn(kept, changed):5.1f}% ({changed}/{kept + changed})"
        )


if __name__ == "__main__":
    main()
