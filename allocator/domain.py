"""Domain records: households waiting for a place, housing units, and stays already running.

These pydantic models are the single definition of what a valid row is; the file reader and the
DataFrame validator both go through them, so a rule is written once. Ids are pseudonymous strings:
the engine never needs a name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from allocator.choices import ExitPathway as ExitPathway
from allocator.choices import Support as Support
from allocator.choices import UnitKind as UnitKind
from allocator.errors import _N, Message
from allocator.limits import EARLIEST_DATE, LATEST_DATE, MAX_DAYS, MAX_NIGHTLY_COST
from allocator.rules import check_dates_in_order

# joins the ids of connecting rooms taken for one stay in one text ("R2+R3"); an id has no "+"
JOINED_SEPARATOR = "+"


def split_rooms(value: object) -> tuple[str, ...]:
    """The rooms a ``joined_units`` cell names: "+"-joined text or a sequence; blank, None or
    NaN for none."""
    if isinstance(value, str):
        parts: Iterable[object] = value.split(JOINED_SEPARATOR)
    elif isinstance(value, tuple | list):
        parts = value
    else:
        return ()
    return tuple(text for part in parts if (text := str(part).strip()))


def rooms_text(unit: object, joined: object) -> str:
    """A stay's or placement's unit and its connecting rooms as people read them: ``H1+H2``."""
    return JOINED_SEPARATOR.join((str(unit), *split_rooms(joined)))


Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
# any date a record holds lies from EARLIEST_DATE to LATEST_DATE: far from the ends of the
# calendar, so that day arithmetic never overflows; a table's dates must also lie within 10 years
# of the plan's start (`allocator.tables`)


class _Record(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, allow_inf_nan=False
    )


class Household(_Record):
    """A household that needs a place: the request fields of the engine's input."""

    household_id: Id
    size: int = Field(ge=1, le=30, description="persons in the household")
    minors: int | None = Field(default=None, ge=0, le=30)
    urgency: int = Field(ge=1, le=5, description="1..5, 5 most urgent")
    need_date: dt.date = Field(
        ge=EARLIEST_DATE, le=LATEST_DATE, description="day from which the household has no home"
    )
    expected_stay_days: int | None = Field(
        default=None, ge=1, le=MAX_DAYS, description="nights counted from move-in"
    )
    expected_exit_date: dt.date | None = Field(
        default=None,
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description="day the exit is expected, whatever the move-in (a flat assigned, a lease)",
    )
    support: Support = Support.MEDIUM
    accessible: bool = Field(default=False, description="needs a step-free unit")
    exit_pathway: ExitPathway | None = None
    language: str | None = Field(default=None, max_length=40)
    anchor_district: str | None = Field(
        default=None, max_length=40, description="district of the children's school or the work"
    )

    @field_validator("language", "anchor_district")
    @classmethod
    def _blank_language_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _minors_within_size(self) -> Household:
        if self.minors is not None and self.minors > self.size:
            raise ValueError(
                Message(
                    _N("minors ({minors}) cannot exceed size ({size})"),
                    minors=self.minors,
                    size=self.size,
                )
            )
        return self

    @model_validator(mode="after")
    def _one_stay_clock(self) -> Household:
        # the stay runs either for a length from move-in or up to a date set outside the hub
        if (self.expected_stay_days is None) == (self.expected_exit_date is None):
            raise ValueError(
                Message(_N("give either expected_stay_days or expected_exit_date, not both"))
                if self.expected_stay_days is not None
                else Message(
                    _N("give either expected_stay_days or expected_exit_date, not neither")
                )
            )
        if self.expected_exit_date is not None and self.expected_exit_date <= self.need_date:
            raise ValueError(
                Message(
                    _N("expected_exit_date ({exit}) must be after need_date ({need})"),
                    exit=self.expected_exit_date,
                    need=self.need_date,
                )
            )
        return self

    @property
    def exit_dated(self) -> bool:
        """Whether the stay ends on a set date (`expected_exit_date`) rather than after a length."""
        return self.expected_exit_date is not None


class Unit(_Record):
    """A hub room or scattered flat, usable inside its availability window."""

    unit_id: Id
    kind: UnitKind
    capacity: int = Field(ge=1, le=30, description="beds")
    accessible: bool = Field(default=False, description="step-free")
    available_from: dt.date | None = Field(default=None, ge=EARLIEST_DATE, le=LATEST_DATE)
    available_until: dt.date | None = Field(
        default=None,
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description="the unit leaves the programme on this day",
    )
    nightly_cost: float | None = Field(default=None, ge=0, le=MAX_NIGHTLY_COST)
    district: str | None = Field(default=None, max_length=40)
    group: Id | None = Field(
        default=None,
        description="connecting rooms: units of one group may be combined for one household",
    )

    @field_validator("district", "group", mode="before")
    @classmethod
    def _blank_district_is_none(cls, value: object) -> object:
        return value or None

    @model_validator(mode="after")
    def _window_not_empty(self) -> Unit:
        if (
            self.available_from is not None
            and self.available_until is not None
            and self.available_until <= self.available_from
        ):
            raise ValueError(Message(_N("available_until must be after available_from")))
        return self


class Stay(_Record):
    """A stay already decided: it blocks its unit from ``start`` to ``expected_end`` plus turnover.

    ``size``, ``support``, ``language`` and ``accessible`` are optional; when given they count
    toward the accompaniment and mediation capacity, and the size and the need of a step-free
    unit are checked against the unit (as the ledger checks its stays, `allocator.rules`).
    """

    household_id: Id
    unit_id: Id
    start: dt.date = Field(ge=EARLIEST_DATE, le=LATEST_DATE)
    expected_end: dt.date = Field(ge=EARLIEST_DATE, le=LATEST_DATE, description="departure day")
    size: int | None = Field(default=None, ge=1, le=30)
    support: Support | None = None
    language: str | None = Field(default=None, max_length=40)
    accessible: bool | None = Field(default=None, description="the household needs step-free")
    joined_units: tuple[Id, ...] = Field(
        default=(),
        description="the connecting rooms taken with unit_id for the same stay, '+'-separated",
    )

    @field_validator("language")
    @classmethod
    def _blank_language_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("joined_units", mode="before")
    @classmethod
    def _split_joined_units(cls, value: object) -> object:
        """A table cell gives the rooms as one text, ``R2+R3``; blank means none."""
        if value is None:
            return ()
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(JOINED_SEPARATOR)) if value else ()
        return value

    @field_serializer("joined_units")
    def _joined_units_as_text(self, value: tuple[str, ...]) -> str:
        """One text, as a table cell holds it (and parses back)."""
        return JOINED_SEPARATOR.join(value)

    @field_validator("joined_units")
    @classmethod
    def _joined_units_distinct(
        cls, value: tuple[str, ...], info: ValidationInfo
    ) -> tuple[str, ...]:
        """Each room once, and not the stay's own unit again (an error on this column)."""
        units = (info.data.get("unit_id"), *value)
        if len(set(units)) != len(units):
            raise ValueError(
                Message(
                    _N("joined_units repeats a unit of the stay: {units}"),
                    units=JOINED_SEPARATOR.join(str(u) for u in units),
                )
            )
        return value

    @property
    def units(self) -> tuple[str, ...]:
        """Every unit the stay holds: its unit and the connecting rooms joined to it."""
        return (self.unit_id, *self.joined_units)

    @model_validator(mode="after")
    def _end_after_start(self) -> Stay:
        broken = check_dates_in_order(self.start, self.expected_end)
        if broken is not None:
            raise ValueError(broken.as_message())
        return self


RECORD_TYPES: dict[str, type[_Record]] = {
    "households": Household,
    "units": Unit,
    "stays": Stay,
}
