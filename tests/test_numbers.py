"""Every number a user gives (tables, policy, engine settings, scenario, options) is finite and
within a range the engine handles exactly: it is refused in one line naming the field or option,
the value and the range, or accepted, and then the solver's plan follows the rules and is no
worse than greedy's; the solver never calls "optimal" a plan that greedy beats."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from allocator import EngineParams, InputError, Policy, Status, plan
from allocator.cli import app
from allocator.engine.columns import objective
from allocator.engine.instance import build_instance
from allocator.engine.optimiser.outcome import SolveOutcome
from allocator.engine.planning import vetted
from allocator.examples import generate
from allocator.policy import DEFAULT_URGENCY_WEIGHTS, validate_policy
from allocator.simulation import load_scenario, vary
from allocator.simulation.sampling import build_units, sample_households
from allocator.tables import validate_tables
from allocator.testing import check_plan

START = "2026-12-07"
MILAN = Path(__file__).resolve().parents[1] / "scenarios" / "milan.yaml"
HH, UN, ST = generate(12, 6, seed=5, horizon_weeks=4)
PINS = {"H00003": "U00003"}  # pin_weight takes part in the objective

EXTREMES = [
    math.nan,
    math.inf,
    -math.inf,
    0,
    -0.0,
    -1,
    1e-300,
    1e-7,
    1e-6,
    1e-3,
    0.5,
    1,
    2.5,
    1e3,
    1e4,
    1e6,
    1e7,
    1e9,
    1e18,
    1e300,
    2**31,
    2**53 + 1,
    2**63 - 1,
    2**63,
    -(2**63),
]
values = (
    st.sampled_from(EXTREMES)
    | st.floats()
    | st.integers(-(2**70), 2**70)
    | st.integers(-3, 120)  # in range for most fields: the plans are checked too
    | st.floats(-1.0, 2e4)
)
NUMBERS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tolerance(x: float) -> float:
    return 1e-6 * max(1.0, abs(x))


def one_line_naming(err: InputError, name: str) -> str:
    text = str(err)
    assert "\n" not in text, text
    assert name in text, text
    return text


def assert_no_worse_than_greedy(policy: Policy, engine: EngineParams | None = None) -> None:
    """The solver's plan under ``policy``: rules kept, finite, no worse than greedy's, and
    "optimal" only with a bound at or below its objective; or the coefficient range refused."""
    try:
        solved = plan(HH, UN, ST, start=START, policy=policy, pins=PINS, time_limit=5,
                      reasons=False, engine=engine)  # fmt: skip
    except InputError as err:  # the objective's largest coefficient out of range
        assert err.source == "policy" and "above 1e+09" in one_line_naming(err, "policy")
        return
    greedy = plan(HH, UN, ST, start=START, policy=policy, pins=PINS, method="greedy")
    assert math.isfinite(solved.objective)
    assert solved.objective <= greedy.objective + tolerance(greedy.objective)
    if solved.status is Status.OPTIMAL:
        assert solved.best_bound is not None
        assert solved.best_bound <= solved.objective + tolerance(solved.objective)
    assert check_plan(solved, HH, UN, ST, START, policy, pins=PINS) == []


# --- the policy ----------------------------------------------------------------------------------

POLICY_FIELDS = {
    "horizon_weeks": lambda v: {"horizon_weeks": v},
    "turnover_days": lambda v: {"turnover_days": v},
    "urgency_weights.5": lambda v: {"urgency_weights": {**DEFAULT_URGENCY_WEIGHTS, 5: v}},
    "urgency_weights.1": lambda v: {"urgency_weights": {**DEFAULT_URGENCY_WEIGHTS, 1: v}},
    "wasted_bed_night_weight": lambda v: {"wasted_bed_night_weight": v},
    "kind_mismatch_weight": lambda v: {"kind_mismatch_weight": v},
    "terminal_wait_days": lambda v: {"terminal_wait_days": v},
    "pin_weight": lambda v: {"pin_weight": v},
    "support_loads.high": lambda v: {"support_loads": {"low": 1, "medium": 2, "high": v}},
    "support_capacity": lambda v: {"support_capacity": v},
    "mediation_capacity": lambda v: {"mediation_capacity": v},
    "mediation_capacity_by_language.arabic": lambda v: {
        "mediation_capacity_by_language": {"arabic": v}
    },
    "max_stay_days": lambda v: {"max_stay_days": v},
}


@NUMBERS
@given(field=st.sampled_from(sorted(POLICY_FIELDS)), value=values)
def test_a_policy_number_is_refused_with_its_range_or_planned_exactly(field, value) -> None:
    """Extreme and non-finite values of every number of the policy."""
    try:
        policy = validate_policy(POLICY_FIELDS[field](value), source="policy.toml")
    except InputError as err:
        assert err.field == field
        text = one_line_naming(err, "policy.toml")
        assert "expected" in text and (" to " in text or "at most" in text), text
        event("refused")
        return
    event("planned")
    assert_no_worse_than_greedy(policy)


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        ("terminal_wait_days = 9223372036854775807", "terminal_wait_days", "from 0 to 3650"),
        ("terminal_wait_days = 1000000000000000000", "terminal_wait_days", "from 0 to 3650"),
        ("urgency_weights = {1=1, 2=1.5, 3=2, 4=3, 5=1e300}", "urgency_weights.5", "to 10000"),
        ("urgency_weights = {1=1, 2=1.5, 3=2, 4=3, 5=nan}", "urgency_weights.5", "got nan"),
        ("urgency_weights = {1=1, 2=1.5, 3=2, 4=3, 5=inf}", "urgency_weights.5", "got inf"),
        ("wasted_bed_night_weight = -inf", "wasted_bed_night_weight", "to 1000"),
    ],
)
def test_the_issues_extreme_policies_are_refused_by_the_cli(tmp_path, line, field, words) -> None:
    """A plan that placed nobody as "optimal", a solver traceback: now exit 2, one line, no file."""
    policy = tmp_path / "policy.toml"
    policy.write_text(line + "\n")
    (tmp_path / "h.csv").write_text(HH.to_csv(index=False))
    (tmp_path / "u.csv").write_text(UN.to_csv(index=False))
    out = tmp_path / "plan.csv"
    args = ["plan", "--households", str(tmp_path / "h.csv"), "--units", str(tmp_path / "u.csv")]
    args += ["--start", START, "--out", str(out), "--policy", str(policy)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and not out.exists()
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and f"field '{field}'" in lines[0] and words in lines[0], lines


def test_the_largest_coefficient_is_checked_on_the_households_at_hand() -> None:
    """Each weight in range, their product for a household of 30 beyond 1e9: refused, naming it."""
    policy = Policy(
        urgency_weights={u: 1e4 for u in range(1, 6)}, terminal_wait_days=3650, horizon_weeks=104
    )
    big = HH.assign(size=30, minors=0)
    with pytest.raises(InputError) as refused:
        plan(big, UN, ST, start=START, policy=policy, method="greedy")
    text = one_line_naming(refused.value, "above 1e+09")
    assert "urgency weight 10000 x 30 persons" in text and "terminal_wait_days" in text
    plan(HH.assign(size=1, minors=0), UN, ST, start=START, policy=policy, method="greedy")


def test_scaled_weights_give_the_same_plan_across_the_range() -> None:
    """Every weight times 1e-3 or 1e3 (within range) leaves the plan as it is: the objective is
    exact over the range (docs/engine.md, "Numeric ranges")."""
    hh, un, st = generate(40, 20, seed=3, horizon_weeks=8)
    plans = []
    for k in (1e-3, 1.0, 1e3):
        policy = Policy(
            horizon_weeks=8,
            urgency_weights={u: w * k for u, w in DEFAULT_URGENCY_WEIGHTS.items()},
            wasted_bed_night_weight=0.002 * k,
            kind_mismatch_weight=0.001 * k,
        )
        result = plan(hh, un, st, start=START, policy=policy, time_limit=20, relative_gap=1e-6)
        assert result.status is Status.OPTIMAL
        plans.append((result.objective / k, result.placements[["household_id", "start"]]))
    for obj, table in plans[1:]:
        assert obj == pytest.approx(plans[0][0], rel=1e-9)
        assert table.equals(plans[0][1])


# --- never "optimal" when greedy beats the solver's plan -----------------------------------------


def _outcome(inst, pool, start, reported: float, bound: float) -> SolveOutcome:
    return SolveOutcome(pool, start, reported, bound, True, "mip", "", 0, 0, 0.0, 0.0)


@pytest.fixture
def instance():
    return build_instance(validate_tables(HH, UN, ST), np.datetime64(START).item(), Policy())


def test_a_solver_plan_worse_than_greedy_is_replaced_by_greedys(instance) -> None:
    """A solver whose numerics failed: nobody placed, yet reported optimal with gap 0."""
    from allocator.engine.greedy import solve_greedy

    greedy = solve_greedy(instance)
    nobody = np.full(instance.n_households, -1), np.full(instance.n_households, -1)
    worse = objective(instance, *nobody)
    assert worse > objective(instance, *greedy)
    details: dict = {}
    pool, start, bound, status = vetted(
        instance, _outcome(instance, *nobody, worse, worse), greedy, worse, Status.OPTIMAL, details
    )
    assert status is Status.FEASIBLE and bound is None
    assert (pool == greedy[0]).all() and (start == greedy[1]).all()
    assert "numerics were not trusted" in details["warning"] and "greedy" in details["warning"]


def test_an_objective_the_plan_does_not_have_is_not_proven(instance) -> None:
    """The reported objective differs from the plan's own: feasible, the bound dropped."""
    from allocator.engine.greedy import solve_greedy

    greedy = solve_greedy(instance)
    true = objective(instance, *greedy)
    details: dict = {}
    out = _outcome(instance, *greedy, true * 0.5, true * 0.5)
    _, _, bound, status = vetted(instance, out, greedy, true * 0.5, Status.OPTIMAL, details)
    assert status is Status.FEASIBLE and bound is None
    assert "reported objective" in details["warning"]


def test_a_bound_above_the_plan_is_not_proven(instance) -> None:
    from allocator.engine.greedy import solve_greedy

    greedy = solve_greedy(instance)
    true = objective(instance, *greedy)
    details: dict = {}
    out = _outcome(instance, *greedy, true, true * 1.5)
    _, _, bound, status = vetted(instance, out, greedy, true * 1.5, Status.OPTIMAL, details)
    assert status is Status.FEASIBLE and bound is None
    assert "bound" in details["warning"]


def test_a_sound_answer_is_left_as_it_is(instance) -> None:
    from allocator.engine.greedy import solve_greedy

    greedy = solve_greedy(instance)
    true = objective(instance, *greedy)
    details: dict = {}
    out = _outcome(instance, *greedy, true, true)
    _, _, bound, status = vetted(instance, out, greedy, true, Status.OPTIMAL, details)
    assert (status, bound, details) == (Status.OPTIMAL, true, {})


# --- the tables ----------------------------------------------------------------------------------

TABLE_FIELDS = [
    ("households", "size"),
    ("households", "minors"),
    ("households", "urgency"),
    ("households", "expected_stay_days"),
    ("units", "capacity"),
    ("units", "nightly_cost"),
    ("stays", "size"),
]


@NUMBERS
@given(cell=st.sampled_from(TABLE_FIELDS), value=values, as_text=st.booleans())
def test_a_table_number_is_refused_naming_its_cell_or_planned(cell, value, as_text) -> None:
    """Extreme and non-finite numbers in every numeric column, as numbers or as a file's text."""
    kind, column = cell
    frames = {"households": HH.copy(), "units": UN.copy(), "stays": ST.copy()}
    frame = frames[kind]
    if column not in frame:
        frame[column] = None
    frame[column] = frame[column].astype(object)
    frame.loc[frame.index[1], column] = str(value) if as_text else value
    try:
        solved = plan(frames["households"], frames["units"], frames["stays"], start=START,
                      time_limit=5, reasons=False)  # fmt: skip
    except InputError as err:
        # a NaN stay length reads as missing: the row then gives neither stay column (a pair)
        named = set((err.column or "").split(", "))
        assert err.source == kind and named & {column, "minors"}, str(err)
        assert "\n" not in str(err)
        event("refused")
        return
    event("planned")
    greedy = plan(frames["households"], frames["units"], frames["stays"], start=START,
                  method="greedy")  # fmt: skip
    assert solved.objective <= greedy.objective + tolerance(greedy.objective)


def test_a_table_number_out_of_range_names_the_range() -> None:
    with pytest.raises(InputError) as refused:
        validate_tables(HH.assign(expected_stay_days=10**18), UN, ST)
    text = str(refused.value)
    assert refused.value.column == "expected_stay_days"
    assert "expected a whole number from 1 to 3650" in text and "1000000000000000000" in text
    with pytest.raises(InputError) as refused:
        validate_tables(HH, UN.assign(nightly_cost=math.inf), ST)
    assert "expected a finite number from 0 to 1e+06" in str(refused.value)


# --- the engine's settings -----------------------------------------------------------------------

ENGINE_FIELDS = sorted(
    name for name, info in EngineParams.model_fields.items() if info.annotation in (int, float)
)


def _toml(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
    return repr(value)


@NUMBERS
@given(field=st.sampled_from(ENGINE_FIELDS), value=values)
def test_an_engine_setting_is_refused_with_its_range_or_planned(tmp_path_factory, field, value):
    """Every number of `EngineParams`, from a TOML file: refused naming it, or a sound plan."""
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        value = float(value)  # TOML's integers are 64-bit
    path = tmp_path_factory.mktemp("engine") / "engine.toml"
    path.write_text(f"{field} = {_toml(value)}\n")
    try:
        params = EngineParams.from_file(path)
    except InputError as err:
        assert err.field == field, str(err)
        text = one_line_naming(err, "engine.toml")
        assert "expected" in text, text
        event("refused")
        return
    event("planned")
    assert_no_worse_than_greedy(Policy(), params)


# --- the scenario --------------------------------------------------------------------------------

SCENARIO_FIELDS = [
    "arrivals.weekly_rate",
    "arrivals.notice_days",
    "arrivals.accessible_share",
    "units.hub_rooms.count",
    "units.hub_rooms.operating_cost_per_unit_night",
    "units.amortisation_years",
    "costs.hotel_per_person_night",
    "costs.shelter_per_person_night",
    "horizon_weeks",
    "exit_notice_days",
    "policy.terminal_wait_days",
    "baseline.shelter_share",
]


@pytest.fixture(scope="module")
def milan():
    return vary(load_scenario(MILAN), {"horizon_weeks": 4})


@NUMBERS
@given(field=st.sampled_from(SCENARIO_FIELDS), value=values)
def test_a_scenario_number_is_refused_with_its_range_or_sampled(milan, field, value) -> None:
    """Every number of a scenario: refused naming the dotted field, or units and households
    drawn with finite numbers."""
    try:
        scenario = vary(milan, {field: value, "horizon_weeks": 4} if field != "horizon_weeks"
                        else {field: value})  # fmt: skip
    except InputError as err:
        assert err.field is not None and err.field.startswith(field.split(".")[0]), str(err)
        assert "\n" not in str(err)
        event("refused")
        return
    event("sampled")
    scenario = vary(scenario, {"horizon_weeks": min(scenario.horizon_weeks, 4)})
    units = build_units(scenario)
    assert np.isfinite(units.cost_per_night).all()
    households = sample_households(scenario, np.random.SeedSequence(0))
    assert np.isfinite(households.need).all()


def test_stay_lengths_and_seasonality_have_ranges(milan) -> None:
    with pytest.raises(InputError, match="to 3650, got 1e\\+300"):
        vary(milan, {"pathways.family.stay.mean": 1e300})
    with pytest.raises(InputError, match="from 0 to 12, got inf"):
        vary(milan, {"arrivals.seasonality": [math.inf] + [1.0] * 11})


# --- command-line options ------------------------------------------------------------------------


def _files(tmp_path: Path) -> list[str]:
    (tmp_path / "h.csv").write_text(HH.to_csv(index=False))
    (tmp_path / "u.csv").write_text(UN.to_csv(index=False))
    return ["--households", str(tmp_path / "h.csv"), "--units", str(tmp_path / "u.csv"),
            "--start", START, "--out", str(tmp_path / "plan.csv")]  # fmt: skip


PLAN_OPTIONS = [
    ("--time-limit", "0"),
    ("--time-limit", "nan"),
    ("--time-limit", "inf"),
    ("--time-limit", "1e9"),
    ("--workers", "0"),
    ("--workers", "5000"),
    ("--gap", "1"),
    ("--gap", "nan"),
    ("--gap", "-0.1"),
    ("--horizon-weeks", "0"),
    ("--horizon-weeks", "105"),
    ("--seed", "-1"),
    ("--seed", "2147483648"),
]


@pytest.mark.parametrize(("option", "value"), PLAN_OPTIONS)
def test_a_plan_option_out_of_range_is_one_line(tmp_path, option, value) -> None:
    result = CliRunner().invoke(app, ["plan", *_files(tmp_path), option, value])
    assert result.exit_code == 2 and not (tmp_path / "plan.csv").exists()
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and option in lines[0], lines
    assert "expected" in lines[0] or "must be" in lines[0], lines


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", str(MILAN), "--replications", "0"],
        ["simulate", str(MILAN), "--replications", "1000000"],
        ["simulate", str(MILAN), "--seed", "-1"],
        ["simulate", str(MILAN), "--workers", "0"],
        ["simulate", str(MILAN), "--time-limit", "inf"],
        ["compare", str(MILAN), str(MILAN), "--replications", "0"],
        ["capacity", str(MILAN), "--max-wait-p90", "nan"],
        ["capacity", str(MILAN), "--max-wait-p90", "30", "--replications", "0"],
        ["capacity", str(MILAN), "--max-hotel-nights", "-1"],
        ["demo", "--time-limit", "1e12"],
        ["batch", "propose", "--week", START, "--time-limit", "1e12"],
    ],
)
def test_an_option_of_a_long_command_out_of_range_is_one_line(tmp_path, args) -> None:
    """Checked before any work: exit 2, one line naming the option and the range."""
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    option = next(a for a in reversed(args) if a.startswith("--"))
    assert len(lines) == 1 and option in lines[0], lines
    assert " to " in lines[0] or "at most" in lines[0] or "> 0" in lines[0], lines
