"""console accounts: who may sign in to `allocator serve`, with which role

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

One row per account: a staff sign-in id (never a household's), its role, an argon2 password
hash, when it was created and whether it is disabled. Failed sign-ins are throttled in the
server's memory, so nothing about them is stored here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'planner', 'caseworker', 'viewer')",
            name=op.f("ck_users_role_known"),
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users")),
    )


def downgrade() -> None:
    op.drop_table("users")
