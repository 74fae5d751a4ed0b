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
from allocator.errors import InputError

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
                f"unknown column; expected only these: {', '.join(known)}",
                source=source.name,
                row=1 if source.from_file else None,
                column=str(col),
            )
    for col in required_columns_of(kind):
        if col not in frame.columns:
            raise InputError(
                "required column is missing",
                source=source.name,
                row=1 if source.from_file else None,
                column=col,
            )


def _blank_to_none(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, float) and pd.isna(value):
        return None
    if value is pd.NaT or (isinstance(value, str) and value.strip() == ""):
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
        return value if cast(str, value).strip() else None
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
        return [v if v is not None and v.strip() else None for v in text]
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
        raise InputError("the table is empty: at least one row is needed", source=source.name)
    if frame.empty:
        return []
    record_type = RECORD_TYPES[kind]
    raw = _raw_records(frame)
    adapter = TypeAdapter(list[record_type])  # type: ignore[valid-type]
    try:
        return adapter.validate_python(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        position = int(err["loc"][0])
        # a check across fields (e.g. end after start) is reported on the later field
        column = str(err["loc"][1]) if len(err["loc"]) > 1 else RECORD_CHECK_COLUMN[kind]
        value = raw[position].get(column)
        detail = str(err["ctx"]["error"]) if err["type"] == "value_error" else err["msg"]
        if column is not None and column in raw[position]:
            detail += f" (got {value!r})"
        raise InputError(
            detail,
            source=source.name,
            row=source.row(position, frame.index[position]),
            column=column,
        ) from None


def _check_unique(records: Sequence[BaseModel], key: str, source: Source, labels) -> None:
    seen: dict[str, int] = {}
    for pos, rec in enumerate(records):
        value = getattr(rec, key)
        if value in seen:
            first = source.row(seen[value], labels[seen[value]])
            raise InputError(
                f"duplicate id {value!r} (first seen in row {first})",
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
) -> Tables:
    """Validate the three tables together; raise `InputError` on the first problem."""
    sources = sources or {}
    src = {k: sources.get(k, Source(k)) for k in ("households", "units", "stays")}
    hh = cast(list[Household], parse_records(households, "households", src["households"]))
    un = cast(list[Unit], parse_records(units, "units", src["units"]))
    st = cast(list[Stay], parse_records(stays, "stays", src["stays"]))
    _check_unique(hh, "household_id", src["households"], _labels(households, len(hh)))
    _check_unique(un, "unit_id", src["units"], _labels(units, len(un)))
    _check_stays(st, {u.unit_id: u for u in un}, src["stays"], _labels(stays, len(st)))
    _check_housed_once(st, {h.household_id for h in hh}, src["stays"], _labels(stays, len(st)))
    return Tables(households=hh, units=un, stays=st)


def _with_overlaps(stays: list, key: str):
    """Each stay in (key, start) order, with the position of an earlier stay of the same key
    (unit or household) that it overlaps, or None."""
    latest: dict[str, int] = {}
    for pos, stay in sorted(enumerate(stays), key=lambda p: (getattr(p[1], key), p[1].start)):
        k = getattr(stay, key)
        prev = latest.get(k)
        clash = prev if prev is not None and stay.start < stays[prev].expected_end else None
        yield pos, stay, clash
        if prev is None or stay.expected_end > stays[prev].expected_end:
            latest[k] = pos


def _check_housed_once(stays: list, waiting: set[str], source: Source, labels) -> None:
    """A household is never split: not in two stays at once, not housed and waiting."""
    for pos, stay, clash in _with_overlaps(stays, "household_id"):
        row = source.row(pos, labels[pos])
        if stay.household_id in waiting:
            raise InputError(
                f"household {stay.household_id!r} has a stay and is also in the households "
                "table: a household waits or is housed, not both",
                source=source.name,
                row=row,
                column="household_id",
            )
        if clash is not None:
            raise InputError(
                f"household {stay.household_id!r} is also in the stay in row "
                f"{source.row(clash, labels[clash])} at the same time: a household is never "
                "split across units",
                source=source.name,
                row=row,
                column="household_id",
            )


def _check_stays(stays: list, units: dict[str, Unit], source: Source, labels) -> None:
    for pos, stay, clash in _with_overlaps(stays, "unit_id"):
        row = source.row(pos, labels[pos])
        unit = units.get(stay.unit_id)
        if unit is None:
            raise InputError(
                f"stay on unknown unit {stay.unit_id!r}",
                source=source.name,
                row=row,
                column="unit_id",
            )
        if stay.size is not None and stay.size > unit.capacity:
            raise InputError(
                f"household of {stay.size} in unit {unit.unit_id} with {unit.capacity} beds",
                source=source.name,
                row=row,
                column="size",
            )
        if clash is not None:
            raise InputError(
                f"overlaps the stay in row {source.row(clash, labels[clash])} in unit "
                f"{stay.unit_id} (that one ends {stays[clash].expected_end}, this one starts "
                f"{stay.start})",
                source=source.name,
                row=row,
                column="start",
            )
