"""`memo.LastKept`: one value for the last key, remade for any other, never kept from a failure."""

from __future__ import annotations

import operator

import pytest

from allocator.engine.memo import LastKept


def test_the_same_key_gets_the_kept_value_and_another_a_new_one() -> None:
    made: list[str] = []
    kept: LastKept[tuple, str] = LastKept(operator.is_)
    first, second = tuple(["a"]), tuple(["a"])  # equal, not the same object

    def make(label: str):
        return lambda: made.append(label) or label

    assert kept.get(first, make("one")) == "one"
    assert kept.get(first, make("two")) == "one"
    assert kept.get(second, make("three")) == "three"  # `same` is identity here
    assert kept.get(first, make("four")) == "four"  # only the last key is kept
    assert made == ["one", "three", "four"]
    kept.clear()
    assert kept.get(first, make("five")) == "five"


def test_a_failed_make_keeps_nothing() -> None:
    kept: LastKept[str, int] = LastKept(operator.eq)
    assert kept.get("k", lambda: 1) == 1

    def fail() -> int:
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        kept.get("other", fail)
    assert kept.get("k", lambda: 2) == 1  # the last good value is still there
    assert kept.get("other", lambda: 3) == 3
