"""Reading a table's cells as people and spreadsheets write them, and where the table came from.

Italian Excel writes VERO/FALSO and dd/mm/yyyy, people type "Low" or "sì", and a date cell
formatted as a number holds an Excel serial: the spellings are read, a day-first date only when
its column (or the caller) says which comes first, and a number in a date column is refused with
what it would mean in Excel. `allocator.tables` validates the records these cells make.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from enum import Enum
from typing import Any, cast, get_args

import numpy as np
import pandas as pd

from allocator.domain import RECORD_TYPES
from allocator.errors import _N, InputError, Message


@dataclass(frozen=True)
class Source:
    """Where a table came from, to word errors: a file gives spreadsheet rows (header = row 1)."""

    name: str
    from_file: bool = False

    def row(self, position: int, label: object) -> int | str:
        return position + 2 if self.from_file else str(label)


_DATE_FIELDS = {
    kind: [
        n for n, f in t.model_fields.items() if dt.date in (f.annotation, *get_args(f.annotation))
    ]
    for kind, t in RECORD_TYPES.items()
}
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")
EXCEL_EPOCH = dt.date(1899, 12, 30)  # day 0 of Excel's serial dates (1900 system, after March 1900)


def refuse_numbers_as_dates(frame: pd.DataFrame, kind: str, source: Source) -> None:
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


def respell(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
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
