"""`allocator plan` on CSV tables mutated in their cells, rows, columns, text and bytes: a valid
plan, or exit code 2 with one line and nothing written."""

from __future__ import annotations

from harness import budget, plan_case
from hypothesis import given
from hypothesis import strategies as st
from strategies import BASES, KINDS, csv_layouts, render_csv, tables


@budget(150)
@given(data=st.data())
def test_plan_on_mutated_csv_tables(data):
    """One or two of the three tables mutated; the others valid, all as CSV."""
    base = data.draw(st.sampled_from(BASES), label="base")
    one = [{k} for k in KINDS]
    targets = data.draw(st.sampled_from([*one, *one, *one, {"households", "units"},
                                         {"units", "stays"}]), label="targets")  # fmt: skip
    with_stays = "stays" in targets or data.draw(st.booleans(), label="with_stays")
    dayfirst = data.draw(st.integers(0, 4), label="--dayfirst") == 0
    files, labels, must_reject = {}, [], []
    for kind in KINDS:
        if kind == "stays" and not with_stays:
            continue
        t = data.draw(tables(kind, typed=False, base=base, mutate=kind in targets), label=kind)
        t.dayfirst = dayfirst
        if kind in targets:
            t = data.draw(csv_layouts(t), label=f"{kind} layout")
        files[kind] = (render_csv(t), ".csv")
        labels += t.labels
        must_reject += t.must_reject()
    plan_case(
        "csv",
        files,
        labels=labels,
        must_reject=must_reject,
        method=data.draw(st.sampled_from(["greedy", "greedy", "greedy", "solver"]), label="method"),
        previous=data.draw(st.booleans(), label="previous outputs"),
        quiet=data.draw(st.booleans(), label="quiet"),
        dayfirst=dayfirst,
    )
