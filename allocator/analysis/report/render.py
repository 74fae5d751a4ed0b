"""The report as one self-contained HTML page, and writing it atomically.

The page is ``templates/report.html.j2`` filled by Jinja2 with autoescape on; nothing in it points
outside the file (no fonts, scripts or images from the network).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from allocator.analysis.report.build import Report
from allocator.analysis.report.cells import fmt, shown_rows
from allocator.io import Outputs, Staging
from allocator.simulation.sources import Assumption

POLICY_TEXT = {
    "greedy": "the engine's first-come-first-served rule, run through allocator.plan every week "
    "with the current stays fixed and departures known only when announced",
    "solver": "the engine's optimiser (allocator.plan, method solver) every week, minimising "
    "urgency-weighted hotel person-nights",
    "fcfs_fast": "the same first-come-first-served rule applied in one fast pass, on the same "
    "weekly planning days but with every departure date known exactly",
    "fcfs_event": "the same rule decided at every arrival and departure (no weekly batching)",
    "hotel": "the baseline: nobody is placed, every household stays in a hotel (or a shelter "
    "that separates the family) from its need date to its exit, the need date plus its drawn "
    "duration",
}


def render_html(report: Report) -> str:
    """The report as one HTML page (escaped by Jinja2's autoescape; figures inline)."""
    from jinja2 import Environment, select_autoescape

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["fmt"] = fmt
    template = resources.files("allocator.analysis").joinpath("templates/report.html.j2")
    sections: dict[str, list[Assumption]] = {}
    for a in report.assumptions:
        top = a.path.split(".")[0] if "." in a.path else "general"
        sections.setdefault(top, []).append(a)
    s = report.scenario
    return env.from_string(template.read_text("utf-8")).render(
        r=report,
        s=s,
        sections=sections,
        rows=shown_rows(report.result.replications),
        policy_text=POLICY_TEXT,
        show_policies=report.result.policies,
        years=s.horizon_weeks / 52.18,
        main=report.cells[report.primary],
        n_reps=report.result.replications["replication"].nunique(),
    )


def write_report(report: Report, out: str | Path, outputs: Outputs | None = None) -> None:
    """Write the HTML atomically: a temporary file replaces ``out`` only once it is complete.

    ``outputs``, when given, is the run's checked outputs (`allocator.io.Outputs`): the write then
    refuses ``out`` if it is one of the run's inputs.
    """
    html = render_html(report).encode("utf-8")  # fails before any file is touched
    with outputs.staging() if outputs is not None else Staging() as staged:
        staged.bytes(html, out)
