"""Domain records: households waiting for a place, housing units, and stays already running.

These pydantic models are the single definition of what a valid row is; the file reader and the
DataFrame validator both go through them, so a rule is written once. Ids are pseudonymous strings:
the engine never needs a name.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from allocator.choices import ExitPathway as ExitPathway
from allocator.choices import Support as Support
from allocator.choices import UnitKind as UnitKind

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Household(_Record):
    """A household that needs a place: the request fields of the engine's input."""

    household_id: Id
    size: int = Field(ge=1, le=30, description="persons in the household")
    minors: int | None = Field(default=None, ge=0)
    urgency: int = Field(ge=1, le=5, description="1..5, 5 most urgent")
    need_date: dt.date = Field(description="day from which the household has no home")
    expected_stay_days: int = Field(ge=1, le=3650)
    support: Support = Support.MEDIUM
    accessible: bool = Field(default=False, description="needs a step-free unit")
    exit_pathway: ExitPathway | None = None
    language: str | None = Field(default=None, max_length=40)

    @field_validator("language")
    @classmethod
    def _blank_language_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _minors_within_size(self) -> Household:
        if self.minors is not None and self.minors > self.size:
            raise ValueError(f"minors ({self.minors}) cannot exceed size ({self.size})")
        return self


class Unit(_Record):
    """A hub room or scattered flat, usable inside its availability window."""

    unit_id: Id
    kind: UnitKind
    capacity: int = Field(ge=1, le=30, description="beds")
    accessible: bool = Field(default=False, description="step-free")
    available_from: dt.date | None = None
    available_until: dt.date | None = Field(
        default=None, description="the unit leaves the programme on this day"
    )
    nightly_cost: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _window_not_empty(self) -> Unit:
        if (
            self.available_from is not None
            and self.available_until is not None
            and self.available_until <= self.available_from
        ):
            raise ValueError("available_until must be after available_from")
        return self


class Stay(_Record):
    """A stay already decided: it blocks its unit from ``start`` to ``expected_end`` plus turnover.

    ``size``, ``support`` and ``language`` are optional; when given they count toward the
    accompaniment and mediation capacity and are checked against the unit's capacity.
    """

    household_id: Id
    unit_id: Id
    start: dt.date
    expected_end: dt.date = Field(description="departure day")
    size: int | None = Field(default=None, ge=1, le=30)
    support: Support | None = None
    language: str | None = Field(default=None, max_length=40)

    @field_validator("language")
    @classmethod
    def _blank_language_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _end_after_start(self) -> Stay:
        if self.expected_end <= self.start:
            raise ValueError(
                f"expected_end ({self.expected_end}) must be after start ({self.start})"
            )
        return self


RECORD_TYPES: dict[str, type[_Record]] = {
    "households": Household,
    "units": Unit,
    "stays": Stay,
}
