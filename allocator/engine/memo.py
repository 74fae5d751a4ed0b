"""Values derived from an instance, kept on it while what they were derived from is unchanged.

A week's plan reads the same derived arrays many times (the objective of one plan is asked by the
method that made it and again when it is vetted; greedy and the columns both ask which pools fit
whom). An instance's fields are replaced, never changed in place, and a slice of it
(`dataclasses.replace`) starts with none of its parent's values: so a value stays valid while
each field it read is the same object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def kept_on(
    inst: Any, name: str, reads: tuple, make: Callable[[], T], sizes: tuple[int, ...] = ()
) -> T:
    """``make()``, kept on ``inst`` under ``name`` while every object in ``reads`` is the one it
    was made from and ``sizes`` (lengths of lists it read) are equal."""
    kept = vars(inst).get(name)
    if (
        kept is not None
        and kept[1] == sizes
        and len(kept[0]) == len(reads)
        and all(a is b for a, b in zip(kept[0], reads, strict=True))
    ):
        return kept[2]
    value = make()
    vars(inst)[name] = (reads, sizes, value)
    return value
