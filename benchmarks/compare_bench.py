"""Compare two bench_plan.py CSVs instance by instance: objectives, statuses, plan sources, bounds.

    python benchmarks/compare_bench.py before.csv after.csv

Used to show that a change which must not change plans (a refactoring) did not: prints the
fields that differ, then the solver's wall times of both runs.
"""

from __future__ import annotations

import sys

import pandas as pd

FIELDS = [
    "greedy_obj",
    "solver_obj",
    "solver_status",
    "solver_source",
    "solver_lp_bound",
    "solver_bound",
]


def differences(before: pd.DataFrame, after: pd.DataFrame) -> list[tuple]:
    """(instance, field, before, after) for each field that differs beyond rounding."""
    found = []
    for field in FIELDS:
        a, b = before[field], after[field]
        if a.dtype.kind == "f":
            same = ((a - b).abs() <= 1e-9 * a.abs().clip(lower=1)) | (a.isna() & b.isna())
        else:
            same = a == b
        found += [(i, field, a[i], b[i]) for i in a.index[~same]]
    return found


def main(before_csv: str, after_csv: str) -> None:
    before, after = (pd.read_csv(p).set_index("instance") for p in (before_csv, after_csv))
    common = before.index.intersection(after.index)
    before, after = before.loc[common], after.loc[common]
    found = differences(before, after)
    print(f"{len(common)} instances compared; {len(found)} differing fields")
    for row in found:
        print(*row, sep="  ")
    for name, run in (("before", before), ("after", after)):
        print(
            f"solver wall time {name}: median {run.solver_s.median():.2f} s,"
            f" max {run.solver_s.max():.2f} s"
        )


if __name__ == "__main__":
    main(*sys.argv[1:3])
