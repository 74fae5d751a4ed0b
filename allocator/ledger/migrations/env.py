"""Alembic environment for the ledger; run programmatically by `allocator.ledger.database`.

The caller passes an open SQLAlchemy connection in ``config.attributes["connection"]``; the
migration then runs inside that connection's transaction.
"""

from __future__ import annotations

from alembic import context

from allocator.ledger.schema import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():  # pragma: no cover
    raise RuntimeError("the ledger's migrations run online only")
run_migrations_online()
