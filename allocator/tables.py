"""Validation of the three input tables, whatever they came from (DataFrame, list of models, file).

Each table goes through its pydantic record type row by row, so the rules live in one place
(`allocator.domain`); this module adds what a single row cannot see: the header, duplicate ids,
references between tables and overlapping stays. The first problem found raises an `InputError`
that names the source, the row and the column.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeAlias, cast, get_args

import numpy as np
import pandas as pd
from pydantic import BaseModel, TypeAdapter, ValidationError

from allocator.domain import RECORD_TYPES, Household, Stay, Unit
from allocator.errors import _N, DATE_PROBLEMS, InputError, Message, pydantic_message
from allocator.limits import with_range
from allocator.rules import broken_rule, check_fit, check_record_dates, overlap_rule, overlaps

TableLike: TypeAlias = pd.DataFrame | Sequence[BaseModel] | Sequence[dict] | None


@dataclass(frozen=True)
class Source:
    """Where a table came from, to word errors: a file gives spreadsheet rows (header = row 1)."""

    name: str
    from_file: bool = False

    def row(self, position: int, label: object) -> int | str:
        return position + 2 if self.from_file else str(label)


def columns_of(kind: str) -> list[str]:
    return list(RECORD_TYPES[kind].model_fields)


def required_columns_of(kind: str) -> list[str]:
    return [n for n, f in RECORD_TYPES[kind].model_fields.items() if f.is_required()]


def _as_frame(table: TableLike) -> pd.DataFrame:
    if table is None:
        return pd.DataFrame()
    if isinstance(table, pd.DataFrame):
        return table
    rows = [r.model_dump() if isinstance(r, BaseModel) else dict(r) for r in table]
    return pd.DataFrame(rows)


def _check_header(frame: pd.DataFrame, kind: str, source: Source) -> None:
    known = columns_of(kind)
    for col in frame.columns:
        if not isinstance(col, str) or col.strip() not in known:
            raise InputError(
                _N("unknown column; expected only these: {columns}"),
                columns=", ".join(known),
                source=source.name,
                row=1 if source.from_file else None,
                column=str(col),
            )
    for col in required_columns_of(kind):
        if col not in frame.columns:
            raise InputError(
                _N("required column is missing"),
                source=source.name,
                row=1 if source.from_file else None,
                column=col,
            )
    if kind == "households" and len(frame) and not {STAY_DAYS, EXIT_DATE} & set(frame.columns):
        raise InputError(
            _N(
                "required column is missing: give {days} (nights from move-in) or {exit} "
                "(the day the exit is expected), one of the two in each row"
            ),
            days=STAY_DAYS,
            exit=EXIT_DATE,
            source=source.name,
            row=1 if source.from_file else None,
            column=STAY_CLOCK,
        )


STAY_DAYS, EXIT_DATE = "expected_stay_days", "expected_exit_date"
STAY_CLOCK = f"{STAY_DAYS}, {EXIT_DATE}"  # the column of an error about the pair


def _blank_to_none(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, float) and pd.isna(value):
        return None
    if isinstance(value, str):  # " 2026-12-07 " is the date: cells are read stripped
        return value.strip() or None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value


def _native(value: object) -> object:
    """A cell of an object or extension column as `DataFrame.to_dict` gives it: numpy scalars as
    Python ones, numpy dates as `pd.Timestamp`, ``pd.NA`` as None."""
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value)
    if isinstance(value, np.timedelta64):  # a subclass of np.integer: checked first
        return pd.Timedelta(value)
    if isinstance(value, np.floating | np.integer | np.bool_):
        return value.item()
    return None if value is pd.NA else value


_KEPT_AS_IS = frozenset({int, bool, dt.date})  # exact types: never blank, never converted


def _object_cell(value: object) -> object:
    """``_blank_to_none(_native(value))``, with a short way for the usual text, dates and ids."""
    kind = type(value)
    if kind is str:
        return cast(str, value).strip() or None
    if kind in _KEPT_AS_IS or value is None:
        return value
    return _blank_to_none(_native(value))


def _cells(column: pd.Series) -> list:
    """A column's cells as `DataFrame.to_dict(orient="records")` gives them, blanks as None.

    Numeric columns skip the per-cell checks: an int or bool is never blank, a float only when
    NaN. That is most of a large table's cells, so validation no longer costs a call per cell.
    """
    dtype = column.dtype
    kind = dtype.kind if isinstance(dtype, np.dtype) else "O"  # extension dtypes: boxed
    if kind in "iub":
        return column.tolist()
    if kind == "f":
        return [None if v != v else v for v in column.tolist()]
    if isinstance(dtype, pd.StringDtype):  # text or missing, nothing else
        text = column.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[call-overload]
        return [v.strip() or None if v is not None else None for v in text]
    if isinstance(dtype, np.dtype) and kind == "O":
        return [_object_cell(v) for v in column.to_numpy().tolist()]
    cells = map(_native, column) if kind == "O" else iter(column)
    return [_blank_to_none(v) for v in cells]


def _raw_records(frame: pd.DataFrame) -> list[dict]:
    """The rows as dicts for pydantic, blank cells left out so that defaults apply."""
    if not frame.columns.is_unique:  # a repeated column: the last one wins, as in `to_dict`
        return [
            {k: v for k, v in ((k, _blank_to_none(v)) for k, v in row.items()) if v is not None}
            for row in frame.to_dict(orient="records")
        ]
    names = list(frame.columns)
    columns = [_cells(frame.iloc[:, k]) for k in range(len(names))]
    rows = zip(*columns, strict=True)
    return [{k: v for k, v in zip(names, row, strict=True) if v is not None} for row in rows]


RECORD_CHECK_COLUMN = {"households": "minors", "units": "available_until", "stays": "expected_end"}


def parse_records(table: TableLike, kind: str, source: Source) -> list[BaseModel]:
    """Validate every row of ``table`` as the record type ``kind`` and return the records."""
    record_type = RECORD_TYPES[kind]
    if isinstance(table, list) and table and all(type(r) is record_type for r in table):
        return list(table)  # frozen models were validated when they were made
    frame = _as_frame(table)
    frame = frame.rename(columns=lambda c: c.strip() if isinstance(c, str) else c)
    if len(frame.columns):
        _check_header(frame, kind, source)
    if frame.empty and kind != "stays":
        raise InputError(_N("the table is empty: at least one row is needed"), source=source.name)
    if frame.empty:
        return []
    record_type = RECORD_TYPES[kind]
    frame = read_day_first_dates(frame, kind, source)
    frame = _respell(frame, kind)
    _refuse_numbers_as_dates(frame, kind, source)
    raw = _raw_records(frame)
    adapter = TypeAdapter(list[record_type])  # type: ignore[valid-type]
    try:
        return adapter.validate_python(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        position = int(err["loc"][0])
        # a check across fields (e.g. end after start) is reported on the later field
        column = str(err["loc"][1]) if len(err["loc"]) > 1 else RECORD_CHECK_COLUMN[kind]
        detail: str = pydantic_message(err)  # a validator's own words for a value_error
        if err["type"] in _DATE_ERRORS:
            problem = str(err.get("ctx", {}).get("error", ""))
            problem = Message(problem) if problem in DATE_PROBLEMS else problem
            detail = Message(_DATE_ERRORS[err["type"]], error=problem)
        detail = with_range(detail, record_type, err)
        if len(err["loc"]) == 1 and kind == "households":
            column, detail = _stay_clock_error(detail, raw[position]) or (column, detail)
        if column in raw[position]:
            detail = Message(
                _N("{detail} (got {value!r})"), detail=detail, value=raw[position][column]
            )
        raise InputError(
            detail,
            source=source.name,
            row=source.row(position, frame.index[position]),
            column=column,
        ) from None


# pydantic's words for a cell that is no date, in the words of the file format
_DATE_ERRORS = {
    "date_from_datetime_parsing": _N("expected a date (YYYY-MM-DD): {error}"),
    "date_from_datetime_inexact": _N("expected a date (YYYY-MM-DD) without a time of day"),
    "date_type": _N("expected a date (YYYY-MM-DD)"),
}
_DATE_FIELDS = {
    kind: [
        n for n, f in t.model_fields.items() if dt.date in (f.annotation, *get_args(f.annotation))
    ]
    for kind, t in RECORD_TYPES.items()
}
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")
EXCEL_EPOCH = dt.date(1899, 12, 30)  # day 0 of Excel's serial dates (1900 system, after March 1900)


def _refuse_numbers_as_dates(frame: pd.DataFrame, kind: str, source: Source) -> None:
    """A number in a date column is refused, naming the cell: pydantic would read 46000 as
    seconds since 1970, and it is mostly an Excel serial date (a cell formatted as a number)."""
    for col in _DATE_FIELDS[kind]:
        if col not in frame.columns or not frame.columns.is_unique:
            continue
        column = frame[col]
        dtype_kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else "O"
        if dtype_kind in "Mm":
            continue
        values = column.tolist()
        for position, value in enumerate(values):
            if isinstance(value, bool) or not _is_number(value):
                continue
            raise InputError(
                _number_as_date(value),
                source=source.name,
                row=source.row(position, frame.index[position]),
                column=col,
            )


def _is_number(value: object) -> bool:
    if isinstance(value, str):
        text = value.strip()
        return bool(text) and _NUMBER.fullmatch(text) is not None
    if isinstance(value, int | np.integer):
        return True
    return isinstance(value, float | np.floating) and value == value  # NaN is a blank cell


def _number_as_date(value: object) -> Message:
    text = value.strip() if isinstance(value, str) else str(value)
    number = float(text)
    if 1 <= number < 2_958_466:  # Excel's serial dates run from 1900-01-01 to 9999-12-31
        day = EXCEL_EPOCH + dt.timedelta(days=int(number))
        return Message(
            _N(
                "expected a date (YYYY-MM-DD), got Excel serial {number} ({day} in Excel): "
                "format the cells as dates or write YYYY-MM-DD"
            ),
            number=text,
            day=day,
        )
    return Message(_N("expected a date (YYYY-MM-DD), got the number {number}"), number=text)


def _stay_clock_error(detail: str, row: dict) -> tuple[str, str] | None:
    """The household validator's words on its stay clock as the column(s) and a fix, or None
    for another check (minors within size)."""
    if detail.startswith("give either"):
        if STAY_DAYS in row:
            return STAY_CLOCK, Message(
                _N(
                    "both {days} ({days_value}) and {exit} ({exit_value}) are given: leave one "
                    "of the two cells empty"
                ),
                days=STAY_DAYS,
                days_value=row[STAY_DAYS],
                exit=EXIT_DATE,
                exit_value=row[EXIT_DATE],
            )
        return STAY_CLOCK, Message(
            _N(
                "both {days} and {exit} are missing: give one, the nights from move-in or the "
                "day the exit is expected"
            ),
            days=STAY_DAYS,
            exit=EXIT_DATE,
        )
    if detail.startswith(EXIT_DATE):
        return EXIT_DATE, detail
    return None


# --- what a spreadsheet writes ---------------------------------------------------------------
# Italian Excel writes VERO/FALSO and dd/mm/yyyy, people type "Low" or "sì": read them, but a
# date whose day and month could be swapped is read only when the column (or the caller) says
# which comes first, never guessed.

# pydantic reads true/false, yes/no, 1/0 (and on/off, t/f, y/n) in any case itself
_BOOL_WORDS = {"si": "true", "sì": "true", "sí": "true", "vero": "true", "falso": "false"}


def _spellings(kind: str) -> dict[str, dict[str, str]]:
    """Each enum or boolean column of ``kind``: its values folded (`_fold`) -> as pydantic reads."""
    out = {}
    for name, f in RECORD_TYPES[kind].model_fields.items():
        types = (f.annotation, *get_args(f.annotation))
        enum = next((t for t in types if isinstance(t, type) and issubclass(t, Enum)), None)
        if enum is not None:
            out[name] = {_fold(m.value): m.value for m in enum}
        elif bool in types:
            out[name] = _BOOL_WORDS
    return out


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip()).casefold()


_SPELLINGS = {kind: _spellings(kind) for kind in RECORD_TYPES}


def _respell(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Enum values in any case ("Low", " HUB_ROOM") and booleans as yes/no, sì/no, vero/falso
    or 1/0 in the spelling the record types read; anything else is left for them to refuse."""
    changed = {}
    for name, words in _SPELLINGS[kind].items():
        if name not in frame.columns or not frame.columns.is_unique:
            continue
        column = frame[name]
        if isinstance(column.dtype, np.dtype) and column.dtype.kind != "O":
            continue  # numbers or booleans: nothing spelt
        values = column.tolist()
        try:  # a column of a few distinct words: each looked up once
            distinct = set(values)
        except TypeError:  # an unhashable cell, which the record type refuses
            continue
        respelt = {v: words.get(_fold(v), v) for v in distinct if isinstance(v, str)}
        respelt = {v: w for v, w in respelt.items() if v != w}
        if respelt:
            spelt = [respelt.get(v, v) if isinstance(v, str) else v for v in values]
            changed[name] = pd.Series(spelt, index=frame.index, dtype=object)
    return frame.assign(**changed) if changed else frame


_SLASH_DATE = re.compile(r"\s*([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})\s*")
_SHORT_YEAR = re.compile(r"\s*[0-9]{1,2}/[0-9]{1,2}/[0-9]{2}\s*")
DAYFIRST_HINT = _N("pass --dayfirst (dayfirst=True in Python)")


def read_day_first_dates(
    frame: pd.DataFrame, kind: str, source: Source, *, dayfirst: bool = False
) -> pd.DataFrame:
    """The table with its dd/mm/yyyy dates as YYYY-MM-DD; other cells as they were.

    Without ``dayfirst``, a column's slashed dates are read only when the column shows their
    order: a day above 12 somewhere, or every date the same either way (03/03/2026). A column
    where 07/12/2026 could be 7 December or 12 July, or that reads only month first, is refused
    naming a row, with the fix. With ``dayfirst`` every slashed date is day/month/year.
    """
    changed = {}
    for name in _DATE_FIELDS[kind]:
        if name not in frame.columns or not frame.columns.is_unique:
            continue
        values = frame[name].tolist()
        found = {}
        for position, value in enumerate(values):
            if isinstance(value, str) and "/" in value:
                read = _both_readings(value, position, name, frame, source, dayfirst)
                if read is not None:
                    found[position] = read
        if found:
            if not dayfirst:
                _check_day_first(found, values, name, frame, source)
            for position, (day_month, _) in found.items():  # day first: checked, or told
                values[position] = cast(dt.date, day_month).isoformat()
            changed[name] = pd.Series(values, index=frame.index, dtype=object)
    return frame.assign(**changed) if changed else frame


def _both_readings(
    text: str, position: int, name: str, frame: pd.DataFrame, source: Source, dayfirst: bool
) -> tuple[dt.date | None, dt.date | None] | None:
    """``text`` read as day/month/year and as month/day/year (None where it is no date)."""
    row = source.row(position, frame.index[position])
    match = _SLASH_DATE.fullmatch(text)
    if match is None:
        if _SHORT_YEAR.fullmatch(text):
            raise InputError(
                _N(
                    "a date with a two-digit year ({text!r}): write the year in full "
                    "(dd/mm/yyyy) or the date as YYYY-MM-DD"
                ),
                text=text.strip(),
                source=source.name,
                row=row,
                column=name,
            )
        return None  # not a slashed date: the record type refuses it in its own words
    a, b, year = (int(g) for g in match.groups())
    readings = _date_or_none(year, b, a), _date_or_none(year, a, b)
    if readings[0] is None and (dayfirst or readings[1] is None):
        how = _N("dd/mm/yyyy (--dayfirst)") if dayfirst else _N("YYYY-MM-DD or dd/mm/yyyy")
        raise InputError(
            _N("expected a date ({how}), got {text!r}: no such day"),
            how=Message(how),
            text=text.strip(),
            source=source.name,
            row=row,
            column=name,
        )
    return readings


def _date_or_none(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _check_day_first(
    found: dict[int, tuple[Any, Any]], values: list, name: str, frame: pd.DataFrame, source: Source
) -> None:
    """A column's slashed dates show they are day/month/year; else refused, never guessed."""
    day_only = [p for p, (dm, md) in found.items() if md is None]
    month_only = [p for p, (dm, md) in found.items() if dm is None]
    if day_only and not month_only:
        return
    if not day_only and not month_only and all(dm == md for dm, md in found.values()):
        return  # 03/03/2026: the same day either way
    if day_only:
        p, q = month_only[0], day_only[0]
        message = Message(
            _N(
                "expected a date as dd/mm/yyyy like the rest of this column (row {row}: "
                "{example}), got {text!r}"
            ),
            row=source.row(q, frame.index[q]),
            example=values[q].strip(),
            text=values[p].strip(),
        )
    elif month_only:
        p = month_only[0]
        message = Message(
            _N(
                "{text!r} reads only as month/day/year, and a date is read as YYYY-MM-DD or "
                "dd/mm/yyyy: write the column's dates as YYYY-MM-DD"
            ),
            text=values[p].strip(),
        )
    else:
        p = next(p for p, (dm, md) in found.items() if dm != md)
        dm, md = found[p]
        message = Message(
            _N(
                "{text!r} could be {day_month} (dd/mm/yyyy) or {month_day} (mm/dd/yyyy), and no "
                "day above 12 in this column tells which: write the dates as YYYY-MM-DD, or "
                "{hint} if they are dd/mm/yyyy"
            ),
            text=values[p].strip(),
            day_month=dm,
            month_day=md,
            hint=Message(DAYFIRST_HINT),
        )
    raise InputError(message, source=source.name, row=source.row(p, frame.index[p]), column=name)


def _check_unique(records: Sequence[BaseModel], key: str, source: Source, labels) -> None:
    seen: dict[str, int] = {}
    for pos, rec in enumerate(records):
        value = getattr(rec, key)
        if value in seen:
            first = source.row(seen[value], labels[seen[value]])
            raise InputError(
                _N("duplicate id {id!r} (first seen in row {first})"),
                id=value,
                first=first,
                source=source.name,
                row=source.row(pos, labels[pos]),
                column=key,
            )
        seen[value] = pos


@dataclass(frozen=True)
class Tables:
    """The validated inputs of one planning run, as records and as tidy DataFrames."""

    households: list[Household]
    units: list[Unit]
    stays: list[Stay]

    def frame(self, kind: str) -> pd.DataFrame:
        records = getattr(self, kind)
        cols = columns_of(kind)
        return pd.DataFrame([r.model_dump(mode="python") for r in records], columns=cols)


def _labels(table: TableLike, n: int) -> list:
    if isinstance(table, pd.DataFrame):
        return list(table.index)
    return list(range(n))


def validate_tables(
    households: TableLike,
    units: TableLike,
    stays: TableLike = None,
    *,
    sources: dict[str, Source] | None = None,
    start: dt.date | None = None,
    turnover_days: int = 0,
) -> Tables:
    """Validate the three tables together; raise `InputError` on the first problem.

    With ``start`` (the plan's), the tables' dates must lie within 10 years of it (records built
    in Python are the caller's own, and held only to the records' own range); two stays in a unit
    must keep ``turnover_days`` between them. The stay rules are `allocator.rules`', which the
    ledger applies too.
    """
    sources = sources or {}
    src = {k: sources.get(k, Source(k)) for k in ("households", "units", "stays")}
    tables = {"households": households, "units": units, "stays": stays}
    hh = cast(list[Household], parse_records(households, "households", src["households"]))
    un = cast(list[Unit], parse_records(units, "units", src["units"]))
    st = cast(list[Stay], parse_records(stays, "stays", src["stays"]))
    if start is not None:
        for kind, records in (("households", hh), ("units", un), ("stays", st)):
            if not _built_in_python(tables[kind], kind):
                _check_dates(records, kind, start, src[kind], _labels(tables[kind], len(records)))
    _check_unique(hh, "household_id", src["households"], _labels(households, len(hh)))
    _check_unique(un, "unit_id", src["units"], _labels(units, len(un)))
    labels = _labels(stays, len(st))
    _check_stays(st, {u.unit_id: u for u in un}, src["stays"], labels, turnover_days)
    _check_housed_once(st, {h.household_id for h in hh}, src["stays"], labels)
    return Tables(households=hh, units=un, stays=st)


def _built_in_python(table: TableLike, kind: str) -> bool:
    """A list of the record type itself: validated when made, as `parse_records` trusts it."""
    record_type = RECORD_TYPES[kind]
    return isinstance(table, list) and all(type(r) is record_type for r in table)


def _check_dates(records: Sequence[BaseModel], kind: str, start: dt.date, source: Source, labels):
    for pos, record in enumerate(records):
        broken = check_record_dates(record, kind, start, _N("the plan's start"))
        if broken is not None:
            raise InputError(
                broken.as_message(),
                source=source.name,
                row=source.row(pos, labels[pos]),
                column=broken.column,
            )


def _with_overlaps(stays: list, key: str, turnover_days: int = 0):
    """Each stay in (key, start) order, with the position of an earlier stay of the same key
    (unit or household) that it comes closer to than ``turnover_days``, or None."""
    latest: dict[str, int] = {}
    for pos, stay in sorted(enumerate(stays), key=lambda p: (getattr(p[1], key), p[1].start)):
        k = getattr(stay, key)
        prev = latest.get(k)
        clash = None
        if prev is not None:
            earlier = (stays[prev].start, stays[prev].expected_end)
            if overlaps((stay.start, stay.expected_end), earlier, turnover_days):
                clash = prev
        yield pos, stay, clash
        if prev is None or stay.expected_end > stays[prev].expected_end:
            latest[k] = pos


def _check_housed_once(stays: list, waiting: set[str], source: Source, labels) -> None:
    """A household is never split: not in two stays at once, not housed and waiting."""
    for pos, stay, clash in _with_overlaps(stays, "household_id"):
        row = source.row(pos, labels[pos])
        if stay.household_id in waiting:
            raise InputError(
                _N(
                    "household {household!r} has a stay and is also in the households table: a "
                    "household waits or is housed, not both"
                ),
                household=stay.household_id,
                source=source.name,
                row=row,
                column="household_id",
            )
        if clash is not None:
            problem = Message(
                _N(
                    "household {household!r} is also in the stay in row {row} at the same time: "
                    "a household is never split across units"
                ),
                household=stay.household_id,
                row=source.row(clash, labels[clash]),
            )
            raise InputError(
                broken_rule(_N("never split"), problem),
                source=source.name,
                row=row,
                column="household_id",
            )


def _check_stays(
    stays: list, units: dict[str, Unit], source: Source, labels, turnover_days: int = 0
) -> None:
    """Each stay's unit exists and fits it (`allocator.rules.check_fit`), and no two stays in a
    unit come closer than the turnover days."""
    for pos, stay, clash in _with_overlaps(stays, "unit_id", turnover_days):
        row = source.row(pos, labels[pos])
        unit = units.get(stay.unit_id)
        if unit is None:
            raise InputError(
                _N("stay on unknown unit {unit!r}"),
                unit=stay.unit_id,
                source=source.name,
                row=row,
                column="unit_id",
            )
        broken = check_fit(
            unit, stay.household_id, stay.size, stay.accessible, stay.start, stay.expected_end
        )
        if broken is not None:
            raise InputError(broken.as_message(), source=source.name, row=row, column=broken.column)
        if clash is not None:
            problem = Message(
                _N(
                    "overlaps the stay in row {row} in unit {unit} (that one ends {end}, this "
                    "one starts {start})"
                ),
                row=source.row(clash, labels[clash]),
                unit=stay.unit_id,
                end=stays[clash].expected_end,
                start=stay.start,
            )
            raise InputError(
                broken_rule(overlap_rule(turnover_days), problem),
                source=source.name,
                row=row,
                column="start",
            )
