"""`check_coefficients`' quick bound never lets through a coefficient the household by household
check refuses: an instance is refused exactly when some household's unplaced cost, multiplied
as the objective multiplies it, is above `MAX_COEFFICIENT`."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.domain import Household, Unit
from allocator.engine.instance import MAX_COEFFICIENT, Overrides, build_instance
from allocator.errors import InputError
from allocator.limits import PIN_WEIGHT_RANGE, URGENCY_WEIGHT_RANGE
from allocator.policy import DEFAULT_URGENCY_WEIGHTS, validate_policy
from allocator.tables import validate_tables

START = dt.date(2026, 12, 7)


def refused(weight: float, size: int, weeks: int, wait: int, pin: float, pinned: bool) -> bool:
    """Whether one household of urgency 1 (``weight``), needing a place on the plan's first
    day, is refused."""
    policy = validate_policy(
        {
            "urgency_weights": {**DEFAULT_URGENCY_WEIGHTS, 1: weight},
            "horizon_weeks": weeks,
            "terminal_wait_days": wait,
            "pin_weight": pin,
        },
        source="policy",
    )
    household = Household(
        household_id="H1", size=size, urgency=1, need_date=START, expected_stay_days=5
    )
    tables = validate_tables([household], [Unit(unit_id="U1", kind="flat", capacity=30)], [])
    pins = {"H1": "U1"} if pinned else {}
    try:
        build_instance(tables, START, policy, Overrides.of(pins, []))
    except InputError:
        return True
    return False


def plain(weight: float, size: int, weeks: int, wait: int, pin: float, pinned: bool) -> bool:
    """The household's cost above the limit, multiplied as `columns.unplaced_cost` does."""
    cost = np.float64(weight) * np.int64(size) * np.int64(7 * weeks + wait)
    return bool(cost * (pin if pinned else 1.0) > MAX_COEFFICIENT)


@pytest.mark.parametrize(
    ("weight", "size", "weeks", "wait", "pin"),
    [(1546.6664851911326, 2, 4, 51, 4092.1), (890.6864128281646, 4, 1, 100, 2623.2)],
)
def test_a_cost_one_rounding_above_the_limit_is_refused(weight, size, weeks, wait, pin) -> None:
    """Costs that round to just above 1e9, where (weight x size) x (nights x pin) rounds to 1e9."""
    nights = 7 * weeks + wait
    assert (weight * size) * (nights * pin) <= MAX_COEFFICIENT  # the grouping that hid them
    assert plain(weight, size, weeks, wait, pin, pinned=True)
    assert refused(weight, size, weeks, wait, pin, pinned=True)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(*URGENCY_WEIGHT_RANGE),
    st.integers(1, 30),
    st.integers(1, 8),
    st.integers(0, 400),
    st.floats(*PIN_WEIGHT_RANGE),
    st.booleans(),
    st.booleans(),
)
def test_refused_exactly_when_the_cost_is_above_the_limit(
    weight, size, weeks, wait, pin, pinned, near
) -> None:
    """With ``near``, the weight puts the cost within a rounding of the limit."""
    if near:
        factor = (7 * weeks + wait) * size * (pin if pinned else 1.0)
        weight = float(np.clip(MAX_COEFFICIENT / factor, *URGENCY_WEIGHT_RANGE))
    try:
        expected = plain(weight, size, weeks, wait, pin, pinned)
        got = refused(weight, size, weeks, wait, pin, pinned)
    except InputError:  # a policy the validation refuses (an urgency weight order, say)
        return
    assert got == expected
