"""billingui: notification preferences (low-balance threshold, e-mail copies) and once-only marks

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 03:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("low_balance_threshold_nanos", sa.BigInteger(), nullable=False),
        sa.Column("email_copies", sa.Boolean(), nullable=False),
        sa.Column("low_balance_armed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_preferences")),
    )
    op.create_table(
        "notification_once",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_once_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_notification_once")),
    )


def downgrade() -> None:
    op.drop_table("notification_once")
    op.drop_table("notification_preferences")
