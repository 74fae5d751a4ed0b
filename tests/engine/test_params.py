"""EngineParams: the documented defaults, refused values naming their field, frozen, read from
TOML, and passed in per plan, so that two plans in one process can differ in them."""

from __future__ import annotations

import ast
import datetime as dt
import math
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from allocator import Policy, plan
from allocator.engine.params import EngineParams
from allocator.errors import InputError
from allocator.examples import generate

START = dt.date(2026, 12, 7)
ENGINE_MD = Path(__file__).resolve().parents[2] / "docs" / "engine.md"

# the optimiser's module constants before they became fields (allocator/solve.py, 2026-12-05)
BEFORE = {
    "INITIAL_COLUMNS_PER_HOUSEHOLD": 3,
    "COLUMNS_ADDED_PER_HOUSEHOLD": 20,
    "COLUMNS_ADDED_PER_ROUND": 50_000,
    "REMOVE_ONCE_FROM": 500,
    "IDLE_ROUNDS_BEFORE_REMOVAL": 1,
    "MIN_COLUMNS_TO_REMOVE": 2_000,
    "EXTRA_COLUMNS_PER_HOUSEHOLD": 4,
    "EXTRA_COLUMNS_PER_DAY": 15,
    "LP_SHARE_OF_TIME": 0.75,
    "ROUND_GROWTH": 1.5,
    "RESUMED_GROWTH": 1.0,
    "GLOP_STOP_MARGIN": 0.01,
    "DIVE_SHARE_OF_TIME": 0.5,
    "UNCONVERGED_DIVE_SHARE": 0.8,
    "PRICING_DIVE_ROUNDS": 40,
    "PRICING_DIVE_FROM": 500,
    "DIVE_FIX_AT": 0.75,
    "UNCONVERGED_DIVE_FIX_AT": 0.55,
    "DIVE_FIX_SHARE": 0.1,
    "DIVE_FIX_SHARE_FROM": 500,
    "MAX_PROOF_COLUMNS": 50_000,
    "RESTRICTED_GROWTH": 4.0,
    "GROW_BEFORE_PROOF": 8.0,
    "STRAIGHT_TO_PROOF_RATIO": 4.0,
    "DIVE_EXCESS": 6e-4,
    "DUAL_SMOOTHING": 0.4,
    "SMOOTHING_FROM_GAP": 1e-3,
    "SMOOTHING_FROM": 500,
    "MAX_UNCONVERGED_MIP_COLUMNS": 20_000,
    "CENTRAL_FIXING_FROM": 5_000,
    "CLIQUE_ROUNDS": 20,
    "CUT_SHARE_OF_TIME": 0.5,
    "HEURISTIC_STAY_EXPONENTS": (0.0, 0.25, 0.5, 1.0),
    "HEURISTIC_PLANS_FROM": 100,
}


def documented() -> dict[str, object]:
    """The defaults in docs/engine.md's table of parameters: field name -> default."""
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", ENGINE_MD.read_text(encoding="utf-8"), re.M)
    return {name: ast.literal_eval(default.strip()) for name, default in rows}


# the settings of the size check (issue #23), which had no module constant before
ADDED = {
    "model_bytes_per_column": 160,
    "capped_bytes_per_column": 100,
    "model_seconds_per_column": 5e-7,
    "build_share_of_time": 0.5,
    "max_slices": 64,
    # the fairness bound's (issue #21)
    "fair_all_columns": 20_000,
    "fair_rounds": 25,
    "fair_share_of_time": 0.25,
    # the restricted LP on breakpoint rows (session 29)
    "breakpoint_rows_up_to": 0,
    # HiGHS without restarts and primal heuristics in MIPs (session 30)
    "lean_mips": False,
}


def test_the_defaults_are_the_constants_they_replace() -> None:
    """The defaults are the module constants the solver had, plus the size check's settings."""
    defaults = EngineParams().model_dump()
    assert defaults == {name.lower(): value for name, value in BEFORE.items()} | ADDED
    for name, value in defaults.items():  # the same types: the same arithmetic in the solver
        expected = ADDED[name] if name in ADDED else BEFORE[name.upper()]
        assert type(value) is type(expected), name


def test_every_field_is_documented_with_its_default() -> None:
    defaults = EngineParams().model_dump()
    assert documented() == defaults
    for name, field in EngineParams.model_fields.items():
        assert field.description, name  # the one-line reason, next to the default


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lp_share_of_time", 0.0),
        ("lp_share_of_time", 1.5),
        ("dive_fix_at", 0.0),
        ("dive_fix_share", -0.1),
        ("dual_smoothing", 1.0),
        ("glop_stop_margin", 1.0),
        ("columns_added_per_round", 0),
        ("initial_columns_per_household", 0),
        ("clique_rounds", -1),
        ("restricted_growth", 0.5),
        ("round_growth", math.nan),
        ("cut_share_of_time", math.inf),
        ("heuristic_stay_exponents", ()),
        ("heuristic_stay_exponents", (1.0, math.nan)),
        ("pricing_dive_rounds", 2.5),
        ("no_such_setting", 1),
    ],
)
def test_a_bad_value_is_refused_naming_its_field(field, value) -> None:
    with pytest.raises(ValidationError) as refused:
        EngineParams(**{field: value})
    errors = refused.value.errors()
    assert len(errors) == 1 and errors[0]["loc"][0] == field
    assert field in str(refused.value)


def test_never_is_a_value_where_it_means_never() -> None:
    """A proof is never preceded by a larger restricted MIP with ``grow_before_proof`` inf."""
    assert EngineParams(grow_before_proof=math.inf).grow_before_proof == math.inf


def test_params_are_frozen_values() -> None:
    params = EngineParams(clique_rounds=3)
    with pytest.raises(ValidationError):
        params.clique_rounds = 4
    assert params == EngineParams(clique_rounds=3) != EngineParams()


def test_params_read_from_toml(tmp_path) -> None:
    path = tmp_path / "engine.toml"
    path.write_text("clique_rounds = 0\nheuristic_stay_exponents = [0.0, 1.0]\n")
    read = EngineParams.from_file(path)
    assert read == EngineParams(clique_rounds=0, heuristic_stay_exponents=(0.0, 1.0))


@pytest.mark.parametrize(
    ("text", "field"),
    [("dive_fix_at = 2.0\n", "dive_fix_at"), ("clique_round = 3\n", "clique_round")],
)
def test_a_bad_toml_file_names_the_file_and_the_field(tmp_path, text, field) -> None:
    path = tmp_path / "engine.toml"
    path.write_text(text)
    with pytest.raises(InputError) as refused:
        EngineParams.from_file(path)
    assert refused.value.field == field and refused.value.source == str(path)
    assert "engine.toml" in str(refused.value) and field in str(refused.value)


def test_a_missing_or_broken_toml_file_is_an_input_error(tmp_path) -> None:
    with pytest.raises(InputError, match="file not found"):
        EngineParams.from_file(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("clique_rounds = \n")
    with pytest.raises(InputError, match="not valid TOML"):
        EngineParams.from_file(broken)


def test_plan_refuses_engine_settings_of_another_type() -> None:
    tables = generate(10, 5, seed=1, start=START, horizon_weeks=4)
    with pytest.raises(InputError) as refused:
        plan(*tables, start=START, policy=Policy(horizon_weeks=4), engine={"clique_rounds": 0})
    assert refused.value.field == "engine"


def test_two_plans_in_one_process_differ_in_their_settings() -> None:
    """100x60 seed 26, whose LP breaks cliques: with the cuts they settle the optimum, without
    them MIPs do; a plan with the defaults after the one without cuts has the cuts again (no
    setting is left behind in the process). The plans agree (the same optimum, proven)."""
    tables = generate(100, 60, seed=26, start=START, horizon_weeks=26)
    policy = Policy(horizon_weeks=26)

    def planned(engine: EngineParams | None):
        return plan(*tables, start=START, policy=policy, time_limit=60, engine=engine)

    first, without, again = planned(None), planned(EngineParams(clique_rounds=0)), planned(None)
    for cuts in (first, again):
        assert "clique cuts" in cuts.details["solver_detail"]
        assert "MIP on" not in cuts.details["solver_detail"]
    assert "clique cuts" not in without.details["solver_detail"]
    assert "MIP on" in without.details["solver_detail"]
    assert untimed(first.details) == untimed(again.details)
    for result in (first, without, again):
        assert result.status.value == "optimal"
    assert first.objective == pytest.approx(without.objective, rel=1e-4)


def untimed(details: dict) -> dict:
    return {k: v for k, v in details.items() if k not in ("lp_seconds", "mip_seconds")}


def test_a_file_over_base_settings_keeps_the_fields_it_leaves_out(tmp_path) -> None:
    """A simulation reads a file over its weekly loop's settings: one field changed, the others
    stay the base's (not the engine's defaults)."""
    base = EngineParams(breakpoint_rows_up_to=40, lean_mips=True, clique_rounds=3)
    path = tmp_path / "engine.toml"
    path.write_text("lean_mips = false\n")
    read = EngineParams.from_file(path, base=base)
    assert read == EngineParams(breakpoint_rows_up_to=40, lean_mips=False, clique_rounds=3)
    path.write_text("lean_mips = 3\n")
    with pytest.raises(InputError) as refused:
        EngineParams.from_file(path, base=base)
    assert refused.value.field == "lean_mips" and refused.value.source == str(path)


def test_changed_settings_are_checked_again() -> None:
    base = EngineParams(lean_mips=True, clique_rounds=3)
    assert base.changed({"clique_rounds": 0}) == EngineParams(lean_mips=True, clique_rounds=0)
    with pytest.raises(ValidationError):
        base.changed({"clique_rounds": -1})
