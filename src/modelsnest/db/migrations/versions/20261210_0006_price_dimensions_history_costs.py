"""price dimensions, price history, route cost prices, usage token details and margins

* ``ai_model_pricing`` becomes versioned: a row per price version (``effective_from``,
  ``effective_until``, ``actor``, ``reason``), for a model's selling price (``route_id`` NULL)
  or a route's upstream cost price (``route_id`` set); one current version of each, enforced
  by partial unique indexes. Existing rows become the current seed/operator versions.
* ``ai_model_price_components``: the dimensions beyond base input/output (cached input, cache
  writes, reasoning, audio, image variants, context tiers), exact nanos per unit.
* ``usage_logs``: token details, the price version billed, the breakdown, the upstream cost.
* ``usage_daily``: the provider joins the key (margins per provider), and the token details
  and upstream cost are summed. Existing rows get provider '' ("not recorded").

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CURRENT_PRICE = "route_id IS NULL AND effective_until IS NULL"
_CURRENT_COST = "route_id IS NOT NULL AND effective_until IS NULL"
_USAGE_DETAILS = (
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "audio_input_tokens",
    "audio_output_tokens",
)
_DAILY_SUMS = (*_USAGE_DETAILS, "upstream_cost_nanos", "upstream_uncosted_nanos")
_OLD_DAILY_KEY = ["day", "user_id", "api_token_id", "model_slug"]


def upgrade() -> None:
    with op.batch_alter_table("ai_model_pricing", schema=None) as batch_op:
        batch_op.add_column(sa.Column("route_id", _ID, nullable=True))
        # Existing prices took effect when they were written.
        batch_op.add_column(
            sa.Column(
                "effective_from",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.text("CURRENT_TIMESTAMP"),
            )
        )
        batch_op.add_column(sa.Column("effective_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("actor", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.drop_constraint(op.f("uq_ai_model_pricing_model_id"), type_="unique")
        batch_op.create_foreign_key(
            op.f("fk_ai_model_pricing_route_id_model_routes"),
            "model_routes",
            ["route_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint(
            op.f("ck_ai_model_pricing_effective_order"),
            "effective_until IS NULL OR effective_until >= effective_from",
        )
    op.execute("UPDATE ai_model_pricing SET effective_from = created_at")
    with op.batch_alter_table("ai_model_pricing", schema=None) as batch_op:
        batch_op.alter_column("effective_from", server_default=None)
        batch_op.create_index("ix_ai_model_pricing_model_id", ["model_id"], unique=False)
        batch_op.create_index(
            "uq_ai_model_pricing_current_price",
            ["model_id"],
            unique=True,
            sqlite_where=sa.text(_CURRENT_PRICE),
            postgresql_where=sa.text(_CURRENT_PRICE),
        )
        batch_op.create_index(
            "uq_ai_model_pricing_current_cost",
            ["route_id"],
            unique=True,
            sqlite_where=sa.text(_CURRENT_COST),
            postgresql_where=sa.text(_CURRENT_COST),
        )

    op.create_table(
        "ai_model_price_components",
        sa.Column("pricing_id", _ID, nullable=False),
        sa.Column("dimension", sa.String(length=32), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=False),
        sa.Column("above_input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("price_nanos", sa.BigInteger(), nullable=False),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "dimension IN ('input', 'output', 'cached_input', 'cache_write', 'cache_write_1h', "
            "'reasoning', 'audio_input', 'audio_output', 'image')",
            name=op.f("ck_ai_model_price_components_dimension"),
        ),
        sa.CheckConstraint("price_nanos >= 0", name=op.f("ck_ai_model_price_components_price_not_negative")),
        sa.CheckConstraint(
            "above_input_tokens >= 0", name=op.f("ck_ai_model_price_components_tier_not_negative")
        ),
        sa.CheckConstraint(
            "(dimension = 'image' AND variant <> '' AND above_input_tokens = 0) "
            "OR (dimension <> 'image' AND variant = '')",
            name=op.f("ck_ai_model_price_components_variant_is_image"),
        ),
        sa.CheckConstraint(
            "NOT (dimension IN ('input', 'output') AND above_input_tokens = 0)",
            name=op.f("ck_ai_model_price_components_not_base"),
        ),
        sa.ForeignKeyConstraint(
            ["pricing_id"],
            ["ai_model_pricing.id"],
            name=op.f("fk_ai_model_price_components_pricing_id_ai_model_pricing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_model_price_components")),
        sa.UniqueConstraint(
            "pricing_id",
            "dimension",
            "variant",
            "above_input_tokens",
            name=op.f("uq_ai_model_price_components_entry"),
        ),
    )
    with op.batch_alter_table("ai_model_price_components", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ai_model_price_components_pricing_id"), ["pricing_id"], unique=False
        )

    # Plain nullable or defaulted columns: added in place on both databases (no table rebuild
    # of the largest table there is).
    with op.batch_alter_table("usage_logs", schema=None) as batch_op:
        for name in _USAGE_DETAILS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("price_version_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("cost_breakdown", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("upstream_cost_nanos", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("upstream_price_version_id", sa.BigInteger(), nullable=True))

    # The rollup's key changes, which SQLite can only do by rebuilding the table (batch mode).
    with op.batch_alter_table("usage_daily", schema=None, recreate="auto") as batch_op:
        batch_op.add_column(
            sa.Column("provider_name", sa.String(length=64), nullable=False, server_default="")
        )
        for name in _DAILY_SUMS:
            batch_op.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.drop_constraint(op.f("pk_usage_daily"), type_="primary")
        batch_op.create_primary_key(op.f("pk_usage_daily"), [*_OLD_DAILY_KEY, "provider_name"])


def downgrade() -> None:
    # The rollup folds back onto its old key: rows of one model by several providers are summed.
    summed = ("requests", "errors", "prompt_tokens", "completion_tokens", "units", "cost_nanos")
    keys = ", ".join(_OLD_DAILY_KEY)
    sums = ", ".join(f"SUM({name}) AS {name}" for name in summed)
    op.execute(f"CREATE TABLE usage_daily_folded AS SELECT {keys}, {sums} FROM usage_daily GROUP BY {keys}")
    op.execute("DELETE FROM usage_daily")
    with op.batch_alter_table("usage_daily", schema=None, recreate="auto") as batch_op:
        batch_op.drop_constraint(op.f("pk_usage_daily"), type_="primary")
        for name in reversed(_DAILY_SUMS):
            batch_op.drop_column(name)
        batch_op.drop_column("provider_name")
        batch_op.create_primary_key(op.f("pk_usage_daily"), _OLD_DAILY_KEY)
    columns = ", ".join((*_OLD_DAILY_KEY, *summed))
    op.execute(f"INSERT INTO usage_daily ({columns}) SELECT {columns} FROM usage_daily_folded")
    op.drop_table("usage_daily_folded")

    with op.batch_alter_table("usage_logs", schema=None) as batch_op:
        batch_op.drop_column("upstream_price_version_id")
        batch_op.drop_column("upstream_cost_nanos")
        batch_op.drop_column("cost_breakdown")
        batch_op.drop_column("price_version_id")
        for name in reversed(_USAGE_DETAILS):
            batch_op.drop_column(name)

    with op.batch_alter_table("ai_model_price_components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ai_model_price_components_pricing_id"))
    op.drop_table("ai_model_price_components")

    # Only the current selling prices fit the old one-row-per-model table.
    op.execute("DELETE FROM ai_model_pricing WHERE route_id IS NOT NULL OR effective_until IS NOT NULL")
    with op.batch_alter_table("ai_model_pricing", schema=None) as batch_op:
        batch_op.drop_index("uq_ai_model_pricing_current_cost")
        batch_op.drop_index("uq_ai_model_pricing_current_price")
        batch_op.drop_index("ix_ai_model_pricing_model_id")
        batch_op.drop_constraint(op.f("ck_ai_model_pricing_effective_order"), type_="check")
        batch_op.drop_constraint(op.f("fk_ai_model_pricing_route_id_model_routes"), type_="foreignkey")
        batch_op.create_unique_constraint(op.f("uq_ai_model_pricing_model_id"), ["model_id"])
        batch_op.drop_column("reason")
        batch_op.drop_column("actor")
        batch_op.drop_column("effective_until")
        batch_op.drop_column("effective_from")
        batch_op.drop_column("route_id")
