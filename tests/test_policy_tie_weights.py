"""The announcement and district weights are 0 or at least the solvers' tolerance, like the
tie-breaking weights: a smaller one would split pools and switch greedy yet be lost in rounding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from allocator.errors import InputError
from allocator.limits import MIN_TIE_WEIGHT
from allocator.policy import Policy, validate_policy

WEIGHTS = {"announcement_weight": "1e+06", "district_weight": "10000"}


@pytest.mark.parametrize(("field", "top"), WEIGHTS.items())
def test_a_weight_below_the_tolerance_is_refused_in_one_line(field: str, top: str) -> None:
    """1e-9 is refused with one line naming the field, the value and the range."""
    with pytest.raises(InputError) as err:
        validate_policy({field: 1e-9})
    assert err.value.field == field
    line = str(err.value)
    assert "\n" not in line
    assert f"field '{field}': expected 0 or a number from 1e-06 to {top}, got 1e-09" in line
    assert "below the solvers' tolerance" in line


@pytest.mark.parametrize("field", WEIGHTS)
def test_policy_itself_refuses_a_weight_below_the_tolerance(field: str) -> None:
    """`Policy(...)` refuses it too, not only `validate_policy`."""
    with pytest.raises(ValidationError):
        Policy(**{field: 5e-7})


@settings(max_examples=40, deadline=None)
@given(
    field=st.sampled_from(sorted(WEIGHTS)),
    value=st.one_of(
        st.just(0.0),
        st.just(MIN_TIE_WEIGHT),
        st.floats(MIN_TIE_WEIGHT, 1e4),
        st.floats(0, MIN_TIE_WEIGHT, exclude_min=True, exclude_max=True),
    ),
)
def test_zero_and_weights_from_the_tolerance_on_are_accepted(field: str, value: float) -> None:
    """0 and any weight from the tolerance up to the field's maximum are kept; between them
    refused."""
    if value == 0 or value >= MIN_TIE_WEIGHT:
        assert getattr(validate_policy({field: value}), field) == value
    else:
        with pytest.raises(InputError):
            validate_policy({field: value})


def test_the_refusal_reads_in_italian() -> None:
    """The console shows the refusal in Italian, by the tie-breakers' message id."""
    from allocator.web.i18n import translations

    with pytest.raises(InputError) as err:
        validate_policy({"district_weight": 1e-9})
    italian = err.value.message.translated(translations("it", "errors").gettext)
    assert italian.startswith("serve 0 oppure un numero da ")
    assert "sotto la tolleranza del risolutore" in italian and "{" not in italian
