"""Hypothesis strategies that turn valid input files into odd ones: the fuzzing layer's inputs.

A case starts from a valid table (the demo's, or three smaller ones from `allocator.examples`,
one with half its households giving an exit date) and applies one or two mutations to it (`settings_files` does the same for policy and scenario
files):

* a cell: another column's value (a date for a size), empty, spaces or quotes around it, NaN,
  infinity, a huge or negative number, a date in another format or far out of range, a boolean
  spelt otherwise, a very long string, control characters, a formula;
* the table's shape: duplicated rows, ids or headers, a missing or an unknown column, rows too
  short or too long, blank rows, no header, no rows, many more rows;
* the text or the bytes: BOM, UTF-16 or Latin-1, semicolons or tabs, CRLF, quoting, an
  unterminated quote, a truncated file, binary junk, another format's bytes.

Every mutation leaves a label, so a failure says what was done. What the program must refuse
whatever else was done (a duplicate id, header or key) is worked out from the final content.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

START = dt.date(2026, 12, 7)  # the demo's plan start
KINDS = ("households", "units", "stays")

# --- odd values ------------------------------------------------------------------------------

NUMBER_TEXTS = [
    "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e308", "1e309", "-1", "0", "-0", "0.5",
    "2.5", "2.0", "1,5", "1.000,5", "1e3", "+3", "3 ", "0x1F", "1_000", "\u0663", "\uff13",
    "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1" + "0" * 30,
    "1e18", "4294967296", "2147483648", "3-4", "30", "31", "3650", "3651",
]  # fmt: skip
DATE_TEXTS = [
    "07/12/2026", "12/07/2026", "2026/12/07", "7 Dec 2026", "20261207", "2026-12-07T00:00:00",
    "2026-12-07 00:00:00", "2026-12-07T10:30", "2026-12-07Z", "2026-12-07+01:00", "46363",
    "46363.5", "0", "86400", "1796601600", "0001-01-01", "9999-12-31", "2026-02-30",
    "2026-13-01", " 2026-12-07 ", "2026-12-7", "1900-01-01", "2100-01-01", "26-12-07",
    "2026-W50", "\u0662\u0660\u0662\u0666-12-07", "yesterday", "2026-12-07 2026-12-08",
]  # fmt: skip
BOOL_TEXTS = ["true", "false", "TRUE", "True", "yes", "no", "1", "0", "y", "n", "on", "off",
              "vero", "2", "-1", "t", " true", "1.0", "sì", "SI", "s\u00ec ", "si\u0300",
              "FALSO", "No", "s", "forse"]  # fmt: skip
# how a planner's spreadsheet writes a valid value (issue #19): read as the canonical one
SPREADSHEET_BOOLS = ["Sì", "no", "VERO", "falso", "TRUE", "0"]
ENUM_TEXTS = {  # two valid spellings first, then odd ones (any case is valid since issue #19)
    "support": ["low", "high", "LOW", "Low", " low", "medio", "medium\u200b", "high ", "none"],
    "kind": ["flat", "hub_room", "hub room", "Hub_Room", "flat ", "FLAT", "appartamento", "0"],
    "exit_pathway": [
        "family",
        "other",
        "Public_Housing",
        "public housing",
        "private ",
        "none",
        "unknown",
        "7",
    ],
}
TEXTS = [
    "", " ", "   ", '"', "'", '"quoted"', "a,b", "a;b", "a\tb", "a\nb", "a\r\nb", "\x00",
    "\x1b[31m", "=SUM(A1:A2)", "=1/0", "#N/A", "#VALUE!", "NULL", "None", "nan", "N/A", "-",
    "\u00e9", "fran\u00e7ais", "\u200b", "\ufeff", "\U0001f3e0", "\u05e9\u05dc\u05d5\u05dd",
    "x" * 40, "x" * 41, "x" * 64, "x" * 65, "x" * 10_000, "x" * 200_000,
    "../../etc/passwd", "%s%n", "<script>", "\\", "H/1", "H 1",
]  # fmt: skip
ID_TEXTS = ["NEW1", "n-2.b:3", "H 1", "h00000", "H/1", "H1;", "\U0001f3e0", " H00000", "H00000 ", "S00000",
            "U00000", "x" * 64, "x" * 65, "0", "-", ".", "H\u00e9"]  # fmt: skip

DATE_COLS = {"need_date", "expected_exit_date", "available_from", "available_until", "start",
             "expected_end"}  # fmt: skip
INT_COLS = {"size", "minors", "urgency", "expected_stay_days", "capacity"}
FLOAT_COLS = {"nightly_cost"}
BOOL_COLS = {"accessible"}
ID_COLS = {"household_id", "unit_id"}


def _date_texts() -> st.SearchStrategy[str]:
    days = st.integers(-400, 800).map(lambda d: START + dt.timedelta(days=d))
    near = days.map(dt.date.isoformat)
    return st.one_of(
        near,  # valid, mostly: the run gets past reading and planning starts
        near,
        days.map(_day_first),  # valid when the column shows its order (issue #19)
        st.sampled_from(DATE_TEXTS),
        st.dates().map(dt.date.isoformat),
        st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
    )


def _day_first(day: dt.date) -> str:
    """A date as an Italian spreadsheet writes it: dd/mm/yyyy, or d/m/yyyy."""
    return f"{day:%d/%m/%Y}" if day.toordinal() % 3 else f"{day.day}/{day.month}/{day.year}"


def _number_texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(0, 40).map(str),  # valid, mostly
        st.integers(0, 40).map(str),
        st.sampled_from(NUMBER_TEXTS),
        st.integers(-(2**70), 2**70).map(str),
        st.floats().map(repr),
    )


def cell_texts(column: str) -> st.SearchStrategy[str]:
    """Odd text for a cell of ``column``: values of its own type mostly, any odd text sometimes."""
    own: list[st.SearchStrategy[str]] = []
    if column in DATE_COLS:
        own.append(_date_texts())
    if column in INT_COLS | FLOAT_COLS:
        own.append(_number_texts())
    if column in BOOL_COLS:
        own.append(st.sampled_from(BOOL_TEXTS))
    if column in ENUM_TEXTS:
        own.append(st.sampled_from(ENUM_TEXTS[column]))
    if column in ID_COLS:
        own.append(st.sampled_from(ID_TEXTS))
    anything = st.one_of(st.sampled_from(TEXTS), st.text(max_size=12))
    return st.one_of(*own, *own, anything) if own else anything


def mild_texts(column: str) -> st.SearchStrategy[str]:
    """A plausible value for a cell of ``column``: the kind of change after which a table is
    often still valid, so that the engine, not only the reader, meets odd input."""
    if column in DATE_COLS:
        days = st.integers(-60, 200).map(lambda d: START + dt.timedelta(days=d))
        return st.one_of(days.map(dt.date.isoformat), days.map(dt.date.isoformat),
                         days.map(_day_first))  # fmt: skip
    if column in INT_COLS:
        return st.integers(0, 12).map(str)
    if column in FLOAT_COLS:
        return st.sampled_from(["0", "12.5", "40", "1e3", ""])
    if column in BOOL_COLS:
        return st.sampled_from(["true", "false", "", *SPREADSHEET_BOOLS])
    if column in ENUM_TEXTS:
        first = ENUM_TEXTS[column][:2]
        return st.sampled_from([*first, "", first[0].upper(), f" {first[1].title()}"])
    return st.sampled_from(["", "arabic", "NEW1"])


FORMULA = "=A1+1"  # a formula cell: written without a cached value, as some tools save it


def cell_values(column: str) -> st.SearchStrategy[Any]:
    """Odd typed values for an Excel cell of ``column`` (ints, floats, dates, times, formulas)."""
    return st.one_of(
        cell_texts(column),
        st.integers(-(2**70), 2**70),
        st.sampled_from([0, -1, 1, 2, 3, 5, 30, 31, 3650, 3651, True, False]),
        st.sampled_from([math.nan, math.inf, -math.inf, 2.5, -0.0, 1e300, 3.0, 1e-300]),
        st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31)),
        st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(9999, 12, 31)),
        st.sampled_from([dt.date(1900, 1, 1), dt.datetime(1899, 12, 31), dt.time(10, 30)]),
        st.integers(-30, 300).map(lambda d: dt.datetime.combine(START, dt.time(9, 30)) + dt.timedelta(days=d)),
        st.just(FORMULA),
    )  # fmt: skip


# --- the valid tables we start from ----------------------------------------------------------

# "mixed": half the households give an expected_exit_date instead of expected_stay_days (#19)
BASES = ("demo", "small-1", "small-2", "mixed-3")


@functools.cache
def base_frames(base: str) -> dict[str, Any]:
    from allocator.examples import demo, generate

    if base == "demo":
        return dict(zip(KINDS, demo(), strict=True))
    n, share = int(base[-1]), 0.5 if base.startswith("mixed") else 0.0
    return dict(zip(KINDS, generate(8 + 4 * n, 6, seed=n, exit_dated_share=share), strict=True))


@functools.cache
def _base_text(base: str, kind: str) -> str:
    """The table as the app writes it (`allocator.io.write_table`), as text."""
    import tempfile

    from allocator.io import write_table

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{kind}.csv"
        write_table(base_frames(base)[kind], path)
        return path.read_text(encoding="utf-8")


def base_grid(base: str, kind: str, typed: bool) -> list[list[Any]]:
    """The table as rows of cells, header first: text as the CSV holds it, or typed values."""
    if not typed:
        return [list(r) for r in csv.reader(io.StringIO(_base_text(base, kind)))]
    frame = base_frames(base)[kind]
    rows = [[_native(v) for v in row] for row in frame.itertuples(index=False)]
    return [list(frame.columns), *rows]


def _native(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


# --- mutating a table ------------------------------------------------------------------------


@dataclass
class Table:
    """One table's cells after mutations, how it is to be written, and what was done."""

    kind: str
    grid: list[list[Any]]
    typed: bool
    labels: list[str] = field(default_factory=list)
    lossy: bool = False  # truncated, junk added, replaced: the grid no longer says what is read
    dayfirst: bool = False  # the run says its dd/mm/yyyy dates are day first (--dayfirst)
    mild: bool = False  # only changes after which the table may well stay valid
    text_ops: list[tuple[str, Any]] = field(default_factory=list)
    byte_ops: list[tuple[str, Any]] = field(default_factory=list)
    fmt: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # what a failure report shows: the mutations, not every cell
        return f"Table({self.kind!r}, {len(self.grid)} rows, labels={self.labels!r})"

    def must_reject(self) -> list[str]:
        """What in the final cells the program must refuse, whatever else it accepts."""
        if self.lossy or not self.grid:
            return []
        header = [_key(c) for c in self.grid[0]]
        named = [c for c in header if c]
        reasons = []
        if len(named) != len(set(named)):
            reasons.append("a duplicate column")
        key = {"households": "household_id", "units": "unit_id"}.get(self.kind)
        if key in header:
            k = header.index(key)
            ids = [_key(r[k]) for r in self.grid[1:] if len(r) > k and any(_key(c) for c in r)]
            ids = [i for i in ids if i]
            if len(ids) != len(set(ids)):
                reasons.append(f"a duplicate {key}")
        for row in self.grid[1:]:
            if not any(_key(c) for c in row):
                continue  # a blank row is skipped
            for name, cell in zip(header, row, strict=False):
                why = _out_of_range(name, cell)
                if why:
                    reasons.append(f"{name} {why}")
        table = _from_header(self.grid)  # the reader skips blank rows above the header
        if self.kind == "households" and table:
            reasons += _stay_clocks(table)
        if table and not self.dayfirst:
            reasons += [f"{name} {why}" for name, why in _unread_slashed_dates(table)]
        return reasons


# issue #23: every number is finite and in a range the engine handles, every date in a window
# around the plan's start (the code states the exact bounds; these are far outside any of them)
FAR_DAYS = 20 * 366
HUGE = 1e15


STAY_CLOCK = ("expected_stay_days", "expected_exit_date")  # exactly one per household row


def _windowed(column: str) -> bool:
    """Whether the program holds ``column``'s dates to the window around the plan's start."""
    from allocator.rules import DATE_FIELDS

    return any(column in fields for fields in DATE_FIELDS.values())


def _out_of_range(column: str, cell: Any) -> str | None:
    if column in DATE_COLS:
        far = _windowed(column)
        if isinstance(cell, dt.datetime):
            cell = cell.date()
        if isinstance(cell, dt.date):
            return (
                f"{cell} far from the plan start"
                if far and abs((cell - START).days) > FAR_DAYS
                else None
            )
        text = _key(cell)
        if re.fullmatch(r"\d+(\.\d+)?", text) and len(text) != 8:
            return f"{text!r}, a number (an Excel serial or a timestamp), not a date"
        try:
            day = dt.date.fromisoformat(text[:10])
        except ValueError:
            day = _slashed(text)[0] if _slashed(text) else None  # read day first, if at all
        if day is None or not far:
            return None
        return f"{day} far from the plan start" if abs((day - START).days) > FAR_DAYS else None
    if column in INT_COLS | FLOAT_COLS and not isinstance(cell, bool):
        try:
            value = float(cell) if not isinstance(cell, str) else float(cell.strip())
        except (TypeError, ValueError, OverflowError):
            return None
        if not math.isfinite(value):
            return f"{cell!r}, not a finite number"
        if abs(value) > HUGE:
            return f"{cell!r}, a number far out of range"
    return None


def _slashed(text: str) -> tuple[dt.date | None, dt.date | None] | None:
    """A dd/mm/yyyy text read day first and month first (None where no date), or None."""
    found = re.fullmatch(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})", text)
    if found is None:
        return None
    a, b, year = (int(g) for g in found.groups())
    readings = []
    for month, day in ((b, a), (a, b)):
        try:
            readings.append(dt.date(year, month, day))
        except ValueError:
            readings.append(None)
    return readings[0], readings[1]


def _from_header(grid: list[list[Any]]) -> list[list[Any]]:
    """The grid from its first row that is not blank (the header the reader takes)."""
    start = next((k for k, r in enumerate(grid) if any(_key(c) for c in r)), len(grid))
    return grid[start:]


def _stay_clocks(table: list[list[Any]]) -> list[str]:
    """A household row with both or neither of the stay clocks (issue #19)."""
    header = [_key(c) for c in table[0]]
    if len(header) != len(set(header)):
        return []  # a repeated column: refused as such
    reasons = []
    for row in table[1:]:
        if not any(_key(c) for c in row):
            continue
        given = [c in header and header.index(c) < len(row) and _key(row[header.index(c)]) != ""
                 for c in STAY_CLOCK]  # fmt: skip
        if all(given) or not any(given):
            reasons.append(f"{'both' if all(given) else 'neither'} of {', '.join(STAY_CLOCK)}")
    return reasons


def _unread_slashed_dates(grid: list[list[Any]]) -> list[tuple[str, str]]:
    """Date columns whose slashed dates do not show their order: no date that reads only day
    first, and one that reads only month first or differently both ways (issue #19)."""
    header = [_key(c) for c in grid[0]]
    out = []
    for k, name in enumerate(header):
        if name not in DATE_COLS or header.count(name) > 1:
            continue
        cells = [row[k] for row in grid[1:] if len(row) > k and any(_key(c) for c in row)]
        both = [_slashed(_key(c)) for c in cells if isinstance(c, str)]
        both = [(dm, md) for dm, md in filter(None, both) if dm or md]
        if any(dm and not md for dm, md in both):
            continue  # a day above 12: the column is day first
        if any(md and (not dm or dm != md) for dm, md in both):
            out.append((name, "dd/mm/yyyy dates that could be month first"))
    return out


def _key(cell: Any) -> str:
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return ""  # a NaN cell is written as an empty one, in CSV and in Excel
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip()


def _data_cell(draw, grid) -> tuple[int, int]:
    r = draw(st.integers(1, len(grid) - 1))
    c = draw(st.integers(0, max(len(grid[r]), 1) - 1))
    while len(grid[r]) <= c:
        grid[r].append("")
    return r, c


def _column_name(grid, c) -> str:
    return str(grid[0][c]) if grid and c < len(grid[0]) else ""


def _op_cell(draw, t: Table, others) -> str:
    r, c = _data_cell(draw, t.grid)
    col = _column_name(t.grid, c)
    values = mild_texts(col) if t.mild else cell_values(col) if t.typed else cell_texts(col)
    value = draw(values)
    t.grid[r][c] = value
    return f"cell {col}={_short(value)}"


def _op_swap_type(draw, t: Table, others) -> str:
    r, c = _data_cell(draw, t.grid)
    c2 = draw(st.integers(0, len(t.grid[r]) - 1))
    t.grid[r][c] = t.grid[r][c2]
    return f"cell {_column_name(t.grid, c)} <- {_column_name(t.grid, c2)}'s value"


def _op_empty(draw, t: Table, others) -> str:
    r, c = _data_cell(draw, t.grid)
    t.grid[r][c] = draw(st.sampled_from([None, "", " "])) if t.typed else ""
    return f"cell {_column_name(t.grid, c)} emptied"


def _op_pad(draw, t: Table, others) -> str:
    r, c = _data_cell(draw, t.grid)
    pad = draw(st.sampled_from([" ", "  ", "\t", "\u00a0", "\u3000", " \n"]))
    where = draw(st.sampled_from(["before", "after", "both"]))
    text = _key(t.grid[r][c]) if t.grid[r][c] is not None else ""
    text = pad + text if where == "before" else text + pad if where == "after" else pad + text + pad
    t.grid[r][c] = text
    return f"cell {_column_name(t.grid, c)} padded {where} with {pad!r}"


def _op_quote(draw, t: Table, others) -> str:
    r, c = _data_cell(draw, t.grid)
    q = draw(st.sampled_from(['"{}"', "'{}'", '"{}', '{}"', '""{}""', "\u201c{}\u201d"]))
    t.grid[r][c] = q.format(_key(t.grid[r][c]))
    return f"cell {_column_name(t.grid, c)} quoted as {q}"


def _op_long_string(draw, t: Table, others) -> str:
    r, c = _data_cell(draw, t.grid)
    n = draw(st.sampled_from([41, 65, 1_000, 40_000, 200_000]))
    t.grid[r][c] = draw(st.sampled_from(["x", "9", "\u00e9", "1-"])) * n
    return f"cell {_column_name(t.grid, c)} a string of {n}"


def _op_dup_row(draw, t: Table, others) -> str:
    r = draw(st.integers(1, len(t.grid) - 1))
    at = draw(st.integers(1, len(t.grid)))
    t.grid.insert(at, list(t.grid[r]))
    return "row duplicated"


def _op_dup_id(draw, t: Table, others) -> str:
    if len(t.grid) < 3:
        return _op_dup_row(draw, t, others)
    a, b = draw(st.lists(st.integers(1, len(t.grid) - 1), min_size=2, max_size=2, unique=True))
    if not t.grid[a] or not t.grid[b]:  # an earlier mutation emptied one of the rows
        return _op_dup_row(draw, t, others)
    t.grid[b][0] = t.grid[a][0]
    return "id of one row given to another"


def _op_foreign_id(draw, t: Table, others) -> str:
    """An id from another table: a stay's household in the households table, and so on."""
    r, c = _data_cell(draw, t.grid)
    col = _column_name(t.grid, c)
    pool = [row[k] for g in others.values() for row in g[1:] for k, h in enumerate(g[0])
            if h in ID_COLS and k < len(row)]  # fmt: skip
    if not pool:
        return "no foreign id"
    t.grid[r][c] = draw(st.sampled_from(pool))
    return f"cell {col} <- an id from another table"


def _op_dup_header(draw, t: Table, others) -> str:
    c = draw(st.integers(0, len(t.grid[0]) - 1))
    same = draw(st.booleans())
    for row in t.grid:
        while len(row) <= c:
            row.append("")
    for k, row in enumerate(t.grid):
        row.append(row[c] if (k == 0 or same) else "")
    return f"column {_column_name(t.grid, c)} repeated"


def _op_drop_col(draw, t: Table, others) -> str:
    c = draw(st.integers(0, len(t.grid[0]) - 1))
    name = _column_name(t.grid, c)
    for row in t.grid:
        if c < len(row):
            del row[c]
    return f"column {name} removed"


def _op_extra_col(draw, t: Table, others) -> str:
    name = draw(st.sampled_from(["notes", "Size", " size ", "household_id ", "", "", "unit id",
                                 "\ufeffnotes", "minors"]))  # fmt: skip
    filled = draw(st.booleans())
    for k, row in enumerate(t.grid):
        row.append(name if k == 0 else ("x" if filled else ""))
    return f"column {name!r} added{' with data' if filled else ''}"


def _op_rename_header(draw, t: Table, others) -> str:
    c = draw(st.integers(0, len(t.grid[0]) - 1))
    old = str(t.grid[0][c])
    how = draw(st.sampled_from(["upper", "title", "space", "typo", "bom", "quoted"]))
    new = {
        "upper": old.upper(),
        "title": old.title(),
        "space": f" {old} ",
        "typo": old[:-1],
        "bom": "\ufeff" + old,
        "quoted": f"'{old}'",
    }[how]
    t.grid[0][c] = new
    return f"header {old} -> {new!r}"


def _op_short_row(draw, t: Table, others) -> str:
    r = draw(st.integers(1, len(t.grid) - 1))
    keep = draw(st.integers(0, max(len(t.grid[r]) - 1, 0)))
    t.grid[r] = t.grid[r][:keep]
    return f"row cut to {keep} cells"


def _op_long_row(draw, t: Table, others) -> str:
    r = draw(st.integers(1, len(t.grid) - 1))
    extra = draw(st.sampled_from([[""], ["x"], ["", "", "1"], [" "]]))
    t.grid[r] = [*t.grid[r], *extra]
    return f"row given {len(extra)} more cells"


def _op_blank_rows(draw, t: Table, others) -> str:
    at = draw(st.integers(0, len(t.grid)))
    blank = draw(st.sampled_from([[], [""], [" "], [""] * len(t.grid[0]), ["\t"]]))
    t.grid.insert(at, list(blank))
    return f"blank row {blank!r} at {at}"


def _op_drop_rows(draw, t: Table, others) -> str:
    if draw(st.booleans()):
        del t.grid[1:]
        return "all rows removed"
    r = draw(st.integers(1, len(t.grid) - 1))
    del t.grid[r]
    return "a row removed"


def _op_no_header(draw, t: Table, others) -> str:
    del t.grid[0]
    if not t.grid:
        t.grid.append([])
    return "header removed"


def _op_grow(draw, t: Table, others) -> str:
    if t.kind == "stays":  # copies would share units and dates: that is `dup_row`
        return _op_dup_row(draw, t, others)
    k = draw(st.integers(2, 4))
    header, rows = t.grid[0], t.grid[1:]
    grown = [list(r) for r in rows]
    for j in range(1, k):
        for r in rows:
            copy_ = list(r)
            if copy_:
                copy_[0] = f"{_key(copy_[0])}-r{j}"
            grown.append(copy_)
    t.grid[:] = [header, *grown]
    return f"rows x{k}"


def _op_shuffle_cols(draw, t: Table, others) -> str:
    order = draw(st.permutations(range(len(t.grid[0]))))
    t.grid[:] = [[row[k] if k < len(row) else "" for k in order] for row in t.grid]
    return "columns reordered"


GRID_OPS = [
    _op_cell, _op_cell, _op_cell, _op_cell, _op_pad, _op_blank_rows, _op_grow, _op_shuffle_cols,
    _op_empty, _op_swap_type, _op_quote, _op_long_string, _op_dup_row, _op_dup_id,
    _op_foreign_id, _op_dup_header, _op_drop_col, _op_extra_col, _op_rename_header,
    _op_short_row, _op_long_row, _op_drop_rows, _op_no_header,
]  # fmt: skip
MILD_OPS = [_op_cell, _op_cell, _op_cell, _op_pad, _op_blank_rows, _op_grow, _op_shuffle_cols]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}...({len(text)} chars)"


@st.composite
def tables(draw, kind: str, typed: bool, base: str | None = None, mutate: bool = True) -> Table:
    """A table of ``kind`` from a valid base, with one to three mutations (or none)."""
    base = base or draw(st.sampled_from(BASES))
    grid = base_grid(base, kind, typed)
    t = Table(kind, grid, typed, labels=[f"{base} {kind}"])
    if not mutate:
        return t
    t.mild = draw(st.integers(0, 9)) < 4
    if t.mild:
        t.labels.append("mild")
    others = {k: base_grid(base, k, False) for k in KINDS if k != kind}
    for _ in range(draw(st.integers(1, 2))):
        if len(t.grid) < 2:  # nothing left to change cells of: add a blank row to work on
            t.grid.append([""] * len(t.grid[0] if t.grid else []))
        if not t.grid[0]:
            t.grid[0] = [""]
        op = draw(st.sampled_from(MILD_OPS if t.mild else GRID_OPS))
        t.labels.append(op(draw, t, others))
    return t


# --- writing a table as CSV ------------------------------------------------------------------

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cp1252"]


@st.composite
def csv_layouts(draw, t: Table) -> Table:
    """How the table is written: separator, line ends, quoting, encoding, then text and byte
    damage; the common case (comma, LF, UTF-8) keeps the highest weight."""
    if t.mild:  # a separator, line ends and quoting that Excel or LibreOffice may write
        if draw(st.booleans()):
            t.fmt = {
                "delimiter": draw(st.sampled_from([",", ";", "\t"])),
                "newline": draw(st.sampled_from(["\n", "\r\n"])),
                "quote_all": draw(st.booleans()),
                "encoding": draw(st.sampled_from(["utf-8", "utf-8-sig"])),
            }
            t.labels.append("csv " + ", ".join(f"{k}={v!r}" for k, v in t.fmt.items()))
        return t
    if draw(st.integers(0, 9)) < 3:
        t.fmt = {
            "delimiter": draw(st.sampled_from([",", ",", ";", ";", "\t", "|", " "])),
            "newline": draw(st.sampled_from(["\n", "\r\n", "\r"])),
            "quote_all": draw(st.booleans()),
            "encoding": draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", *ENCODINGS])),
            "final_newline": draw(st.booleans()),
        }
        t.labels.append("csv " + ", ".join(f"{k}={v!r}" for k, v in t.fmt.items()))
    if draw(st.integers(0, 19)) < 3:
        op = draw(st.sampled_from(TEXT_OPS))
        arg = draw(st.floats(0, 1))
        t.text_ops.append((op, arg))
        t.labels.append(f"text {op} at {arg:.2f}")
        t.lossy = True
    if draw(st.integers(0, 19)) < 2:
        t.byte_ops.append(draw(byte_ops()))
        t.labels.append(f"bytes {t.byte_ops[-1][0]}")
        t.lossy = True
    return t


TEXT_OPS = [
    "unterminated_quote", "stray_quote", "nul", "bom_inside", "truncate", "mixed_delimiter",
    "blank_lines", "cr_inside",
]  # fmt: skip


@st.composite
def byte_ops(draw) -> tuple[str, Any]:
    op = draw(st.sampled_from(["truncate", "junk_append", "junk_insert", "replace"]))
    if op == "replace":
        return op, draw(st.sampled_from(list(JUNK_FILES)))
    if op == "truncate":
        return op, draw(st.floats(0, 1))
    return op, (draw(st.floats(0, 1)), draw(st.binary(min_size=1, max_size=64)))


JUNK_FILES = {
    "empty": b"",
    "newlines": b"\n\n\r\n",
    "spaces": b"   \t  ",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(64)),
    "zip": b"PK\x03\x04" + bytes(40),
    "nul": b"\x00" * 100,
    "gzip": b"\x1f\x8b\x08\x00" + bytes(30),
    "utf16_bom_only": b"\xff\xfe",
    "html": b"<html><body><table><tr><td>household_id</td></tr></table></body></html>",
}


def _text_op(text: str, op: str, where: float) -> str:
    lines = text.split("\n")
    k = min(int(where * len(lines)), len(lines) - 1)
    line = lines[k]
    pos = min(int(where * len(text)), len(text))
    if op == "unterminated_quote":  # a quote opening a field that never closes
        cut = line.find(",")
        lines[k] = '"' + line if cut < 0 else line[: cut + 1] + '"' + line[cut + 1 :]
        return "\n".join(lines)
    if op == "stray_quote":
        return text[:pos] + '"' + text[pos:]
    if op == "nul":
        return text[:pos] + "\x00" + text[pos:]
    if op == "bom_inside":
        return text[:pos] + "\ufeff" + text[pos:]
    if op == "truncate":
        return text[:pos]
    if op == "mixed_delimiter":
        lines[k] = line.replace(",", ";", 1)
        return "\n".join(lines)
    if op == "blank_lines":
        return "\n".join([*lines[:k], "", " ", *lines[k:]])
    if op == "cr_inside":
        return text[:pos] + "\r" + text[pos:]
    raise ValueError(op)


def _byte_op(data: bytes, op: tuple[str, Any]) -> bytes:
    name, arg = op
    if name == "replace":
        return JUNK_FILES[arg]
    if name == "truncate":
        return data[: int(arg * len(data))]
    where, junk = arg
    if name == "junk_append":
        return data + junk
    pos = int(where * len(data))
    return data[:pos] + junk + data[pos:]


def render_csv(t: Table) -> bytes:
    fmt = {"delimiter": ",", "newline": "\n", "quote_all": False, "encoding": "utf-8",
           "final_newline": True, **t.fmt}  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(
        out,
        delimiter=fmt["delimiter"],
        lineterminator=fmt["newline"],
        quoting=csv.QUOTE_ALL if fmt["quote_all"] else csv.QUOTE_MINIMAL,
    )
    for row in t.grid:
        writer.writerow(
            ["" if c is None else _key(c) if not isinstance(c, str) else c for c in row]
        )
    text = out.getvalue()
    if not fmt["final_newline"]:
        text = text.removesuffix(fmt["newline"])
    for op, where in t.text_ops:
        text = _text_op(text, op, where)
    data = text.encode(fmt["encoding"], errors="replace")
    for op in t.byte_ops:
        data = _byte_op(data, op)
    return data


# --- writing a table as XLSX -----------------------------------------------------------------

SHEET_LAYOUTS = ["plain", "plain", "named_second", "upper_name", "data_second", "offset", "hidden"]


@st.composite
def xlsx_layouts(draw, t: Table) -> Table:
    """Where the cells go in the workbook (sheet, offset), then byte damage sometimes."""
    t.fmt = {"layout": draw(st.sampled_from(SHEET_LAYOUTS))}
    if t.fmt["layout"] != "plain":
        t.labels.append(f"xlsx layout {t.fmt['layout']}")
    if not t.mild and draw(st.integers(0, 19)) < 3:
        op = draw(byte_ops())
        if op[0] == "replace" and draw(st.booleans()):
            op = ("replace_csv", None)  # the table's CSV text saved under .xlsx
        t.byte_ops.append(op)
        t.labels.append(f"bytes {op[0]}")
        t.lossy = True
    return t


_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, str):
        return _ILLEGAL.sub("?", value)  # Excel cannot hold control characters: none get there
    return value


def render_xlsx(t: Table) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    layout = t.fmt.get("layout", "plain")
    sheet = first
    if layout == "named_second":
        first.title = "notes"
        first["A1"] = "this sheet is not the table"
        sheet = book.create_sheet(t.kind)
    elif layout == "upper_name":
        first.title = t.kind.upper()
    elif layout == "data_second":
        first.title = "cover"
        sheet = book.create_sheet("data")
    elif layout == "hidden":
        first.sheet_state = "visible"
        sheet.title = "Foglio1"
    row0, col0 = (3, 2) if layout == "offset" else (1, 1)
    for r, row in enumerate(t.grid):
        for c, value in enumerate(row):
            if value is not None and value != "":
                sheet.cell(row=row0 + r, column=col0 + c, value=_xlsx_value(value))
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    for op in t.byte_ops:
        if op[0] == "replace_csv":
            data = render_csv(Table(t.kind, t.grid, False))
        else:
            data = _byte_op(data, op)
    return data
