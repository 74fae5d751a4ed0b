"""The planner's policy: hard limits and the objective's weights, in one validated place.

How the weights trade off (the README repeats this): the objective is a weighted sum that behaves
almost lexicographically. One hotel person-night of an urgency-1 household costs 1; the urgency
weights scale that. A wasted bed-night (a bed left empty because the unit is larger than the
household) costs ``wasted_bed_night_weight`` = 0.002, so a week's delay of one person outweighs
3,500 wasted bed-nights: the engine never makes anyone wait to save beds, it only uses waste to
break ties between equally early placements. The kind preference (hub room for high support, flat
for low support) costs ``kind_mismatch_weight`` = 0.001 per stay, half a wasted bed-night: it only
breaks ties between placements that are equally early and equally tight.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from allocator.domain import Support
from allocator.errors import InputError

DEFAULT_URGENCY_WEIGHTS = {1: 1.0, 2: 1.5, 3: 2.0, 4: 3.0, 5: 5.0}
DEFAULT_SUPPORT_LOADS = {Support.LOW: 1, Support.MEDIUM: 2, Support.HIGH: 3}


class Policy(BaseModel):
    """Weights and limits for one planning run; every field has a documented default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    horizon_weeks: int = Field(default=26, ge=1, le=104, description="planning horizon in weeks")
    turnover_days: int = Field(
        default=3, ge=0, le=60, description="days a unit needs between two stays"
    )
    urgency_weights: dict[int, float] = Field(
        default_factory=lambda: dict(DEFAULT_URGENCY_WEIGHTS),
        description="cost of one hotel person-night by urgency 1..5",
    )
    wasted_bed_night_weight: float = Field(default=0.002, ge=0)
    kind_mismatch_weight: float = Field(
        default=0.001,
        ge=0,
        description="cost per stay of a high-support household in a flat or a low-support one "
        "in a hub room",
    )
    terminal_wait_days: int = Field(
        default=28,
        ge=0,
        description="nights a household still unplaced at the horizon's end is assumed to wait "
        "beyond it; keeps the model from forgetting who waits",
    )
    pin_weight: float = Field(
        default=1000.0, gt=0, description="multiplier on the cost of leaving a pinned household out"
    )
    support_loads: dict[Support, int] = Field(
        default_factory=lambda: dict(DEFAULT_SUPPORT_LOADS),
        description="accompaniment load of one household by support level",
    )
    support_capacity: int | None = Field(
        default=None, ge=0, description="the team's total load per day; empty = unlimited"
    )
    existing_stay_support: Support = Field(
        default=Support.MEDIUM,
        description="support level assumed for a current stay whose file gives none",
    )
    mediation_capacity: int | None = Field(
        default=None,
        ge=0,
        description="at most this many concurrent households needing mediation in one language",
    )
    mediation_capacity_by_language: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict, description="per-language caps overriding mediation_capacity"
    )
    max_stay_days: int = Field(
        default=548, ge=1, description="the programme's maximum stay (18 months in Milan)"
    )

    @field_validator("urgency_weights")
    @classmethod
    def _all_urgencies(cls, weights: dict[int, float]) -> dict[int, float]:
        unknown = sorted(set(weights) - set(range(1, 6)))
        if unknown:
            raise ValueError(f"urgency runs from 1 to 5; unexpected {unknown}")
        missing = sorted(set(range(1, 6)) - set(weights))
        if missing:
            raise ValueError(f"a weight is needed for every urgency 1..5; missing {missing}")
        if any(w <= 0 for w in weights.values()):
            raise ValueError("urgency weights must be positive")
        return weights

    @field_validator("support_loads")
    @classmethod
    def _all_support_levels(cls, loads: dict[Support, int]) -> dict[Support, int]:
        missing = [s.value for s in Support if s not in loads]
        if missing:
            raise ValueError(f"a load is needed for every support level; missing {missing}")
        if any(v < 0 for v in loads.values()):
            raise ValueError("support loads must be >= 0")
        return loads

    @property
    def horizon_days(self) -> int:
        return 7 * self.horizon_weeks

    def mediation_cap(self, language: str) -> int | None:
        return self.mediation_capacity_by_language.get(language, self.mediation_capacity)

    @classmethod
    def from_file(cls, path: str | Path) -> Policy:
        """Read a policy from TOML; errors name the file and the field."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError("file not found", source=str(path)) from None
        except OSError as exc:
            raise InputError(f"cannot read the file ({exc.strerror})", source=str(path)) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"not valid TOML: {exc}", source=str(path)) from None
        return validate_policy(data, source=str(path))


def validate_policy(data: dict, source: str = "policy") -> Policy:
    from pydantic import ValidationError

    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise InputError(err["msg"], source=source, field=field) from None
