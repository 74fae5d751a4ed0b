"""The rotation ledger: units, requests, weekly batches and stays, persisted in SQLite or
PostgreSQL (SQLAlchemy 2, schema versioned with Alembic). Start with `Ledger.open`.

`store.Ledger` is the facade; `database`, `rules`, `imports`, `batches`, `stays`, `reading` and
`views` hold the work, one responsibility each."""

from allocator.ledger.batches import Proposal
from allocator.ledger.database import DB_ENV, database_url
from allocator.ledger.imports import ImportResult
from allocator.ledger.rules import EXIT_PATHWAYS, as_date
from allocator.ledger.store import Ledger, open_ledger

__all__ = [
    "DB_ENV",
    "EXIT_PATHWAYS",
    "ImportResult",
    "Ledger",
    "Proposal",
    "as_date",
    "database_url",
    "open_ledger",
]
