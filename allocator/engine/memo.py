"""Values kept while what they were derived from is unchanged.

A week's plan reads the same derived arrays many times (the objective of one plan is asked by the
method that made it and again when it is vetted; greedy and the columns both ask which pools fit
whom). An instance's fields are replaced, never changed in place, and a slice of it
(`dataclasses.replace`) starts with none of its parent's values: so a value stays valid while
each field it read is the same object (`kept_on`).

A simulation plans every week of ten years with the same policy and unit records (frozen): what
an instance derives from them alone is kept once per module, for the last key (`LastKept`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
K = TypeVar("K")


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


class LastKept(Generic[K, T]):
    """One value, kept for the last key it was made for: ``same(kept key, key)`` says whether a
    later key may have it (the keys are records the caller never changes in place)."""

    def __init__(self, same: Callable[[K, K], bool]) -> None:
        self._same = same
        self._kept: tuple[K, T] | None = None

    def get(self, key: K, make: Callable[[], T]) -> T:
        """The kept value when ``key`` matches the last one, else ``make()``, kept for ``key``
        (nothing is kept when ``make`` raises)."""
        kept = self._kept
        if kept is not None and self._same(kept[0], key):
            return kept[1]
        value = make()
        self._kept = (key, value)
        return value

    def clear(self) -> None:
        self._kept = None
