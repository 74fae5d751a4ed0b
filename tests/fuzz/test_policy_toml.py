"""`allocator plan --policy` and `allocator ledger init --policy` on policy files mutated from
`Policy()`'s defaults (odd numbers, types and keys, duplicate keys, damaged text): a valid plan
that greedy does not beat when called optimal, or exit code 2 with one line and nothing written."""

from __future__ import annotations

import tempfile
from pathlib import Path

from harness import Case, budget, check, invoke, plan_case, snapshot
from hypothesis import given
from hypothesis import strategies as st
from settings_files import policies, render_policy
from strategies import BASES, KINDS, render_csv, tables


@budget(80)
@given(data=st.data())
def test_plan_with_mutated_policy(data):
    """Valid tables, a mutated policy; the solver's plans are checked against greedy's."""
    policy = data.draw(policies(), label="policy")
    base = data.draw(st.sampled_from(BASES), label="base")
    files = {}
    for kind in KINDS:
        t = data.draw(tables(kind, typed=False, base=base, mutate=False), label=kind)
        files[kind] = (render_csv(t), ".csv")
    method = data.draw(st.sampled_from(["greedy", "solver"]), label="method")
    plan_case(
        "toml",
        files,
        labels=[f"tables {base}", *policy.labels],
        must_reject=policy.must_reject(),
        method=method,
        policy=render_policy(policy),
        previous=data.draw(st.booleans(), label="previous outputs"),
        greedy_check=method == "solver",
    )


@budget(25)
@given(policy=policies())
def test_ledger_init_with_mutated_policy(policy):
    """A new ledger with a mutated policy: created with it, or not created at all."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path, db = folder / "policy.toml", folder / "ledger.db"
        path.write_bytes(render_policy(policy))
        before = snapshot(folder)
        run = invoke(["ledger", "init", "--db", str(db), "--policy", str(path)])
        case = Case("ledger-init", policy.labels, folder, policy.must_reject(), {"policy": path},
                    {db.name})  # fmt: skip
        check(case, run, before, lambda: [] if db.is_file() else ["exit 0 but no ledger"])
