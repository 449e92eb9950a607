"""store: API Store products

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 03:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "store_products",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("upstream_base_url", sa.String(length=500), nullable=True),
        sa.Column("handler", sa.String(length=64), nullable=True),
        sa.Column("auth_location", sa.String(length=8), nullable=False),
        sa.Column("auth_name", sa.String(length=120), nullable=True),
        sa.Column("auth_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("allowed_methods", sa.JSON(), nullable=False),
        sa.Column("path_patterns", sa.JSON(), nullable=False),
        sa.Column("price_per_call_nanos", sa.BigInteger(), nullable=False),
        sa.Column("price_per_mb_nanos", sa.BigInteger(), nullable=False),
        sa.Column("billing_policy", sa.String(length=16), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True),
        sa.Column("timeout_seconds", sa.Float(), nullable=False),
        sa.Column("max_request_bytes", sa.BigInteger(), nullable=False),
        sa.Column("max_response_bytes", sa.BigInteger(), nullable=False),
        sa.Column("allow_private_network", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("docs_markdown", sa.Text(), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "auth_location IN ('none', 'header', 'query')", name=op.f("ck_store_products_auth_location_known")
        ),
        sa.CheckConstraint(
            "billing_policy IN ('2xx', 'any_answer')", name=op.f("ck_store_products_billing_policy_known")
        ),
        sa.CheckConstraint(
            "price_per_call_nanos >= 0", name=op.f("ck_store_products_price_per_call_not_negative")
        ),
        sa.CheckConstraint(
            "price_per_mb_nanos >= 0", name=op.f("ck_store_products_price_per_mb_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_products")),
        sa.UniqueConstraint("slug", name=op.f("uq_store_products_slug")),
    )


def downgrade() -> None:
    op.drop_table("store_products")
