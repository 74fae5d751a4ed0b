"""The work of the solver's MIPs, per instance: columns, HiGHS simplex iterations, nodes, seconds.

    python benchmarks/mip_work.py --sizes 100x60 --seeds 1,7,8

Wall times on a shared machine swing by 30% from hour to hour; the iterations and the columns do
not, so two versions of the solver compare on them (run each with its version importable, e.g.
`PYTHONPATH=<checkout>`: an editable install points at one checkout only). Each
MIP that `allocator.plan` hands to HiGHS (through MathOpt) prints one line; the LP's GLOP solves
are not counted.
"""

from __future__ import annotations

import argparse
import time

import tasks
from bench_plan import parse_size

from allocator import mathopt_backend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=lambda text: [parse_size(size) for size in text.split(",")],
        default="100x60",
        help="households x units, comma-separated",
    )
    parser.add_argument("--seeds", default="1", help="comma-separated seeds")
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    solve = mathopt_backend.core_solver.solve
    mips: list[tuple[int, int, int, float]] = []

    def counting(proto, *rest):
        began = time.perf_counter()
        result = solve(proto, *rest)
        stats = result.solve_stats
        mips.append(
            (
                len(proto.variables.ids),
                stats.simplex_iterations,
                stats.node_count,
                time.perf_counter() - began,
            )
        )
        return result

    mathopt_backend.core_solver.solve = counting
    for n, u in args.sizes:
        for seed in (int(s) for s in args.seeds.split(",")):
            mips.clear()
            # the benchmark's own solver task: the same instance, policy and plan call
            r = tasks.solver(n, u, seed, args.time_limit)
            print(
                f"{n}x{u} s{seed}: objective {r['objective']:,.3f} ({r['status']}), wall "
                f"{r['seconds']:.2f} s, LP {r['lp_seconds'] or 0:.2f} s, "
                f"MIPs {r['mip_seconds'] or 0:.2f} s"
            )
            for variables, iterations, nodes, seconds in mips:
                print(
                    f"    MIP: {variables} variables, {iterations} simplex iterations, "
                    f"{nodes} nodes, {seconds:.2f} s"
                )


if __name__ == "__main__":
    main()
