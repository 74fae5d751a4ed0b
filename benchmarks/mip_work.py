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

from tasks import START, tables

import allocator
from allocator import mathopt_backend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100x60", help="households x units, comma-separated")
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
    for size in args.sizes.split(","):
        n, u = (int(x) for x in size.split("x"))
        for seed in (int(s) for s in args.seeds.split(",")):
            mips.clear()
            households, units, stays = tables(n, u, seed)
            plan = allocator.plan(
                households, units, stays, start=START, time_limit=args.time_limit, reasons=False
            )
            d = plan.details
            print(
                f"{size} s{seed}: objective {plan.objective:,.3f} ({plan.status.value}), wall "
                f"{plan.solve_seconds:.2f} s, LP {d.get('lp_seconds', 0):.2f} s, "
                f"MIPs {d.get('mip_seconds', 0):.2f} s"
            )
            for variables, iterations, nodes, seconds in mips:
                print(
                    f"    MIP: {variables} variables, {iterations} simplex iterations, "
                    f"{nodes} nodes, {seconds:.2f} s"
                )


if __name__ == "__main__":
    main()
