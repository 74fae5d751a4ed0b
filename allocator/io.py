"""Reading the input tables from CSV or Excel files, and writing results atomically.

Every cell is read as a string: an empty cell becomes ``""``, which validation
(`allocator.tables`) treats as "missing", and the type checks happen there, once, with the row and
column named. Row numbers are the ones a spreadsheet shows: the header is row 1, the first record
row 2. Rows whose cells are all empty are skipped, and the returned DataFrame's index keeps each
remaining row's number, so errors still name the right row.

Writes go to a temporary file in the target's directory that replaces the target only once it is
complete, so a failure never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import logging
import math
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from io import StringIO
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

import numpy as np
import pandas as pd

from allocator.domain import RECORD_TYPES
from allocator.errors import InputError
from allocator.tables import Source

log = logging.getLogger("allocator")

TABLE_SUFFIXES = (".csv", ".xlsx")


@dataclass(frozen=True)
class FileSource(Source):
    """A file's name for error messages; the table's index holds each row's spreadsheet number."""

    from_file: bool = True

    def row(self, position: int, label: object) -> int | str:
        if isinstance(label, int | np.integer):
            return int(label)
        return super().row(position, label)


# --- reading ---------------------------------------------------------------------------------


def read_table(path: str | os.PathLike, kind: str) -> tuple[pd.DataFrame, Source]:
    """Read the ``kind`` table ("households", "units" or "stays") from a .csv or .xlsx file.

    Returns the cells as strings (empty cell = ``""``) and the `Source` to pass to
    `allocator.plan` so that errors name the file and its rows. Raises `InputError` naming the
    file when it is missing, empty, unreadable or of an unknown type.
    """
    if kind not in RECORD_TYPES:
        raise ValueError(f"unknown table kind {kind!r}; expected one of {', '.join(RECORD_TYPES)}")
    path = Path(path)
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        hint = " (save it as .xlsx)" if suffix in (".xls", ".ods", ".xlsm") else ""
        raise InputError(
            f"unsupported file type {suffix or '(none)'!r}{hint}; expected .csv or .xlsx",
            source=name,
        )
    try:
        if path.is_dir():
            raise InputError("is a directory, not a file", source=name)
        if path.stat().st_size == 0:
            raise InputError("the file is empty (not even a header row)", source=name)
    except FileNotFoundError:
        raise InputError("file not found", source=name) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", source=name) from None
    rows = _read_csv_rows(path) if suffix == ".csv" else _read_xlsx_rows(path, kind)
    frame = _frame_from_rows(rows, name)
    log.info("read %d %s rows from %s", len(frame), kind, name)
    return frame, FileSource(name)


def _read_csv_rows(path: Path) -> list[list[str]]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(
            "the file is not UTF-8 text (in Excel, save it as 'CSV UTF-8')", source=name
        ) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", source=name) from None
    first = next((line for line in text.splitlines() if line.strip()), "")
    # Spreadsheets set to a comma-decimal locale (Italian Excel, say) export with ';'.
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        reader = csv.reader(StringIO(text, newline=""), delimiter=delimiter, strict=True)
        return [list(r) for r in reader]
    except csv.Error as exc:
        raise InputError(f"not a valid CSV file ({exc})", source=name) from None


def _read_xlsx_rows(path: Path, kind: str) -> list[list[str]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    name = str(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise InputError(f"not a readable .xlsx workbook ({exc})", source=name) from None
    try:
        # A sheet named after the table wins (one workbook may hold all three); else the first.
        sheets = {s.lower(): s for s in book.sheetnames}
        if not sheets:
            raise InputError("the workbook has no sheet", source=name)
        sheet = book[sheets.get(kind, book.sheetnames[0])]
        # Files written by some tools carry a wrong sheet size; without this, read-only mode
        # would silently drop the cells outside it.
        sheet.reset_dimensions()
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    """An Excel cell as the text a CSV export would hold; dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _column_letter(k: int) -> str:
    letters = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        letters = chr(ord("A") + r) + letters
    return letters


def _frame_from_rows(rows: list[list[str]], name: str) -> pd.DataFrame:
    """Header + records -> DataFrame of strings indexed by spreadsheet row number."""
    start = next((k for k, r in enumerate(rows) if any(c.strip() for c in r)), None)
    if start is None:
        raise InputError("the file is empty (not even a header row)", source=name)
    header_row = start + 1
    header = [c.strip() for c in rows[start]]
    body = [(start + 2 + k, r) for k, r in enumerate(rows[start + 1 :])]
    width = len(header)
    for number, r in body:
        if any(c.strip() for c in r[width:]):
            raise InputError(
                f"the row has more cells than the header has columns ({len(header)})",
                source=name,
                row=number,
                column=_column_letter(width),
            )
    records = [
        (number, [*r[:width], *[""] * (width - len(r))])
        for number, r in body
        if any(c.strip() for c in r)
    ]
    keep = []
    seen: set[str] = set()
    for k, col in enumerate(header):
        has_data = any(cells[k].strip() for _, cells in records)
        if not col:
            if has_data:
                raise InputError(
                    "this column has data but no name in the header",
                    source=name,
                    row=header_row,
                    column=_column_letter(k),
                )
            continue
        if col in seen:
            raise InputError("duplicate column", source=name, row=header_row, column=col)
        seen.add(col)
        keep.append(k)
    return pd.DataFrame(
        [[cells[k] for k in keep] for _, cells in records],
        columns=[header[k] for k in keep],
        index=pd.Index([number for number, _ in records], dtype="int64", name="row"),
        dtype=object,
    )


# --- writing ---------------------------------------------------------------------------------


def _iso_cell(value: object) -> object:
    """Dates as ISO text for CSV: midnight timestamps as a plain date."""
    if value is None or value is pd.NaT:
        return value
    if isinstance(value, dt.datetime):  # includes pd.Timestamp
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _as_dates(value: object) -> object:
    """For Excel: midnight timestamps as dates, so the cell shows 2026-12-07."""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        return value.date()
    return value


def _convert(df: pd.DataFrame, fn: Callable[[object], object]) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].astype(object).map(fn)
    return out


def _write_table_to(df: pd.DataFrame, suffix: str, handle: IO[bytes]) -> None:
    if suffix == ".csv":
        text = _convert(df, _iso_cell).to_csv(index=False, lineterminator="\n")
        handle.write(text.encode("utf-8"))
    else:
        with pd.ExcelWriter(
            cast(BinaryIO, handle),
            engine="openpyxl",
            date_format="YYYY-MM-DD",
            datetime_format="YYYY-MM-DD HH:MM:SS",
        ) as writer:
            _convert(df, _as_dates).to_excel(writer, index=False)


def _check_table_path(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(
            f"unsupported output file type {suffix or '(none)'!r}; expected .csv or .xlsx",
            source=str(path),
        )
    return suffix


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, Enum):
        obj = obj.value
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dt.date | dt.datetime):
        return _iso_cell(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    raise TypeError(f"cannot write a {type(obj).__name__} as JSON")


def dumps_json(obj: Any) -> str:
    """``obj`` as JSON text: numpy scalars as numbers, dates as ISO, NaN/inf as null."""
    return json.dumps(_jsonable(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


class Staging:
    """Write several files all-or-nothing: each goes to a temporary file next to its target,
    and the targets are replaced only when the ``with`` block ends without an error.

    >>> with Staging() as out:          # doctest: +SKIP
    ...     out.table(plan_df, "plan.csv")
    ...     out.json(summary, "summary.json")
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.discard()
            return
        for _, target in self._staged:
            if target.is_dir():
                self.discard()
                raise InputError("is a directory, not a file", source=str(target))
        # keep each old target until every replacement succeeded, to put it back if one fails
        done: list[tuple[Path, Path | None]] = []
        try:
            for tmp, target in self._staged:
                backup = None
                if target.exists():
                    backup = target.with_name(f".{target.name}.{secrets.token_hex(4)}.bak")
                    os.replace(target, backup)
                done.append((target, backup))
                os.replace(tmp, target)
        except OSError as err:
            for replaced, backup in reversed(done):
                with contextlib.suppress(OSError):
                    if backup is not None:
                        os.replace(backup, replaced)
                    else:
                        replaced.unlink(missing_ok=True)
            self.discard()
            raise InputError(
                f"cannot write the file ({err.strerror or err})", source=str(target)
            ) from None
        for _, backup in done:
            if backup is not None:
                with contextlib.suppress(OSError):
                    backup.unlink()
        self._staged.clear()

    def discard(self) -> None:
        for tmp, _ in self._staged:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self._staged.clear()

    def _stage(self, path: str | os.PathLike, write: Callable[[IO[bytes]], object]) -> None:
        target = Path(path)
        if target.is_dir():
            raise InputError("is a directory, not a file", source=str(target))
        tmp = None
        try:
            for _ in range(100):
                tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
                try:  # 0o666 lets the umask set the final file's permissions as usual
                    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
                    break
                except FileExistsError:
                    continue
            else:  # pragma: no cover - 100 random collisions
                raise FileExistsError(str(tmp))
            self._staged.append((tmp, target))
            with os.fdopen(fd, "wb") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            self.discard()
            raise InputError(
                f"cannot write the file ({exc.strerror or exc})", source=str(target)
            ) from None
        except BaseException:
            self.discard()
            raise

    def table(self, df: pd.DataFrame, path: str | os.PathLike) -> None:
        suffix = _check_table_path(Path(path))
        self._stage(path, lambda handle: _write_table_to(df, suffix, handle))

    def parquet(self, df: pd.DataFrame, path: str | os.PathLike) -> None:
        self._stage(path, lambda handle: df.to_parquet(handle, index=False))

    def bytes(self, data: bytes, path: str | os.PathLike) -> None:
        self._stage(path, lambda handle: handle.write(data))

    def json(self, obj: Any, path: str | os.PathLike) -> None:
        text = dumps_json(obj)  # fails before any file is touched
        self.bytes(text.encode("utf-8"), path)


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``df`` to a .csv or .xlsx file (by extension) atomically; dates as ISO."""
    with Staging() as out:
        out.table(df, path)


def write_json(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` as indented JSON atomically (numpy scalars, dates and enums allowed)."""
    with Staging() as out:
        out.json(obj, path)
