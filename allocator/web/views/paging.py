"""One page of a long table: the requests and the stays are listed a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from allocator.web.routing import PageContext


@dataclass(frozen=True)
class TablePage:
    """The rows on the page asked for (``?page=``, clamped to the pages there are)."""

    rows: pd.DataFrame
    total: int
    number: int
    pages: int

    def context(self) -> dict:
        """What the templates read: ``rows``, ``total``, ``page_number``, ``pages``."""
        return {
            "rows": self.rows,
            "total": self.total,
            "page_number": self.number,
            "pages": self.pages,
        }


def table_page(ctx: PageContext, frame: pd.DataFrame) -> TablePage:
    size = ctx.console.settings.page_rows
    pages = max(1, -(-len(frame) // size))
    try:
        number = min(pages, max(1, int(ctx.query("page", "1"))))
    except ValueError:  # a page that is not a number: the first
        number = 1
    return TablePage(frame.iloc[(number - 1) * size : number * size], len(frame), number, pages)
