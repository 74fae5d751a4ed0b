"""`allocator report`: the evaluators' self-contained HTML report of a scenario.

Errors the user can fix print one line ``error: <message>`` to stderr, exit with code 2 and write
nothing; the output path is checked before the simulation starts, not after it. The report
(matplotlib, Jinja2, the simulation) is imported when the command runs, not at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from allocator.choices import (
    REPORT_POLICIES,
    REPORT_REPLICATIONS,
    REPORT_SENSITIVITY_POLICY,
    REPORT_SENSITIVITY_REPLICATIONS,
    REPORT_TIME_LIMIT,
)
from allocator.cli.common import (
    ConnectTimeoutOption,
    EngineOption,
    SchedulerOption,
    add_scenario_inputs,
    check_positive,
    check_ranges,
    dask_client,
    fail,
    progress_bar,
    read_engine,
)
from allocator.cli.root import app
from allocator.errors import AllocatorError, InputError


def _check_out(out: Path) -> None:
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError("expected an .html file", source=str(out))
    if out.is_dir():
        raise InputError("is a directory, not a file", source=str(out))
    if not out.parent.is_dir():
        raise InputError("the folder does not exist", source=str(out.parent))


@app.command("report")
def report_cmd(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")],
    replications: Annotated[
        int, typer.Option(help="Replications of the main comparison.")
    ] = REPORT_REPLICATIONS,
    sensitivity_replications: Annotated[
        int, typer.Option(help="Replications per sensitivity variant (0 skips the sensitivity).")
    ] = REPORT_SENSITIVITY_REPLICATIONS,
    seed: Annotated[int, typer.Option(help="Master seed (SeedSequence).")] = 0,
    workers: Annotated[int, typer.Option(help="Worker processes (same numbers for any).")] = 2,
    scheduler: SchedulerOption = None,
    connect_timeout: ConnectTimeoutOption = None,
    policy: Annotated[
        str,
        typer.Option(
            help="Comma-separated policies of the main comparison, the first is the headline: "
            "greedy, solver, fcfs_fast, fcfs_event (hotel is always added)."
        ),
    ] = ",".join(REPORT_POLICIES),
    sensitivity_policy: Annotated[
        str, typer.Option(help="Policy of the sensitivity runs.")
    ] = REPORT_SENSITIVITY_POLICY,
    time_limit: Annotated[
        float, typer.Option(help="Solver seconds per weekly plan.")
    ] = REPORT_TIME_LIMIT,
    engine: EngineOption = None,
) -> None:
    """Simulate a scenario and write one HTML file: results, figures, sensitivity, sources."""
    from allocator.analysis.report import build_report, write_report
    from allocator.io import Outputs

    policies = [p.strip() for p in policy.split(",") if p.strip()]
    try:
        _check_out(out)  # before minutes of simulation, not after
        outputs = Outputs()
        add_scenario_inputs(outputs, scenario)
        outputs.add_input("--engine", engine)
        outputs.file("--out", out)
        check_positive(workers, "--workers")
        if workers != int(workers):
            raise InputError("must be a whole number", source="--workers")
        check_ranges(
            time_limit=time_limit,
            workers=workers,
            replications={
                "--replications": replications,
                "--sensitivity-replications": sensitivity_replications,
            },
            seed=seed,
        )
        read_engine(engine)  # a bad file is refused before connecting to a cluster
        with dask_client(scheduler, connect_timeout) as client, progress_bar() as bar:
            task = bar.add_task(scenario.name, total=replications)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            report = build_report(
                scenario,
                replications=replications,
                seed=seed,
                policies=policies,
                sensitivity_replications=sensitivity_replications,
                sensitivity_policy=sensitivity_policy,
                workers=workers,
                time_limit=time_limit,
                progress=progress,
                client=client,
                engine=engine,
            )
        from allocator.cli.interrupts import final_write

        with final_write():  # an abort waits for the one file's replacement
            write_report(report, out, outputs)
    except AllocatorError as exc:
        raise fail(exc) from None
    from rich.console import Console

    size = out.stat().st_size
    Console(stderr=True).print(
        f"report written to {out} ({size / 1024:,.0f} kB, {report.settings['run time']})"
    )
