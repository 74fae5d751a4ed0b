"""connecting rooms: a unit's group, and the rooms a stay or a placement takes together

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

``units.group`` names the connecting rooms a unit belongs to: rooms of one group may be combined
for one household. ``stays.joined_units`` and ``batch_placements.joined_units`` hold the rooms
taken with ``unit_id`` for the same stay, as "+"-joined text (``H1.02+H1.03``); NULL means none.
All three are optional, and existing rows keep NULL: no group, one unit per stay.

Going back to 0004 drops them. A stay in connecting rooms would then hold only its first room:
a running one would leave the others looking free, and any would hold more persons than its
beds. So the downgrade is refused while the ledger holds one (restore a copy from before).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from allocator.errors import AllocatorError

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group", sa.String(length=64), nullable=True))
    with op.batch_alter_table("stays", schema=None) as batch_op:
        batch_op.add_column(sa.Column("joined_units", sa.String(), nullable=True))
    with op.batch_alter_table("batch_placements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("joined_units", sa.String(), nullable=True))


def downgrade() -> None:
    stays = sa.table("stays", sa.column("joined_units", sa.String()))
    combined = (
        op.get_bind()
        .execute(
            sa.select(sa.func.count())
            .select_from(stays)
            .where(
                stays.c.joined_units.is_not(None),
                stays.c.joined_units != "",
            )
        )
        .scalar_one()
    )
    if combined:
        raise AllocatorError(
            f"cannot go back below schema 0005: {combined} stays hold connecting rooms, which "
            "the older schema cannot record (restore a copy of the ledger from before instead)"
        )
    with op.batch_alter_table("batch_placements", schema=None) as batch_op:
        batch_op.drop_column("joined_units")
    with op.batch_alter_table("stays", schema=None) as batch_op:
        batch_op.drop_column("joined_units")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_column("group")
