"""The evaluators' report: one self-contained HTML file on a scenario's throughput and savings.

`build_report(path)` reads the scenario and the source of every number in its YAML comments, runs
the main comparison (the engine's policy against the hotel-only baseline, common random numbers),
re-runs the scenario with each key assumption moved down and up (a one-at-a-time sensitivity,
sorted by swing: a tornado table) and with every exit pathway on the other stay clock, and draws
the figures; it returns a `Report` (data, display
strings and base64 PNG figures). `render_html(report)` fills ``templates/report.html.j2`` (nothing
in the page points outside the file: no fonts, scripts or images from the network), and
`write_report` writes it atomically.

Policies, by purpose: the headline is the engine's optimiser (``solver``, `allocator.plan` every
week, the slowest), next to its first-come-first-served rule (``greedy``), the rule of thumb a hub
would otherwise follow. ``fcfs_fast`` applies greedy's rule in one pass with departures known
exactly and is orders of magnitude faster, so the sensitivity, which needs many runs, uses it. The
report says which policy produced which number.

Modules: `cells` (a number as shown), `sensitivity` (the variants and their runs), `build` (the
runs and the `Report`), `figures` (matplotlib, imported only when drawing) and `render` (HTML).
"""

from allocator.analysis.report.build import (
    DEFAULT_POLICIES,
    DEFAULT_REPLICATIONS,
    DEFAULT_SENSITIVITY_POLICY,
    DEFAULT_SENSITIVITY_REPLICATIONS,
    DEFAULT_SWING,
    Figure64,
    Progress,
    Report,
    build_report,
)
from allocator.analysis.report.cells import RESULT_ROWS, Cell, fmt, result_cells
from allocator.analysis.report.render import POLICY_TEXT, render_html, write_report
from allocator.analysis.report.sensitivity import (
    IGNORED_BY,
    SENSITIVITY,
    ClockRow,
    SensitivityRow,
)

__all__ = [
    "DEFAULT_POLICIES",
    "DEFAULT_REPLICATIONS",
    "DEFAULT_SENSITIVITY_POLICY",
    "DEFAULT_SENSITIVITY_REPLICATIONS",
    "DEFAULT_SWING",
    "IGNORED_BY",
    "POLICY_TEXT",
    "RESULT_ROWS",
    "SENSITIVITY",
    "Cell",
    "ClockRow",
    "Figure64",
    "Progress",
    "Report",
    "SensitivityRow",
    "build_report",
    "fmt",
    "render_html",
    "result_cells",
    "write_report",
]
