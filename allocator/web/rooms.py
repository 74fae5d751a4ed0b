"""Connecting rooms on the console's pages: a stay or a placement holds its unit and the rooms
joined to it (``joined_units``, "+"-joined text in the ledger and the plan), and every page that
names its unit names them all, ``H1.01+H1.02``; a timeline draws its bar in each room.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from allocator.domain import JOINED_SEPARATOR, split_rooms


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str | tuple | list) and bool(pd.isna(value)))


def joined(value: Any) -> list[str]:
    """The rooms of a ``joined_units`` cell: "+"-joined text, a tuple, or blank (none)."""
    return list(split_rooms(value))


def _field(record: Any, name: str) -> Any:
    if isinstance(record, Mapping):
        return record.get(name)
    return getattr(record, name, None)


def rooms_of(record: Any) -> list[str]:
    """Every unit a stay or placement (a mapping or a row tuple) holds: its ``unit_id`` first,
    then its joined rooms; none for a household not placed. A record that names them all in
    ``rooms`` (the ledger's occupancy, one row a unit) gives those."""
    every = _field(record, "rooms")
    if isinstance(every, str) and every:
        return joined(every)
    unit = _field(record, "unit_id")
    if _missing(unit) or unit == "":
        return []
    return [str(unit), *joined(_field(record, "joined_units"))]


def rooms_text(record: Any) -> str:
    """The units of ``record`` as the pages show them (the Jinja filter ``rooms``)."""
    return JOINED_SEPARATOR.join(rooms_of(record))


def holds(frame: pd.DataFrame, text: str) -> pd.Series:
    """Rows of ``frame`` one of whose units contains ``text`` (any case): a search by unit
    finds a stay by any of its rooms."""
    hit = frame.unit_id.fillna("").astype(str).str.contains(text, case=False, regex=False)
    if "joined_units" in frame:
        rooms = frame.joined_units.fillna("").astype(str)
        hit |= rooms.str.contains(text, case=False, regex=False)
    return hit
