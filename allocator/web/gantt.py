"""The Gantt of a proposed week on *This week*: each unit a row, the stays already in the ledger
and the plan's placements as bars (this week's, which approval turns into stays, and later ones,
planned again next week). Geometry only, as `allocator.web.charts` does for *Today*: the template
``_week_chart.html`` draws it, every word through the catalogue, every value escaped.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from allocator.web.charts import DAY, Bar, DayScale, Timeline, _date, combined, units_timeline
from allocator.web.rooms import rooms_of


def plan_gantt(
    units: pd.DataFrame,
    stays: pd.DataFrame,
    placements: pd.DataFrame,
    sizes: dict[str, int],
    week: dt.date,
    commit_until: dt.date,
    *,
    turnover_days: int = 0,
    days_before: int = 7,
    days_after: int = 56,
    width: float = 960.0,
    left: float = 96.0,
    row_height: float = 18.0,
) -> Timeline:
    """Rows of units from ``week - days_before`` to ``week + days_after``: the ledger's stays
    (moved in, planned, ended) and the plan's placements (``week`` before ``commit_until``,
    ``later`` after), each followed by its turnover days, in each of its connecting rooms;
    days a unit is closed greyed."""
    scale = DayScale.fitted(week - days_before * DAY, week + days_after * DAY, width, left)
    bar = scale.bar
    by_unit: dict[str, list[Bar | None]] = {}

    def add(record: dict, a: dt.date, b: dt.date, kind: str) -> None:
        """A bar (and its turnover) in each unit the stay or placement holds."""
        household = str(record["household_id"])
        info = {
            "household_id": household,
            "persons": int(sizes.get(household, 0)),
            "start": a,
            "end": b,
            "rooms": combined(record),
        }
        for unit in rooms_of(record):
            bars = by_unit.setdefault(unit, [])
            bars.append(bar(a, b, kind, **info))
            if turnover_days > 0:
                bars.append(bar(b, b + turnover_days * DAY, "turnover"))

    for st in stays.to_dict(orient="records"):
        moved, ended = _date(st.get("moved_in")), _date(st.get("actual_end"))
        start, expected = moved or _date(st["start"]), _date(st["expected_end"])
        if start is None or expected is None:
            continue
        if ended is not None:
            add(st, start, ended, "ended")
        elif moved is None:
            add(st, start, expected, "planned")
        else:
            add(st, start, max(expected, week), "occupied")
    placed = placements[placements.status == "placed"]
    for p in placed.to_dict(orient="records"):
        start, end = _date(p["start"]), _date(p["expected_end"])
        if start is None or end is None or not p.get("unit_id"):
            continue
        kind = "week" if start < commit_until else "later"
        add(p, start, end, kind)

    return units_timeline(
        scale,
        units,
        lambda unit: by_unit.get(str(unit["unit_id"]), []),
        week,
        width=width,
        row_height=row_height,
    )
