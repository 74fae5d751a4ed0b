"""Writing results atomically, and a run's outputs checked before it starts.

Each file goes to a temporary file in its target's folder that replaces the target only once
every file of the run is complete, so a failure never leaves a half-written file behind.
`Outputs` refuses an output that is a file the run reads (by any path or link), the ledger or
another output of the run, and one that cannot be written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import math
import os
import secrets
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

import numpy as np
import pandas as pd

from allocator.domain import JOINED_SEPARATOR
from allocator.errors import InputError
from allocator.io.reading import TABLE_SUFFIXES, require

log = logging.getLogger("allocator")


def _joined_cell(value: object) -> object:
    """Connecting rooms held as a tuple (``Stay.joined_units``) as the one text a table cell
    holds and `allocator.domain.Stay` parses back: ``("R2", "R3")`` as ``"R2+R3"``."""
    if isinstance(value, tuple | list):
        return JOINED_SEPARATOR.join(str(v) for v in value)
    return value


def _iso_cell(value: object) -> object:
    """Dates as ISO text for CSV: midnight timestamps as a plain date."""
    if value is None or value is pd.NaT:
        return value
    if isinstance(value, tuple | list):
        return _joined_cell(value)
    if isinstance(value, dt.datetime):  # includes pd.Timestamp
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _as_dates(value: object) -> object:
    """For Excel: midnight timestamps as dates, so the cell shows 2026-12-07."""
    if isinstance(value, tuple | list):
        return _joined_cell(value)
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


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``df`` to a .csv or .xlsx file (by extension) atomically; dates as ISO."""
    with Staging() as out:
        out.table(df, path)


def write_json(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` as indented JSON atomically (numpy scalars, dates and enums allowed)."""
    with Staging() as out:
        out.json(obj, path)


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
