"""districts for units and households, and placements announced to families

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

``units.district`` says where a unit is and ``households.anchor_district`` where a household's
school or work is, so the engine can prefer close units; both are optional and existing rows keep
NULL (no preference). ``announcements`` holds the future placements a planner has told a family:
one per household at most, with the unit and the day announced, the batch that announced it and
who did. Later plans keep an announced placement unless changing it is worth the policy's
``announcement_weight``; a move-in or a withdrawal removes it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("district", sa.String(length=40), nullable=True))
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anchor_district", sa.String(length=40), nullable=True))
    op.create_table(
        "announcements",
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("announced_at", sa.DateTime(), nullable=False),
        sa.Column("announced_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.household_id"],
            name=op.f("fk_announcements_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.unit_id"], name=op.f("fk_announcements_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.batch_id"], name=op.f("fk_announcements_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_announcements")),
    )


def downgrade() -> None:
    op.drop_table("announcements")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_column("anchor_district")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_column("district")
