"""The planner's policy: hard limits and the objective's weights, in one validated place.

How the weights trade off (the README repeats this): the objective is a weighted sum that behaves
almost lexicographically. One hotel person-night of an urgency-1 household costs 1; the urgency
weights scale that. A wasted bed-night (a bed left empty because the unit is larger than the
household) costs ``wasted_bed_night_weight`` = 0.002, so a week's delay of one person outweighs
3,500 wasted bed-nights: the engine never makes anyone wait to save beds, it only uses waste to
break ties between equally early placements. The kind preference (hub room for high support, flat
for low support) costs ``kind_mismatch_weight`` = 0.001 per stay, half a wasted bed-night: it only
breaks ties between placements that are equally early and equally tight. A placement announced
to a family costs ``announcement_weight`` = 10 to change (another unit, another date, or none):
a plan moves it only to save more than 10 urgency-1 person-nights, e.g. a family of 4 at
urgency 3 (weight 2) brought forward by 2 days or more (docs/engine.md, "Announced placements";
the default keeps churn under 5% in Milan's simulation).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from allocator.choices import ConnectingRooms
from allocator.districts import SHIPPED, DistrictMap
from allocator.domain import Support
from allocator.errors import _N, InputError, Message, pydantic_message
from allocator.limits import (
    MAX_COUNT,
    MAX_DAYS,
    MAX_LOAD,
    MAX_TIE_WEIGHT,
    MIN_TIE_WEIGHT,
    PIN_WEIGHT_RANGE,
    URGENCY_WEIGHT_RANGE,
    describe_error,
    field_of,
    number,
    range_text,
    tie_weight,
)

DEFAULT_URGENCY_WEIGHTS = {1: 1.0, 2: 1.5, 3: 2.0, 4: 3.0, 5: 5.0}
# a district step costs at most this many person-nights: x the widest map (200 districts) stays
# far below the objective's largest coefficient (`allocator.limits`)
MAX_DISTRICT_WEIGHT = 10_000.0
MAX_ANNOUNCEMENT_WEIGHT = 1e6
DEFAULT_SUPPORT_LOADS = {Support.LOW: 1, Support.MEDIUM: 2, Support.HIGH: 3}


UrgencyWeight = Annotated[float, Field(ge=URGENCY_WEIGHT_RANGE[0], le=URGENCY_WEIGHT_RANGE[1])]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


class Policy(BaseModel):
    """Weights and limits for one planning run; every field has a documented default.

    Every number has a range within which the objective stays exact in float64 at the solvers'
    tolerances; `allocator.limits` derives them (and docs/engine.md, "Numeric ranges").
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    horizon_weeks: int = Field(default=26, ge=1, le=104, description="planning horizon in weeks")
    turnover_days: int = Field(
        default=3, ge=0, le=60, description="days a unit needs between two stays"
    )
    urgency_weights: dict[int, UrgencyWeight] = Field(
        default_factory=lambda: dict(DEFAULT_URGENCY_WEIGHTS),
        description="cost of one hotel person-night by urgency 1..5",
    )
    wasted_bed_night_weight: float = Field(default=0.002, ge=0, le=MAX_TIE_WEIGHT)
    kind_mismatch_weight: float = Field(
        default=0.001,
        ge=0,
        le=MAX_TIE_WEIGHT,
        description="cost per stay of a high-support household in a flat or a low-support one "
        "in a hub room",
    )
    terminal_wait_days: int = Field(
        default=28,
        ge=0,
        le=MAX_DAYS,
        description="nights a household still unplaced at the horizon's end is assumed to wait "
        "beyond it; keeps the model from forgetting who waits",
    )
    pin_weight: float = Field(
        default=1000.0,
        ge=PIN_WEIGHT_RANGE[0],
        le=PIN_WEIGHT_RANGE[1],
        description="multiplier on the cost of leaving a pinned household out",
    )
    announcement_weight: float = Field(
        default=10.0,
        ge=0,
        le=MAX_ANNOUNCEMENT_WEIGHT,
        description="cost of changing a placement told to a family (its unit, its date, or "
        "leaving it out), in urgency-1 hotel person-nights: a plan changes it only to save more",
    )
    support_loads: dict[Support, Annotated[int, Field(ge=0, le=MAX_LOAD)]] = Field(
        default_factory=lambda: dict(DEFAULT_SUPPORT_LOADS),
        description="accompaniment load of one household by support level",
    )
    support_capacity: int | None = Field(
        default=None,
        ge=0,
        le=MAX_COUNT,
        description="the team's total load per day; empty = unlimited",
    )
    existing_stay_support: Support = Field(
        default=Support.MEDIUM,
        description="support level assumed for a current stay whose file gives none",
    )
    mediation_capacity: int | None = Field(
        default=None,
        ge=0,
        le=MAX_COUNT,
        description="at most this many concurrent households needing mediation in one language",
    )
    mediation_capacity_by_language: dict[str, Count] = Field(
        default_factory=dict, description="per-language caps overriding mediation_capacity"
    )
    max_stay_days: int = Field(
        default=548,
        ge=1,
        le=MAX_DAYS,
        description="the programme's maximum stay (18 months in Milan)",
    )
    district_weight: float = Field(
        default=0.0,
        ge=0,
        le=MAX_DISTRICT_WEIGHT,
        description="cost per stay of each district between a unit and the household's school "
        "or work (anchor_district), in urgency-weighted hotel person-nights; 0 = ignore districts",
    )
    districts: str | DistrictMap | None = Field(
        default=None,
        description="the district map distances are counted on: a shipped map by name "
        "(milan_municipi) or names and adjacent pairs; none = same district 0, any other 1",
    )
    fair_wait_days: int | None = Field(
        default=None,
        ge=0,
        le=MAX_DAYS,
        description="the fairness bound: once a household has waited this many days since its "
        "need date, nobody who asked later starts before it in a unit it could take (the solver "
        "honours it; none = off)",
    )
    connecting_rooms: ConnectingRooms = Field(
        default=ConnectingRooms.WHEN_NEEDED,
        description="when rooms of one connecting group (units' group) may be combined for one "
        "household: never, when_needed (no single unit of the programme fits it) or comfort "
        "(whenever the cost says so)",
    )

    @field_validator("urgency_weights")
    @classmethod
    def _all_urgencies(cls, weights: dict[int, float]) -> dict[int, float]:
        unknown = sorted(set(weights) - set(range(1, 6)))
        if unknown:
            raise ValueError(
                Message(_N("urgency runs from 1 to 5; unexpected {unknown}"), unknown=unknown)
            )
        missing = sorted(set(range(1, 6)) - set(weights))
        if missing:
            raise ValueError(
                Message(
                    _N("a weight is needed for every urgency 1..5; missing {missing}"),
                    missing=missing,
                )
            )
        return weights

    @field_validator("wasted_bed_night_weight", "kind_mismatch_weight")
    @classmethod
    def _tie_weight(cls, value: float) -> float:
        return tie_weight(value)

    @field_validator("announcement_weight", "district_weight")
    @classmethod
    def _zero_or_above_tolerance(cls, value: float, info: ValidationInfo) -> float:
        """0 (off) or at least the solvers' tolerance: a smaller weight changes pools and greedy's
        choices yet is lost in the solvers' rounding."""
        if 0 < value < MIN_TIE_WEIGHT:
            top = {"announcement_weight": MAX_ANNOUNCEMENT_WEIGHT}.get(
                info.field_name or "", MAX_DISTRICT_WEIGHT
            )
            raise ValueError(
                Message(
                    _N(
                        "expected 0 or a number {range}, got {value} (a smaller weight is below "
                        "the solvers' tolerance)"
                    ),
                    range=range_text(MIN_TIE_WEIGHT, top),
                    value=number(value),
                )
            )
        return value

    @field_validator("support_loads")
    @classmethod
    def _all_support_levels(cls, loads: dict[Support, int]) -> dict[Support, int]:
        missing = [s.value for s in Support if s not in loads]
        if missing:
            raise ValueError(
                Message(
                    _N("a load is needed for every support level; missing {missing}"),
                    missing=missing,
                )
            )
        return loads

    @field_validator("districts", mode="before")
    @classmethod
    def _map_given(cls, value: object) -> object:
        """A table is read as a map here, so that its first problem is the one reported (not
        that it is not text, the union's other choice)."""
        if value is None or isinstance(value, str | DistrictMap):
            return value
        if not isinstance(value, dict):
            raise ValueError(
                Message(
                    _N(
                        "expected the name of a district map ({maps}) or a table of names and "
                        "adjacent pairs, got {value!r}"
                    ),
                    maps=", ".join(SHIPPED),
                    value=value,
                )
            )
        try:
            return DistrictMap.model_validate(value)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            message = pydantic_message(err)  # a validator's own words, without "Value error, "
            if where:
                message = Message(_N("{where}: {message}"), where=where, message=message)
            raise ValueError(message) from None

    @field_validator("districts")
    @classmethod
    def _known_map(cls, value: str | DistrictMap | None) -> str | DistrictMap | None:
        if isinstance(value, str) and value not in SHIPPED:
            raise ValueError(
                Message(
                    _N(
                        "no district map named {value!r}; expected one of {maps} or a table of "
                        "names and adjacent pairs"
                    ),
                    value=value,
                    maps=", ".join(SHIPPED),
                )
            )
        return value

    def fingerprint(self) -> str:
        """A short hash of every field: tells whether the policy a form was read from is still
        the stored one (`allocator.ledger.Ledger.set_policy`)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    @property
    def horizon_days(self) -> int:
        return 7 * self.horizon_weeks

    def mediation_cap(self, language: str) -> int | None:
        return self.mediation_capacity_by_language.get(language, self.mediation_capacity)

    @classmethod
    def from_file(cls, path: str | Path) -> Policy:
        """Read a policy from TOML; errors name the file and the field."""
        path = Path(path)
        return validate_policy(read_toml(path), source=str(path))


def read_toml(path: Path) -> dict:
    """A settings file's mapping; every problem an `InputError` of one line naming the file,
    and for bad TOML (a key given twice included) the line."""
    try:
        # "utf-8-sig" reads past the byte-order mark that Windows' Notepad writes
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(_N("file not found"), source=str(path)) from None
    except OSError as exc:
        raise InputError(
            _N("cannot read the file ({reason})"), reason=exc.strerror, source=str(path)
        ) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            _N("not valid TOML: not UTF-8 text (byte {byte})"), byte=exc.start, source=str(path)
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            _N("not valid TOML: {problem}"), problem=_toml_problem(text, exc), source=str(path)
        ) from None


_TWICE = ("Cannot overwrite a value", "Cannot declare")


def _toml_problem(text: str, exc: tomllib.TOMLDecodeError) -> str:
    """tomllib's message, with the line found where it says only "at end of document", and the
    key named when a key or table is given twice."""
    message = " ".join(str(exc).split())
    if not message.startswith(_TWICE):
        return message
    line = getattr(exc, "lineno", None)
    found = re.search(r"line (\d+)", message)
    if found:
        line = int(found.group(1))
    else:  # the first prefix of the file that fails is the line that repeats the key
        lines = text.splitlines()
        for k in range(1, min(len(lines), 5000) + 1):
            try:
                tomllib.loads("\n".join(lines[:k]))
            except tomllib.TOMLDecodeError:
                line = k
                break
    if not line:
        return message
    entry = text.splitlines()[line - 1].strip()
    key = entry.split("=", 1)[0].strip() if "=" in entry else entry
    return Message(
        _N("{key!r} is given twice (line {line}): a key or table may appear once"),
        key=key,
        line=line,
    )


def validate_policy(data: object, source: str = "policy") -> Policy:
    """A policy from a parsed mapping; the first problem an `InputError` naming the field, the
    value and the range it must lie in."""
    from pydantic import ValidationError

    if not isinstance(data, dict):
        raise InputError(_N("a policy must be a mapping of fields"), source=source)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(describe_error(Policy, err), source=source, field=field_of(err)) from None
