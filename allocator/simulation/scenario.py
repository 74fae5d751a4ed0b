"""Scenarios: what a simulation run assumes, as frozen pydantic models read from YAML.

A scenario names the units (a list or a generator), the arrival process, the households' mix,
stay lengths by exit pathway, the engine's policy, the costs and the horizon. `load_scenario`
reads a YAML file and turns the first problem into one `InputError` that names the file and the
dotted field (``arrivals.weekly_rate``), so a planner can fix it without reading a traceback.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from allocator.domain import ExitPathway, Support, UnitKind
from allocator.errors import InputError
from allocator.policy import Policy

Share = Annotated[float, Field(ge=0.0, le=1.0)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _normalised(mix: dict, what: str) -> dict:
    if not mix:
        raise ValueError(f"{what} needs at least one entry")
    if any((not math.isfinite(v)) or v < 0 for v in mix.values()):
        raise ValueError(f"{what} shares must be finite and >= 0")
    total = sum(mix.values())
    if total <= 0:
        raise ValueError(f"{what} shares must not all be zero")
    if abs(total - 1.0) > 0.02:
        raise ValueError(f"{what} shares must sum to 1 (got {total:.3f})")
    if abs(total - 1.0) < 1e-9:
        return mix  # already normalised: keep the values (a variant's round trip is exact)
    return {k: v / total for k, v in mix.items()}


class Distribution(_Model):
    """A stay-length distribution in days; ``max_days`` truncates it (a sample above it is cut).

    ``exponential``: mean. ``lognormal``: mean and sd (of the days, not of the log).
    ``gamma``: mean and sd. ``uniform``: low and high. ``fixed``: mean.
    """

    dist: Literal["exponential", "lognormal", "gamma", "uniform", "fixed"]
    mean: float | None = Field(default=None, gt=0)
    sd: float | None = Field(default=None, gt=0)
    low: float | None = Field(default=None, ge=0)
    high: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _sampleable(self) -> Distribution:
        need = {
            "exponential": ("mean",),
            "fixed": ("mean",),
            "lognormal": ("mean", "sd"),
            "gamma": ("mean", "sd"),
            "uniform": ("low", "high"),
        }[self.dist]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"a {self.dist} distribution needs {' and '.join(missing)}")
        extra = [n for n in ("mean", "sd", "low", "high") if n not in need and getattr(self, n)]
        if extra:
            raise ValueError(f"a {self.dist} distribution takes no {' or '.join(extra)}")
        for n in need:
            if not math.isfinite(getattr(self, n)):
                raise ValueError(f"{n} must be finite")
        # the checks above make every parameter the distribution needs a finite number
        if self.dist == "uniform" and cast(float, self.high) <= cast(float, self.low):
            raise ValueError(f"uniform needs high > low (got low={self.low}, high={self.high})")
        return self

    @property
    def expected(self) -> float:
        if self.dist == "uniform":
            return (cast(float, self.low) + cast(float, self.high)) / 2
        return float(cast(float, self.mean))


class UnitGroup(_Model):
    """A generated group of units of one kind; capacities drawn from ``capacity_mix``."""

    count: int = Field(ge=0, le=100_000)
    capacity_mix: dict[int, float] = Field(description="beds -> share of the group's units")
    accessible_share: Share = 0.0
    operating_cost_per_unit_night: float = Field(ge=0)
    renovation_cost_per_unit: float = Field(default=0.0, ge=0)

    @field_validator("capacity_mix")
    @classmethod
    def _mix(cls, mix: dict[int, float]) -> dict[int, float]:
        if any(not 1 <= k <= 30 for k in mix):
            raise ValueError("capacities must be between 1 and 30 beds")
        return _normalised(mix, "capacity_mix")


class UnitSpec(_Model):
    """One unit given by hand (used by small test scenarios)."""

    unit_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
    kind: UnitKind
    capacity: int = Field(ge=1, le=30)
    accessible: bool = False
    operating_cost_per_unit_night: float = Field(default=0.0, ge=0)
    renovation_cost_per_unit: float = Field(default=0.0, ge=0)


class Units(_Model):
    """Either explicit ``units`` or a generator of ``hub_rooms`` and ``flats``."""

    hub_rooms: UnitGroup | None = None
    flats: UnitGroup | None = None
    explicit: list[UnitSpec] | None = None
    amortisation_years: float = Field(default=10.0, gt=0, description="renovation write-off")

    @model_validator(mode="after")
    def _some_units(self) -> Units:
        n = len(self.explicit or []) + sum(g.count for g in (self.hub_rooms, self.flats) if g)
        if n == 0:
            raise ValueError("the scenario has no units: give hub_rooms, flats or explicit")
        return self


class Arrivals(_Model):
    """Requests: a Poisson process whose weekly rate follows a monthly seasonal profile."""

    weekly_rate: float = Field(ge=0, description="mean new households per week")
    seasonality: list[float] = Field(
        default_factory=lambda: [1.0] * 12,
        description="12 monthly multipliers of weekly_rate (January first), mean 1",
    )
    notice_days: int = Field(
        default=7, ge=0, le=365, description="days before its need date a request becomes known"
    )
    size_mix: dict[int, float] = Field(default_factory=lambda: {1: 1.0})
    minors_share: Share = Field(default=0.0, description="share of households of 2+ with minors")
    urgency_mix: dict[int, float] = Field(default_factory=lambda: {3: 1.0})
    support_mix: dict[Support, float] = Field(default_factory=lambda: {Support.MEDIUM: 1.0})
    mediation_share: Share = 0.0
    mediation_languages: list[str] = Field(default_factory=lambda: ["arabic"])
    accessible_share: Share = 0.0

    @model_validator(mode="after")
    def _mediation_needs_a_language(self) -> Arrivals:
        if self.mediation_share > 0 and not self.mediation_languages:
            raise ValueError("mediation_share > 0 needs at least one of mediation_languages")
        return self

    @field_validator("weekly_rate")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("weekly_rate must be finite")
        return v

    @field_validator("seasonality")
    @classmethod
    def _seasonality(cls, v: list[float]) -> list[float]:
        if len(v) != 12:
            raise ValueError(f"seasonality needs 12 monthly multipliers, got {len(v)}")
        if any(x < 0 or not math.isfinite(x) for x in v):
            raise ValueError("seasonality multipliers must be finite and >= 0")
        return v

    @field_validator("size_mix")
    @classmethod
    def _sizes(cls, mix: dict[int, float]) -> dict[int, float]:
        if any(not 1 <= k <= 30 for k in mix):
            raise ValueError("household sizes must be between 1 and 30")
        return _normalised(mix, "size_mix")

    @field_validator("urgency_mix")
    @classmethod
    def _urgency(cls, mix: dict[int, float]) -> dict[int, float]:
        if any(not 1 <= k <= 5 for k in mix):
            raise ValueError("urgency levels are 1..5")
        return _normalised(mix, "urgency_mix")

    @field_validator("support_mix")
    @classmethod
    def _support(cls, mix: dict[Support, float]) -> dict[Support, float]:
        return _normalised(mix, "support_mix")


class Pathway(_Model):
    """One exit pathway: its share of households and the stay length it implies."""

    share: Share
    stay: Distribution


class Costs(_Model):
    """Euros. Unit operating and renovation costs live on the unit groups."""

    hotel_per_person_night: float = Field(ge=0)
    shelter_per_person_night: float = Field(default=0.0, ge=0)
    accompaniment_per_household_night: float = Field(
        default=0.0, ge=0, description="social-support staff cost while a household is placed"
    )


class Baseline(_Model):
    """Where households wait when not placed: a hotel, or a community shelter that splits families."""

    shelter_share: Share = Field(
        default=0.0,
        description="share of waiting households with minors sent to a shelter that separates "
        "the family (each counts as one separation)",
    )


class Scenario(_Model):
    """Everything one simulation assumes; see `scenarios/milan.yaml` for a documented example."""

    name: str = "scenario"
    start: str = Field(default="2027-01-04", pattern=r"^\d{4}-\d{2}-\d{2}$")

    @field_validator("start")
    @classmethod
    def _real_date(cls, v: str) -> str:
        import datetime as dt

        try:
            dt.date.fromisoformat(v)
        except ValueError:
            raise ValueError(f"not a date: {v!r}; expected YYYY-MM-DD") from None
        return v

    horizon_weeks: int = Field(ge=1, le=5200)
    units: Units
    arrivals: Arrivals
    pathways: dict[ExitPathway, Pathway]
    exit_notice_days: int = Field(
        default=14, ge=0, le=365, description="days ahead planners learn a realised departure"
    )
    policy: Policy = Field(default_factory=Policy)
    costs: Costs
    baseline: Baseline = Field(default_factory=Baseline)

    @field_validator("pathways")
    @classmethod
    def _pathway_shares(cls, v: dict[ExitPathway, Pathway]) -> dict[ExitPathway, Pathway]:
        _normalised({k: p.share for k, p in v.items()}, "pathways share")
        return v

    @property
    def horizon_days(self) -> int:
        return 7 * self.horizon_weeks


def _field_of(err: Mapping[str, Any]) -> str | None:
    loc = [str(p) for p in err["loc"]]
    # drop the tagged-union / model-name parts pydantic inserts ("function-after[...]")
    loc = [p for p in loc if "[" not in p]
    return ".".join(loc) or None


def validate_scenario(data: Any, source: str = "scenario") -> Scenario:
    """Validate a parsed mapping, or a `Scenario` again (a ``model_copy(update=...)`` skips
    pydantic's checks); the first error names the dotted field."""
    if isinstance(data, Scenario):
        data = data.model_dump(mode="json", exclude_none=True)
    if not isinstance(data, dict):
        raise InputError("a scenario must be a mapping of fields", source=source)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        raise InputError(msg, source=source, field=_field_of(err)) from None


def vary(scenario: Scenario, changes: Mapping[str, Any], source: str = "scenario") -> Scenario:
    """A validated copy with dotted fields changed, e.g. ``{"arrivals.weekly_rate": 3.5,
    "units.flats.count": 30}``: how capacity sweeps and sensitivity runs make their variants."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node: Any = data
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                raise InputError("no such field in the scenario", source=source, field=dotted)
        node[leaf] = value
    return validate_scenario(data, source=source)


def load_scenario(path: str | Path, _seen: frozenset[Path] = frozenset()) -> Scenario:
    """Read and validate a YAML scenario; raise `InputError` naming the file and the field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", source=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", source=str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", source=str(path)) from None
    if isinstance(data, dict) and "extends" in data:
        # a variant: the base file's mapping with this file's fields merged over it
        base_path = path.parent / str(data.pop("extends"))
        seen = _seen | {path.resolve()}
        if base_path.resolve() in seen:
            raise InputError(
                f"extends {base_path.name}, which extends this file again (a cycle)",
                source=str(path),
                field="extends",
            )
        base = load_scenario(base_path, seen).model_dump(mode="json", exclude_none=True)
        data = _merge(base, data)
    return validate_scenario(data, source=str(path))


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and not _is_mix(k):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _is_mix(key: str) -> bool:
    # mixes and maps are replaced whole, so a variant can drop an entry
    return key.endswith("_mix") or key == "urgency_weights"
