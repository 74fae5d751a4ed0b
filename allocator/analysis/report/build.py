"""`build_report`: check the settings, run the simulations and gather what the page shows."""

from __future__ import annotations

import datetime as dt
import hashlib
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import allocator
from allocator.analysis.report.cells import Cell, result_cells
from allocator.analysis.report.sensitivity import (
    ClockRow,
    SensitivityRow,
    Stage,
    run_sensitivity,
    variants,
)
from allocator.choices import (
    REPORT_POLICIES,
    REPORT_REPLICATIONS,
    REPORT_SENSITIVITY_POLICY,
    REPORT_SENSITIVITY_REPLICATIONS,
    REPORT_TIME_LIMIT,
)
from allocator.engine.params import EngineParams
from allocator.errors import InputError
from allocator.simulation import (
    POLICIES,
    SimulationResult,
    check_engine,
    check_seed,
    load_scenario,
    simulate,
)
from allocator.simulation.scenario import Scenario
from allocator.simulation.sources import Assumption, read_assumptions
from allocator.simulation.weekly import weekly_engine, weekly_engine_from_file

# progress(stage, done, total): called as replications finish, stage by stage
Progress = Callable[[str, int, int], None]

DEFAULT_POLICIES = REPORT_POLICIES
DEFAULT_REPLICATIONS = REPORT_REPLICATIONS
DEFAULT_SENSITIVITY_POLICY = REPORT_SENSITIVITY_POLICY
DEFAULT_SENSITIVITY_REPLICATIONS = REPORT_SENSITIVITY_REPLICATIONS
DEFAULT_SWING = 0.25
DEFAULT_TIME_LIMIT = REPORT_TIME_LIMIT


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
    clocks: list[ClockRow] = field(default_factory=list)  # as written, every pathway switched
    fairness: Any = None  # `report.fairness.FairnessSection`: waits per group, None if not kept

    @property
    def estimates(self) -> list[Assumption]:
        return [a for a in self.assumptions if a.estimate]


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
    time_limit: float = DEFAULT_TIME_LIMIT,
    progress: Progress | None = None,
    command: str | None = None,
    client: Any = None,
    engine: EngineParams | str | Path | None = None,
) -> Report:
    """Simulate the scenario for the report; raise `InputError` before any run on bad input.

    The main comparison runs ``policies`` (the first is the headline) and the hotel baseline for
    ``replications`` with ``seed``; the sensitivity runs ``sensitivity_policy`` for
    ``sensitivity_replications`` (0 skips it) on every variant, with the same seed, so variants
    differ only by the assumption moved. ``command`` is the reproduction command shown. A
    `dask.distributed` ``client`` runs every replication, main and sensitivity, on its cluster
    (same numbers; see `allocator.simulation.simulate`). ``engine``, the solver's settings for
    every week of the main and sensitivity runs (None: the weekly loop's), is an `EngineParams` or
    a TOML file of its fields (`simulation.weekly.weekly_engine_from_file`). The
    settings table lists those that differ from the weekly loop's; a file is named there with its
    hash and in the reproduction command (``--engine``), which settings given as an object cannot
    be.
    """
    # the figures need matplotlib: imported here, so that importing the report stays light
    from allocator.analysis.report.figures import report_figures

    t0 = time.perf_counter()
    engine_file = None
    if isinstance(engine, str | Path):
        engine_file = Path(engine)
        engine = weekly_engine_from_file(engine_file)
    run = _Run(
        replications=replications,
        seed=seed,
        policies=list(dict.fromkeys(p.strip() for p in policies if p.strip())),
        sensitivity_replications=sensitivity_replications,
        sensitivity_policy=sensitivity_policy,
        sensitivity_factor=sensitivity_factor,
        workers=workers,
        time_limit=time_limit,
        engine=engine,
        engine_file=engine_file,
    )
    _check(run)
    check_engine(engine)
    path = Path(scenario_path)
    scenario = load_scenario(path)
    assumptions, notes, description = read_assumptions(path)
    data = scenario.model_dump(mode="json", exclude_none=True)
    # every variant is validated before the long runs start
    moved = variants(data, str(path), sensitivity_factor) if sensitivity_replications else []
    stage = _stages(progress)
    result = simulate(
        scenario,
        replications=replications,
        seed=seed,
        policies=[*run.policies, "hotel"],
        workers=workers,
        time_limit=time_limit,
        progress=stage(f"main: {', '.join(run.policies)}", replications),
        client=client,
        engine=engine,
    )
    base, rows, clocks = run_sensitivity(
        scenario,
        data,
        moved,
        policy=sensitivity_policy,
        replications=sensitivity_replications,
        seed=seed,
        workers=workers,
        stage=stage,
        client=client,
        engine=engine,
        time_limit=time_limit,
    )
    figures = report_figures(result, rows, base, sensitivity_factor, sensitivity_policy)
    from allocator.analysis.report.fairness import fairness_section

    fairness = fairness_section(result, run.policies[0])
    if command is None:
        command = _command(path, run)
    return Report(
        scenario_path=str(path),
        scenario=scenario,
        description=description,
        assumptions=assumptions,
        section_notes=notes,
        result=result,
        cells=result_cells(result),
        primary=run.policies[0],
        sensitivity_policy=sensitivity_policy,
        sensitivity_base=base,
        sensitivity=rows,
        sensitivity_factor=sensitivity_factor,
        figures=figures,
        settings=_settings(
            path, scenario, run, sensitivity_ran=bool(moved), started=t0, main=result
        ),
        command=command,
        limits=_limits(scenario, [a for a in assumptions if a.estimate], sensitivity_policy),
        clocks=clocks,
        fairness=fairness,
    )


@dataclass(frozen=True)
class _Run:
    """The settings of one report's runs, as `build_report` was given them."""

    replications: int
    seed: int
    policies: list[str]  # the main comparison's, without the hotel baseline; the first leads
    sensitivity_replications: int
    sensitivity_policy: str
    sensitivity_factor: float
    workers: int
    time_limit: float
    engine: EngineParams | None = None  # the solver's settings; None: the weekly loop's
    engine_file: Path | None = None  # the TOML file they were read from, if they were


def _stages(progress: Progress | None) -> Stage:
    """Per stage of runs, the callback `simulate` reports finished replications to."""

    def stage(name: str, total: int) -> Callable[[int], None] | None:
        if progress is None:
            return None
        return lambda done: progress(name, done, total)

    return stage


def _settings(
    path: Path,
    scenario: Scenario,
    run: _Run,
    *,
    sensitivity_ran: bool,
    started: float,
    main: SimulationResult | None = None,
) -> dict[str, Any]:
    """The run's settings as the page lists them, so a reader can tell how it was made.

    The scenario file is named with its hash, so a later edit of the file shows.
    """
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    factor = run.sensitivity_factor
    solver_ran = "solver" in run.policies or (
        sensitivity_ran and run.sensitivity_policy == "solver"
    )
    return {
        "scenario file": f"{path} (sha256 {digest}…)",
        "seed": run.seed,
        "replications (main comparison)": run.replications,
        "policies (main comparison)": ", ".join([*run.policies, "hotel (baseline)"]),
        "sensitivity policy": run.sensitivity_policy if sensitivity_ran else "–",
        "sensitivity": (
            f"{run.sensitivity_replications} replications per variant, "
            f"each assumption ×{1 - factor:g} and ×{1 + factor:g}"
            if sensitivity_ran
            else "not run"
        ),
        "horizon": f"{scenario.horizon_weeks} weeks from {scenario.start}",
        "warm-up (simulated, not counted)": (
            f"{scenario.warmup_weeks} weeks before {scenario.start}"
            if scenario.warmup_weeks
            else "none: the run starts with empty units"
        ),
        "stay clocks": _clocks_text(scenario),
        "solver time limit per weekly plan": (f"{run.time_limit:g} s" if solver_ran else "–"),
        "solver settings": _engine_text(run) if solver_ran else "–",
        "workers": (
            f"{main.workers} on a Dask cluster"
            if main is not None and main.backend == "dask"
            else run.workers
        ),
        "allocator version": allocator.__version__,
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "run time": f"{time.perf_counter() - started:.0f} s",
    }


def _engine_text(run: _Run) -> str:
    """The solver's settings as the reader needs them: the weekly loop's own, or each one that
    differs from them, and where they came from (a file, or the Python API, which the command
    below cannot repeat)."""
    engine = run.engine
    if engine is None:
        return "the simulation's own (allocator.simulation.weekly.weekly_engine)"
    own = weekly_engine().model_dump()
    changed = {k: v for k, v in engine.model_dump().items() if own[k] != v}
    listed = ", ".join(f"{k}={v!r}" for k, v in sorted(changed.items()))
    if run.engine_file is not None:
        digest = hashlib.sha256(run.engine_file.read_bytes()).hexdigest()[:16]
        what = listed or "the simulation's own"
        return f"{what}; from {run.engine_file} (sha256 {digest}…)"
    if not changed:
        return "the simulation's own (given explicitly)"
    return f"{listed}; given through the Python API (the command below does not set them)"


def _command(path: Path, run: _Run) -> str:
    """The command line that makes this report again."""
    options = (
        ["--time-limit", f"{run.time_limit:g}"] if run.time_limit != DEFAULT_TIME_LIMIT else []
    )
    if run.engine_file is not None:
        options += ["--engine", str(run.engine_file)]
    return shlex.join(
        ["allocator", "report", str(path), "--out", "report.html"]
        + ["--replications", str(run.replications), "--seed", str(run.seed)]
        + ["--policy", ",".join(run.policies), "--sensitivity-policy", run.sensitivity_policy]
        + ["--sensitivity-replications", str(run.sensitivity_replications)]
        + options
    )


def _check(run: _Run) -> None:
    """Refuse bad settings with the command-line option to fix, before anything runs."""
    check_seed(run.seed, field="--seed")
    if run.replications < 1:
        raise InputError("at least one replication is needed", source="--replications")
    if run.sensitivity_replications < 0:
        raise InputError(
            "must be >= 0 (0 skips the sensitivity)", source="--sensitivity-replications"
        )
    allowed = [x for x in POLICIES if x != "hotel"]
    checked = [(p, "--policy") for p in run.policies]
    for p, option in [*checked, (run.sensitivity_policy, "--sensitivity-policy")]:
        if p not in allowed:
            raise InputError(
                f"unknown policy {p!r}; expected one of {', '.join(allowed)}", source=option
            )
    if not run.policies:
        raise InputError("give at least one policy", source="--policy")
    if not 0 < run.sensitivity_factor < 1:
        raise InputError(
            f"the swing must be between 0 and 1, got {run.sensitivity_factor}", source="factor"
        )


def _clocks_text(scenario: Scenario) -> str:
    """Which pathways follow which stay clock, e.g. "exit_date: public_housing; placement: ..."."""
    by: dict[str, list[str]] = {"exit_date": [], "placement": []}
    for name, p in scenario.pathways.items():
        by[p.clock].append(str(name))
    return "; ".join(f"{clock}: {', '.join(names)}" for clock, names in by.items() if names)


def _limits(scenario: Scenario, estimates: list[Assumption], spolicy: str) -> list[str]:
    exit_dated = [str(k) for k, p in scenario.pathways.items() if p.clock == "exit_date"]
    placement = [str(k) for k, p in scenario.pathways.items() if p.clock == "placement"]
    if scenario.warmup_weeks:
        warmup = (
            f"The programme runs {scenario.warmup_weeks} weeks before the measured years start "
            "and nothing in them is counted, so the measured years begin with occupied units and "
            "a waiting list; the length of the warm-up is itself a choice."
        )
    else:
        warmup = (
            "The system starts empty, with no warm-up period: the first weeks, when units fill "
            "up without a queue, are included in every average."
        )
    out = [warmup]
    if exit_dated:
        out.append(
            f"On an exit-date clock ({', '.join(exit_dated)}) the exit comes on the need date "
            "plus the drawn duration whatever the hub does: a household placed late stays fewer "
            "nights, and one still waiting then leaves from the hotel (counted as 'exited while "
            "waiting'). The hotel-only baseline uses the same exit dates."
        )
    if placement:
        out.append(
            f"On a placement clock ({', '.join(placement)}) the stay runs from move-in: waiting in "
            "a hotel does not shorten the stay that follows, and the household waits until it is "
            "placed. When those arrivals outgrow the units the queue grows without limit and a "
            "policy can cost more than hotels only (negative savings in the sensitivity table): "
            "read that as 'the programme is overloaded', not as a measured loss."
        )
    out.append(
        "Which clock a pathway follows is a modelling choice no published figure settles; the "
        "sensitivity section shows the savings with every pathway switched to the other clock."
    )
    out += [
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
        "Planners expect each household to stay its pathway's mean (from move-in, or from its "
        "need date on an exit-date clock) until its real exit is announced; households arrive as a "
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
