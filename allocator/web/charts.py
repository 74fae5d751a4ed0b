"""Chart geometry for inline SVG: the units' timeline on *Today* and the weekly charts of *History*.

Only numbers and the data's own values are computed here; the templates (``_charts.html``) draw
them, so every word on a chart goes through the catalogue and every value is escaped. Styling is
by class (the CSP forbids inline styles).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from allocator.web.rooms import rooms_of, rooms_text

DAY = dt.timedelta(days=1)


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def combined(record: Mapping[Any, Any]) -> str:
    """The rooms of a stay or placement in connecting rooms ("H1.01+H1.02"); "" for one unit."""
    units = rooms_of(record)
    return rooms_text(record) if len(units) > 1 else ""


def _date(value: Any) -> dt.date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def nice_ticks(high: float, count: int = 4, whole: bool = False) -> list[float]:
    """Round steps from 0 to at least ``high``: 0, 25, 50, 75, 100 and the like (``whole``:
    steps of at least 1, for counts)."""
    if not high or high <= 0 or not math.isfinite(high):
        return [0.0, 1.0]
    raw = max(high / count, 1.0) if whole else high / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    top = step * math.ceil(high / step - 1e-9)
    return [step * k for k in range(int(round(top / step)) + 1)]


# --- the timeline of units -------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    kind: str  # occupied, planned, ended, overdue, turnover, closed
    household_id: str = ""
    persons: int = 0
    start: dt.date | None = None
    end: dt.date | None = None
    label: bool = False  # wide enough to carry the household id
    rooms: str = ""  # a stay in connecting rooms: all of them ("H1.01+H1.02"), a bar in each


@dataclass(frozen=True)
class Row:
    y: float
    unit_id: str
    kind: str
    capacity: int
    bars: list[Bar]
    group: str = ""  # the unit's connecting rooms' group, if it has one


@dataclass(frozen=True)
class Timeline:
    width: float
    height: float
    left: float
    top: float
    row_height: float
    day_width: float
    first: dt.date
    last: dt.date
    today_x: float
    ticks: list[tuple[float, dt.date]]
    rows: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class DayScale:
    """Days from ``first`` to ``last`` laid along x from ``left`` (the timelines' one axis)."""

    first: dt.date
    last: dt.date
    left: float
    day_width: float

    @classmethod
    def fitted(cls, first: dt.date, last: dt.date, width: float, left: float) -> DayScale:
        return cls(first, last, left, (width - left - 8.0) / (last - first).days)

    def x_of(self, day: dt.date) -> float:
        span = (self.last - self.first).days
        return self.left + max(0, min(span, (day - self.first).days)) * self.day_width

    def bar(self, a: dt.date, b: dt.date, kind: str, **info: Any) -> Bar | None:
        """The bar of days [a, b) cut to the window; None when nothing of it shows."""
        if b <= self.first or a >= self.last or b <= a:
            return None
        x0, x1 = self.x_of(a), self.x_of(b)
        return Bar(x0, max(1.0, x1 - x0), kind, label=(x1 - x0) > 52, **info)

    def closed(self, unit: Mapping[Any, Any]) -> list[Bar | None]:
        """The days of the window before a unit opens and after it leaves the programme."""
        opens, closes = _date(unit.get("available_from")), _date(unit.get("available_until"))
        out = []
        if opens is not None and opens > self.first:
            out.append(self.bar(self.first, opens, "closed"))
        if closes is not None and closes < self.last:
            out.append(self.bar(closes, self.last, "closed"))
        return out


def units_timeline(
    scale: DayScale,
    units: pd.DataFrame,
    bars_of: Callable[[Mapping[Any, Any]], list[Bar | None]],
    marker: dt.date,
    *,
    width: float,
    row_height: float,
    top: float = 28.0,
) -> Timeline:
    """Each unit a row (by id) with its closed days and ``bars_of(unit)``, the week grid, and a
    marker line on ``marker``."""
    rows = [
        Row(
            top + k * row_height,
            str(unit["unit_id"]),
            str(unit["kind"]),
            int(unit["capacity"]),
            [b for b in [*scale.closed(unit), *bars_of(unit)] if b is not None],
            "" if _missing(unit.get("group")) else str(unit["group"]),
        )
        for k, unit in enumerate(units.sort_values("unit_id").to_dict(orient="records"))
    ]
    ticks = week_ticks(scale.first, scale.last, scale.x_of)
    height = top + max(1, len(rows)) * row_height + 6
    return Timeline(
        width,
        height,
        scale.left,
        top,
        row_height,
        scale.day_width,
        scale.first,
        scale.last,
        scale.x_of(marker),
        ticks,
        rows,
    )


def timeline(
    units: pd.DataFrame,
    stays: pd.DataFrame,
    households: pd.DataFrame,
    today: dt.date,
    *,
    days_before: int = 14,
    days_after: int = 28,
    turnover_days: int = 0,
    width: float = 960.0,
    left: float = 96.0,
    row_height: float = 20.0,
) -> Timeline:
    """Each unit a row, each stay a bar from its move-in (or planned start) to its exit (or
    expected end); a stay past its expected end runs to today as ``overdue``; turnover days
    follow each stay; days the unit is closed are greyed. A stay in connecting rooms has its
    bars in each of its rooms."""
    scale = DayScale.fitted(today - days_before * DAY, today + days_after * DAY, width, left)
    bar = scale.bar
    sizes = dict(zip(households.household_id, households["size"], strict=False))
    by_unit: dict[str, list[dict[Any, Any]]] = {}
    for record in stays.to_dict(orient="records"):
        for room in rooms_of(record):
            by_unit.setdefault(room, []).append(record)

    def stay_bars(unit: Mapping[Any, Any]) -> list[Bar | None]:
        bars: list[Bar | None] = []
        for st in by_unit.get(str(unit["unit_id"]), []):
            moved, ended = _date(st.get("moved_in")), _date(st.get("actual_end"))
            expected = _date(st["expected_end"])
            start = moved or _date(st["start"])
            assert start is not None and expected is not None
            info = {
                "household_id": str(st["household_id"]),
                "persons": int(sizes.get(st["household_id"], 0)),
                "start": start,
                "end": ended or expected,
                "rooms": combined(st),
            }
            if ended is not None:
                end, kind = ended, "ended"
            elif moved is None:
                end, kind = expected, "planned"
            else:
                end, kind = expected, "occupied"
            bars.append(bar(start, end, kind, **info))
            if ended is None and moved is not None and expected <= today:
                bars.append(bar(expected, today + DAY, "overdue", **info))
                end = today + DAY
            if turnover_days > 0:
                bars.append(bar(end, end + turnover_days * DAY, "turnover"))
        return bars

    return units_timeline(scale, units, stay_bars, today, width=width, row_height=row_height)


def week_ticks(first: dt.date, last: dt.date, x_of: Callable[[dt.date], float]) -> list:
    """A tick at each Monday from ``first`` to ``last``: (x, day), the timelines' week grid."""
    monday = first + ((7 - first.weekday()) % 7) * DAY
    ticks = []
    while monday <= last:
        ticks.append((x_of(monday), monday))
        monday += 7 * DAY
    return ticks


# --- weekly charts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    key: str  # the column, which names the CSS class as well
    points: list[tuple[float, float, float]]  # x, y, the value
    bars: list[tuple[float, float, float, float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Chart:
    width: float
    height: float
    left: float
    top: float
    plot_width: float
    plot_height: float
    y_ticks: list[tuple[float, float]]  # y, value
    x_ticks: list[tuple[float, dt.date]]
    series: list[Series]
    weeks: list[dt.date]
    share: bool = False  # values are shares: the axis shows percentages

    @property
    def polyline(self) -> dict[str, str]:
        return {s.key: " ".join(f"{x:.1f},{y:.1f}" for x, y, _v in s.points) for s in self.series}


def weekly_chart(
    history: pd.DataFrame,
    columns: Sequence[str],
    *,
    stacked: bool = False,
    share: bool = False,
    width: float = 640.0,
    height: float = 220.0,
) -> Chart:
    """Lines (or stacked bars) of ``columns`` of `Ledger.history` against its weeks."""
    left, top, right, bottom = 56.0, 12.0, 12.0, 30.0
    plot_w, plot_h = width - left - right, height - top - bottom
    weeks = [_date(w) for w in history["week"]]
    n = max(1, len(weeks))
    values = {c: [float(v) if pd.notna(v) else 0.0 for v in history[c]] for c in columns}
    high = max(
        (sum(vs) for vs in zip(*values.values(), strict=False))
        if stacked
        else (v for vs in values.values() for v in vs),
        default=0.0,
    )
    whole = not share and all(v == int(v) for vs in values.values() for v in vs)
    ticks = nice_ticks(min(high, 1.0) if share and high <= 1 else high, whole=whole)
    scale_top = ticks[-1] or 1.0
    step = plot_w / n

    def y_of(v: float) -> float:
        return top + plot_h - plot_h * v / scale_top

    series = []
    base = [0.0] * n
    for c in columns:
        points, bars = [], []
        for k, v in enumerate(values[c]):
            x = left + step * (k + 0.5)
            points.append((x, y_of(v), v))
            if stacked:
                y0, y1 = y_of(base[k] + v), y_of(base[k])
                bars.append((left + step * k + step * 0.1, y0, step * 0.8, y1 - y0, v))
                base[k] += v
        series.append(Series(c, points, bars))
    every = max(1, math.ceil(n / 8))
    x_ticks = [(left + step * (k + 0.5), w) for k, w in enumerate(weeks) if k % every == 0 and w]
    return Chart(
        width,
        height,
        left,
        top,
        plot_w,
        plot_h,
        [(y_of(t), t) for t in ticks],
        x_ticks,
        series,
        [w for w in weeks if w is not None],
        share,
    )
