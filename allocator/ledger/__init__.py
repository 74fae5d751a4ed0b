"""The rotation ledger: units, requests, weekly batches and stays, persisted in SQLite or
PostgreSQL (SQLAlchemy 2, schema versioned with Alembic). Start with `Ledger.open`."""

from allocator.ledger.store import EXIT_PATHWAYS, ImportResult, Ledger, Proposal, open_ledger

__all__ = ["EXIT_PATHWAYS", "ImportResult", "Ledger", "Proposal", "open_ledger"]
