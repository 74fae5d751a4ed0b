"""The solver's incumbents: the dive through the LP, and MIPs that search only below a cutoff.

The dive fixes the LP's fractional choices until the LP is integral; the plan it gives must obey
every rule. A MIP solved with a cutoff looks only for plans below it; the bound it reports must
still hold for every plan, or the solver would claim a gap it has not proven.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import time
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from allocator import Policy, plan
from allocator.engine.columns import build_columns
from allocator.engine.instance import Overrides, build_instance
from allocator.engine.optimiser import backend, dive, incumbents, mips
from allocator.engine.optimiser.model import build_model
from allocator.engine.optimiser.outcome import SolveOutcome, cutoff
from allocator.engine.optimiser.pricing import reduced_costs
from allocator.engine.params import EngineParams
from allocator.examples import generate
from allocator.tables import validate_tables
from allocator.testing import check_plan, objective_of

START = dt.date(2026, 12, 7)
FIX_AT = EngineParams().dive_fix_at


@pytest.mark.parametrize("share", [0.0, 0.5])  # one household per round, or half of them
@pytest.mark.parametrize("pricing", [False, True])
@pytest.mark.parametrize(
    ("n", "m", "weeks", "seed", "caps"),
    [(100, 60, 26, 1, False), (100, 45, 10, 1, True)],  # two whose LP is fractional (measured)
)
def test_the_dive_gives_a_valid_plan(n, m, weeks, seed, caps, pricing, share, monkeypatch) -> None:
    dives = []
    real_dive = dive.dive

    def recording(lp, values, owner, n0, deadline, grow=None, max_rounds=np.inf, **kwargs):
        if pricing != (grow is not None):  # only the dive under test makes a plan: the other
            return np.zeros(n0), False  # leaves everyone unplaced, which greedy beats
        dives.append(real_dive(lp, values, owner, n0, deadline, grow, max_rounds, **kwargs))
        return dives[-1]

    # no one-pass rounding and no MIP: the dive's plan is the one to beat greedy
    monkeypatch.setattr(dive, "dive", recording)
    monkeypatch.setattr(
        incumbents, "round_lp", lambda inst, cols, x: (np.full(inst.n_households, -1),) * 2
    )
    monkeypatch.setattr(
        mips,
        "restricted_mip",
        lambda *args, **kwargs: (SimpleNamespace(reason="skipped"), -np.inf, ""),
    )
    engine = EngineParams(
        pricing_dive_rounds=10**6,  # rounds to finish
        pricing_dive_from=0,  # at every size
        dive_fix_share=share,
        dive_fix_share_from=0,
    )
    tables = generate(n, m, seed=seed, start=START, horizon_weeks=weeks)
    policy = Policy(
        horizon_weeks=weeks,
        support_capacity=40 if caps else None,
        mediation_capacity=2 if caps else None,
    )
    result = plan(
        *tables, start=START, policy=policy, relative_gap=1e-9, time_limit=60, engine=engine
    )
    assert len(dives) == 1 and dives[0][1]  # the LP was fractional, the dive finished
    assert result.details["plan_source"] == "dive"
    assert check_plan(result, *tables, START, policy) == []
    recomputed = objective_of(result, tables[0], tables[1], START, policy)
    assert recomputed == pytest.approx(result.objective, rel=1e-9)
    assert result.details["lp_bound"] <= result.objective <= result.details["greedy_objective"]


def small_mip(seed: int):
    households, units, stays = generate(30, 14, seed=seed, start=START, horizon_weeks=4)
    policy = Policy(horizon_weeks=4)
    inst = build_instance(validate_tables(households, units, stays), START, policy, Overrides())
    return build_model(inst, build_columns(inst), integer=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_cutoff_never_overstates_the_bound(seed) -> None:
    model = small_mip(seed)
    exact = backend.solve(model, time_limit=60, threads=1, seed=0, relative_gap=0.0)
    assert exact.optimal
    optimum = exact.objective

    above = backend.solve(
        model, time_limit=60, threads=1, seed=0, relative_gap=0.0, cutoff=optimum + 1
    )
    assert above.objective == pytest.approx(optimum, rel=1e-9)
    assert above.bound <= optimum + 1e-6

    below = backend.solve(
        model, time_limit=60, threads=1, seed=0, relative_gap=0.0, cutoff=optimum - 1
    )
    assert not below.optimal
    assert "cutoff" in below.reason
    assert not below.objective < optimum - 1e-6  # no plan can beat the optimum
    assert below.bound <= optimum + 1e-6  # HiGHS's own bound may lie above it: it must be cut


class ScriptedLP:
    """Stands in for the LP: records bound changes, answers solves from a script."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.changes = []

    def set_bounds(self, positions, *, lower=None, upper=None):
        self.changes.append((sorted(int(p) for p in positions), lower, upper))

    def solve(self, time_limit, *, dual=False):
        values, reason = self.answers.pop(0)
        optimal = values is not None
        return backend.SolverAnswer(
            ok=optimal,
            optimal=optimal,
            values=None if values is None else np.array(values, dtype=float),
            objective=0.0,
            bound=-np.inf,
            reduced_costs=None,
            duals=None,
            seconds=0.0,
            reason=reason,
            infeasible=reason == "INFEASIBLE",
        )


# two households (unplaced flags 0 and 1), one column each (variables 2 and 3)
OWNER = np.array([0, 1, 0, 1])
FRACTIONAL = np.array([0.2, 0.1, 0.8, 0.9])


def test_a_dive_undoes_a_joint_fixing_that_is_infeasible() -> None:
    lp = ScriptedLP([(None, "INFEASIBLE"), ([1, 0, 0, 1], "OPTIMAL")])
    x, integral = dive.dive(lp, FRACTIONAL, OWNER, 2, deadline=float("inf"), fix_at=FIX_AT)
    np.testing.assert_array_equal(x, [1, 0, 0, 1])
    assert integral
    # both firm choices fixed together, undone, then the highest alone
    assert lp.changes == [([2, 3], 1.0, None), ([2, 3], 0.0, None), ([3], 1.0, None)] + [
        ([3], 0.0, None)  # restored
    ]


def test_a_dive_forbids_a_single_fixing_that_is_infeasible() -> None:
    low = np.array([0.5, 0.4, 0.5, 0.6])
    lp = ScriptedLP([(None, "INFEASIBLE"), ([0, 1, 1, 0], "OPTIMAL")])
    x, integral = dive.dive(lp, low, OWNER, 2, deadline=float("inf"), fix_at=FIX_AT)
    np.testing.assert_array_equal(x, [0, 1, 1, 0])
    assert integral
    assert lp.changes == [([3], 1.0, None), ([3], 0.0, None), ([3], None, 0.0)] + [
        ([3], None, 1.0)  # restored
    ]


def test_a_dive_forbids_the_highest_when_it_clashes_alone_too() -> None:
    lp = ScriptedLP([(None, "INFEASIBLE"), (None, "INFEASIBLE"), ([1, 0, 0, 1], "OPTIMAL")])
    x, integral = dive.dive(lp, FRACTIONAL, OWNER, 2, deadline=float("inf"), fix_at=FIX_AT)
    np.testing.assert_array_equal(x, [1, 0, 0, 1])
    assert integral
    assert lp.changes == [
        ([2, 3], 1.0, None),  # together: infeasible
        ([2, 3], 0.0, None),
        ([3], 1.0, None),  # the highest alone: infeasible too
        ([3], 0.0, None),
        ([3], None, 0.0),  # forbidden
        ([3], None, 1.0),  # restored
    ]


def test_a_dive_with_a_share_fixes_several_households_at_once() -> None:
    low = np.array([0.5, 0.4, 0.5, 0.6])  # nobody firm: household 0's flag, household 1's column
    lp = ScriptedLP([([1, 0, 0, 1], "OPTIMAL")])
    x, integral = dive.dive(lp, low, OWNER, 2, deadline=float("inf"), fix_at=FIX_AT, fix_share=1.0)
    np.testing.assert_array_equal(x, [1, 0, 0, 1])
    assert integral
    assert lp.changes == [([0, 3], 1.0, None), ([0, 3], 0.0, None)]  # together; restored


def test_a_dive_shares_out_the_highest_households_rounded_up() -> None:
    owner = np.array([0, 1, 2, 0, 1, 2])  # three households: flags 0-2, columns 3-5
    values = np.array([0.4, 0.45, 0.3, 0.6, 0.55, 0.7])  # nobody firm; highest: 5, 3, then 4
    lp = ScriptedLP([([0, 0, 0, 1, 1, 1], "OPTIMAL")])
    x, integral = dive.dive(
        lp, values, owner, 3, deadline=float("inf"), fix_at=FIX_AT, fix_share=0.5
    )
    assert integral
    assert lp.changes == [([3, 5], 1.0, None), ([3, 5], 0.0, None)]  # ceil(0.5 * 3) = 2


def test_a_dive_whose_shared_fixing_clashes_goes_on_one_at_a_time() -> None:
    owner = np.array([0, 1, 2, 0, 1, 2])  # three households: flags 0-2, columns 3-5
    values = np.array([0.5, 0.5, 0.4, 0.5, 0.5, 0.6])
    after = [0.5, 0.5, 0, 0.5, 0.5, 1]  # household 2 settled, households 0 and 1 still halves
    lp = ScriptedLP([(None, "INFEASIBLE"), (after, "OPTIMAL"), ([1, 0, 0, 0, 1, 1], "OPTIMAL")])
    x, integral = dive.dive(
        lp, values, owner, 3, deadline=float("inf"), fix_at=FIX_AT, fix_share=1.0
    )
    np.testing.assert_array_equal(x, [1, 0, 0, 0, 1, 1])
    assert integral
    assert lp.changes == [
        ([0, 1, 5], 1.0, None),  # the share together: infeasible
        ([0, 1, 5], 0.0, None),
        ([5], 1.0, None),  # the highest alone
        ([0], 1.0, None),  # then one at a time, though two households are left
        ([5], 0.0, None),  # restored
        ([0], 0.0, None),
    ]


def test_a_dive_out_of_time_gives_its_last_values() -> None:
    partly = [0, 0.5, 1, 0.5]  # the first round fixes household 0, household 1 stays fractional
    lp = ScriptedLP([(partly, "OPTIMAL"), (None, "TIME_LIMIT")])
    x, integral = dive.dive(lp, FRACTIONAL, OWNER, 2, deadline=float("inf"), fix_at=FIX_AT)
    np.testing.assert_array_equal(x, partly)  # the last round that finished
    assert not integral
    assert lp.changes[-2:] == [([2, 3], 0.0, None), ([1], 0.0, None)]  # restored
    past = ScriptedLP([])
    x, integral = dive.dive(past, FRACTIONAL, OWNER, 2, deadline=0.0, fix_at=FIX_AT)
    np.testing.assert_array_equal(x, FRACTIONAL)  # nothing tried once the deadline has passed
    assert not integral and past.changes == []


def test_a_dive_stops_at_its_round_limit() -> None:
    # the first round leaves household 1 fractional; one round allowed: its values, unfinished
    lp = ScriptedLP([([0, 0.5, 1, 0.5], "OPTIMAL")])
    x, integral = dive.dive(
        lp, FRACTIONAL, OWNER, 2, deadline=float("inf"), max_rounds=1, fix_at=FIX_AT
    )
    np.testing.assert_array_equal(x, [0, 0.5, 1, 0.5])
    assert not integral
    assert lp.changes[-1] == ([2, 3], 0.0, None)  # restored


@given(st.floats(-1e7, 1e7, allow_nan=False), st.floats(1e-6, 0.5))
def test_a_bound_at_the_cutoff_meets_the_gap_exactly(incumbent, gap) -> None:
    below = cutoff(incumbent, gap)
    assert below < incumbent
    # the test `plan()` applies to decide whether the plan is within the gap
    assert incumbent - below <= max(gap * abs(incumbent), 1e-6 * max(1.0, abs(incumbent)))
    if gap * abs(incumbent) >= 1e-6 * max(1.0, abs(incumbent)):
        assert incumbent - below <= gap * max(abs(incumbent), 1e-9)


def test_the_proof_mip_alone_proves_what_both_mips_prove() -> None:
    """Skipping the restricted MIP (when the proof MIP is only a few times larger) loses nothing:
    the proof MIP over every column of low reduced cost finds and proves the optimum itself."""
    households, units, stays = generate(100, 60, seed=1, start=START)  # a fractional LP
    results = {}
    for straight in (False, True):
        engine = EngineParams(straight_to_proof_ratio=1e9 if straight else 0.0)
        result = plan(households, units, stays, start=START, time_limit=120, seed=0, engine=engine)
        assert result.details["solver_detail"].count("MIP on") == (1 if straight else 2)
        assert result.status.value == "optimal" and result.details["plan_source"] == "mip"
        assert check_plan(result, households, units, stays, START) == []
        results[straight] = result
    # the same optimum both ways, each proven to the default gap (1e-4) by its own bound
    for a, b in ((False, True), (True, False)):
        assert results[a].objective >= results[b].best_bound - 1e-6
    assert results[True].objective == pytest.approx(results[False].objective, rel=1e-4)


@functools.cache
def fractional():
    """30 households, 10 units, 8 weeks, tight accompaniment and mediation caps: an LP 0.18%
    below the optimum (found by search; most small instances have an integral LP). The
    instance, its columns, its exact MIP optimum and its LP (simplex, with duals), solved once."""
    households, units, stays = generate(30, 10, seed=5, start=START, horizon_weeks=8)
    policy = Policy(horizon_weeks=8, support_capacity=8, mediation_capacity=1)
    inst = build_instance(validate_tables(households, units, stays), START, policy, Overrides())
    cols = build_columns(inst)
    model = build_model(inst, cols, integer=True)
    exact = backend.solve(model, time_limit=60, threads=1, seed=0, relative_gap=0.0)
    assert exact.optimal
    lp = backend.solve(
        build_model(inst, cols, integer=False), time_limit=60, threads=1, seed=0, want_duals=True
    )
    n0 = model.cost.size - len(cols)
    chosen = np.flatnonzero(exact.values[n0:] > 0.5)  # the optimum's columns
    return SimpleNamespace(inst=inst, cols=cols, exact=exact, lp=lp, chosen=chosen)


def forced_lp(inst, cols, column: int):
    """The LP over every column with this one forced in (its value, or None if infeasible)."""
    relaxed = build_model(inst, cols, integer=False)
    relaxed.var_lb[relaxed.cost.size - len(cols) + column] = 1.0
    answer = backend.solve(relaxed, time_limit=60, threads=1, seed=0)
    if answer.infeasible:
        return None
    assert answer.optimal
    return answer.objective


@pytest.mark.parametrize(("noise", "shift"), [(0.0, 0.0), (5.0, 0.0), (0.0, 50.0)])
def test_a_forced_bound_holds_for_every_plan_through_its_column(noise, shift) -> None:
    """Each column's forced bound is at most the LP with the column forced in (a Lagrangian bound
    of that LP; the MIP's optimum is higher still), for the interior point's duals, those duals
    with noise, or with every household's dual lowered (which raises all its reduced costs
    alike: the textbook bound, LP value plus reduced cost, would then claim too much). Checked
    on the optimum's columns, the columns nearest above a cutoff 0.1% over the optimum (the
    first that fixing at the centre drops) and a random sample."""
    f = fractional()
    inst, cols, exact = f.inst, f.cols, f.exact
    relaxed = build_model(inst, cols, integer=False)
    centre = backend.solve(
        relaxed, time_limit=60, threads=1, seed=0, want_duals=True, interior_point=True
    )
    assert centre.objective < exact.objective - 1.0  # the LP is fractional: fixing has work
    rng = np.random.default_rng(0)
    duals = centre.duals + noise * rng.standard_normal(centre.duals.size)
    duals[: inst.n_households] -= shift
    bounds = mips.forced_bounds(inst, cols, duals)
    assert np.all(bounds[f.chosen] <= exact.objective + 1e-6)
    above = np.flatnonzero(bounds >= exact.objective * 1.001)
    candidates = np.concatenate(
        [above[np.argsort(bounds[above])[:40]], rng.choice(len(cols), size=40, replace=False)]
    )
    checked = 0
    for column in candidates:
        value = forced_lp(inst, cols, column)
        if value is not None:  # a column that cannot be in any plan bounds nothing
            assert value >= bounds[column] - 1e-6
            checked += 1
    assert checked >= 20


@functools.cache
def below_the_cutoff_when_forced(cutoff: float) -> list[int]:
    """The columns of `fractional()` whose forced LP is below the cutoff: among those the
    LP's own duals cannot rule out (the LP value plus the reduced cost bounds the forced LP)."""
    inst, cols, lp = fractional().inst, fractional().cols, fractional().lp
    candidates = np.flatnonzero(lp.objective + reduced_costs(inst, cols, lp.duals) < cutoff)
    values = {int(c): forced_lp(inst, cols, c) for c in candidates}
    return [c for c, value in values.items() if value is not None and value < cutoff]


@pytest.mark.parametrize("noise", [0.0, 20.0])
def test_fixing_at_the_centre_keeps_every_column_that_may_be_below_the_cutoff(
    noise, monkeypatch
) -> None:
    """Above a cutoff just over the optimum, fixing keeps every column whose forced LP is below
    the cutoff (the optimum's among them) and drops most others, whether the interior point's
    duals are exact or (patched in) noisy: the forced bounds hold for any duals."""
    f = fractional()
    cutoff = f.exact.objective + 1e-3
    must_keep = below_the_cutoff_when_forced(cutoff)
    assert len(must_keep) >= 3
    interior = backend.solve
    rng = np.random.default_rng(1)

    def noisy(*args, **kwargs):
        answer = interior(*args, **kwargs)
        answer.duals = answer.duals + noise * rng.standard_normal(answer.duals.size)
        return answer

    monkeypatch.setattr(backend, "solve", noisy)
    kept = mips.below_cutoff_at_centre(f.inst, f.cols, cutoff, time.perf_counter() + 60)
    assert kept is not None and kept[must_keep].all()
    assert kept[f.chosen].all()
    if noise == 0.0:
        assert kept.sum() < 0.1 * len(f.cols)


@pytest.mark.parametrize("above", [0.002, 0.0, -0.01])
def test_a_mip_after_fixing_at_the_centre_keeps_a_valid_bound(above) -> None:
    """`restricted_mip` with fixing on every MIP, over the columns of reduced cost below the
    cutoff's distance from the LP: from an incumbent above the optimum it finds the optimum;
    from one at or below it (where fixing may leave no column at all) it finds nothing better,
    and its bound never exceeds the optimum."""
    f = fractional()
    inst, cols, exact, lp = f.inst, f.cols, f.exact, f.lp
    N = inst.n_households
    rc = reduced_costs(inst, cols, lp.duals)
    incumbent = exact.objective * (1 + above)
    outcome = SolveOutcome(
        np.full(N, -1), np.full(N, -1), incumbent, -np.inf, False, "test", "", len(cols), 0, 0, 0
    )
    # every column whose reduced cost is below the cutoff's distance from the LP (a MIP that
    # settles the gap), and at least those within 20 of it
    keep = rc < max(cutoff(incumbent, 1e-4) - lp.objective, 20.0)
    assert 0 < keep.sum() < len(cols)
    ctx = mips.MipContext(
        inst=inst,
        cols=cols,
        rc=rc,
        lp_bound=lp.objective,
        converged=True,
        deadline=time.perf_counter() + 60,
        workers=1,
        seed=0,
        relative_gap=1e-4,
        params=EngineParams(central_fixing_from=0),  # fixing on every MIP
    )
    mip, bound, fixing = mips.restricted_mip(ctx, keep, outcome, settles=True)
    assert "after fixing at the centre" in fixing
    assert bound <= exact.objective + 1e-6
    if above > 0:
        assert outcome.source == "mip"
        assert outcome.objective == pytest.approx(exact.objective, abs=1e-6)
        assert bound >= exact.objective * (1 - 1e-4) - 1e-6  # proven within the gap
    else:
        assert outcome.source == "test" and outcome.objective == incumbent


def test_fixing_at_the_centre_proves_the_same_optimum_with_a_smaller_mip() -> None:
    """100x60 seed 1 needs a MIP to prove its optimum: fixing at the centre first leaves that MIP
    fewer columns and proves the same optimum."""
    households, units, stays = generate(100, 60, seed=1, start=START)
    results = {}
    for centre in (False, True):
        engine = EngineParams(central_fixing_from=0 if centre else 10**9)
        result = plan(households, units, stays, start=START, time_limit=120, seed=0, engine=engine)
        assert result.status.value == "optimal"
        assert check_plan(result, households, units, stays, START) == []
        results[centre] = result
    detail = results[True].details["solver_detail"]
    assert "after fixing at the centre" in detail
    assert "after fixing at the centre" not in results[False].details["solver_detail"]
    # the proof MIP: "MIP on K columns (L after fixing at the centre)", L well below K
    columns, left = (int(v) for v in re.findall(r"MIP on (\d+) columns \((\d+) after", detail)[-1])
    assert left < 0.6 * columns
    assert results[True].objective == pytest.approx(results[False].objective, rel=1e-4)
    for a, b in ((False, True), (True, False)):
        assert results[a].objective >= results[b].best_bound - 1e-6


def test_restricted_mips_grow_where_no_proof_fits() -> None:
    """100x60 seed 1 with the proof MIP capped below its 5,984 columns: instead of stopping
    after the restricted MIP, the engine solves larger ones over the columns of lowest reduced
    cost, each 1.2 times the last (set here), up to the cap; their bound holds and beats the
    first's, and the plan is no worse."""
    households, units, stays = generate(100, 60, seed=1, start=START)
    results = {}
    for growth in (1.0, 1.2):
        engine = EngineParams(max_proof_columns=4_000, restricted_growth=growth)
        result = plan(households, units, stays, start=START, time_limit=120, seed=0, engine=engine)
        assert check_plan(result, households, units, stays, START) == []
        results[growth] = result
    alone, grown = results[1.0], results[1.2]
    sizes = [int(v) for v in re.findall(r"MIP on (\d+) columns", grown.details["solver_detail"])]
    assert sizes == [sizes[0], int(1.2 * sizes[0]), 4_000] and int(1.44 * sizes[0]) > 4_000
    assert len(re.findall(r"MIP on", alone.details["solver_detail"])) == 1
    proven = plan(households, units, stays, start=START, time_limit=120, seed=0)  # uncapped
    assert proven.status.value == "optimal"
    assert grown.best_bound > alone.best_bound
    assert grown.best_bound <= proven.objective + 1e-6
    assert grown.objective <= alone.objective + 1e-9


def test_restricted_mips_grow_before_a_much_larger_proof() -> None:
    """100x60 seed 41 at a gap of 0.1%: the first restricted MIP finds no plan below the cutoff,
    and the proof at that cutoff would be over 9 times its size (more than GROW_BEFORE_PROOF,
    set here at 8). The next MIP is a restricted one of exactly 4 times its columns, which
    finds a plan within the gap of the LP; with the rule off the next one is the proof, and the
    plans agree within the gap."""
    households, units, stays = generate(100, 60, seed=41, start=START)
    results = {}
    for rule in (True, False):
        # on running totals: the MIPs' path this test follows starts from their LP's vertex
        engine = EngineParams(grow_before_proof=8.0 if rule else np.inf, breakpoint_rows_up_to=0)
        result = plan(
            households,
            units,
            stays,
            start=START,
            time_limit=120,
            seed=0,
            relative_gap=1e-3,
            engine=engine,
        )
        assert check_plan(result, households, units, stays, START) == []
        assert result.status.value == "optimal"
        results[rule] = result
    grown, proof = results[True], results[False]
    stages = grown.details["solver_detail"].split("; ")[1:]
    assert len(stages) == 2 and "no solution below the cutoff" in stages[0]
    sizes = [int(re.search(r"MIP on (\d+) columns", stage)[1]) for stage in stages]
    assert sizes[1] == int(EngineParams().restricted_growth * sizes[0])
    assert "after fixing at the centre" not in stages[1]  # not a proof
    proof_sizes = [
        int(v) for v in re.findall(r"MIP on (\d+) columns", proof.details["solver_detail"])
    ]
    assert proof_sizes[0] == sizes[0] and proof_sizes[1] > 2 * sizes[1]
    assert grown.objective - grown.details["lp_bound"] <= 1e-3 * grown.objective
    assert abs(grown.objective - proof.objective) <= 1e-3 * proof.objective
