"""Reading the input tables from CSV or Excel files, and writing results atomically.

Every cell is read as a string: an empty cell becomes ``""``, which validation
(`allocator.tables`) treats as "missing", and the type checks happen there, once, with the row and
column named. Row numbers are the ones a spreadsheet shows: the header is row 1, the first record
row 2. Rows whose cells are all empty are skipped, and the returned DataFrame's index keeps each
remaining row's number, so errors still name the right row.

A file that cannot be read as a table is refused in one line naming the file, and the row and
column where there is one: an unclosed quote, text that is not UTF-8, a formula that no
spreadsheet program has computed.

Writes go to a temporary file in the target's directory that replaces the target only once it is
complete, so a failure never leaves a half-written file behind. `Outputs` checks a run's outputs
before it starts: none may be a file the run reads (by any path or link) or another output, and
each must be writable.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import logging
import math
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
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


def require(module: str, purpose: str, *, extra: str | None = None, source: str | None = None):
    """Import an optional or easily missing dependency, or say in one line how to install it.

    ``extra`` names the package's extra that brings it (``allocator[postgres]``); without one the
    module is a plain dependency that a broken install lost.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        how = f"pip install 'allocator[{extra}]'" if extra else f"pip install {package}"
        raise InputError(
            f"{purpose} needs the package {package!r}, which is not installed: {how}",
            source=source,
        ) from None


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
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", source=name) from None
    text = _csv_text(data, name)
    first = next((line for line in text.splitlines() if line.strip()), "")
    # Spreadsheets set to a comma-decimal locale (Italian Excel, say) export with ';'.
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    lines_read = 0
    try:
        for record in reader:
            rows.append(record)
            lines_read = reader.line_num
    except csv.Error as exc:
        raise _csv_error(exc, text, rows, lines_read, delimiter, name) from None
    return rows


def _csv_text(data: bytes, name: str) -> str:
    """The file's text; a file that is not UTF-8 text is refused with the row of the first bad
    byte, and the usual culprits (UTF-16, a workbook named .csv) by name."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(
            "the file is UTF-16 text, not UTF-8 (in Excel, save it as 'CSV UTF-8')", source=name
        )
    if data.startswith(b"PK\x03\x04"):
        raise InputError(
            "the file is an Excel workbook, not CSV text: name it .xlsx, or save it as 'CSV UTF-8'",
            source=name,
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            "the file holds binary data (NUL bytes), not CSV text; if it is UTF-16, save it as "
            "'CSV UTF-8'",
            source=name,
            row=data.count(b"\n", 0, nul) + 1,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x}; in Excel, save it as "
            "'CSV UTF-8')",
            source=name,
            row=data.count(b"\n", 0, exc.start) + 1,
        ) from None
    return text


def _csv_error(
    exc: csv.Error, text: str, rows: list[list[str]], lines_read: int, delimiter: str, name: str
) -> InputError:
    """The csv module's error as one line naming the record (as a spreadsheet numbers it) and
    the cell where it went wrong: where an unclosed quote opened, or text after a closing one."""
    record = "".join(StringIO(text, newline="").readlines()[lines_read:])
    field = _bad_field(record, delimiter)
    header = next((r for r in rows if any(c.strip() for c in r)), None)
    column = None
    if field is not None:
        named = header is not None and field < len(header) and header[field].strip()
        column = header[field].strip() if named and header is not None else _column_letter(field)
    detail = str(exc)
    if "unexpected end of data" in detail or "field larger than field limit" in detail:
        message = 'a quote (") opens this cell and is never closed'
    elif "expected after" in detail:
        message = (
            'text after the closing quote (") of this cell: quote the whole cell and write a '
            'quote inside it as ""'
        )
    else:
        message = f"not a valid CSV file ({detail})"
    return InputError(message, source=name, row=len(rows) + 1, column=column)


def _bad_field(record: str, delimiter: str) -> int | None:
    """The index of the cell in which the first CSV record of ``record`` goes wrong: the cell
    whose quote is never closed, or the one with text after its closing quote."""
    field, state, opened = 0, "start", 0
    i, n = 0, len(record)
    while i < n:
        c = record[i]
        if state == "quoted":
            if c == '"':
                if record.startswith('"', i + 1):
                    i += 1
                else:
                    state = "closed"
        elif c == delimiter:
            field, state = field + 1, "start"
        elif c in "\r\n":
            return None  # the record ended without a problem
        elif state == "start" and c == '"':
            state, opened = "quoted", field
        elif state == "closed":
            return field
        elif state == "start":
            state = "plain"
        i += 1
    return opened if state == "quoted" else None


def _read_xlsx_rows(path: Path, kind: str) -> list[list[str]]:
    name = str(path)
    openpyxl = require("openpyxl", "reading .xlsx files", source=name)
    from zipfile import BadZipFile

    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
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
        rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        _refuse_uncomputed_formulas(book, sheet, rows, name)
        return rows
    finally:
        book.close()


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _refuse_uncomputed_formulas(book: Any, sheet: Any, rows: list[list[str]], name: str) -> None:
    """A formula cell that no spreadsheet program has computed reads as empty; say so instead.

    Files written by scripts (openpyxl, pandas) hold formulas without their values until Excel or
    LibreOffice opens and saves them. Only a sheet that holds formulas at all is parsed again.
    """
    archive, member = getattr(book, "_archive", None), getattr(sheet, "_worksheet_path", None)
    if archive is None or member is None:  # pragma: no cover - openpyxl internals moved
        return
    with archive.open(member) as src:
        tail = b""
        while chunk := src.read(1 << 20):
            if _FORMULA_TAG.search(tail + chunk):
                break
            tail = chunk[-16:]
        else:
            return
    from xml.etree.ElementTree import iterparse

    with archive.open(member) as src:
        for _, element in iterparse(src):
            if not element.tag.endswith("}c") and element.tag != "c":
                continue
            children = {child.tag.rsplit("}", 1)[-1]: child for child in element}
            value = children.get("v")
            text_result = element.get("t") in ("str", "inlineStr", "s")
            if "f" in children and not text_result and not (value is not None and value.text):
                row, column = _split_reference(element.get("r", ""), rows)
                raise InputError(
                    "formula without a computed value: open and save the file in Excel "
                    "(or LibreOffice) so that its values are stored",
                    source=name,
                    row=row,
                    column=column,
                )
            element.clear()


def _split_reference(reference: str, rows: list[list[str]]) -> tuple[int | None, str | None]:
    """``"B2"`` as (2, the column's header name, or "B" when it has none)."""
    match = re.fullmatch(r"([A-Za-z]+)(\d+)", reference)
    if match is None:
        return None, None
    letters, number = match.group(1).upper(), int(match.group(2))
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - ord("A") + 1
    header = next((r for r in rows if any(c.strip() for c in r)), [])
    in_header = number - 1 < len(rows) and rows[number - 1] is header
    if not in_header and index - 1 < len(header) and header[index - 1].strip():
        return number, header[index - 1].strip()
    return number, letters


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

    A command writes through `Outputs.staging` instead, whose guard refuses any target that is
    not a declared output or is one of the run's inputs.
    """

    def __init__(self, guard: Outputs | None = None) -> None:
        self._staged: list[tuple[Path, Path]] = []
        self._guard = guard

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
        if self._guard is not None:
            self._guard.confirm(target)
        if any(same_file(target, staged) for _, staged in self._staged):
            raise InputError("two outputs of this run name the same file", source=str(target))
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
        if suffix == ".xlsx":
            require("openpyxl", "writing .xlsx files", source=str(path))
        self._stage(path, lambda handle: _write_table_to(df, suffix, handle))

    def parquet(self, df: pd.DataFrame, path: str | os.PathLike) -> None:
        require("pyarrow", "writing Parquet files", source=str(path))
        self._stage(path, lambda handle: df.to_parquet(handle, index=False))

    def bytes(self, data: bytes, path: str | os.PathLike) -> None:
        self._stage(path, lambda handle: handle.write(data))

    def json(self, obj: Any, path: str | os.PathLike) -> None:
        text = dumps_json(obj)  # fails before any file is touched
        self.bytes(text.encode("utf-8"), path)


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two names reach the same file: the same path once links and ``.``/``..`` are
    resolved, or (both existing) the same device and inode, which catches hard links."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


class Outputs:
    """The files one run will write, checked before any work starts.

    Each output is refused, with one line naming its option and path, when it is the same file
    (by any path, symbolic or hard link) as a file the run reads (a table, the policy, a
    scenario, the ledger) or as another output of the run, when a folder stands in its place, or
    when its folder is missing or cannot be written to (tried by creating and removing a file
    there), so that a read-only folder is found before a long run, not after it. Write through
    `staging`, which checks every target again against the inputs.

    For example, ``Outputs({"--policy": "policy.toml"}).file("--summary", "policy.toml")``
    raises ``InputError("--summary would overwrite an input file (--policy)")``.
    """

    def __init__(self, inputs: Mapping[str, str | os.PathLike | None] | None = None) -> None:
        self._inputs: list[tuple[str, Path]] = []
        self._outputs: list[tuple[str, Path]] = []
        for label, path in (inputs or {}).items():
            self.add_input(label, path)

    def add_input(self, label: str, path: str | os.PathLike | None) -> None:
        """A file the run reads. ``label`` is its option (``--policy``: "an input file
        (--policy)" in messages) or a phrase starting with "the" (``"the ledger (--db)"``)."""
        if path is not None:
            self._inputs.append((label, Path(path)))

    def file(self, option: str, path: str | os.PathLike | None) -> None:
        """An output file given by ``option`` (None: not asked for)."""
        if path is None:
            return
        target = Path(path)
        self._refuse_clash(option, target)
        if target.is_dir():
            raise InputError(f"{option} is a folder; expected a file name", source=str(target))
        _check_writable_folder(option, target.parent, target)
        self._outputs.append((option, target))

    def folder(self, option: str, path: str | os.PathLike, names: Iterable[str]) -> None:
        """An output folder (created if missing) in which the run writes the files ``names``."""
        folder = Path(path)
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{option} is a file; expected a folder", source=str(folder))
        targets = [folder / name for name in names]
        for target in targets:
            self._refuse_clash(option, target)
            if target.is_dir():
                raise InputError(f"{option}: a folder stands in the way", source=str(target))
        existing = folder
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise InputError(
                f"{option} cannot be created: {existing} is a file", source=str(folder)
            )
        _check_writable_folder(option, existing, folder)
        self._outputs.extend((option, target) for target in targets)

    def staging(self) -> Staging:
        """A `Staging` that writes only the outputs declared here, and none over an input."""
        return Staging(guard=self)

    def confirm(self, target: Path) -> None:
        """Just before writing: ``target`` was declared and is still no input."""
        if not any(same_file(target, path) for _, path in self._outputs):
            raise ValueError(f"{target} was not declared as an output of this run")
        for label, path in self._inputs:
            if same_file(target, path):
                option = next(o for o, p in self._outputs if same_file(target, p))
                raise InputError(
                    f"{option} would overwrite {_described(label)}", source=str(target)
                )

    def _refuse_clash(self, option: str, target: Path) -> None:
        for label, path in self._inputs:
            if same_file(target, path):
                raise InputError(
                    f"{option} would overwrite {_described(label)}", source=str(target)
                )
        for other, path in self._outputs:
            if same_file(target, path):
                what = "another of its files" if other == option else f"the {other} file"
                raise InputError(f"{option} would overwrite {what}", source=str(target))


def _described(label: str) -> str:
    return label if label.startswith("the ") else f"an input file ({label})"


def _check_writable_folder(option: str, folder: Path, target: Path) -> None:
    """Refuse an output whose folder is missing or not writable, by trying to write there."""
    if not folder.is_dir():
        raise InputError(
            f"{option} cannot be written: the folder does not exist", source=str(target)
        )
    probe = folder / f".allocator-probe-{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise InputError(
            f"{option} cannot be written: the folder is not writable ({exc.strerror or exc})",
            source=str(target),
        ) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        probe.unlink()


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``df`` to a .csv or .xlsx file (by extension) atomically; dates as ISO."""
    with Staging() as out:
        out.table(df, path)


def write_json(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` as indented JSON atomically (numpy scalars, dates and enums allowed)."""
    with Staging() as out:
        out.json(obj, path)
