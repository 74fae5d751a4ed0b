"""Which assumptions matter most: the scenario re-run with one assumption at a time moved.

Each assumption of `SENSITIVITY` is multiplied by ``1 - factor`` and ``1 + factor`` (whole-number
fields stay whole, shares stay <= 1), every variant re-validated before any run, and each variant
simulated with the same seed as the scenario as written, so variants differ only by the assumption
moved. The rows are sorted by swing (the tornado).

The stay clocks get their own rows (`ClockRow`): the scenario as written and the same run with
every pathway switched to the other clock (`allocator.simulation.switch_clocks`), because a
clock is a choice between two models, not a number to move by a quarter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allocator.analysis.report.cells import Cell
from allocator.engine.params import EngineParams
from allocator.simulation import SimulationResult, mean_interval, simulate, switch_clocks
from allocator.simulation.clocks import AS_WRITTEN, SWITCHED, exit_dated_pathways
from allocator.simulation.scenario import Scenario, validate_scenario

# stage(name, total) -> the progress callback `simulate` takes for that stage, or None
Stage = Callable[[str, int], Callable[[int], None] | None]

# (label, dotted fields moved together; "*" is every key at that level): the first field is the
# one shown. Whole-number fields stay whole (rounded), shares stay <= 1.
SENSITIVITY: list[tuple[str, tuple[str, ...]]] = [
    ("Weekly arrival rate", ("arrivals.weekly_rate",)),
    (
        "Stay lengths (every pathway's mean and sd)",
        tuple(f"pathways.*.stay.{k}" for k in ("mean", "sd", "low", "high")),
    ),
    ("Hotel cost per person-night", ("costs.hotel_per_person_night",)),
    ("Shelter cost per person-night", ("costs.shelter_per_person_night",)),
    ("Number of flats", ("units.flats.count",)),
    ("Number of hub rooms", ("units.hub_rooms.count",)),
    ("Unit operating cost per night", ("units.*.operating_cost_per_unit_night",)),
    ("Renovation cost per flat", ("units.flats.renovation_cost_per_unit",)),
    ("Accompaniment cost per household-night", ("costs.accompaniment_per_household_night",)),
    ("Share of families sent to separating shelters", ("baseline.shelter_share",)),
    ("Exit notice (days a departure is known ahead)", ("exit_notice_days",)),
    ("Request notice (days before the need date)", ("arrivals.notice_days",)),
    ("Turnover days between stays", ("policy.turnover_days",)),
]

# what the sensitivity policy ignores, so its row's swing is zero by construction
IGNORED_BY = {
    "fcfs_fast": {"exit_notice_days": "fcfs_fast knows departures exactly"},
    "fcfs_event": {
        "exit_notice_days": "fcfs_event knows departures exactly",
        "arrivals.notice_days": "fcfs_event decides at the need date",
    },
}


@dataclass
class SensitivityRow:
    label: str
    field: str
    base: str
    low_value: str
    high_value: str
    low: Cell
    high: Cell
    note: str = ""

    @property
    def swing(self) -> float:
        return abs(self.high.mean - self.low.mean)

    @property
    def overloaded(self) -> bool:
        return min(self.low.mean, self.high.mean) < 0

    def within_noise(self, base: float) -> bool:
        """Both variants' intervals hold the base's savings: the swing may be chance alone."""
        return all(c.low <= base <= c.high for c in (self.low, self.high))


@dataclass
class ClockRow:
    """The savings under one assignment of clocks: as in the scenario, or every one switched."""

    label: str
    exit_dated: str  # the pathways on an exit-date clock
    savings: Cell
    hotel_nights_avoided: Cell
    exited_waiting: Cell


@dataclass(frozen=True)
class Variant:
    """One assumption moved down (``low``) and up (``high``): two validated scenarios."""

    label: str
    fields: tuple[str, ...]
    low: Scenario
    high: Scenario


def _slots(data: dict, dotted: str) -> list[tuple[dict, str]]:
    """The (mapping, key) pairs a dotted field with ``*`` wildcards names; missing ones skipped."""
    *parents, last = dotted.split(".")
    level = [data]
    for part in parents:
        nxt = []
        for d in level:
            values = list(d.values()) if part == "*" else [d.get(part)]
            nxt += [v for v in values if isinstance(v, dict)]
        level = nxt
    return [(d, last) for d in level if isinstance(d.get(last), int | float)]


def _values(data: dict, fields: tuple[str, ...]) -> list[float]:
    return [d[k] for d, k in _slots(data, fields[0])]


def _variant(data: dict, fields: tuple[str, ...], f: float, source: str) -> Scenario:
    d = validate_scenario(data, source).model_dump(mode="json", exclude_none=True)
    for dotted in fields:
        for parent, key in _slots(d, dotted):
            v = parent[key] * f
            if isinstance(parent[key], int) and not isinstance(parent[key], bool):
                v = max(round(v), 0)
            parent[key] = min(v, 1.0) if key.endswith("share") else v
    return validate_scenario(d, source=f"{source} (sensitivity variant)")


def variants(data: dict, source: str, factor: float) -> list[Variant]:
    """Every assumption the scenario sets, moved by ``factor`` both ways and validated.

    Made before any run, so that a variant the scenario's rules refuse fails in a second, not
    after the main comparison's minutes.
    """
    active = [(label, f) for label, f in SENSITIVITY if any(_values(data, f))]
    out = []
    for label, fields in active:
        low = _variant(data, fields, 1 - factor, source)
        high = _variant(data, fields, 1 + factor, source)
        out.append(Variant(label, fields, low, high))
    return out


def run_sensitivity(
    scenario: Scenario,
    data: dict,
    moved: list[Variant],
    *,
    policy: str,
    replications: int,
    seed: int,
    workers: int,
    stage: Stage,
    client: Any = None,
    engine: EngineParams | None = None,
    time_limit: float = 10.0,
) -> tuple[Cell, list[SensitivityRow], list[ClockRow]]:
    """The savings of the scenario as written (the base) and of every variant, sorted by swing,
    and the clock rows (as written, every pathway switched).

    With no variant, the base is NaN and there are no rows.
    """
    if not moved:
        return Cell("base", math.nan, math.nan, math.nan, "eur"), [], []

    def run(s: Scenario, label: str) -> SimulationResult:
        return _run(
            s, label, policy, replications, seed, workers, stage, client, engine, time_limit
        )

    def savings(s: Scenario, label: str) -> Cell:
        return _cell(run(s, label), policy, "savings", label, "eur")

    as_written = run(scenario, "base")
    base = _cell(as_written, policy, "savings", "base", "eur")
    switched = run(switch_clocks(scenario), "clocks switched")
    clocks = [
        ClockRow(
            label,
            exit_dated_pathways(r),
            _cell(r, policy, "savings", f"clocks:{key}:savings", "eur"),
            _cell(r, policy, "hotel_nights_avoided", f"clocks:{key}:hotel_nights_avoided"),
            _cell(r, policy, "exited_waiting", f"clocks:{key}:exited_waiting"),
        )
        for key, label, r in (
            ("as_written", AS_WRITTEN, as_written),
            ("switched", SWITCHED, switched),
        )
    ]
    ignored = IGNORED_BY.get(policy, {})
    rows: list[SensitivityRow] = []
    for v in moved:
        dotted = v.fields[0]
        rows.append(
            SensitivityRow(
                v.label,
                dotted,
                _show_all(_values(data, v.fields)),
                _show_all(_values(v.low.model_dump(mode="json", exclude_none=True), v.fields)),
                _show_all(_values(v.high.model_dump(mode="json", exclude_none=True), v.fields)),
                savings(v.low, f"{dotted}:low"),
                savings(v.high, f"{dotted}:high"),
                note=ignored.get(dotted, ""),
            )
        )
    rows.sort(key=lambda r: -r.swing)  # stable: ties keep the list's order
    return base, rows, clocks


def _run(
    s: Scenario,
    label: str,
    policy: str,
    replications: int,
    seed: int,
    workers: int,
    stage: Stage,
    client: Any = None,
    engine: EngineParams | None = None,
    time_limit: float = 10.0,
) -> SimulationResult:
    """``policy`` and the hotel baseline on one scenario (on ``client``'s cluster when given);
    ``engine`` and ``time_limit`` as in `simulate`, so that the variants are planned like the
    main comparison."""
    return simulate(
        s,
        replications=replications,
        seed=seed,
        policies=[policy],
        workers=workers,
        time_limit=time_limit,
        progress=stage(f"sensitivity: {label}", replications),
        client=client,
        engine=engine,
    )


def _cell(r: SimulationResult, policy: str, metric: str, key: str, kind: str = "count") -> Cell:
    """The mean of one metric of ``policy`` over the replications, with its interval."""
    reps = r.replications
    return Cell(key, *mean_interval(reps.loc[reps["policy"] == policy, metric]), kind=kind)


def _show(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
    return str(v)


def _show_all(values: list[float]) -> str:
    return ", ".join(_show(v) for v in values)
