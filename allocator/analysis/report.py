"""The evaluators' report: one self-contained HTML file on a scenario's throughput and savings.

`build_report(path)` reads the scenario and the source of every number in its YAML comments, runs
the main comparison (the engine's policy against the hotel-only baseline, common random numbers),
re-runs the scenario with each key assumption moved down and up (a one-at-a-time sensitivity,
sorted by swing: a tornado table) and draws the figures; it returns a `Report` (data, display
strings and base64 PNG figures). `render_html(report)` fills ``templates/report.html.j2`` (nothing
in the page points outside the file: no fonts, scripts or images from the network), and
`write_report` writes it atomically.

Policies, by purpose: the headline is the engine's optimiser (``solver``, `allocator.plan` every
week, about 11 s of CPU per 10-year replication), next to its first-come-first-served rule
(``greedy``, about 1 s), the rule of thumb a hub would otherwise follow. ``fcfs_fast`` applies
greedy's rule in one pass with departures known exactly and is about 1000x faster, so the
sensitivity, which needs many runs, uses it. The report says which policy produced which number.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import math
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

import allocator
from allocator.analysis import plots
from allocator.errors import InputError
from allocator.io import Staging
from allocator.simulation import (
    POLICIES,
    SimulationResult,
    check_seed,
    load_scenario,
    mean_interval,
    simulate,
)
from allocator.simulation.scenario import Scenario, validate_scenario
from allocator.simulation.sources import Assumption, read_assumptions

# progress(stage, done, total): called as replications finish, stage by stage
Progress = Callable[[str, int, int], None]

DEFAULT_POLICIES = ("solver", "greedy")
DEFAULT_REPLICATIONS = 20
DEFAULT_SENSITIVITY_POLICY = "fcfs_fast"
DEFAULT_SENSITIVITY_REPLICATIONS = 100
DEFAULT_SWING = 0.25

# --- the scenario's numbers and their sources ------------------------------------------------


# --- intervals and display -------------------------------------------------------------------


def fmt(value: float, kind: str = "number") -> str:
    """A number as a reader wants it: euros in millions, shares in percent, days to 0.1."""
    if value is None or not math.isfinite(value):
        return "–"
    if kind == "eur":
        sign = "−" if value < 0 else ""  # a minus sign before the euro sign, not "€-7 M"
        if abs(value) >= 1e6:
            return f"{sign}€{abs(value) / 1e6:,.2f} M"
        return f"{sign}€{abs(value):,.0f}"
    if kind == "percent":
        return f"{100 * value:.1f}%"
    if kind == "days":
        return f"{value:,.1f}"
    if kind == "count":
        return f"{value:,.0f}" if abs(value) >= 100 or value == 0 else f"{value:,.1f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


@dataclass(frozen=True)
class Cell:
    """A mean with its 95% interval, with the raw numbers kept for machine reading."""

    key: str
    mean: float
    low: float
    high: float
    kind: str = "number"
    floor: float | None = None  # shown intervals are cut here (a wait is never negative)
    reference: bool = False  # the baseline's own difference to itself: shown as a dash

    @property
    def text(self) -> str:
        return "–" if self.reference else fmt(self.mean, self.kind)

    @property
    def interval(self) -> str:
        if self.reference or not (math.isfinite(self.low) and math.isfinite(self.high)):
            return ""
        low = self.low if self.floor is None else max(self.low, self.floor)
        return f"{fmt(low, self.kind)} to {fmt(self.high, self.kind)}"


# (metric, label, kind, a difference to the baseline?); all other metrics are never negative
RESULT_ROWS = [
    ("households", "Households arriving", "count", False),
    ("served", "Households placed in a unit", "count", False),
    ("still_waiting", "Still waiting at the end", "count", False),
    ("hotel_person_nights", "Hotel person-nights", "count", False),
    ("hotel_nights_avoided", "Hotel person-nights avoided", "count", True),
    ("shelter_person_nights", "Shelter person-nights", "count", False),
    ("separations", "Families separated (shelter)", "count", False),
    ("separations_avoided", "Separations avoided", "count", True),
    ("wait_mean", "Mean wait (days)", "days", False),
    ("wait_p90", "90th percentile wait (days)", "days", False),
    ("occupancy", "Unit occupancy", "percent", False),
    ("total_cost", "Total cost", "eur", False),
    ("savings", "Saved against hotels", "eur", True),
]


def result_cells(result: SimulationResult) -> dict[str, dict[str, Cell]]:
    """Per policy, per metric: the mean and interval shown in the report's results table.

    Differences against the baseline (hotel nights and separations avoided, and ``savings``) are
    the simulation's own, paired within a replication.
    """
    reps = result.replications
    out: dict[str, dict[str, Cell]] = {}
    for policy in result.policies:
        g = reps[reps["policy"] == policy]
        cells = {}
        for metric, _, kind, difference in RESULT_ROWS:
            values = g[metric]
            cells[metric] = Cell(
                f"{policy}:{metric}",
                *mean_interval(values),
                kind=kind,
                floor=None if difference else 0.0,
                # the baseline's differences to itself, and its "waits" (whole hotel stays)
                reference=policy == "hotel" and (difference or metric.startswith("wait")),
            )
        out[policy] = cells
    return out


# --- sensitivity -----------------------------------------------------------------------------


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


# --- the report ------------------------------------------------------------------------------


@dataclass
class Figure64:
    title: str
    caption: str
    png: str  # base64

    @property
    def src(self) -> str:
        return "data:image/png;base64," + self.png


@dataclass
class Report:
    """Everything the HTML shows: data, display-ready tables and base64 PNG figures."""

    scenario_path: str
    scenario: Scenario
    description: str
    assumptions: list[Assumption]
    section_notes: dict[str, str]
    result: SimulationResult
    cells: dict[str, dict[str, Cell]]
    primary: str
    sensitivity_policy: str
    sensitivity_base: Cell
    sensitivity: list[SensitivityRow]
    sensitivity_factor: float
    figures: list[Figure64]
    settings: dict[str, Any]
    command: str
    limits: list[str] = field(default_factory=list)

    @property
    def estimates(self) -> list[Assumption]:
        return [a for a in self.assumptions if a.estimate]


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _tornado(base: Cell, rows: list[SensitivityRow], factor: float, policy: str) -> Figure:
    rows = rows[::-1]  # largest swing on top
    fig = Figure(figsize=(9, 0.45 * len(rows) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(rows))
    for k, r in enumerate(rows):
        for cell, color, lab, dy in (
            (r.low, "#d65f5f", "-", 0.19),
            (r.high, "#4878cf", "+", -0.19),
        ):
            ax.barh(
                y[k] + dy,
                (cell.mean - base.mean) / 1e6,
                left=base.mean / 1e6,
                color=color,
                height=0.38,
                label=f"assumption {lab}{round(100 * factor)}%" if k == 0 else None,
            )
    ax.axvline(base.mean / 1e6, color="black", linewidth=1)
    ax.set_yticks(y, [r.label for r in rows])
    ax.set_xlabel(f"savings against hotels, € million (mean; {policy})")
    ax.set_title(f"What moves the savings: each assumption {round(100 * factor)}% down and up")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return fig


def _figures(result: SimulationResult, report_rows, base, factor, spolicy) -> list[Figure64]:
    units = [p for p in result.policies if p != "hotel"]
    weekly = result.weekly[result.weekly["policy"].isin(units)]
    reps = result.replications[result.replications["policy"].isin(units)]
    n = result.replications["replication"].nunique()
    out = [
        Figure64(
            "Waiting list",
            f"Households waiting for a unit at the end of each week, mean of {n} replications "
            "(band: lowest to highest replication). The hotel baseline places nobody, so it is "
            "left out.",
            _png(plots.waiting_list(weekly)),
        )
    ]
    hotel = plots.waiting_list(result.weekly, column="hotel_person_nights")
    ax = hotel.axes[0]
    ax.set_ylabel("hotel person-nights in the week")
    ax.set_title(f"Hotel person-nights per week: mean of {n} replications, band = min..max")
    out.append(
        Figure64(
            "Hotel use per week",
            "Person-nights spent in hotels each week under each policy and under the hotel-only "
            "baseline (families sent to separating shelters are not included).",
            _png(hotel),
        )
    )
    fig = Figure(figsize=(10, 4.6), layout="constrained")
    a1, a2 = fig.subplots(1, 2)
    plots.waiting_times(reps, metric="wait_mean", ax=a1)
    plots.waiting_times(reps, metric="wait_p90", ax=a2)
    a1.set_title("Mean wait, per replication")
    a2.set_title("90th percentile wait, per replication")
    out.append(
        Figure64(
            "Waiting times",
            "Each dot is one replication's mean (left) or 90th percentile (right) wait in days: "
            "the spread is between replications, not between households.",
            _png(fig),
        )
    )
    out.append(
        Figure64(
            "Costs and savings",
            "Total cost over the horizon and savings against the hotel-only baseline, "
            "with 95% intervals.",
            _png(plots.costs(result.summary)),
        )
    )
    if report_rows:
        out.append(
            Figure64(
                "Sensitivity (tornado)",
                f"Mean savings ({spolicy}) when one assumption at a time is moved "
                f"{round(100 * factor)}% down (red) or up (blue); the line is the scenario as "
                "written.",
                _png(_tornado(base, report_rows, factor, spolicy)),
            )
        )
    return out


def _limits(scenario: Scenario, estimates: list[Assumption], spolicy: str) -> list[str]:
    out = [
        "The system starts empty, with no warm-up period: the first weeks, when units fill up "
        "without a queue, are included in every average.",
        "A stay's clock starts at placement: waiting in a hotel does not shorten the stay that "
        "follows, and a household waits until it is placed (it never finds its own way out while "
        "waiting). When arrivals outgrow the units the queue grows without limit and a policy "
        "can cost more than hotels only (negative savings in the sensitivity table): read that "
        "as 'the programme is overloaded', not as a measured loss.",
        "Only nights within the horizon count: households still waiting or still housed at the "
        "end are not followed further; renovation is written off linearly over "
        f"{scenario.units.amortisation_years:g} years without discounting.",
        "Units cost every night of the horizon, used or not; the hotel baseline runs no units.",
        "A separation is counted once per family with minors that spends at least one night in a "
        "separating shelter, whatever the length; which families go there is a random draw "
        f"(baseline shelter share {scenario.baseline.shelter_share:g}).",
        "The 90th percentile wait is computed within each replication and then averaged: it is "
        "not the 90th percentile of all households' waits, and the waiting-time figure shows the "
        "spread between replications, not between households.",
        "Intervals cover only the simulation's randomness (replications), not the uncertainty of "
        "the assumptions; the sensitivity table moves one assumption at a time and shows no "
        "interactions (two pessimistic assumptions together can move the result more than "
        "the two rows suggest).",
        f"The sensitivity uses {spolicy}, which knows every departure date exactly; the engine "
        "learns a departure only when it is announced, so its results also depend on the exit "
        "notice, which the sensitivity cannot show.",
        "Planners expect each household to stay its pathway's mean; households arrive as a "
        "Poisson process with the monthly profile given; sizes, urgency, support and pathways are "
        "drawn independently of each other.",
    ]
    if estimates:
        out.append(
            f"{len(estimates)} of the scenario's numbers are estimates or modelling choices with "
            "no published source (listed in the scenario section); the results are only as good "
            "as they are."
        )
    p = scenario.policy
    if p.support_capacity is not None or p.mediation_capacity is not None:
        out.append(
            "The support and mediation caps are applied by the engine's policies only; "
            f"{spolicy} ignores them."
        )
    return out


def _check(
    replications: int, sensitivity_replications: int, policies, spolicy, factor, seed
) -> None:
    check_seed(seed, field="--seed")
    if replications < 1:
        raise InputError("at least one replication is needed", source="--replications")
    if sensitivity_replications < 0:
        raise InputError(
            "must be >= 0 (0 skips the sensitivity)", source="--sensitivity-replications"
        )
    allowed = [x for x in POLICIES if x != "hotel"]
    for p, option in [*[(p, "--policy") for p in policies], (spolicy, "--sensitivity-policy")]:
        if p not in allowed:
            raise InputError(
                f"unknown policy {p!r}; expected one of {', '.join(allowed)}", source=option
            )
    if not policies:
        raise InputError("give at least one policy", source="--policy")
    if not 0 < factor < 1:
        raise InputError(f"the swing must be between 0 and 1, got {factor}", source="factor")


def build_report(
    scenario_path: str | Path,
    *,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = 0,
    policies: Sequence[str] = DEFAULT_POLICIES,
    sensitivity_replications: int = DEFAULT_SENSITIVITY_REPLICATIONS,
    sensitivity_policy: str = DEFAULT_SENSITIVITY_POLICY,
    sensitivity_factor: float = DEFAULT_SWING,
    workers: int = 1,
    time_limit: float = 10.0,
    progress: Progress | None = None,
    command: str | None = None,
) -> Report:
    """Simulate the scenario for the report; raise `InputError` before any run on bad input.

    The main comparison runs ``policies`` (the first is the headline) and the hotel baseline for
    ``replications`` with ``seed``; the sensitivity runs ``sensitivity_policy`` for
    ``sensitivity_replications`` (0 skips it) on every variant, with the same seed, so variants
    differ only by the assumption moved. ``command`` is the reproduction command shown.
    """
    t0 = time.perf_counter()
    policies = list(dict.fromkeys(p.strip() for p in policies if p.strip()))
    _check(
        replications,
        sensitivity_replications,
        policies,
        sensitivity_policy,
        sensitivity_factor,
        seed,
    )
    path = Path(scenario_path)
    scenario = load_scenario(path)
    assumptions, notes, description = read_assumptions(path)
    data = scenario.model_dump(mode="json", exclude_none=True)
    # every variant is validated before the long runs start
    active = [(label, f) for label, f in SENSITIVITY if any(_values(data, f))]
    variants = []
    for label, fields in active if sensitivity_replications else []:
        low = _variant(data, fields, 1 - sensitivity_factor, str(path))
        high = _variant(data, fields, 1 + sensitivity_factor, str(path))
        variants.append((label, fields, low, high))

    def stage(name: str, total: int) -> Callable[[int], None] | None:
        return None if progress is None else (lambda done: progress(name, done, total))

    result = simulate(
        scenario,
        replications=replications,
        seed=seed,
        policies=[*policies, "hotel"],
        workers=workers,
        time_limit=time_limit,
        progress=stage(f"main: {', '.join(policies)}", replications),
    )

    def savings(s: Scenario, label: str) -> Cell:
        r = simulate(
            s,
            replications=sensitivity_replications,
            seed=seed,
            policies=[sensitivity_policy],
            workers=workers,
            progress=stage(f"sensitivity: {label}", sensitivity_replications),
        )
        reps = r.replications
        values = reps.loc[reps["policy"] == sensitivity_policy, "savings"]
        return Cell(f"{label}", *mean_interval(values), kind="eur")

    rows: list[SensitivityRow] = []
    base = Cell("base", math.nan, math.nan, math.nan, "eur")
    if variants:
        base = savings(scenario, "base")
        ignored = IGNORED_BY.get(sensitivity_policy, {})
        for label, fields, lo, hi in variants:
            dotted = fields[0]
            rows.append(
                SensitivityRow(
                    label,
                    dotted,
                    _show_all(_values(data, fields)),
                    _show_all(_values(lo.model_dump(mode="json", exclude_none=True), fields)),
                    _show_all(_values(hi.model_dump(mode="json", exclude_none=True), fields)),
                    savings(lo, f"{dotted}:low"),
                    savings(hi, f"{dotted}:high"),
                    note=ignored.get(dotted, ""),
                )
            )
        rows.sort(key=lambda r: -r.swing)  # stable: ties keep the list's order

    est = [a for a in assumptions if a.estimate]
    figures = _figures(result, rows, base, sensitivity_factor, sensitivity_policy)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    if command is None:
        command = shlex.join(
            ["allocator", "report", str(path), "--out", "report.html"]
            + ["--replications", str(replications), "--seed", str(seed)]
            + ["--policy", ",".join(policies), "--sensitivity-policy", sensitivity_policy]
            + ["--sensitivity-replications", str(sensitivity_replications)]
        )
    settings = {
        "scenario file": f"{path} (sha256 {digest}…)",
        "seed": seed,
        "replications (main comparison)": replications,
        "policies (main comparison)": ", ".join([*policies, "hotel (baseline)"]),
        "sensitivity policy": sensitivity_policy if variants else "–",
        "sensitivity": (
            f"{sensitivity_replications} replications per variant, "
            f"each assumption ×{1 - sensitivity_factor:g} and ×{1 + sensitivity_factor:g}"
            if variants
            else "not run"
        ),
        "horizon": f"{scenario.horizon_weeks} weeks from {scenario.start}",
        "solver time limit per weekly plan": f"{time_limit:g} s" if "solver" in policies else "–",
        "workers": workers,
        "allocator version": allocator.__version__,
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "run time": f"{time.perf_counter() - t0:.0f} s",
    }
    return Report(
        scenario_path=str(path),
        scenario=scenario,
        description=description,
        assumptions=assumptions,
        section_notes=notes,
        result=result,
        cells=result_cells(result),
        primary=policies[0],
        sensitivity_policy=sensitivity_policy,
        sensitivity_base=base,
        sensitivity=rows,
        sensitivity_factor=sensitivity_factor,
        figures=figures,
        settings=settings,
        command=command,
        limits=_limits(scenario, est, sensitivity_policy),
    )


def _show(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
    return str(v)


def _show_all(values: list[float]) -> str:
    return ", ".join(_show(v) for v in values)


POLICY_TEXT = {
    "greedy": "the engine's first-come-first-served rule, run through allocator.plan every week "
    "with the current stays fixed and departures known only when announced",
    "solver": "the engine's optimiser (allocator.plan, method solver) every week, minimising "
    "urgency-weighted hotel person-nights",
    "fcfs_fast": "the same first-come-first-served rule applied in one fast pass, on the same "
    "weekly planning days but with every departure date known exactly",
    "fcfs_event": "the same rule decided at every arrival and departure (no weekly batching)",
    "hotel": "the baseline: nobody is placed, every household stays in a hotel (or a shelter "
    "that separates the family) for its whole stay",
}


def render_html(report: Report) -> str:
    """The report as one HTML page (escaped by Jinja2's autoescape; figures inline)."""
    from jinja2 import Environment, select_autoescape

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["fmt"] = fmt
    text = resources.files("allocator.analysis").joinpath("templates/report.html.j2").read_text("utf-8")
    sections: dict[str, list[Assumption]] = {}
    for a in report.assumptions:
        top = a.path.split(".")[0] if "." in a.path else "general"
        sections.setdefault(top, []).append(a)
    s = report.scenario
    return env.from_string(text).render(
        r=report,
        s=s,
        sections=sections,
        rows=RESULT_ROWS,
        policy_text=POLICY_TEXT,
        show_policies=report.result.policies,
        years=s.horizon_weeks / 52.18,
        main=report.cells[report.primary],
        n_reps=report.result.replications["replication"].nunique(),
    )


def write_report(report: Report, out: str | Path) -> None:
    """Write the HTML atomically: a temporary file replaces ``out`` only once it is complete."""
    html = render_html(report).encode("utf-8")  # fails before any file is touched
    with Staging() as staged:
        staged.bytes(html, out)
