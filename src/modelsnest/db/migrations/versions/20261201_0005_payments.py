"""payments: checkout attempts, raw provider events, invoices, auto-recharge; payment refunds
may take back spent credits (user_credits.clawback_nanos)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:47:32

The ``payments`` table of 0001 was a placeholder no code ever wrote; it is replaced whole. The
migration refuses to run if someone did put rows in it, rather than drop them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)
_PROVIDERS = "provider IN ('paypal', 'coinbase', 'stripe')"
_STATUSES = (
    "status IN ('created', 'pending', 'completed', 'failed', 'cancelled', 'expired', 'refunded', "
    "'partially_refunded')"
)


def _id() -> sa.Column[int]:
    return sa.Column("id", _ID, autoincrement=True, nullable=False)


def upgrade() -> None:
    rows = op.get_bind().execute(sa.text("SELECT count(*) FROM payments")).scalar()
    if rows:
        raise RuntimeError("payments has rows written outside Modelsnest: move them away before migrating")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_user_id"))
    op.drop_table("payments")

    op.create_table(
        "payments",
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("amount_nanos", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("provider_checkout_id", sa.String(length=200), nullable=True),
        sa.Column("provider_payment_id", sa.String(length=200), nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("return_token_hash", sa.String(length=64), nullable=False),
        sa.Column("save_card", sa.Boolean(), nullable=False),
        sa.Column("refunded_nanos", sa.BigInteger(), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("credited_transaction_id", _ID, nullable=True),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.Column("completed_at", _TIME, nullable=True),
        sa.Column("refunded_at", _TIME, nullable=True),
        sa.Column("checked_at", _TIME, nullable=True),
        sa.Column("raw", sa.JSON(), nullable=True),
        _id(),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.CheckConstraint("amount_nanos > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint("kind IN ('checkout', 'auto_recharge')", name=op.f("ck_payments_kind")),
        sa.CheckConstraint(_PROVIDERS, name=op.f("ck_payments_provider")),
        sa.CheckConstraint(
            "refunded_nanos >= 0 AND refunded_nanos <= amount_nanos", name=op.f("ck_payments_refunded_range")
        ),
        sa.CheckConstraint(_STATUSES, name=op.f("ck_payments_status")),
        sa.ForeignKeyConstraint(
            ["credited_transaction_id"],
            ["credit_transactions.id"],
            name=op.f("fk_payments_credited_transaction_id_credit_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_payments_user_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "provider", "provider_checkout_id", name=op.f("uq_payments_provider_provider_checkout_id")
        ),
        sa.UniqueConstraint(
            "provider", "provider_payment_id", name=op.f("uq_payments_provider_provider_payment_id")
        ),
        sa.UniqueConstraint("public_id", name=op.f("uq_payments_public_id")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_status_updated", ["status", "updated_at"], unique=False)
        batch_op.create_index("ix_payments_user_created", ["user_id", "created_at"], unique=False)

    op.create_table(
        "payment_events",
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("payment_id", _ID, nullable=True),
        sa.Column("transaction_id", _ID, nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        _id(),
        sa.CheckConstraint(_PROVIDERS, name=op.f("ck_payment_events_provider")),
        sa.CheckConstraint(
            "source IN ('webhook', 'return', 'reconcile', 'api')", name=op.f("ck_payment_events_source")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_payment_events_payment_id_payments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["credit_transactions.id"],
            name=op.f("fk_payment_events_transaction_id_credit_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
        sa.UniqueConstraint("provider", "event_id", name=op.f("uq_payment_events_provider_event_id")),
    )
    with op.batch_alter_table("payment_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_events_payment_id"), ["payment_id"], unique=False)

    op.create_table(
        "invoice_counters",
        sa.Column("series", sa.String(length=16), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("series", name=op.f("pk_invoice_counters")),
    )
    op.create_table(
        "invoices",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("series", sa.String(length=16), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("payment_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("issued_at", _TIME, nullable=False),
        sa.Column("amount_nanos", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("seller", sa.JSON(), nullable=False),
        sa.Column("buyer", sa.JSON(), nullable=False),
        _id(),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_invoices_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_invoices_user_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_invoices_payment_id")),
        sa.UniqueConstraint("series", "sequence", name=op.f("uq_invoices_series_sequence")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoices_user_id"), ["user_id"], unique=False)

    op.create_table(
        "auto_recharge",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("threshold_nanos", sa.BigInteger(), nullable=False),
        sa.Column("amount_nanos", sa.BigInteger(), nullable=False),
        sa.Column("armed", sa.Boolean(), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=100), nullable=True),
        sa.Column("stripe_payment_method_id", sa.String(length=100), nullable=True),
        sa.Column("card_label", sa.String(length=64), nullable=True),
        sa.Column("last_payment_id", _ID, nullable=True),
        sa.Column("last_attempt_at", _TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.CheckConstraint("amount_nanos > 0", name=op.f("ck_auto_recharge_amount_positive")),
        sa.CheckConstraint("threshold_nanos >= 0", name=op.f("ck_auto_recharge_threshold_not_negative")),
        sa.ForeignKeyConstraint(
            ["last_payment_id"], ["payments.id"], name=op.f("fk_auto_recharge_last_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_auto_recharge_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_auto_recharge")),
    )
    with op.batch_alter_table("auto_recharge", schema=None) as batch_op:
        batch_op.create_index("ix_auto_recharge_enabled_armed", ["enabled", "armed"], unique=False)

    # A payment refund may take back credits already spent (an account in debt): available may
    # go below zero by at most what such refunds took beyond what was available.
    with op.batch_alter_table("user_credits", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("clawback_nanos", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.drop_constraint(op.f("ck_user_credits_available_not_negative"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_user_credits_clawback_not_negative"), sa.text("clawback_nanos >= 0")
        )
        batch_op.create_check_constraint(
            op.f("ck_user_credits_available_within_clawback"),
            sa.text("balance_nanos - reserved_nanos + clawback_nanos >= 0"),
        )


def downgrade() -> None:
    with op.batch_alter_table("user_credits", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_credits_available_within_clawback"), type_="check")
        batch_op.drop_constraint(op.f("ck_user_credits_clawback_not_negative"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_user_credits_available_not_negative"), sa.text("balance_nanos - reserved_nanos >= 0")
        )
        batch_op.drop_column("clawback_nanos")
    for table in ("auto_recharge", "invoices", "invoice_counters", "payment_events", "payments"):
        op.drop_table(table)
    op.create_table(
        "payments",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("provider_payment_id", sa.String(length=200), nullable=False),
        sa.Column("amount_nanos", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("credited_transaction_id", _ID, nullable=True),
        sa.Column("completed_at", _TIME, nullable=True),
        sa.Column("raw", sa.JSON(), nullable=True),
        _id(),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.CheckConstraint(_PROVIDERS, name=op.f("ck_payments_provider")),
        sa.CheckConstraint(
            "status IN ('created', 'pending', 'completed', 'failed', 'cancelled', 'refunded', "
            "'partially_refunded')",
            name=op.f("ck_payments_status"),
        ),
        sa.ForeignKeyConstraint(
            ["credited_transaction_id"],
            ["credit_transactions.id"],
            name=op.f("fk_payments_credited_transaction_id_credit_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_payments_user_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "provider", "provider_payment_id", name=op.f("uq_payments_provider_provider_payment_id")
        ),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_user_id"), ["user_id"], unique=False)
