"""`allocator plan` on Excel workbooks with odd cells (typed values, dates with times, formulas
without a value, huge numbers), odd sheets and damaged bytes: a valid plan, or exit code 2 with
one line and nothing written."""

from __future__ import annotations

from harness import budget, plan_case
from hypothesis import given
from hypothesis import strategies as st
from strategies import BASES, KINDS, render_csv, render_xlsx, tables, xlsx_layouts


@budget(100)
@given(data=st.data())
def test_plan_on_mutated_xlsx_tables(data):
    """One table mutated as a workbook; the others valid workbooks or CSV files."""
    base = data.draw(st.sampled_from(BASES), label="base")
    target = data.draw(st.sampled_from(KINDS), label="target")
    files, labels, must_reject = {}, [], []
    for kind in KINDS:
        mutate = kind == target
        excel = mutate or data.draw(st.booleans(), label=f"{kind} as xlsx")
        t = data.draw(tables(kind, typed=excel, base=base, mutate=mutate), label=kind)
        if mutate:
            t = data.draw(xlsx_layouts(t), label=f"{kind} layout")
        files[kind] = (render_xlsx(t), ".xlsx") if excel else (render_csv(t), ".csv")
        labels += t.labels
        must_reject += t.must_reject()
    plan_case(
        "xlsx",
        files,
        labels=labels,
        must_reject=must_reject,
        method=data.draw(st.sampled_from(["greedy", "greedy", "greedy", "solver"]), label="method"),
        previous=data.draw(st.booleans(), label="previous outputs"),
    )
