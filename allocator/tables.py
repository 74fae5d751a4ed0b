"""Validation of the three input tables, whatever they came from (DataFrame, list of models, file).

Each table goes through its pydantic record type row by row, so the rules live in one place
(`allocator.domain`); this module adds what a single row cannot see: the header, duplicate ids,
references between tables and overlapping stays. The first problem found raises an `InputError`
that names the source, the row and the column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias, cast

import numpy as np
import pandas as pd
from pydantic import BaseModel, TypeAdapter, ValidationError

from allocator.domain import RECORD_TYPES, Household, Stay, Unit
from allocator.errors import _N, DATE_PROBLEMS, InputError, Message, pydantic_message
from allocator.limits import with_range
from allocator.rules import (
    broken_rule,
    check_fit_rooms,
    check_record_dates,
    overlap_rule,
    overlaps,
)
from allocator.spreadsheet import (
    Source,
    read_day_first_dates,
    refuse_numbers_as_dates,
    respell,
)

TableLike: TypeAlias = pd.DataFrame | Sequence[BaseModel] | Sequence[dict] | None


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
    frame = respell(frame, kind)
    refuse_numbers_as_dates(frame, kind, source)
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
    _check_groups(un, src["units"], _labels(units, len(un)))
    labels = _labels(stays, len(st))
    _check_stays(st, {u.unit_id: u for u in un}, src["stays"], labels, turnover_days)
    _check_housed_once(st, {h.household_id for h in hh}, src["stays"], labels)
    return Tables(households=hh, units=un, stays=st)


MAX_GROUP_ROOMS = 8  # connecting rooms in one group, at most (a combination takes up to 4)


def _check_groups(units: list[Unit], source: Source, labels) -> None:
    """The rooms of one connecting group are of one kind and one district: one place."""
    first: dict[str, int] = {}
    rooms: dict[str, int] = {}
    for pos, unit in enumerate(units):
        if unit.group is None:
            continue
        k = first.setdefault(unit.group, pos)
        rooms[unit.group] = rooms.get(unit.group, 0) + 1
        if rooms[unit.group] > MAX_GROUP_ROOMS:
            raise InputError(
                _N(
                    "group {group!r} has more than {most} rooms: a group is the rooms that "
                    "connect with each other; split it into those"
                ),
                group=unit.group,
                most=MAX_GROUP_ROOMS,
                source=source.name,
                row=source.row(pos, labels[pos]),
                column="group",
            )
        for column in ("kind", "district"):
            if getattr(unit, column) != getattr(units[k], column):
                raise InputError(
                    _N(
                        "unit {unit!r} is in group {group!r} with unit {other!r} but its {attribute} "
                        "differs ({value} against {expected}): connecting rooms are of one kind "
                        "and one district"
                    ),
                    unit=unit.unit_id,
                    group=unit.group,
                    other=units[k].unit_id,
                    attribute=column,
                    value=getattr(unit, column),
                    expected=getattr(units[k], column),
                    source=source.name,
                    row=source.row(pos, labels[pos]),
                    column=column,
                )


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
    (unit or household) that it comes closer to than ``turnover_days``, or None. With ``key``
    "units", a stay in connecting rooms comes once for each of its rooms (as ``(pos, stay,
    clash, unit)``)."""
    entries = (
        [(pos, stay, u) for pos, stay in enumerate(stays) for u in stay.units]
        if key == "units"
        else [(pos, stay, getattr(stay, key)) for pos, stay in enumerate(stays)]
    )
    latest: dict[str, int] = {}
    for pos, stay, k in sorted(entries, key=lambda e: (e[2], e[1].start, e[0])):
        prev = latest.get(k)
        clash = None
        if prev is not None:
            earlier = (stays[prev].start, stays[prev].expected_end)
            if overlaps((stay.start, stay.expected_end), earlier, turnover_days):
                clash = prev
        yield (pos, stay, clash, k) if key == "units" else (pos, stay, clash)
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
    for pos, stay, clash, unit_id in _with_overlaps(stays, "units", turnover_days):
        row = source.row(pos, labels[pos])
        rooms = [units.get(u) for u in stay.units]
        if any(unit is None for unit in rooms):
            unknown = next(u for u in stay.units if u not in units)
            raise InputError(
                _N("stay on unknown unit {unit!r}"),
                unit=unknown,
                source=source.name,
                row=row,
                column="unit_id" if unknown == stay.unit_id else "joined_units",
            )
        broken = check_fit_rooms(
            cast(list[Unit], rooms),
            stay.household_id,
            stay.size,
            stay.accessible,
            stay.start,
            stay.expected_end,
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
                unit=unit_id,
                end=stays[clash].expected_end,
                start=stay.start,
            )
            raise InputError(
                broken_rule(overlap_rule(turnover_days), problem),
                source=source.name,
                row=row,
                column="start",
            )
