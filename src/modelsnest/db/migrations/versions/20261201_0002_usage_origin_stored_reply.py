"""usage_logs.origin; idempotency_records keep the answer's media type and headers

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A server default, so existing rows (all of them API-key calls) need no backfill and the
    # column is added without rewriting the table on either database.
    with op.batch_alter_table("usage_logs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=16), server_default="api", nullable=False))
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("response_media_type", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("response_headers", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_column("response_headers")
        batch_op.drop_column("response_media_type")
    with op.batch_alter_table("usage_logs", schema=None) as batch_op:
        batch_op.drop_column("origin")
