"""Scenarios: what a simulation run assumes, as frozen pydantic models read from YAML.

A scenario names the units (a list or a generator), the arrival process, the households' mix,
stay lengths by exit pathway, the engine's policy, the costs and the horizon. `load_scenario`
reads a YAML file and turns the first problem into one `InputError` that names the file and the
dotted field (``arrivals.weekly_rate``), so a planner can fix it without reading a traceback.
Every number is finite and bounded (days at most ten years, money at most a million euros a
night, see `allocator.limits`); a key given twice in one mapping is refused with its line, and
the start may be written as a YAML date (``start: 2027-01-04``) or as text.

Each exit pathway says which clock its stay follows (``clock: exit_date`` or ``placement``, see
`Pathway`), and ``warmup_weeks`` runs the programme that long before ``start`` without counting
it; `switch_clocks` makes the variant with every pathway on the other clock.
"""

from __future__ import annotations

import datetime as dt
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

from allocator.districts import DistrictName
from allocator.districts import resolve as resolve_districts
from allocator.domain import ExitPathway, Id, Support, UnitKind
from allocator.errors import InputError
from allocator.limits import (
    MAX_DAYS,
    MAX_NIGHTLY_COST,
    MAX_UNIT_COST,
    check_date,
    describe_error,
    field_of,
)
from allocator.policy import Policy

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NightlyCost = Annotated[float, Field(ge=0, le=MAX_NIGHTLY_COST)]
MAX_WEEKLY_RATE = 10_000.0  # households a week: half a million a year, more than any city's
MAX_SEASONALITY = 12.0  # a month's multiplier when the twelve average 1


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


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


MIN_MEAN_DAYS = 0.01
MAX_VARIATION = 100.0  # sd / mean of a lognormal or gamma stay length


class Distribution(_Model):
    """A stay-length distribution in days; ``max_days`` truncates it (a sample above it is cut).

    ``exponential``: mean. ``lognormal``: mean and sd (of the days, not of the log).
    ``gamma``: mean and sd. ``uniform``: low and high. ``fixed``: mean.
    """

    dist: Literal["exponential", "lognormal", "gamma", "uniform", "fixed"]
    # at least a hundredth of a day: below it the lognormal's and gamma's parameters overflow
    mean: float | None = Field(default=None, ge=MIN_MEAN_DAYS, le=MAX_DAYS)
    sd: float | None = Field(default=None, ge=MIN_MEAN_DAYS, le=MAX_DAYS)
    low: float | None = Field(default=None, ge=0, le=MAX_DAYS)
    high: float | None = Field(default=None, gt=0, le=MAX_DAYS)

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
        if self.dist in ("lognormal", "gamma"):
            cv = cast(float, self.sd) / cast(float, self.mean)
            if cv > MAX_VARIATION:
                raise ValueError(
                    f"sd / mean must be at most {MAX_VARIATION:g} (got {cv:.3g}): a wider"
                    " spread is not a stay-length distribution the sampler handles exactly"
                )
        if self.dist == "uniform" and cast(float, self.high) <= cast(float, self.low):
            raise ValueError(f"uniform needs high > low (got low={self.low}, high={self.high})")
        return self

    @property
    def expected(self) -> float:
        if self.dist == "uniform":
            return (cast(float, self.low) + cast(float, self.high)) / 2
        return float(cast(float, self.mean))


MAX_JOINED_ROOMS = 4  # rooms one household may take together (`allocator.engine.rooms.MAX_ROOMS`)


class ConnectingGroups(_Model):
    """``count`` groups of ``rooms`` adjoining units each whose rooms one household may take
    together (`Unit.group`, `Policy.connecting_rooms`): made of the group's largest units, within
    one district, and fewer when its units make fewer
    (`allocator.simulation.sampling.connecting_groups_of`)."""

    count: int = Field(ge=0, le=10_000)
    rooms: int = Field(default=2, ge=2, le=MAX_JOINED_ROOMS)


class UnitGroup(_Model):
    """A generated group of units of one kind; capacities drawn from ``capacity_mix``.

    ``connecting_groups`` marks some of them as connecting rooms (`ConnectingGroups`)."""

    count: int = Field(ge=0, le=100_000)
    capacity_mix: dict[int, float] = Field(description="beds -> share of the group's units")
    accessible_share: Share = 0.0
    operating_cost_per_unit_night: NightlyCost
    renovation_cost_per_unit: float = Field(default=0.0, ge=0, le=MAX_UNIT_COST)
    district_mix: dict[DistrictName, float] | None = Field(
        default=None, description="district -> share of the group's units (none: not known)"
    )
    connecting_groups: ConnectingGroups | None = Field(
        default=None, description="groups of adjoining units one household may take together"
    )

    @field_validator("capacity_mix")
    @classmethod
    def _mix(cls, mix: dict[int, float]) -> dict[int, float]:
        if any(not 1 <= k <= 30 for k in mix):
            raise ValueError("capacities must be between 1 and 30 beds")
        return _normalised(mix, "capacity_mix")

    @field_validator("district_mix")
    @classmethod
    def _districts(cls, mix: dict[str, float] | None) -> dict[str, float] | None:
        return None if mix is None else _normalised(mix, "district_mix")


class UnitSpec(_Model):
    """One unit given by hand (used by small test scenarios)."""

    unit_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
    kind: UnitKind
    capacity: int = Field(ge=1, le=30)
    accessible: bool = False
    operating_cost_per_unit_night: NightlyCost = 0.0
    renovation_cost_per_unit: float = Field(default=0.0, ge=0, le=MAX_UNIT_COST)
    district: DistrictName | None = None
    group: Id | None = Field(
        default=None,
        description="connecting rooms: the units of one group may be combined for one household",
    )


class Units(_Model):
    """Either explicit ``units`` or a generator of ``hub_rooms`` and ``flats``."""

    hub_rooms: UnitGroup | None = None
    flats: UnitGroup | None = None
    explicit: list[UnitSpec] | None = None
    amortisation_years: float = Field(
        default=10.0, gt=0, le=100, description="renovation write-off"
    )

    @model_validator(mode="after")
    def _some_units(self) -> Units:
        n = len(self.explicit or []) + sum(g.count for g in (self.hub_rooms, self.flats) if g)
        if n == 0:
            raise ValueError("the scenario has no units: give hub_rooms, flats or explicit")
        return self

    @model_validator(mode="after")
    def _groups_share_kind_and_district(self) -> Units:
        """The explicit units of one connecting group share kind and district (`allocator.tables`
        checks the same of a units table; generated groups are made so)."""
        seen: dict[str, UnitSpec] = {}
        for u in self.explicit or []:
            if u.group is None:
                continue
            first = seen.setdefault(u.group, u)
            if (first.kind, first.district) != (u.kind, u.district):
                raise ValueError(
                    f"units {first.unit_id} and {u.unit_id} of connecting group {u.group!r} "
                    "differ in kind or district: the rooms of one group share both"
                )
        return self


class Arrivals(_Model):
    """Requests: a Poisson process whose weekly rate follows a monthly seasonal profile."""

    weekly_rate: float = Field(ge=0, le=MAX_WEEKLY_RATE, description="mean new households per week")
    seasonality: list[Annotated[float, Field(ge=0, le=MAX_SEASONALITY)]] = Field(
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
    anchor_share: Share = Field(
        default=0.0, description="share of households with a school or work district (anchor)"
    )
    anchor_district_mix: dict[DistrictName, float] | None = Field(
        default=None, description="district -> share of the anchors"
    )

    @model_validator(mode="after")
    def _mediation_needs_a_language(self) -> Arrivals:
        if self.mediation_share > 0 and not self.mediation_languages:
            raise ValueError("mediation_share > 0 needs at least one of mediation_languages")
        return self

    @model_validator(mode="after")
    def _anchors_need_districts(self) -> Arrivals:
        if self.anchor_share > 0 and not self.anchor_district_mix:
            raise ValueError("anchor_share > 0 needs anchor_district_mix (district -> share)")
        return self

    @field_validator("anchor_district_mix")
    @classmethod
    def _anchor_mix(cls, mix: dict[str, float] | None) -> dict[str, float] | None:
        return None if mix is None else _normalised(mix, "anchor_district_mix")

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


CLOCKS = ("exit_date", "placement")
Clock = Literal["exit_date", "placement"]


class Pathway(_Model):
    """One exit pathway: its share of households, the stay length it implies, and its clock.

    ``clock: placement`` (the default): the drawn duration runs from move-in, e.g. an exit the
    accompaniment itself brings about. ``clock: exit_date``: the exit comes at need + duration
    whatever the hub did meanwhile (a public-housing flat assigned from the waiting list); a
    household still waiting then leaves from the hotel, and one placed stays only to that date.
    """

    share: Share
    stay: Distribution
    clock: Clock = "placement"

    @field_validator("clock", mode="before")
    @classmethod
    def _known_clock(cls, v: object) -> object:
        if v not in CLOCKS:
            raise ValueError(f"expected exit_date or placement, got {v!r}")
        return v


class Costs(_Model):
    """Euros. Unit operating and renovation costs live on the unit groups."""

    hotel_per_person_night: NightlyCost
    shelter_per_person_night: NightlyCost = 0.0
    accompaniment_per_household_night: NightlyCost = Field(
        default=0.0, description="social-support staff cost while a household is placed"
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

    @field_validator("start", mode="before")
    @classmethod
    def _date_as_text(cls, v: object) -> object:
        """``start: 2027-01-04`` unquoted: YAML reads a date, the scenario keeps its ISO text."""
        if isinstance(v, dt.datetime):
            return v.date().isoformat()
        return v.isoformat() if isinstance(v, dt.date) else v

    @field_validator("start")
    @classmethod
    def _real_date(cls, v: str) -> str:
        try:
            day = dt.date.fromisoformat(v)
        except ValueError:
            raise ValueError(f"not a date: {v!r}; expected YYYY-MM-DD") from None
        try:
            check_date(day, dt.date.today())
        except InputError as exc:
            raise ValueError(exc.message) from None
        return v

    horizon_weeks: int = Field(ge=1, le=5200)
    warmup_weeks: int = Field(
        default=0,
        ge=0,
        le=520,
        description="weeks simulated before the start and not counted: the measured weeks begin "
        "with a running programme, not with empty units",
    )
    units: Units
    arrivals: Arrivals
    pathways: dict[ExitPathway, Pathway]
    exit_notice_days: int = Field(
        default=14, ge=0, le=365, description="days ahead planners learn a realised departure"
    )
    announce_weeks: int = Field(
        default=0,
        ge=0,
        le=26,
        description="the engine policies announce each plan's placements up to this many weeks "
        "after the planning week to the families; 0 announces none (`simulation.announcing`)",
    )
    announce_firm_only: bool = Field(
        default=False,
        description="announce only placements in units free or whose departure is already known",
    )
    policy: Policy = Field(default_factory=Policy)
    costs: Costs
    baseline: Baseline = Field(default_factory=Baseline)

    @field_validator("pathways")
    @classmethod
    def _pathway_shares(cls, v: dict[ExitPathway, Pathway]) -> dict[ExitPathway, Pathway]:
        _normalised({k: p.share for k, p in v.items()}, "pathways share")
        return v

    @model_validator(mode="after")
    def _districts_on_the_map(self) -> Scenario:
        """Every district the units and anchors name is on the policy's map, when it has one."""
        dmap = resolve_districts(self.policy.districts)
        if dmap is None:
            return self
        named = dict(self.arrivals.anchor_district_mix or {})
        for group in (self.units.hub_rooms, self.units.flats):
            if group is not None and group.district_mix:
                named.update(group.district_mix)
        named.update({u.district: 1.0 for u in self.units.explicit or [] if u.district})
        unknown = sorted(set(named) - set(dmap.names))
        if unknown:
            raise ValueError(
                f"district {unknown[0]!r} is not on the policy's district map; expected one of "
                f"{', '.join(dmap.names)}"
            )
        return self

    @property
    def horizon_days(self) -> int:
        """The measured days, from ``start``."""
        return 7 * self.horizon_weeks

    @property
    def warmup_days(self) -> int:
        return 7 * self.warmup_weeks

    @property
    def run_days(self) -> int:
        """Every simulated day: the warm-up, then the measured horizon."""
        return self.warmup_days + self.horizon_days

    @property
    def run_start(self) -> dt.date:
        """The first simulated day: ``start`` less the warm-up (the same weekday)."""
        return dt.date.fromisoformat(self.start) - dt.timedelta(days=self.warmup_days)


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
        raise InputError(
            describe_error(Scenario, err), source=source, field=field_of(err)
        ) from None


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


def switch_clocks(scenario: Scenario, source: str = "scenario") -> Scenario:
    """A validated copy with every pathway on the other clock (``exit_date`` <-> ``placement``).

    The sensitivity row an evaluator needs: which clock an exit follows is a modelling choice
    no source measures, and it moves the savings.
    """
    other = {"exit_date": "placement", "placement": "exit_date"}
    changes = {f"pathways.{k}.clock": other[p.clock] for k, p in scenario.pathways.items()}
    switched = vary(scenario, changes, source=source)
    return switched.model_copy(update={"name": f"{scenario.name} (clocks switched)"})


class _Twice(yaml.YAMLError):
    """A key given twice in one mapping: PyYAML would keep the last without a word."""

    def __init__(self, key: object, line: int, first: int) -> None:
        super().__init__(f"key {key!r} given twice")
        self.key, self.line, self.first = key, line, first


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a mapping that gives a key twice (merge keys ``<<`` aside)."""


def _unique_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[object, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key: the constructor says so below
            continue
        line = key_node.start_mark.line + 1
        if first is not None:
            raise _Twice(key, line, first)
        seen[key] = line
    return loader.construct_mapping(node, deep=deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def parse_yaml(text: str, source: str) -> Any:
    """The document in ``text``, by the safe loader; a key given twice, or bad YAML, is an
    `InputError` of one line naming ``source`` and the line."""
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except _Twice as exc:
        raise InputError(
            f"key {exc.key!r} is given twice (lines {exc.first} and {exc.line}): a key may "
            "appear once in a mapping",
            source=source,
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = " ".join(str(exc.problem or exc.context or "").split())
        raise InputError(f"not valid YAML: {problem}{where}", source=source) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {' '.join(str(exc).split())}", source=source) from None


def load_scenario(path: str | Path, _seen: frozenset[Path] = frozenset()) -> Scenario:
    """Read and validate a YAML scenario; raise `InputError` naming the file and the field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", source=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", source=str(path)) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", source=str(path)) from None
    data = parse_yaml(text, source=str(path))
    if isinstance(data, dict) and "extends" in data:
        # a variant: the base file's mapping with this file's fields merged over it
        named = str(data.pop("extends"))
        base_path = path.parent / named
        if not base_path.is_file():
            raise InputError(
                f"extends {named!r}, but there is no such file next to it ({base_path})",
                source=str(path),
                field="extends",
            )
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
