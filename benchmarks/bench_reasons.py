"""The reasons' cost at scale, and a check that a change to `allocator.engine.explain` keeps
every reason's text.

    python benchmarks/bench_reasons.py time --sizes 1000,5000,20000,100000
    python benchmarks/bench_reasons.py capture --dir /tmp/reason_cases      # plans + reasons
    python benchmarks/bench_reasons.py dump --dir /tmp/reason_cases --out after.jsonl
    python benchmarks/bench_reasons.py compare /tmp/reason_cases/reasons.jsonl after.jsonl

``time`` plans ``generate(n, n // 2, seed=1)`` with greedy and times the `explain` call inside
`plan` alone (wall and CPU; ``--profile`` prints cProfile's top functions). ``capture`` plans a
corpus (``generate`` seeds 1-30 at 100x60 and 1-5 at 1000x500 with the solver and greedy, 20k
greedy, 100k greedy with ``--big``, and ``random_scenario`` seeds 1-300 with every feature on),
pickles each instance and plan, and writes the reasons ``plan`` gave to ``DIR/reasons.jsonl``.
``dump`` writes the current code's reasons for the same captured plans (the solver's plans
depend on timing, so the plans are replayed, not planned again). Run ``capture`` with the code
before a change (a git worktree on PYTHONPATH) and ``dump`` after it, then ``compare`` the
two files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np


def _corpus(big: bool = False):
    from allocator.examples import generate
    from allocator.testing import random_scenario

    start = dt.date(2026, 12, 7)
    for seed in range(1, 31):
        for method in ("solver", "greedy"):
            yield f"100x60-s{seed}-{method}", (*generate(100, 60, seed=seed), start), method, {}
    for seed in range(1, 6):
        for method in ("solver", "greedy"):
            yield f"1000x500-s{seed}-{method}", (*generate(1000, 500, seed=seed), start), method, {}
    yield "20000x10000-s1-greedy", (*generate(20000, 10000, seed=1), start), "greedy", {}
    if big:
        yield "100000x50000-s1-greedy", (*generate(100000, 50000, seed=1), start), "greedy", {}
    for seed in range(1, 301):
        rng = np.random.default_rng(seed)
        sc = random_scenario(
            seed,
            n_households=int(rng.integers(1, 17)),
            n_units=int(rng.integers(1, 7)),
            horizon_weeks=int(rng.integers(1, 4)),
            max_stay_days=int(rng.choice([5, 15, 30])),
        )
        for method in ("solver", "greedy"):
            extra = {"policy": sc.policy, "pins": sc.pins, "forbids": sc.forbids}
            yield (
                f"random-s{seed}-{method}",
                (sc.households, sc.units, sc.stays, sc.start),
                method,
                extra,
            )


def capture(folder: Path, big: bool = False) -> None:
    import allocator.engine.planning as planning
    from allocator import plan

    folder.mkdir(parents=True, exist_ok=True)
    seen: dict = {}
    real = planning.explain

    def spy(inst, pool, start, unit, method, *rest):
        seen.update(inst=inst, pool=pool, start=start, unit=unit, method=method)
        return real(inst, pool, start, unit, method, *rest)

    planning.explain = spy  # a benchmark's own process: record what `plan` explains
    with open(folder / "reasons.jsonl", "w") as out:
        for name, (hh, units, stays, start), method, extra in _corpus(big):
            seen.clear()
            t0 = time.perf_counter()
            result = plan(hh, units, stays, start=start, method=method, time_limit=10, **extra)
            print(f"{name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            with open(folder / f"{name}.pkl", "wb") as f:
                pickle.dump(seen, f)
            for hid, why in zip(
                result.placements.household_id, result.placements.reason, strict=True
            ):
                out.write(json.dumps([name, hid, why]) + "\n")


def dump(folder: Path, out_path: Path) -> None:
    from allocator.engine.explain import explain

    names = [json.loads(line)[0] for line in open(folder / "reasons.jsonl")]
    with open(out_path, "w") as out:
        for name in dict.fromkeys(names):
            with open(folder / f"{name}.pkl", "rb") as f:
                c = pickle.load(f)
            t0 = time.perf_counter()
            why = explain(c["inst"], c["pool"], c["start"], c["unit"], c["method"])
            print(f"{name}: {time.perf_counter() - t0:.2f} s", file=sys.stderr)
            for hid, text in zip(c["inst"].household_ids, why, strict=True):
                out.write(json.dumps([name, hid, text]) + "\n")


def compare(a: Path, b: Path) -> int:
    before = {tuple(r[:2]): r[2] for r in map(json.loads, open(a))}
    after = {tuple(r[:2]): r[2] for r in map(json.loads, open(b))}
    differ = [k for k in before if before[k] != after.get(k)]
    for k in differ[:20]:
        print(f"{k}\n  before: {before[k]}\n  after:  {after.get(k)}")
    print(f"{len(before)} reasons before, {len(after)} after, {len(differ)} differ")
    return 1 if differ or len(before) != len(after) else 0


def time_reasons(sizes: list[int], seed: int, profile: bool) -> None:
    import allocator.engine.planning as planning
    from allocator import plan
    from allocator.examples import generate

    real = planning.explain
    took: list[tuple[float, float]] = []

    def timed(*args):
        t0, c0 = time.perf_counter(), time.process_time()
        if profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            why = prof.runcall(real, *args)
            pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        else:
            why = real(*args)
        took.append((time.perf_counter() - t0, time.process_time() - c0))
        return why

    planning.explain = timed  # a benchmark's own process: time `explain` alone
    start = dt.date(2026, 12, 7)
    for n in sizes:
        hh, units, stays = generate(n, n // 2, seed=seed)
        plan(hh, units, stays, start=start, method="greedy")
        wall, cpu = took[-1]
        print(f"{n} x {n // 2}: reasons {wall:.2f} s ({cpu:.2f} s CPU)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("time")
    t.add_argument("--sizes", default="1000,5000,20000,100000")
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--profile", action="store_true")
    c = sub.add_parser("capture")
    c.add_argument("--dir", type=Path, required=True)
    c.add_argument("--big", action="store_true", help="100k households greedy too")
    d = sub.add_parser("dump")
    d.add_argument("--dir", type=Path, required=True)
    d.add_argument("--out", type=Path, required=True)
    k = sub.add_parser("compare")
    k.add_argument("before", type=Path)
    k.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "time":
        time_reasons([int(s) for s in args.sizes.split(",")], args.seed, args.profile)
    elif args.command == "capture":
        capture(args.dir, args.big)
    elif args.command == "dump":
        dump(args.dir, args.out)
    else:
        return compare(args.before, args.after)
    return 0


if __name__ == "__main__":
    sys.exit(main())
