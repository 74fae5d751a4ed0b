"""The solver's work per instance: GLOP's solves and pivots, and each MIP's HiGHS iterations.

Per MIP: its columns, HiGHS simplex iterations, nodes and seconds.

    python benchmarks/mip_work.py --sizes 100x60 --seeds 1,7,8
    python benchmarks/mip_work.py --sizes 1000x500 --seeds 1,2,3,4 --gap 1e-3

Wall times on a shared machine swing by 30% from hour to hour; the iterations and the columns do
not, so two versions of the solver compare on them (run each with its version importable, e.g.
`PYTHONPATH=<checkout>`: an editable install points at one checkout only). Each
MIP that `allocator.plan` hands to HiGHS (through MathOpt) prints one line; GLOP's solves (the
column generation's rounds and the dives' re-solves) are summed in one.

Two settings of the solver compare on wall time only when run interleaved:

    python benchmarks/mip_work.py --sizes 100x60 --seeds 1,7,26 --repeats 6 \
        --variants "central_fixing_from=5000;central_fixing_from=1000000000"

runs each instance under each variant (`;`-separated, each a `,`-separated list of
field=value of `allocator.EngineParams`, the others at their defaults; an empty variant is the
defaults), alternating their order from one repeat to the next, and prints per instance and
variant the wall times, their mean and the objectives.
"""

from __future__ import annotations

import argparse
import ast
import re
import time

import numpy as np
import tasks
from bench_plan import parse_size
from pydantic import ValidationError

from allocator.engine.optimiser import backend as mathopt_backend
from allocator.engine.params import EngineParams


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
    parser.add_argument("--gap", type=float, default=1e-4, help="the plan's relative_gap")
    parser.add_argument(
        "--variants", help="';'-separated field=value[,field=value] EngineParams settings"
    )
    parser.add_argument("--repeats", type=int, default=1, help="runs of each variant")
    args = parser.parse_args()
    if args.variants:
        compare(args)
        return
    solve = mathopt_backend.core_solver.solve
    mips: list[tuple[int, int, int, float]] = []
    glop = [0, 0]  # GLOP solves (the LP's rounds and the dives' re-solves) and their pivots
    parse = mathopt_backend._parse

    def counting_glop(result, n, m, want_duals):
        if want_duals:  # only the column generation's LP asks for duals
            glop[0] += 1
            glop[1] += result.solve_stats.simplex_iterations
        return parse(result, n, m, want_duals)

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
    mathopt_backend._parse = counting_glop
    for n, u in args.sizes:
        for seed in (int(s) for s in args.seeds.split(",")):
            mips.clear()
            glop[:] = [0, 0]
            # the benchmark's own solver task: the same instance, policy and plan call
            r = tasks.solver(n, u, seed, args.time_limit, args.gap)
            print(
                f"{n}x{u} s{seed}: objective {r['objective']:,.3f} ({r['status']}), wall "
                f"{r['seconds']:.2f} s, LP {r['lp_seconds'] or 0:.2f} s, "
                f"MIPs {r['mip_seconds'] or 0:.2f} s"
            )
            print(f"    GLOP: {glop[0]} solves, {glop[1]} pivots")
            for variables, iterations, nodes, seconds in mips:
                print(
                    f"    MIP: {variables} variables, {iterations} simplex iterations, "
                    f"{nodes} nodes, {seconds:.2f} s"
                )


def parse_variant(text: str) -> EngineParams:
    """``field=value,field=value`` as EngineParams (the other fields at their defaults); a value
    is a Python literal (a tuple's commas stay in it) or a float such as ``inf``."""
    settings = {}
    for item in filter(None, (p.strip() for p in re.split(r",(?=\s*\w+\s*=)", text))):
        name, _, value = (part.strip() for part in item.partition("="))
        if name not in EngineParams.model_fields:
            raise SystemExit(f"--variants: EngineParams has no field {name!r}")
        try:
            settings[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            try:
                settings[name] = float(value)
            except ValueError:
                raise SystemExit(f"--variants: {name}={value!r} is not a value") from None
    try:
        return EngineParams(**settings)
    except ValidationError as exc:
        raise SystemExit(f"--variants: {exc}") from None


def compare(args) -> None:
    """Each instance under each variant, alternating the order: wall times side by side."""
    variants = [parse_variant(text) for text in args.variants.split(";")]
    n, u = args.sizes[0]
    tasks.solver(n, u, 1, args.time_limit, args.gap)  # imports and caches warm
    runs: dict[tuple, list] = {}
    for repeat in range(args.repeats):
        for n, u in args.sizes:
            for seed in (int(s) for s in args.seeds.split(",")):
                order = list(enumerate(variants))
                for k, engine in order if repeat % 2 == 0 else order[::-1]:
                    r = tasks.solver(n, u, seed, args.time_limit, args.gap, engine=engine)
                    runs.setdefault((n, u, seed, k), []).append(r)
    for (n, u, seed, k), results in runs.items():
        seconds = [r["seconds"] for r in results]
        objectives = sorted({round(r["objective"], 3) for r in results})
        print(
            f"{n}x{u} s{seed} [{args.variants.split(';')[k]}]: mean {np.mean(seconds):.2f} s "
            f"({' '.join(f'{t:.2f}' for t in seconds)}), objective {objectives}"
        )


if __name__ == "__main__":
    main()
