"""Pictures of a plan and of a simulation, one call each, every one returning a matplotlib Figure.

Only matplotlib's object API is used: figures are made with `matplotlib.figure.Figure`, never
through pyplot, so nothing here picks a backend, opens a window or keeps global state; save a
picture with ``fig.savefig("plan.png")``. Every function takes an optional ``ax`` to draw into an
existing axes (then the figure returned is that axes' figure).

- `gantt`: who is in which unit, when (a `Plan`'s placements plus the current stays).
- `waiting_list`: how many households wait each week, per policy (`SimulationResult.weekly`).
- `waiting_times`: how long households wait, per policy (`SimulationResult.replications`, or any
  per-household frame with ``wait_days`` such as `Plan.placements`).
- `costs`: total cost and savings against the hotel baseline, per policy, with 95% intervals.
- `compare_scenarios`: one summary metric per scenario and policy, with 95% intervals.
- `capacity_curves`: waits or hotel nights against the number of flats, one line per hub-room
  count, with 95% bands and the target (`allocator.analysis.capacity_result.CapacityResult`).
"""

from allocator.analysis.plots._common import COST_METRICS, METRIC_LABELS
from allocator.analysis.plots.capacity import CAPACITY_LABELS, capacity_curves
from allocator.analysis.plots.plan import (
    EXISTING_HATCH,
    PLANNED_COLOR,
    SUPPORT_COLORS,
    UNKNOWN_COLOR,
    gantt,
)
from allocator.analysis.plots.simulation import (
    compare_scenarios,
    costs,
    waiting_list,
    waiting_times,
)

__all__ = [
    "capacity_curves",
    "compare_scenarios",
    "costs",
    "gantt",
    "waiting_list",
    "waiting_times",
    # the colours and labels the pictures use, for callers who match them
    "CAPACITY_LABELS",
    "COST_METRICS",
    "EXISTING_HATCH",
    "METRIC_LABELS",
    "PLANNED_COLOR",
    "SUPPORT_COLORS",
    "UNKNOWN_COLOR",
]
