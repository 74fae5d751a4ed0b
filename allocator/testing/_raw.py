"""The raw tables of one run, read row by row into plain frozen rows: what every check starts from.

Cells may be DataFrame values, dicts' values or domain models' fields; blanks (None, NaN, NaT, "")
are read as missing. Nothing beyond day numbers is precomputed, so the checks stay independent of
the engine's pools, columns and occupancy counters.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from allocator.domain import JOINED_SEPARATOR, Support, UnitKind
from allocator.policy import Policy

# (rooms, start day counted from the plan start); rooms is one unit id, or connecting rooms taken
# together as one text, the ids joined by "+" ("R2+R3"), as a stay or a plan row joins them
Placement = tuple[str, int]


def rooms_of(unit: str) -> tuple[str, ...]:
    """The unit ids a placement's ``unit`` text holds: one, or the connecting rooms of "R2+R3"."""
    return tuple(unit.split(JOINED_SEPARATOR))


def joined(rooms: Iterable[str]) -> str:
    """The text of a placement in these rooms (`rooms_of` reads it back)."""
    return JOINED_SEPARATOR.join(rooms)


def _room_list(value: Any) -> tuple[str, ...]:
    """A ``joined_units`` cell: blank, "R2+R3", or a sequence of ids."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(str(v).strip() for v in value if not _is_blank(v))
    text = _text(value)
    return () if text is None else tuple(r.strip() for r in text.split(JOINED_SEPARATOR))


def _is_blank(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and value.strip() == "":
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _date(value: Any) -> dt.date | None:
    if _is_blank(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    return dt.date.fromisoformat(str(value).strip()[:10])


def _text(value: Any) -> str | None:
    if _is_blank(value):
        return None
    return str(value.value if hasattr(value, "value") else value).strip()


def _flag(value: Any) -> bool:
    if _is_blank(value):
        return False
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1", "y"}
    return bool(value)


def _rows(table: Any) -> list[dict[str, Any]]:
    if table is None:
        return []
    if isinstance(table, pd.DataFrame):
        return table.to_dict(orient="records")
    return [r.model_dump() if isinstance(r, BaseModel) else dict(r) for r in table]


@dataclass(frozen=True)
class HouseholdRow:
    """One household; exactly one of ``stay_days`` (nights from move-in) and ``exit_date`` (the
    day its stay ends, whatever the move-in) is given. `RawInstance.stay_length` gives the nights
    for a start."""

    household_id: str
    size: int
    urgency: int
    need_date: dt.date
    stay_days: int | None
    support: Support
    accessible: bool
    language: str | None
    exit_date: dt.date | None = None
    anchor_district: str | None = None

    @property
    def exit_dated(self) -> bool:
        return self.exit_date is not None


@dataclass(frozen=True)
class UnitRow:
    unit_id: str
    kind: UnitKind
    capacity: int
    accessible: bool
    available_from: dt.date | None
    available_until: dt.date | None
    district: str | None = None
    group: str | None = None  # connecting rooms: units of one group may be taken together


@dataclass(frozen=True)
class StayRow:
    household_id: str
    unit_id: str
    start: dt.date
    expected_end: dt.date
    support: Support | None
    language: str | None
    joined_units: tuple[str, ...] = ()  # connecting rooms held with unit_id

    @property
    def units(self) -> tuple[str, ...]:
        """Every unit the stay holds (each is occupied for the whole stay)."""
        return (self.unit_id, *self.joined_units)


@dataclass(frozen=True)
class RawInstance:
    """The raw tables of one run, read row by row; nothing precomputed beyond day numbers."""

    start: dt.date
    policy: Policy
    households: dict[str, HouseholdRow]  # in table order
    units: dict[str, UnitRow]
    stays: list[StayRow]
    pins: dict[str, str] = field(default_factory=dict)
    forbids: frozenset[tuple[str, str]] = frozenset()
    # placements told to families: household -> (unit, day)
    announced: dict[str, Placement] = field(default_factory=dict)

    @property
    def horizon(self) -> int:
        return self.policy.horizon_days

    def day(self, date: dt.date) -> int:
        return (date - self.start).days

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=int(day))

    def release(self, household_id: str) -> int:
        """First day a stay may start: the need date, or the plan start when that is later."""
        return max(0, self.day(self.households[household_id].need_date))

    def stay_length(self, household_id: str, day: int) -> int:
        """Nights of the household's stay if it moves in on ``day``: its ``stay_days``, or up to
        its exit date but at most ``policy.max_stay_days`` (counted from move-in). Below 1 when
        the exit date comes on or before ``day``: no stay can start then."""
        h = self.households[household_id]
        if h.exit_date is None:
            assert h.stay_days is not None
            return h.stay_days
        return min(self.day(h.exit_date) - day, self.policy.max_stay_days)


def parse_instance(
    households: Any,
    units: Any,
    stays: Any = None,
    start: dt.date | str | None = None,
    policy: Policy | None = None,
    *,
    pins: Mapping[str, str] | None = None,
    forbids: Iterable[tuple[str, str]] | None = None,
    announced: Mapping[str, tuple[str, dt.date | str]] | None = None,
) -> RawInstance:
    """Read the tables (DataFrames, lists of dicts or of domain models) into plain rows."""
    if start is None:
        raise ValueError("start (the plan start date) is required")
    policy = policy or Policy()
    hh = {}
    for r in _rows(households):
        hid = _text(r["household_id"])
        support = _text(r.get("support"))
        stay: Any = r.get("expected_stay_days")
        if _is_blank(stay) == _is_blank(r.get("expected_exit_date")):
            raise ValueError(
                f"household {hid}: give exactly one of expected_stay_days and expected_exit_date"
            )
        hh[hid] = HouseholdRow(
            household_id=hid,
            size=int(r["size"]),
            urgency=int(r["urgency"]),
            need_date=_date(r["need_date"]),
            stay_days=None if _is_blank(stay) else int(stay),
            exit_date=_date(r.get("expected_exit_date")),
            support=Support(support) if support else Support.MEDIUM,
            accessible=_flag(r.get("accessible")),
            language=_text(r.get("language")),
            anchor_district=_text(r.get("anchor_district")),
        )
    un = {}
    for r in _rows(units):
        uid = _text(r["unit_id"])
        un[uid] = UnitRow(
            unit_id=uid,
            kind=UnitKind(_text(r["kind"])),
            capacity=int(r["capacity"]),
            accessible=_flag(r.get("accessible")),
            available_from=_date(r.get("available_from")),
            available_until=_date(r.get("available_until")),
            district=_text(r.get("district")),
            group=_text(r.get("group")),
        )
    st = []
    for r in _rows(stays):
        support = _text(r.get("support"))
        st.append(
            StayRow(
                household_id=_text(r["household_id"]),
                unit_id=_text(r["unit_id"]),
                start=_date(r["start"]),
                expected_end=_date(r["expected_end"]),
                support=Support(support) if support else None,
                language=_text(r.get("language")),
                joined_units=_room_list(r.get("joined_units")),
            )
        )
    first = _date(start)
    return RawInstance(
        start=first,
        policy=policy,
        households=hh,
        units=un,
        stays=st,
        pins=dict(pins or {}),
        forbids=frozenset(tuple(p) for p in (forbids or ())),
        announced={
            h: (_text(u), (_date(d) - first).days) for h, (u, d) in (announced or {}).items()
        },
    )
