"""The one place where the engine's errors live.

Every error a user can cause carries where it happened (file or table, row, column) so the CLI can
print one line that a planner can act on, and a Python caller can react to the fields.
"""

from __future__ import annotations


class AllocatorError(Exception):
    """Base class for the errors the engine raises on purpose."""


class InputError(AllocatorError):
    """Bad input: names the source (file or table), the row and the column or field.

    ``row`` is the row as a spreadsheet shows it (the header is row 1, the first record row 2) when
    the data came from a file, and the DataFrame's row label otherwise.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        row: int | str | None = None,
        column: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.row = row
        self.column = column
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.source is not None:
            where.append(str(self.source))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message
