"""households give an expected exit date or a stay length

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07

A household's stay runs either for ``expected_stay_days`` from its move-in or up to its
``expected_exit_date`` (a flat assigned, a lease signed): exactly one of the two is given, which a
CHECK constraint keeps. Existing households all have a stay length and keep it.

On SQLite the batch mode copies ``households`` to a new table, drops the old one (which the stays
reference) and renames the copy: `allocator.ledger.database.migrate` runs it with SQLite's
foreign-key enforcement off and checks every reference before the migration commits.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ONE_CLOCK = "(expected_stay_days IS NULL) <> (expected_exit_date IS NULL)"
EXIT_AFTER_NEED = "expected_exit_date IS NULL OR expected_exit_date > need_date"


def upgrade() -> None:
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expected_exit_date", sa.Date(), nullable=True))
        batch_op.alter_column("expected_stay_days", existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint(op.f("ck_households_one_stay_clock"), ONE_CLOCK)
        batch_op.create_check_constraint(op.f("ck_households_exit_after_need"), EXIT_AFTER_NEED)


def downgrade() -> None:
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_households_exit_after_need"), type_="check")
        batch_op.drop_constraint(op.f("ck_households_one_stay_clock"), type_="check")
    # an exit-dated household keeps its stay as a length: the nights from its need date to its
    # exit date (what it would stay if placed on its first day)
    bind = op.get_bind()
    households = sa.table(
        "households",
        sa.column("household_id", sa.String()),
        sa.column("need_date", sa.Date()),
        sa.column("expected_stay_days", sa.Integer()),
        sa.column("expected_exit_date", sa.Date()),
    )
    exit_dated = bind.execute(
        sa.select(
            households.c.household_id, households.c.need_date, households.c.expected_exit_date
        ).where(households.c.expected_exit_date.is_not(None))
    ).all()
    for household_id, need, exit_date in exit_dated:
        bind.execute(
            sa.update(households)
            .where(households.c.household_id == household_id)
            .values(expected_stay_days=(exit_date - need).days)
        )
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.alter_column("expected_stay_days", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("expected_exit_date")
