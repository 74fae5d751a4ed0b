"""Reading the input tables from CSV or Excel files, every cell as text.

Every cell is read as a string: an empty cell becomes ``""``, which validation
(`allocator.tables`) treats as "missing", and the type checks happen there, once, with the row and
column named. Row numbers are the ones a spreadsheet shows: the header is row 1, the first record
row 2. Rows whose cells are all empty are skipped, and the returned DataFrame's index keeps each
remaining row's number, so errors still name the right row.

A file that cannot be read as a table is refused in one line naming the file, and the row and
column where there is one: an unclosed quote, text that is not UTF-8, a formula that no
spreadsheet program has computed.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import os
import re
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.domain import JOINED_SEPARATOR, RECORD_TYPES, split_rooms
from allocator.errors import _N, InputError, Message
from allocator.spreadsheet import Source, read_day_first_dates

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
            _N("{purpose} needs the package {package!r}, which is not installed: {how}"),
            purpose=purpose,
            package=package,
            how=how,
            source=source,
        ) from None


# --- reading ---------------------------------------------------------------------------------


def read_table(
    path: str | os.PathLike, kind: str, *, dayfirst: bool = False
) -> tuple[pd.DataFrame, Source]:
    """Read the ``kind`` table ("households", "units" or "stays") from a .csv or .xlsx file.

    Returns the cells as strings (empty cell = ``""``) and the `Source` to pass to
    `allocator.plan` so that errors name the file and its rows. Raises `InputError` naming the
    file when it is missing, empty, unreadable or of an unknown type.

    Dates written dd/mm/yyyy come back as YYYY-MM-DD: with ``dayfirst`` all of them, otherwise
    only in a column that shows its order (`allocator.spreadsheet.read_day_first_dates`); a column
    that could be read either way is refused, naming a row.
    """
    if kind not in RECORD_TYPES:
        raise ValueError(f"unknown table kind {kind!r}; expected one of {', '.join(RECORD_TYPES)}")
    path = Path(path)
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        if not suffix:
            raise InputError(
                _N("unsupported file type '(none)'; expected .csv or .xlsx"), source=name
            )
        if suffix in (".xls", ".ods", ".xlsm"):
            raise InputError(
                _N("unsupported file type {suffix!r} (save it as .xlsx); expected .csv or .xlsx"),
                suffix=suffix,
                source=name,
            )
        raise InputError(
            _N("unsupported file type {suffix!r}; expected .csv or .xlsx"),
            suffix=suffix,
            source=name,
        )
    try:
        if path.is_dir():
            raise InputError(_N("is a directory, not a file"), source=name)
        if path.stat().st_size == 0:
            raise InputError(_N("the file is empty (not even a header row)"), source=name)
    except FileNotFoundError:
        raise InputError(_N("file not found"), source=name) from None
    except OSError as exc:
        raise _unreadable(exc, name) from None
    rows = _read_csv_rows(path) if suffix == ".csv" else _read_xlsx_rows(path, kind)
    source = FileSource(name)
    frame = read_day_first_dates(_frame_from_rows(rows, name), kind, source, dayfirst=dayfirst)
    log.info("read %d %s rows from %s", len(frame), kind, name)
    return frame, source


def read_simulation_households(folder: str | os.PathLike) -> pd.DataFrame:
    """The per-household records (``households.parquet``) in the folder `allocator simulate
    --out` wrote; `InputError` naming the folder or file when it is not there or unreadable."""
    folder = Path(folder)
    path = folder / "households.parquet"
    if not folder.is_dir():
        raise InputError(
            _N("expected the output folder of `allocator simulate --out`"), source=str(folder)
        )
    if not path.is_file():
        raise InputError(
            _N(
                "no households.parquet: simulate again with this version (allocator simulate --out)"
            ),
            source=str(folder),
        )
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow's errors have no common base class
        raise InputError(
            _N("cannot read the table ({reason})"), reason=type(exc).__name__, source=str(path)
        ) from None


def read_plan(path: str | os.PathLike) -> pd.DataFrame:
    """A plan's placements table (written by `allocator plan --out`, .csv or .xlsx) as text
    cells, its dates as written; `InputError` naming the file when it cannot be read.

    ``joined_units`` holds the connecting rooms a household takes with ``unit_id``, as
    "+"-joined text ("H1.02+H1.03"); blank, or a plan written before the column existed, means
    none (``""``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(_N("expected a .csv or .xlsx file"), source=str(path))
    if not path.is_file():
        raise InputError(_N("file not found"), source=str(path))
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        else:
            frame = pd.read_excel(path, dtype=str, keep_default_na=False)
    except Exception as exc:  # CSV and Excel readers raise many kinds
        raise InputError(
            _N("cannot read the plan ({reason})"), reason=type(exc).__name__, source=str(path)
        ) from None
    frame["joined_units"] = _joined_text(frame.get("joined_units"), len(frame))
    return frame


def _joined_text(column: pd.Series | None, rows: int) -> list[str]:
    """A plan's ``joined_units`` cells as "+"-joined ids without spaces; ``""`` for none."""
    if column is None:
        return [""] * rows
    return [JOINED_SEPARATOR.join(split_rooms(cell)) for cell in column]


def _read_csv_rows(path: Path) -> list[list[str]]:
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _unreadable(exc, name) from None
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


def _unreadable(exc: OSError, name: str) -> InputError:
    """The system's reason for not reading ``name``, in its own words (a parameter)."""
    reason = exc.strerror or str(exc)
    return InputError(_N("cannot read the file ({reason})"), reason=reason, source=name)


def _csv_text(data: bytes, name: str) -> str:
    """The file's text; a file that is not UTF-8 text is refused with the row of the first bad
    byte, and the usual culprits (UTF-16, a workbook named .csv) by name."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(
            _N("the file is UTF-16 text, not UTF-8 (in Excel, save it as 'CSV UTF-8')"),
            source=name,
        )
    if data.startswith(b"PK\x03\x04"):
        raise InputError(
            _N(
                "the file is an Excel workbook, not CSV text: name it .xlsx, or save it as "
                "'CSV UTF-8'"
            ),
            source=name,
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            _N(
                "the file holds binary data (NUL bytes), not CSV text; if it is UTF-16, save it "
                "as 'CSV UTF-8'"
            ),
            source=name,
            row=data.count(b"\n", 0, nul) + 1,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            _N("the file is not UTF-8 text (byte {byte}; in Excel, save it as 'CSV UTF-8')"),
            byte=f"0x{data[exc.start]:02x}",
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
        message = Message(_N('a quote (") opens this cell and is never closed'))
    elif "expected after" in detail:
        message = Message(
            _N(
                'text after the closing quote (") of this cell: quote the whole cell and write a '
                'quote inside it as ""'
            )
        )
    else:
        message = Message(_N("not a valid CSV file ({detail})"), detail=detail)
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
    openpyxl = require("openpyxl", Message(_N("reading .xlsx files")), source=name)
    from zipfile import BadZipFile

    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise InputError(
            _N("not a readable .xlsx workbook ({detail})"), detail=str(exc), source=name
        ) from None
    try:
        # A sheet named after the table wins (one workbook may hold all three); else the first.
        sheets = {s.lower(): s for s in book.sheetnames}
        if not sheets:
            raise InputError(_N("the workbook has no sheet"), source=name)
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
                    _N(
                        "formula without a computed value: open and save the file in Excel "
                        "(or LibreOffice) so that its values are stored"
                    ),
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
        raise InputError(_N("the file is empty (not even a header row)"), source=name)
    header_row = start + 1
    header = [c.strip() for c in rows[start]]
    body = [(start + 2 + k, r) for k, r in enumerate(rows[start + 1 :])]
    width = len(header)
    for number, r in body:
        if any(c.strip() for c in r[width:]):
            raise InputError(
                _N("the row has more cells than the header has columns ({columns})"),
                columns=len(header),
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
                    _N("this column has data but no name in the header"),
                    source=name,
                    row=header_row,
                    column=_column_letter(k),
                )
            continue
        if col in seen:
            raise InputError(_N("duplicate column"), source=name, row=header_row, column=col)
        seen.add(col)
        keep.append(k)
    return pd.DataFrame(
        [[cells[k] for k in keep] for _, cells in records],
        columns=[header[k] for k in keep],
        index=pd.Index([number for number, _ in records], dtype="int64", name="row"),
        dtype=object,
    )


# --- writing ---------------------------------------------------------------------------------
